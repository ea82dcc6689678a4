/**
 * container_vm against vSphere. The VM's BIOS UUID is UUIDv5(VCH id, name): a create that crashed
 * midway is found again by FindByUuid and adopted (only when it carries our markers), never
 * duplicated. What the user asked for is kept in extraConfig `vic.spec`; the merged container
 * config the guest reads is `guestinfo.vic.config`.
 */
import { v5 as uuidv5 } from 'uuid';
import { inspectStoredImage, imageLayout, type ImageMetadata } from '../images';
import { isFault, isNotFound, moRef, type ManagedObjectReference, type VimClient } from '../vsphere';
import { datastorePath, makeDirectory } from '../vsphere/file-manager';
import { Inventory, type NetworkTarget } from '../vsphere/inventory';
import { retrieveObjects } from '../vsphere/property-collector';
import { addDevice, fileSerialPort, isoCdrom, networkAdapter, pvscsiController, virtualDisk, type VirtualDeviceConfigSpec } from '../vsphere/virtual-devices';
import { createVm, destroyVm, powerOffVm, powerOnVm, reconfigureVm } from '../vsphere/virtual-machine';
import { containerVm } from './container-vm';
import { ResourceError } from './errors';
import { GUESTINFO_CONFIG_KEY, encodeGuestConfig, guestConfig } from './guest-config';
import type { Lifecycle, LifecycleContext, PlanCheck } from './lifecycle';
import { PlacementError, collectPlacement, networkOf } from './placement';
import type { Attrs, Problem } from './schema';
import { InventorySnapshot, VM_PATHS, VchMarker, VmRow, imageStoreOf, readVchMarker, takeSnapshot, vmRow } from './snapshot';

/** Namespace of container VM BIOS UUIDs (UUIDv5). Changing it would orphan every existing VM. */
export const CONTAINER_VM_UUID_NAMESPACE = '8f0e3a52-6b1d-4c57-9a3e-2d5b7c9e1f40';

export function containerVmUuid(vchId: string, name: string): string {
  return uuidv5(`${vchId}/${name}`, CONTAINER_VM_UUID_NAMESPACE);
}

/** extraConfig keys: `vic.*` are not guest-readable (only `guestinfo.*` is). */
export const KEYS = {
  owner: 'vic.owner',
  vch: 'vic.vch',
  name: 'vic.name',
  image: 'vic.image',
  spec: 'vic.spec',
  labels: 'vic.labels',
  exposedPorts: 'vic.exposed_ports',
} as const;
const OWNER = 'vic-iac';

/** The user inputs that only we keep (vSphere has no field for them). */
const SPEC_FIELDS = ['command', 'entrypoint', 'env', 'working_dir', 'user', 'hostname', 'networks', 'disk_size_mb', 'restart', 'max_restarts'] as const;

export function isOurs(vm: VmRow, vchId?: string, name?: string): boolean {
  const x = vm.extraConfig;
  return x.get(KEYS.owner) === OWNER && (vchId === undefined || x.get(KEYS.vch) === vchId) && (name === undefined || x.get(KEYS.name) === name);
}

function parseJson<T>(text: string | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/**
 * Where the guest reports its process (`guestinfo.vic.*`, written by the tether through the
 * backdoor, or by the simulator's runner from the tether's status channel).
 */
export const STATUS_KEYS = {
  status: 'guestinfo.vic.status',
  exitCode: 'guestinfo.vic.exit_code',
  startedAt: 'guestinfo.vic.started_at',
  finishedAt: 'guestinfo.vic.finished_at',
  ipAddresses: 'guestinfo.vic.ip_addresses',
} as const;

function processState(vm: VmRow): Attrs {
  const x = vm.extraConfig;
  const reported = x.get(STATUS_KEYS.status);
  const code = x.get(STATUS_KEYS.exitCode);
  // A VM that went down while its process ran, without a word from the guest, killed it: exit
  // code 137, as for docker kill (the simulator's runner records the same a moment later).
  const killed = reported === 'running' && vm.powerState !== 'poweredOn';
  const status = killed ? 'exited' : reported === 'running' || reported === 'exited' ? reported : 'created';
  return {
    status,
    exit_code: killed ? 137 : code !== undefined && code !== '' && Number.isInteger(Number(code)) ? Number(code) : null,
    started_at: x.get(STATUS_KEYS.startedAt) || null,
    finished_at: status === 'exited' ? x.get(STATUS_KEYS.finishedAt) || null : null,
  };
}

/** The state as vSphere has it. */
export function stateOfVm(vm: VmRow): Attrs {
  const spec = parseJson<Attrs>(vm.extraConfig.get(KEYS.spec), {});
  const labels = parseJson<Record<string, string> | null>(vm.extraConfig.get(KEYS.labels), null);
  return {
    id: vm.uuid ?? null,
    vch_id: vm.extraConfig.get(KEYS.vch) ?? null,
    image_id: vm.extraConfig.get(KEYS.image) ?? null,
    name: vm.extraConfig.get(KEYS.name) ?? vm.name,
    command: spec.command ?? null,
    entrypoint: spec.entrypoint ?? null,
    env: spec.env ?? null,
    working_dir: spec.working_dir ?? null,
    user: spec.user ?? null,
    hostname: spec.hostname ?? null,
    cpus: vm.numCpu,
    memory_mb: vm.memoryMb,
    labels: labels && Object.keys(labels).length > 0 ? labels : null,
    networks: spec.networks ?? [],
    power_state: vm.powerState === 'poweredOn' ? 'running' : 'stopped',
    disk_size_mb: spec.disk_size_mb ?? null,
    // VMs made before the restart policy existed never restart.
    restart: spec.restart ?? 'no',
    max_restarts: spec.max_restarts ?? null,
    moid: vm.moid,
    // What VMware tools report, else what the tether reported (no tools in a container VM).
    ip_addresses:
      vm.ipAddresses.length > 0 || vm.powerState !== 'poweredOn' ? [...vm.ipAddresses] : (vm.extraConfig.get(STATUS_KEYS.ipAddresses) ?? '').split(',').filter((ip) => ip !== ''),
    vm_path: vm.vmPath ?? null,
    ...processState(vm),
  };
}

async function readVm(client: VimClient, ref: ManagedObjectReference): Promise<VmRow | undefined> {
  const [row] = await retrieveObjects(client, [ref], [...VM_PATHS]);
  return row ? vmRow(row.ref.value, row.props) : undefined;
}

async function vchMarker(ctx: LifecycleContext, vchId: string): Promise<VchMarker> {
  const marker = await ctx.memo(`vch:${vchId}`, () => readVchMarker(ctx.client, vchId));
  if (!marker) throw new PlacementError('vch_id', `virtual container host ${vchId} not found (or its pool is not managed by vic-iac). Use the id of a vic_virtual_container_host.`);
  return marker;
}

async function storedImage(ctx: LifecycleContext, marker: VchMarker, digest: string): Promise<ImageMetadata> {
  const store = imageStoreOf(ctx.client, marker);
  // Content-addressed: a complete image never changes, so one look per process is enough.
  const key = `image:${store.description}:${digest}`;
  const stored = await ctx.memo(key, () => inspectStoredImage(store, digest));
  if (stored.state !== 'complete') ctx.forget(key);
  if (stored.state !== 'complete') {
    const why = stored.state === 'absent' ? 'is not in' : `is only partly in (${stored.reason})`;
    throw new PlacementError('image_id', `image ${digest} ${why} the image store ${store.description} of VCH "${marker.name}". Create it with a vic_image resource on this VCH first.`);
  }
  return stored.metadata;
}

function wantedNetworks(config: Attrs, marker: VchMarker): string[] {
  const given = config.networks as string[] | null | undefined;
  if (given && given.length > 0) return given;
  return marker.bridge_network ? [marker.bridge_network] : [];
}

function specOf(config: Attrs, networks: string[]): Attrs {
  const spec: Attrs = {};
  for (const k of SPEC_FIELDS) spec[k] = config[k] ?? null;
  spec.networks = networks;
  return spec;
}

async function setPower(client: VimClient, vm: ManagedObjectReference, want: unknown, now: string): Promise<void> {
  const on = now === 'poweredOn';
  const ignoreState = (e: unknown) => (isFault(e, 'InvalidPowerState') ? undefined : Promise.reject(e));
  if (want === 'running' && !on) await powerOnVm(client, vm).catch(ignoreState);
  if (want === 'stopped' && on) await powerOffVm(client, vm).catch(ignoreState);
}

async function afterChange(client: VimClient, ref: ManagedObjectReference): Promise<Attrs> {
  const vm = await readVm(client, ref);
  if (!vm) throw new ResourceError(`VM ${ref.value} vanished during apply`);
  return stateOfVm(vm);
}

/** Brings an existing VM (ours) to the config's in-place attributes. */
async function reconcile(ctx: LifecycleContext, vm: VmRow, config: Attrs): Promise<Attrs> {
  const { client } = ctx;
  const ref = moRef('VirtualMachine', vm.moid);
  const cpus = Number(config.cpus);
  const memory = Number(config.memory_mb);
  const hardware = cpus !== vm.numCpu || memory !== vm.memoryMb;
  const labels = JSON.stringify(config.labels ?? {});
  const labelsChanged = labels !== (vm.extraConfig.get(KEYS.labels) ?? '{}');
  let powerState = vm.powerState;
  if (hardware && powerState === 'poweredOn') {
    // vSphere refuses CPU and memory changes on a running VM without hot-add; the plan said so.
    ctx.progress('power off for reconfigure');
    await powerOffVm(client, ref);
    powerState = 'poweredOff';
  }
  if (hardware || labelsChanged) {
    ctx.progress('reconfigure');
    await reconfigureVm(client, ref, {
      ...(hardware ? { numCPUs: cpus, memoryMB: memory } : {}),
      ...(labelsChanged ? { extraConfig: { [KEYS.labels]: labels } } : {}),
    });
  }
  await setPower(client, ref, config.power_state, powerState);
  return afterChange(client, ref);
}

export const containerVmLifecycle: Lifecycle = {
  declaration: containerVm,

  poolsOf: (state) => (typeof state.vch_id === 'string' && state.vch_id ? [state.vch_id] : []),
  readsVms: true,

  async read(ctx, snapshot: InventorySnapshot, prior) {
    const uuid = String(prior.id ?? '').toLowerCase();
    let vm = snapshot.vmsByUuid.get(uuid);
    if (!vm && !snapshot.missingPools.has(String(prior.vch_id))) {
      // Not in its pool: moved elsewhere in vSphere, or gone. One lookup tells (rare path).
      const ref = await new Inventory(ctx.client).findVmByUuid(uuid);
      vm = ref ? await readVm(ctx.client, ref) : undefined;
    }
    if (!vm) return null;
    if (!isOurs(vm)) throw new ResourceError(`VM ${vm.name} (${vm.moid}) has the BIOS UUID ${uuid} of container VM "${String(prior.name)}" but no vic-iac markers; it was not made by vic-iac. Remove it from the state, or delete that VM.`);
    return stateOfVm(vm);
  },

  async check(ctx, config, prior): Promise<PlanCheck> {
    const problems: Problem[] = [];
    const notes: string[] = [];
    const vchId = String(config.vch_id);
    let marker: VchMarker | undefined;
    problems.push(...(await collectPlacement([vchMarker(ctx, vchId).then((m) => (marker = m))])));
    if (!marker) return { problems };
    const m = marker;
    const dc = { ref: moRef('Datacenter', m.datacenter_id), name: m.datacenter } as Parameters<typeof networkOf>[1];
    const checks: Array<Promise<unknown>> = [];
    if (!prior || prior.image_id !== config.image_id) checks.push(storedImage(ctx, m, String(config.image_id)));
    const given = (config.networks as string[] | null) ?? [];
    const perNetwork = await Promise.all(
      given.map(async (n, i) => {
        if (prior && (prior.networks as string[] | null)?.includes(n)) return [];
        const found = await collectPlacement([networkOf(ctx, dc, 'networks', n)]);
        return found.map((p) => ({ ...p, path: ['networks', i] }));
      }),
    );
    problems.push(...(await collectPlacement(checks)), ...perNetwork.flat());
    if (!prior) {
      // A plan over many new VMs looks once at what the VCH pool holds (one snapshot per process);
      // a squatter elsewhere in vSphere is still refused at apply time, by FindByUuid. Not VOLATILE:
      // what this engine creates or deletes is ours, so it cannot change who else holds a UUID, and
      // Terraform plans each new VM again while applying: dropping the snapshot at every create made
      // an apply of N VMs take a snapshot of the growing pool per VM (64 of up to 160 ms for N = 200).
      const uuid = containerVmUuid(vchId, String(config.name));
      const pool = await ctx.memo(`uuid-holders:${vchId}`, () => takeSnapshot(ctx.client, [vchId]));
      const vm = pool.vmsByUuid.get(uuid);
      if (vm && !isOurs(vm, vchId, String(config.name))) {
        problems.push({
          path: ['name'],
          severity: 'error',
          summary: 'BIOS UUID taken',
          detail: `VM ${vm.name} (${vm.moid}) already has the BIOS UUID ${uuid} that container VM "${String(config.name)}" in VCH ${vchId} needs, and it was not made by vic-iac. Choose another name, or remove that VM.`,
        });
      } else if (vm) {
        notes.push(`container VM "${String(config.name)}" already exists as ${vm.moid} (an earlier apply stopped midway); it will be adopted, not duplicated`);
      }
    } else if (prior.power_state === 'running' && (prior.cpus !== config.cpus || prior.memory_mb !== config.memory_mb)) {
      notes.push(`changing cpus or memory_mb powers container VM "${String(config.name)}" off and on again`);
    }
    return { problems, notes };
  },

  async create(ctx, config) {
    const { client } = ctx;
    const vchId = String(config.vch_id);
    const name = String(config.name);
    const uuid = containerVmUuid(vchId, name);
    const existingRef = await new Inventory(client).findVmByUuid(uuid);
    if (existingRef) {
      const existing = await readVm(client, existingRef);
      if (existing && !isOurs(existing, vchId, name)) {
        throw new ResourceError(`VM ${existing.name} (${existing.moid}) already has BIOS UUID ${uuid} and was not made by vic-iac; refusing to adopt it. Choose another name, or remove that VM.`);
      }
      if (existing) {
        ctx.progress('adopting the VM an earlier apply created');
        return reconcile(ctx, existing, config);
      }
    }
    const marker = await vchMarker(ctx, vchId);
    const image = await storedImage(ctx, marker, String(config.image_id));
    const networks = wantedNetworks(config, marker);
    const dc = { ref: moRef('Datacenter', marker.datacenter_id), name: marker.datacenter } as Parameters<typeof networkOf>[1];
    const targets: NetworkTarget[] = [];
    for (const n of networks) targets.push(await networkOf(ctx, dc, 'networks', n));

    const ds = marker.datastore;
    const layout = imageLayout(String(config.image_id));
    const dir = `${marker.image_store_path}/containers/${name}`;
    const imageKB = Math.ceil(image.size_bytes / 1024);
    const devices: VirtualDeviceConfigSpec[] = [
      addDevice(pvscsiController(-100)),
      addDevice(
        virtualDisk({
          key: -101,
          controllerKey: -100,
          unitNumber: 0,
          fileName: datastorePath(ds, `${dir}/${name}.vmdk`),
          // A child delta disk is at least as large as its parent.
          capacityKB: Math.max(imageKB, Number(config.disk_size_mb) * 1024),
          parentFileName: datastorePath(ds, `${marker.image_store_path}/${layout.descriptor}`),
        }),
        'create',
      ),
      ...(marker.bootstrap_iso ? [addDevice(isoCdrom({ key: -102, isoFileName: marker.bootstrap_iso }))] : []),
      ...targets.map((network, i) => addDevice(networkAdapter({ key: -110 - i, model: 'vmxnet3', network }))),
      addDevice(fileSerialPort({ key: -103, fileName: datastorePath(ds, `${dir}/console.log`) })),
    ];
    const guest = guestConfig(config, { ...image, rootfs_uuid: image.rootfs_uuid });
    const extraConfig: Record<string, string> = {
      [GUESTINFO_CONFIG_KEY]: encodeGuestConfig(guest),
      [KEYS.owner]: OWNER,
      [KEYS.vch]: vchId,
      [KEYS.name]: name,
      [KEYS.image]: String(config.image_id),
      [KEYS.spec]: JSON.stringify(specOf(config, networks)),
      [KEYS.labels]: JSON.stringify(config.labels ?? {}),
      // For a runner that can publish them (the embedded simulator's, docs/runner.md).
      ...(image.exposed_ports?.length ? { [KEYS.exposedPorts]: image.exposed_ports.join(',') } : {}),
      'disk.EnableUUID': 'TRUE',
    };
    ctx.progress('create VM');
    const create = () =>
      createVm(client, {
        folder: moRef('Folder', marker.folder_id ?? ''),
        pool: moRef('ResourcePool', vchId),
        config: {
          name,
          uuid,
          guestId: 'otherGuest64',
          annotation: `Container VM "${name}" of virtual container host "${marker.name}" (${vchId}), managed by vic-iac. Changes made here are reverted by the next apply.`,
          files: { vmPathName: datastorePath(ds, `${dir}/${name}.vmx`) },
          numCPUs: Number(config.cpus),
          memoryMB: Number(config.memory_mb),
          deviceChange: devices,
          extraConfig,
        },
      });
    // vSphere makes the VM's own directory (the last one of the .vmx path) inside <store>/containers,
    // which the VCH made. A store without it (made by hand, or cleaned) gets it here, once.
    const ref = await create().catch(async (e: unknown) => {
      if (!isFault(e, 'FileFault') && !isFault(e, 'FileNotFound')) throw e;
      await makeDirectory(client, datastorePath(ds, dir), dc.ref).catch((m: unknown) => (isFault(m, 'FileAlreadyExists') ? undefined : Promise.reject(m)));
      return create();
    });
    if (config.power_state === 'running') {
      ctx.progress('power on');
      await powerOnVm(client, ref);
    }
    // All of it is what we just asked for; vSphere reports addresses later, the next refresh reads them.
    return stateOfVm({
      moid: ref.value,
      name,
      uuid,
      powerState: config.power_state === 'running' ? 'poweredOn' : 'poweredOff',
      extraConfig: new Map(Object.entries(extraConfig)),
      numCpu: Number(config.cpus),
      memoryMb: Number(config.memory_mb),
      vmPath: datastorePath(ds, `${dir}/${name}.vmx`),
      ipAddresses: [],
    });
  },

  async update(ctx, prior, config) {
    const vm = await readVm(ctx.client, moRef('VirtualMachine', String(prior.moid)));
    if (!vm) throw new ResourceError(`container VM "${String(prior.name)}" (${String(prior.moid)}) no longer exists; refresh and plan again to re-create it`);
    return reconcile(ctx, vm, config);
  },

  async delete(ctx, prior) {
    const ref = moRef('VirtualMachine', String(prior.moid));
    const vm = await readVm(ctx.client, ref);
    if (!vm) return;
    if (!isOurs(vm)) throw new ResourceError(`VM ${vm.name} (${vm.moid}) carries no vic-iac markers; refusing to delete it`);
    if (vm.powerState === 'poweredOn') {
      ctx.progress('power off');
      await powerOffVm(ctx.client, ref).catch((e: unknown) => (isFault(e, 'InvalidPowerState') ? undefined : Promise.reject(e)));
    }
    ctx.progress('destroy');
    await destroyVm(ctx.client, ref).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e)));
  },

  async importState(ctx, id) {
    const inv = new Inventory(ctx.client);
    let ref: ManagedObjectReference | undefined;
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) ref = await inv.findVmByUuid(id.toLowerCase());
    else if (id.startsWith('/')) ref = await inv.findByInventoryPath(id);
    else if (/^vm-\d+$/.test(id)) ref = moRef('VirtualMachine', id);
    const vm = ref && ref.type === 'VirtualMachine' ? await readVm(ctx.client, ref) : undefined;
    if (!vm) throw new ResourceError(`no VM found for "${id}"; import a container VM by its BIOS UUID, its MOID (vm-N) or its inventory path`);
    if (!isOurs(vm)) throw new ResourceError(`VM ${vm.name} (${vm.moid}) was not made by vic-iac (no vic.* markers); only container VMs can be imported`);
    return stateOfVm(vm);
  },
};
