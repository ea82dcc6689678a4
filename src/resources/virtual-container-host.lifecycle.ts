/**
 * virtual_container_host against vSphere: a marked resource pool, a marked VM folder, and the image
 * store directories. The marker (custom field `vic-iac.vch` on the pool) is how every later read,
 * import and crash-recovery knows the pool is ours and where its image store lives. What a VCH may
 * adopt and delete, and how a lost reply recovers, is in vch-ownership.ts.
 */
import { isFault, ignoreNotFound, isNotFound, moRef, type ManagedObjectReference, type VimClient } from '../vsphere';
import { ensureCustomFieldDef, setCustomField } from '../vsphere/custom-fields';
import { datastorePath, deleteDatastoreFile, makeDirectory, parseDatastorePath } from '../vsphere/file-manager';
import { statDatastoreFile } from '../vsphere/datastore-http';
import { destroyFolder } from '../vsphere/folder';
import { retrieveFromContainer, retrieveObject } from '../vsphere/property-collector';
import { destroyResourcePool, updateResourcePool, type ResourceAllocation, type SharesInfo } from '../vsphere/resource-pool';
import { destroyVm, powerOffVm } from '../vsphere/virtual-machine';
import { diskUsersOutside, isBelow } from './disk-users';
import { ResourceError } from './errors';
import { virtualContainerHost, type VchAttrs } from './virtual-container-host';
import { VOLATILE, madeByDocker, type Lifecycle, type LifecycleContext, type PlanCheck } from './lifecycle';
import { PlacementError, collectPlacement, computePool, datacenterOf, datastoreOf, inventory, networkOf, poolRef, resolving } from './placement';
import type { Datacenter } from '../vsphere/inventory';
import type { Attrs, Problem } from './schema';
import { ensureBootstrapIso, localIsoDigest } from './bootstrap-iso';
import { InventorySnapshot, PoolRow, VCH_MARKER_FIELD, VchMarker, readVchMarker, takeSnapshot, unreadableMarker, type VmRow } from './snapshot';
import {
  checkNewVchOwnership,
  claimFolder,
  claimPool,
  claimStore,
  datacenterAbove,
  describeVms,
  entityName,
  isContainerVmOf,
  readFolder,
  storeIsOurs,
  type StoreLocation,
} from './vch-ownership';

/**
 * Placement inputs written differently but naming the same object (a MOID where the state has a
 * name, e.g. after an import, or a path for a name) are not a change of placement.
 */
async function samePlacement(ctx: LifecycleContext, dc: Datacenter, config: Attrs, prior: Attrs): Promise<{ attribute: string; reason: string }[]> {
  const resolvers: Record<string, (v: string) => Promise<string>> = {
    datacenter: async (v) => (await datacenterOf(ctx, v)).ref.value,
    compute: async (v) => (await computePool(ctx, dc, v)).value,
    datastore: async (v) => (await datastoreOf(ctx, dc, v)).ref.value,
  };
  const out: { attribute: string; reason: string }[] = [];
  for (const [attribute, resolve] of Object.entries(resolvers)) {
    const before = prior[attribute];
    const after = config[attribute];
    if (before === after) continue;
    // Only the datacenter may be left out: it then means the provider default, or the only one.
    if (attribute !== 'datacenter' && (typeof before !== 'string' || typeof after !== 'string')) continue;
    const [a, b] = await Promise.all([resolve(typeof before === 'string' ? before : ''), resolve(typeof after === 'string' ? after : '')]).catch(() => [
      undefined,
      undefined,
    ]);
    if (a !== undefined && a === b)
      out.push({
        attribute,
        reason: `${attribute}: ${JSON.stringify(before)} and ${JSON.stringify(after)} name the same object (${a}); only the state changes`,
      });
  }
  return out;
}

/**
 * A `bootstrap_iso` the user names must be on its datastore: one datastore listing (shared with the
 * `datastore` check when it is the same datastore) and one HEAD over the datastore's HTTP interface.
 * Checked when it is new or changed; a file deleted later shows when a container VM boots.
 */
async function bootstrapIsoProblems(ctx: LifecycleContext, dc: Datacenter, config: Attrs, prior: Attrs | null): Promise<Problem[]> {
  const iso = config.bootstrap_iso;
  if (typeof iso !== 'string' || iso === prior?.bootstrap_iso) return [];
  const { datastore, path } = parseDatastorePath(iso);
  const lookup = async () => {
    const ds = await resolving('bootstrap_iso', iso, () =>
      ctx.memo(`${VOLATILE}datastore:${dc.ref.value}:${datastore}`, () => inventory(ctx).datastore(dc, datastore)),
    );
    const file = await ctx.memo(`${VOLATILE}file:${dc.ref.value}:${iso}`, () =>
      statDatastoreFile(ctx.client, { datacenter: dc.name, datastore: ds.name, path }),
    );
    if (!file) {
      throw new PlacementError(
        'bootstrap_iso',
        `bootstrap_iso = ${JSON.stringify(iso)}: there is no file "${path}" on datastore "${ds.name}" in datacenter "${dc.name}". Upload the ISO there first, or leave bootstrap_iso out to have vic-iac upload its own.`,
      );
    }
  };
  return collectPlacement([lookup()]);
}

/** The pool a VCH goes under, looked up once per plan however many checks need it. */
function parentPool(ctx: LifecycleContext, dc: Datacenter, compute: string): Promise<ManagedObjectReference> {
  return ctx.memo(`${VOLATILE}compute:${dc.ref.value}:${compute}`, () => computePool(ctx, dc, compute));
}

const RESERVATIONS = [
  { attribute: 'cpu_reservation_mhz', kind: 'cpu', unit: 'MHz', fromVsphere: (v: number) => v },
  // vSphere counts memory in bytes here.
  { attribute: 'memory_reservation_mb', kind: 'memory', unit: 'MB', fromVsphere: (v: number) => Math.floor(v / (1024 * 1024)) },
] as const;

/**
 * A reservation (or its increase) must fit in what the parent pool can still hand out to a child
 * pool (`runtime.*.unreservedForPool`, which counts what an expandable parent may borrow in turn):
 * vSphere refuses more at apply time, after the pool's folder and image store were half made.
 * One property read of the parent, and only when a reservation grows.
 */
async function reservationProblems(ctx: LifecycleContext, dc: Datacenter, config: Attrs, prior: Attrs | null): Promise<Problem[]> {
  if (typeof config.compute !== 'string') return [];
  const compute = config.compute;
  const asked = (had: (attribute: string) => number) =>
    RESERVATIONS.map((r) => {
      const want = config[r.attribute];
      return { ...r, want, more: typeof want === 'number' ? want - had(r.attribute) : 0 };
    }).filter((r) => r.more > 0);
  const held = (attribute: string) => (typeof prior?.[attribute] === 'number' ? (prior[attribute] as number) : 0);
  if (asked(held).length === 0) return [];
  // A compute that does not resolve is reported on "compute" by the placement check.
  const parent = await parentPool(ctx, dc, compute).catch(() => undefined);
  if (!parent) return [];
  // A VCH that moves to another parent is made anew there: it needs its whole reservation.
  const before = prior && typeof prior.compute === 'string' ? await parentPool(ctx, dc, prior.compute).catch(() => undefined) : undefined;
  const growing = asked(before?.value === parent.value && prior?.datacenter === config.datacenter ? held : () => 0);
  if (growing.length === 0) return [];
  const runtime = await ctx.memo(`${VOLATILE}unreserved:${parent.value}`, () =>
    retrieveObject<Record<string, unknown>>(ctx.client, parent, ['runtime.cpu.unreservedForPool', 'runtime.memory.unreservedForPool']),
  );
  const problems: Problem[] = [];
  for (const r of growing) {
    const raw = Number(runtime[`runtime.${r.kind}.unreservedForPool`]);
    if (!Number.isFinite(raw)) continue;
    const left = Math.max(0, r.fromVsphere(raw));
    if (r.more <= left) continue;
    const how = prior ? `raises the reservation by ${r.more} ${r.unit}, more than` : `is more than`;
    problems.push({
      path: [r.attribute],
      severity: 'error',
      summary: `Not enough capacity for "${r.attribute}"`,
      detail: `${r.attribute} = ${String(r.want)} ${how} the ${left} ${r.unit} that compute ${JSON.stringify(compute)} has left to reserve. Use at most ${Number(r.want) - r.more + left}, or release reservations elsewhere in that cluster or pool.`,
    });
  }
  return problems;
}

/** True when the VCH's ISO is the one vic-iac uploads (the user named none, or named ours). */
function ownsIso(config: VchAttrs, marker: VchMarker): boolean {
  return !config.bootstrap_iso || (config.bootstrap_iso === marker.bootstrap_iso && Boolean(marker.bootstrap_iso_sha256));
}

function shares(s: string): SharesInfo {
  return ['low', 'normal', 'high'].includes(s) ? { level: s as SharesInfo['level'] } : { level: 'custom', shares: Number(s) };
}

function allocations(c: VchAttrs): { cpuAllocation: ResourceAllocation; memoryAllocation: ResourceAllocation } {
  return {
    cpuAllocation: { reservation: c.cpu_reservation_mhz, limit: c.cpu_limit_mhz, shares: shares(c.cpu_shares), expandableReservation: true },
    memoryAllocation: { reservation: c.memory_reservation_mb, limit: c.memory_limit_mb, shares: shares(c.memory_shares), expandableReservation: true },
  };
}

/**
 * The state as vSphere has it: allocations from the pool, the rest from the marker, user-only inputs
 * from prior. What delete acts on (the folder and the image store) stays what the state already
 * holds: a custom field that anyone may rewrite must not redirect a later delete. The marker
 * supplies them only where the state has none yet (create, import).
 */
function stateOf(pool: PoolRow, marker: VchMarker, prior: Attrs): Attrs {
  const storePath = typeof prior.image_store_path === 'string' && prior.image_store_path ? prior.image_store_path : marker.image_store_path;
  return {
    id: pool.moid,
    name: pool.name,
    datacenter: prior.datacenter ?? null,
    compute: prior.compute ?? marker.compute,
    datastore: prior.datastore ?? marker.datastore,
    image_store_path: storePath,
    bridge_network: marker.bridge_network,
    cpu_limit_mhz: pool.cpu.limit,
    cpu_reservation_mhz: pool.cpu.reservation,
    cpu_shares: pool.cpu.shares,
    memory_limit_mb: pool.memory.limit,
    memory_reservation_mb: pool.memory.reservation,
    memory_shares: pool.memory.shares,
    bootstrap_iso: marker.bootstrap_iso,
    force_destroy: prior.force_destroy ?? false,
    resource_pool_id: pool.moid,
    folder_id: typeof prior.folder_id === 'string' && prior.folder_id ? prior.folder_id : marker.folder_id,
    image_store: typeof prior.image_store === 'string' && prior.image_store ? prior.image_store : datastorePath(marker.datastore, storePath),
  };
}

async function markerField(client: VimClient): Promise<number> {
  // One global definition serves pools and folders alike.
  return (await ensureCustomFieldDef(client, VCH_MARKER_FIELD)).key;
}

/**
 * Why VCH `id` may not be deleted with `vms` in its pool, if it may not: without force_destroy, any
 * VM; with it, a VM that is not one of its container VMs (force_destroy never deletes other VMs).
 */
function vchDeleteRefusal(name: unknown, id: string, vms: readonly VmRow[], force: boolean): string | undefined {
  if (vms.length > 0 && !force) {
    return `virtual container host "${String(name)}" (${id}) still holds ${vms.length} VM(s): ${describeVms(vms)}. Delete them first, or set force_destroy = true to delete them with the VCH.`;
  }
  const foreign = vms.filter((vm) => !isContainerVmOf(vm, id));
  if (foreign.length > 0) {
    return `virtual container host "${String(name)}" (${id}) holds ${foreign.length} VM(s) that are not its container VMs: ${describeVms(foreign)}. force_destroy deletes only the container VMs vic-iac made for this VCH, never other VMs. Move those VMs out of the pool (or delete them yourself), then destroy again.`;
  }
  return undefined;
}

async function readOne(client: VimClient, moid: string): Promise<{ pool?: PoolRow; snapshot: InventorySnapshot }> {
  const snapshot = await takeSnapshot(client, [moid]);
  return { pool: snapshot.pools.get(moid), snapshot };
}

/** Plan-time: the pool, folder and image store a new VCH would make must be free (or left by an earlier create of it). */
async function newVchOwnership(ctx: LifecycleContext, dc: Datacenter, config: VchAttrs): Promise<{ problems: Problem[]; notes: string[] }> {
  const name = config.name;
  const storeGiven = typeof config.image_store_path === 'string' && config.image_store_path !== '';
  const [parent, ds] = await Promise.all([computePool(ctx, dc, config.compute), datastoreOf(ctx, dc, config.datastore)]);
  return checkNewVchOwnership(ctx.client, {
    dc,
    parent,
    where: config.compute,
    name,
    store: { datacenter: dc.name, datacenterRef: dc.ref, datastore: ds, path: config.image_store_path || name },
    storeAttribute: storeGiven ? 'image_store_path' : 'name',
    replacing: typeof ctx.replacing?.id === 'string' && ctx.replacing.id !== '' ? ctx.replacing.id : undefined,
  });
}

/** The image store as the state names it (never the datastore root), in the datacenter vSphere puts the pool in. */
async function storeOf(ctx: LifecycleContext, prior: Attrs, pool: PoolRow | undefined): Promise<StoreLocation | undefined> {
  if (typeof prior.image_store !== 'string' || !prior.image_store) return undefined;
  const { datastore, path } = parseDatastorePath(prior.image_store);
  const inside = path.replace(/^\/+|\/+$/g, '');
  if (!inside) return undefined;
  const dc = pool ? await datacenterAbove(ctx.client, poolRef(pool.moid)) : await datacenterOf(ctx, prior.datacenter);
  const ds = await datastoreOf(ctx, dc, datastore);
  return { datacenter: dc.name, datacenterRef: dc.ref, datastore: ds, path: inside };
}

function notOurs(moid: string, name: string): ResourceError {
  return new ResourceError(
    `resource pool "${name}" (${moid}) is not a virtual container host managed by vic-iac: it carries no "${VCH_MARKER_FIELD}" marker. Rename or remove that pool, or choose another VCH name.`,
  );
}

export const virtualContainerHostLifecycle: Lifecycle<VchAttrs> = {
  declaration: virtualContainerHost,

  poolsOf: (state) => (typeof state.id === 'string' && state.id ? [state.id] : []),
  readsVms: false,

  async read(ctx, snapshot, prior) {
    const pool = snapshot.pools.get(String(prior.id));
    if (!pool) return null;
    if (pool.markerError) throw unreadableMarker(pool);
    if (!pool.marker) throw notOurs(pool.moid, pool.name);
    // The refresh read the marker with the pool: the plans that follow (the VCH's own, its images'
    // and container VMs') take it from the command's `vch:` memo instead of reading it again.
    const marker = pool.marker;
    await ctx.memo(`vch:${pool.moid}`, () => Promise.resolve(marker));
    return stateOf(pool, marker, prior);
  },

  async check(ctx, config, prior): Promise<PlanCheck> {
    const unchangedPlacement =
      prior !== null && prior.compute === config.compute && prior.datastore === config.datastore && prior.datacenter === config.datacenter;
    const checks: Array<Promise<unknown>> = [];
    const dcPromise = datacenterOf(ctx, config.datacenter);
    checks.push(dcPromise);
    const dc = await dcPromise.catch(() => undefined);
    if (dc) {
      if (!unchangedPlacement) {
        checks.push(parentPool(ctx, dc, config.compute));
        checks.push(datastoreOf(ctx, dc, config.datastore));
      }
      if (config.bridge_network && config.bridge_network !== prior?.bridge_network) checks.push(networkOf(ctx, dc, 'bridge_network', config.bridge_network));
    }
    // What the cluster has left to reserve counts the reservation of a VCH this create may replace.
    const own = dc ? [bootstrapIsoProblems(ctx, dc, config, prior), ...(ctx.referencesOnly ? [] : [reservationProblems(ctx, dc, config, prior)])] : [];
    const [placed, found] = await Promise.all([collectPlacement(checks), Promise.all(own)]);
    const problems = [...placed, ...found.flat()];
    const equivalent = dc && prior && problems.length === 0 ? await samePlacement(ctx, dc, config, prior) : [];
    const updates: string[] = [];
    if (prior && ctx.bootstrapIsoFile) {
      // Through the command's `vch:` memo: the plans of its images and container VMs read the same
      // marker, so a plan of the stack reads it once (the VCH's own changes forget it).
      const marker = await ctx.memo(`vch:${String(prior.id)}`, () => readVchMarker(ctx.client, String(prior.id)));
      if (marker && ownsIso(config, marker)) {
        const local = await localIsoDigest(ctx.bootstrapIsoFile);
        if (local !== marker.bootstrap_iso_sha256)
          updates.push(`bootstrap ISO: the local ISO changed (sha256 ${local.slice(0, 12)}…); it will be uploaded again`);
      }
    }
    const notes: string[] = [];
    // A VCH this create may replace still holds its pool, folder and image store.
    if (problems.length === 0 && dc && prior === null && !ctx.referencesOnly) {
      const owned = await newVchOwnership(ctx, dc, config);
      problems.push(...owned.problems);
      notes.push(...owned.notes);
    }
    return { problems, updates, equivalent, notes };
  },

  async create(ctx, config) {
    const { client } = ctx;
    const dc = await datacenterOf(ctx, config.datacenter);
    const parent = await computePool(ctx, dc, config.compute);
    const ds = await datastoreOf(ctx, dc, config.datastore);
    if (config.bridge_network) await networkOf(ctx, dc, 'bridge_network', config.bridge_network);
    const name = config.name;
    const storePath = config.image_store_path ?? name;
    const field = await markerField(client);

    // Again at apply time: vSphere may have changed since the plan, and a refusal now changes nothing.
    const owned = await newVchOwnership(ctx, dc, config);
    if (owned.problems.length > 0) throw new ResourceError(owned.problems.map((p) => p.detail).join('\n'), owned.problems);

    ctx.progress('resource pool', 0, 4);
    const { pool, adopted } = await claimPool(client, parent, name, config.compute, allocations(config));
    const marker: VchMarker = {
      v: 1,
      name,
      datacenter: dc.name,
      datacenter_id: dc.ref.value,
      datastore: ds.name,
      datastore_id: ds.ref.value,
      image_store_path: storePath,
      bridge_network: config.bridge_network,
      bootstrap_iso: config.bootstrap_iso ?? null,
      folder_id: null,
      compute: config.compute,
      pending: true,
    };
    // Mark at once, so a crash from here on leaves a pool the next apply adopts; its pending marker
    // also claims the folder and the directory made next (see vch-ownership.ts).
    await setCustomField(client, pool, field, JSON.stringify(marker));

    ctx.progress('VM folder', 1, 4);
    const folder = await claimFolder(client, dc, name, pool.value, field, adopted);

    ctx.progress('image store', 2, 4);
    await claimStore(client, { datacenter: dc.name, datacenterRef: dc.ref, datastore: ds, path: storePath }, pool.value, adopted);
    for (const dir of ['images', 'volumes', 'containers']) {
      await makeDirectory(client, datastorePath(ds.name, `${storePath}/${dir}`), dc.ref).catch((err: unknown) => {
        if (!isFault(err, 'FileAlreadyExists')) throw err;
      });
    }
    const { pending: _creating, ...complete } = marker;
    let final: VchMarker = { ...complete, folder_id: folder.value };
    if (!config.bootstrap_iso && ctx.bootstrapIsoFile) {
      ctx.progress('bootstrap ISO', 3, 4);
      const iso = await ensureBootstrapIso(client, final, ctx.bootstrapIsoFile, (current, total) => ctx.progress('upload bootstrap ISO', current, total));
      final = { ...final, bootstrap_iso: iso.path, bootstrap_iso_sha256: iso.sha256 };
    }
    await setCustomField(client, pool, field, JSON.stringify(final));
    ctx.progress('done', 4, 4);
    const { pool: row } = await readOne(client, pool.value);
    if (!row) throw new ResourceError(`resource pool ${pool.value} vanished right after it was created`);
    return stateOf(row, final, config);
  },

  async update(ctx, prior, config) {
    const { client } = ctx;
    const id = String(prior.id);
    ctx.forget(`vch:${id}`);
    const { pool } = await readOne(client, id);
    if (pool?.markerError) throw unreadableMarker(pool);
    if (!pool?.marker) throw notOurs(id, prior.name);
    await updateResourcePool(client, poolRef(id), allocations(config));
    let marker = pool.marker;
    let next: VchMarker = { ...marker, bridge_network: config.bridge_network, bootstrap_iso: config.bootstrap_iso ?? marker.bootstrap_iso };
    if (ownsIso(config, marker) && ctx.bootstrapIsoFile) {
      const iso = await ensureBootstrapIso(client, next, ctx.bootstrapIsoFile, (current, total) => ctx.progress('upload bootstrap ISO', current, total));
      next = { ...next, bootstrap_iso: iso.path, bootstrap_iso_sha256: iso.sha256 };
    }
    if (JSON.stringify(next) !== JSON.stringify(marker)) {
      marker = next;
      await setCustomField(client, poolRef(id), await markerField(client), JSON.stringify(marker));
    }
    const { pool: after } = await readOne(client, id);
    return stateOf(after ?? pool, marker, {
      ...config,
      folder_id: prior.folder_id ?? null,
      image_store: prior.image_store ?? null,
      image_store_path: prior.image_store_path ?? null,
    });
  },

  async checkDelete(ctx, prior) {
    const id = String(prior.id);
    const { pool, snapshot } = await readOne(ctx.client, id);
    if (!pool?.marker || prior.force_destroy === true) return [];
    // The state's own container VMs may go first in the same apply, and so may other VMs of the pool
    // (another provider's, in the same state): the containers docker made go with no state's apply.
    const docker = snapshot.vmsInPool(id).filter((vm) => isContainerVmOf(vm, id) && madeByDocker(vm.extraConfig.get('vic.labels')));
    const refusal = vchDeleteRefusal(pool.name, id, docker, false);
    if (!refusal) return [];
    return [{ path: [], summary: 'The VCH cannot be destroyed yet', detail: `${refusal} Docker made them: docker rm -f removes them. Nothing was destroyed.` }];
  },

  async delete(ctx, prior) {
    const { client } = ctx;
    const id = String(prior.id);
    ctx.forget(`vch:${id}`);
    const { pool, snapshot } = await readOne(client, id);
    if (pool?.markerError) throw unreadableMarker(pool);
    if (pool && !pool.marker) throw notOurs(id, pool.name);
    const name = pool?.name ?? prior.name;
    // Everything is checked before anything is deleted: a refused delete changes nothing.
    const vms = snapshot.vmsInPool(id);
    const refusal = vchDeleteRefusal(name, id, vms, prior.force_destroy === true);
    if (refusal) throw new ResourceError(refusal);
    const folderId = typeof prior.folder_id === 'string' && prior.folder_id ? prior.folder_id : undefined;
    const folder = folderId ? await readFolder(client, moRef('Folder', folderId)) : undefined;
    if (folder) {
      const ours = new Set(vms.map((v) => v.moid));
      const others = folder.children.filter((c) => !ours.has(c.value));
      if (others.length > 0) {
        const named = await Promise.all(others.map(async (c: ManagedObjectReference) => ({ moid: c.value, name: await entityName(client, c) })));
        throw new ResourceError(
          `the VM folder "${folder.name}" (${folder.ref.value}) of virtual container host "${name}" (${id}) holds ${others.length} object(s) that are not container VMs in its pool: ${describeVms(named)}. vic-iac deletes the folder only with its own VMs in it. Move those out of the folder (or a container VM of this VCH back into its pool), then destroy again.`,
        );
      }
    }
    const store = prior.force_destroy === true ? await storeOf(ctx, prior, pool) : undefined;
    // Volumes may hold data: the image store goes only when the user asked for a forced destroy,
    // and only when its marker file says this VCH made it.
    const deletesStore = store !== undefined && (await storeIsOurs(client, store, id));
    if (store && deletesStore) {
      // A VM outside the pool with a disk in the store (a container VM moved out of it, a volume
      // attached by hand) would lose that disk, and with an image's, its own.
      const where = datastorePath(store.datastore.name, store.path);
      const users = await diskUsersOutside(client, store.datastore.ref.value, new Set(vms.map((v) => v.moid)), isBelow(where));
      if (users.length > 0) {
        throw new ResourceError(
          `virtual container host "${name}" (${id}): force_destroy deletes its image store ${where}, but ${users.length} VM(s) outside its pool use disks in it: ` +
            `${users.map((u) => `${u.name} (${u.moid}: ${u.disks.map((d) => String(d.backing?.fileName ?? d.key)).join(', ')})`).join('; ')}. ` +
            'Nothing was deleted. Move those VMs back into the pool (force_destroy then deletes them with the VCH), or delete them or remove those disks from them, then destroy again.',
        );
      }
    }

    for (const [i, vm] of vms.entries()) {
      ctx.progress('deleting container VMs', i, vms.length, vm.name);
      const ref = moRef('VirtualMachine', vm.moid);
      if (vm.powerState === 'poweredOn') await powerOffVm(client, ref).catch((e: unknown) => (isFault(e, 'InvalidPowerState') ? undefined : Promise.reject(e)));
      await destroyVm(client, ref).catch(ignoreNotFound);
    }
    if (pool) await destroyResourcePool(client, poolRef(id)).catch(ignoreNotFound);
    if (folder) await destroyFolder(client, folder.ref).catch(ignoreNotFound);
    if (store && deletesStore) {
      await deleteDatastoreFile(client, datastorePath(store.datastore.name, store.path), store.datacenterRef).catch((e: unknown) =>
        isNotFound(e) ? undefined : Promise.reject(e),
      );
    }
  },

  async importState(ctx, id) {
    let moid = id;
    if (id.startsWith('/')) {
      const ref = await inventory(ctx).findByInventoryPath(id);
      if (!ref || ref.type !== 'ResourcePool')
        throw new ResourceError(`no resource pool at inventory path "${id}"; import a VCH by its pool MOID (resgroup-N) or the pool's inventory path`);
      moid = ref.value;
    }
    const { pool } = await readOne(ctx.client, moid);
    if (!pool) throw new ResourceError(`resource pool ${moid} not found; import a VCH by its pool MOID (resgroup-N) or inventory path`);
    if (pool.markerError) throw unreadableMarker(pool);
    if (!pool.marker) throw notOurs(moid, pool.name);
    // The folder named in the pool's marker becomes part of the state (what delete removes) only when
    // the folder's own marker names this pool back.
    const folder = pool.marker.folder_id ? await readFolder(ctx.client, moRef('Folder', pool.marker.folder_id)) : undefined;
    const folderOurs = Boolean(folder && typeof folder.owner === 'object' && folder.owner.vch === moid);
    const marker = folderOurs ? pool.marker : { ...pool.marker, folder_id: null };
    return stateOf(pool, marker, { datacenter: pool.marker.datacenter, compute: pool.marker.compute, datastore: pool.marker.datastore, force_destroy: false });
  },

  async lookup(ctx: LifecycleContext, config: Attrs) {
    const dc = await datacenterOf(ctx, config.datacenter);
    const rows = await retrieveFromContainer<{ name: string }>(ctx.client, { container: dc.ref, select: [{ type: 'ResourcePool', paths: ['name'] }] });
    const candidates = rows.filter((r) => r.props.name === config.name);
    const snapshot = await takeSnapshot(
      ctx.client,
      candidates.map((c) => c.ref.value),
    );
    const marked = [...snapshot.pools.values()].filter((p) => p.marker);
    if (marked.length !== 1) {
      throw new ResourceError(
        marked.length === 0
          ? `no virtual container host named "${String(config.name)}" in datacenter "${dc.name}"`
          : `several virtual container hosts are named "${String(config.name)}" (${marked.map((p) => p.moid).join(', ')}); import by MOID instead`,
      );
    }
    const p = marked[0];
    const marker = p.marker as VchMarker;
    return stateOf(p, marker, { datacenter: dc.name, compute: marker.compute, datastore: marker.datastore, force_destroy: false });
  },
};
