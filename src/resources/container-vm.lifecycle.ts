/**
 * container_vm against vSphere. The VM's BIOS UUID is UUIDv5(VCH id, name): a create that crashed
 * midway is found again by FindByUuid and adopted (only when it carries our markers), never
 * duplicated. A container VM renamed in place (docker rename) keeps its UUID and records the name it
 * derives from (`vic.uuid_seed`); a new container VM that takes the old name then derives its UUID
 * from (name, 1), (name, 2)… whichever no renamed VM holds. What the user asked for is kept in extraConfig `vic.spec`; the merged container
 * config the guest reads is `guestinfo.vic.config`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import { inspectStoredImage, imageLayout, type ImageMetadata, type ImageStore } from '../images';
import {
  isDuplicateName,
  isFault,
  isFileAlreadyExists,
  isInvalidArgument,
  ignoreNotFound,
  isNotFound,
  isTransient,
  moRef,
  sleepUnlessAborted,
  type ManagedObjectReference,
  type VimClient,
} from '../vsphere';
import { ensureCustomFieldDef, setCustomField } from '../vsphere/custom-fields';
import { datastorePath, makeDirectory } from '../vsphere/file-manager';
import { Inventory, type NetworkTarget } from '../vsphere/inventory';
import { retrieveObjects } from '../vsphere/property-collector';
import {
  addDevice,
  fileSerialPort,
  removeDevice,
  type VirtualDevice,
  isoCdrom,
  networkAdapter,
  pvscsiController,
  virtualDisk,
  type VirtualDeviceConfigSpec,
} from '../vsphere/virtual-devices';
import { currentCancellation } from '../vsphere/tasks';
import { createVm, destroyVm, powerOffVm, powerOnVm, reconfigureVm, renameEntity } from '../vsphere/virtual-machine';
import { containerVm, type ContainerVmAttrs } from './container-vm';
import { InputUnreachableError, NotRunningError, ResourceError, VchGoneError } from './errors';
import { GUESTINFO_CONFIG_KEY, decodeGuestConfig, encodeGuestConfig, guestConfig, hostsOf, restartOf } from './guest-config';
import { plannedImageKey, storedImageKey } from './image.lifecycle';
import { VOLATILE, dockerOriginWarning, handedRowKey, withoutDockerLabels, type Lifecycle, type LifecycleContext, type PlanCheck } from './lifecycle';
import { readMaxVcpus } from './pool-capacity';
import { PlacementError, collectPlacement, networkOf } from './placement';
import { isUnknown, UNKNOWN, type Attrs, type PlannedAttrs, type Problem, type Unknown, type Value } from './schema';
import { parseVolumeId, resolveMounts, type MountedVolume } from './volume.lifecycle';
import { InventorySnapshot, VchMarker, VmRow, imageStoreOf, readVchMarker, readVmRow, takeSnapshot } from './snapshot';

/** Namespace of container VM BIOS UUIDs (UUIDv5). Changing it would orphan every existing VM. */
export const CONTAINER_VM_UUID_NAMESPACE = '8f0e3a52-6b1d-4c57-9a3e-2d5b7c9e1f40';

export function containerVmUuid(vchId: string, name: string): string {
  return uuidv5(`${vchId}/${name}`, CONTAINER_VM_UUID_NAMESPACE);
}

/** How many renamed container VMs may keep UUIDs derived from one name before a new one is refused. */
const MAX_UUID_GENERATIONS = 64;

/** The seed of the n-th UUID a name may take: the name itself first, as for every VM made before renames existed; "/" is in no name. */
function uuidSeed(name: string, generation: number): string {
  return generation === 0 ? name : `${name}/${generation}`;
}

/** The BIOS UUID a container VM was made with: derived from its seed marker (set by a rename, or for a later generation), else its name. */
export function expectedUuid(vm: VmRow, vchId: string): string | undefined {
  const seed = vm.extraConfig.get(KEYS.uuidSeed) ?? vm.extraConfig.get(KEYS.name);
  return seed === undefined ? undefined : containerVmUuid(vchId, seed);
}

interface UuidChoice {
  readonly uuid: string;
  readonly seed: string;
  /** The VM that holds the UUID now (ours, of this name: a create to adopt or one held; or a foreign VM). */
  readonly holder?: VmRow;
}

/**
 * The BIOS UUID for a new container VM `name`: the first derivation that no renamed container VM of
 * the VCH keeps. A VM of this name that holds one (a lost create) or a foreign VM stops the walk,
 * so crash-safe adoption and the refusal of squatters work as for the first derivation.
 */
async function chooseUuid(vchId: string, name: string, holderOf: (uuid: string) => Promise<VmRow | undefined>): Promise<UuidChoice> {
  for (let generation = 0; generation < MAX_UUID_GENERATIONS; generation++) {
    const seed = uuidSeed(name, generation);
    const uuid = containerVmUuid(vchId, seed);
    const holder = await holderOf(uuid);
    const renamedAway = holder !== undefined && isOurs(holder, vchId) && holder.extraConfig.get(KEYS.name) !== name;
    if (!renamedAway) return { uuid, seed, holder };
  }
  throw new ResourceError(
    `${MAX_UUID_GENERATIONS} renamed container VMs of VCH ${vchId} keep the BIOS UUIDs that a container VM named "${name}" may take; choose another name`,
  );
}

/** A signal for the container's process, "<sequence> <number>": guest-readable, as the tether reads it under vSphere. */
export const SIGNAL_KEY = 'guestinfo.vic.signal';

/**
 * Messages for the guest, one key each: "<prefix><sequence>" = "data:<base64>" or "eof" (input for
 * the container's process), "resize:<rows>x<cols>" (its terminal's size), "exec:<id>:<base64 JSON>"
 * (a process to run beside it: docker exec), "exec-data:<id>:<base64>", "exec-eof:<id>" or
 * "exec-resize:<id>:<rows>x<cols>" (that one's input and terminal). Sequences sort as they go; the
 * hypervisor's side of the tether passes each on and removes it (guest-config.md, Input from the
 * hypervisor).
 */
export const INPUT_KEY_PREFIX = 'guestinfo.vic.stdin.';
/** Input chunks of at most this many bytes: one key's value stays under 64 KiB of base64. */
export const INPUT_CHUNK_BYTES = 48 * 1024;
/** Set by the tether with its running status when input reaches the process (`serial`). */
export const INPUT_STATUS_KEY = 'guestinfo.vic.input';
/** Set by the tether with its running status when exec requests reach it (`serial`). */
export const EXEC_STATUS_KEY = 'guestinfo.vic.exec';

let lastInputSequence = { ms: 0, n: 0 };

/** The key of the next message for the guest: the input sequence of this process, time-ordered and strictly increasing within it. */
function nextInputKey(): string {
  const ms = Date.now();
  lastInputSequence = ms > lastInputSequence.ms ? { ms, n: 0 } : { ms: lastInputSequence.ms, n: lastInputSequence.n + 1 };
  return `${INPUT_KEY_PREFIX}${String(lastInputSequence.ms).padStart(15, '0')}.${String(lastInputSequence.n).padStart(6, '0')}`;
}

/**
 * The container VM's reference once its process runs and its tether said it reads what `key`
 * names (`INPUT_STATUS_KEY`, `EXEC_STATUS_KEY`): else refused, before anything is written.
 */
async function guestLine(ctx: LifecycleContext, prior: Attrs, key: string): Promise<ManagedObjectReference> {
  const ref = moRef('VirtualMachine', String(prior.moid));
  const name = String(prior.name);
  for (;;) {
    const vm = await readVm(ctx.client, ref);
    if (ctx.maintenance !== undefined) {
      // A maintenance boot's guest runs no process: its own token says it takes requests.
      if (!vm || vm.powerState !== 'poweredOn' || vm.extraConfig.get(MAINTENANCE_READY_KEY) !== ctx.maintenance) throw new NotRunningError(name);
    } else {
      if (!vm || vm.powerState !== 'poweredOn' || vm.extraConfig.get(STATUS_KEYS.status) !== 'running') throw new NotRunningError(name);
      if (vm.extraConfig.get(key) !== 'serial') throw new InputUnreachableError(name, key === EXEC_STATUS_KEY ? 'exec' : 'input');
    }
    // Back-pressure: the hypervisor takes messages only as fast as the guest reads them, and
    // leaves the rest in the config; more waits until few are left.
    const pending = [...vm.extraConfig.keys()].filter((k) => k.startsWith(INPUT_KEY_PREFIX)).length;
    if (pending < MAX_PENDING_INPUT_KEYS) return ref;
    await new Promise((r) => setTimeout(r, INPUT_WAIT_MS));
  }
}

/** Messages left in a VM's config beyond which more input waits (about 768 KiB of input). */
const MAX_PENDING_INPUT_KEYS = 16;
const INPUT_WAIT_MS = 200;

/** extraConfig keys: `vic.*` are not guest-readable (only `guestinfo.*` is). */
export const KEYS = {
  owner: 'vic.owner',
  vch: 'vic.vch',
  name: 'vic.name',
  image: 'vic.image',
  spec: 'vic.spec',
  labels: 'vic.labels',
  exposedPorts: 'vic.exposed_ports',
  /** The ports asked for (docker run -p, `ports`): "80/tcp=0.0.0.0:8080", a host port 0 meaning any. */
  portBindings: 'vic.port_bindings',
  /** Set by the simulator's runner while the VM's guest waits for a free slot (docs/runner.md). */
  guestQueued: 'vic.guest_queued',
  /** Where the simulator's runner published them (published_ports). */
  publishedPorts: 'vic.published_ports',
  /** When the runner picked them, at the power-on (RFC 3339): a process that ended before was an earlier run's. */
  publishedAt: 'vic.published_at',
  /** The name the BIOS UUID derives from, when it is not the current name (renamed, or a later generation). */
  uuidSeed: 'vic.uuid_seed',
  /**
   * `pending` from CreateVM until the create returns: only a pending VM is adopted. Its `done` goes
   * to the CREATED_FIELD custom field where vSphere has custom fields (vCenter), else here (ESXi, and
   * every VM made before the field existed).
   */
  created: 'vic.created',
  /**
   * A random token of the create that made the VM: a create whose reply was lost takes the VM it
   * finds by the BIOS UUID as its own only when the token is its own, never another process's
   * create of the same name that got there first.
   */
  createToken: 'vic.create_token',
  /**
   * Set while a client holds a maintenance boot of the VM (docker cp of a stopped container): its
   * token. The guest runs no process then, so the VM reads as stopped (inMaintenance).
   */
  maintenance: 'vic.maintenance',
} as const;

/**
 * A maintenance boot, asked for with its token before the power-on (guest-config.md, "Maintenance
 * boot"): the simulator's runner takes it away at the boot it asks for, and the tether under vSphere
 * empties it, so it never makes a later start a maintenance one.
 */
export const MAINTENANCE_GUEST_KEY = 'guestinfo.vic.maintenance';
/** The token of the maintenance boot whose guest takes exec requests (written by the runner). */
export const MAINTENANCE_READY_KEY = 'guestinfo.vic.maintenance_ready';
/** How long a maintenance boot may take to serve (a guest queued for a slot, a software-emulated boot). */
const MAINTENANCE_BOOT_MS = 5 * 60_000;

/**
 * Whether the VM is up for a maintenance boot, not for its process: a client holds one, and no
 * process of this boot reported running (a marker left by a client that died is then ignored).
 */
function inMaintenance(vm: VmRow): boolean {
  return !!vm.extraConfig.get(KEYS.maintenance) && vm.extraConfig.get(STATUS_KEYS.status) !== 'running';
}
const OWNER = 'vic-iac';

/**
 * Custom field (on VirtualMachine) that marks a create finished: `done`. One SetField, against a
 * ReconfigVM_Task and its wait for the extraConfig mark (bench/README.md, apply).
 */
export const CREATED_FIELD = 'vic-iac.created';

/** The user inputs that only we keep, in `vic.spec`: those the declaration tags `marker` (vSphere has no field for them). */
const SPEC_FIELDS = Object.entries(containerVm.schema)
  .filter(([, attribute]) => 'marker' in attribute && attribute.marker)
  .map(([name]) => name as keyof ContainerVmAttrs);

/**
 * What a secret_env value reads as when it cannot be told: in a listing, or when vSphere holds a
 * value that is neither the state's nor the guest config's. It equals no real config value, so a
 * plan replaces the VM rather than keep a secret it cannot vouch for.
 */
export const SECRET_UNREADABLE = '(sensitive value not readable)';

/**
 * The marker form of a secret value (vic.spec keeps only this): salted with the VM's BIOS UUID,
 * so equal secrets on two VMs do not show as equal hashes, and a changed value still shows as drift.
 */
export function secretEnvHash(uuid: string, name: string, value: string): string {
  return `sha256:${createHash('sha256').update(`${uuid}\0${name}\0${value}`).digest('hex')}`;
}

function secretEnvHashes(uuid: string, secretEnv: ContainerVmAttrs['secret_env']): Attrs | null {
  if (!secretEnv || Object.keys(secretEnv).length === 0) return null;
  return Object.fromEntries(
    Object.keys(secretEnv)
      .sort()
      .map((k) => [k, secretEnvHash(uuid, k, secretEnv[k])]),
  );
}

export function isOurs(vm: VmRow, vchId?: string, name?: string): boolean {
  const x = vm.extraConfig;
  return x.get(KEYS.owner) === OWNER && (vchId === undefined || x.get(KEYS.vch) === vchId) && (name === undefined || x.get(KEYS.name) === name);
}

/**
 * A VM whose create returned belongs to the resource that recorded it; only one left behind by a
 * create that never returned (killed midway) may be adopted. VMs made before the marker existed
 * carry none and stay adoptable.
 */
function heldMessage(vm: VmRow, vchId: string, name: string): string {
  return (
    `container VM "${name}" in VCH ${vchId} already exists as ${vm.moid}, and the create that made it finished: another resource holds it ` +
    '(two resources with this name in one VCH, a resource renamed while the old one is still in the state, or a replacement of that VM created before the old one is destroyed). ' +
    // The most common case first: a state that lost it (state rm, a lost state file).
    `If no resource holds it any more (its state was lost, or removed with terraform state rm or vic state rm), import it instead of creating it, by its id ${vm.uuid} ` +
    `(terraform import <address> ${vm.uuid}; vic import -f <spec> <address> ${vm.uuid}; pulumi import with that id). ` +
    "A replacement created first (Terraform's lifecycle create_before_destroy, on this resource or on one that depends on it; `pulumi up --replace`) cannot work for a container VM: " +
    'its BIOS UUID comes from its VCH and name, so the old and the new VM cannot exist at once. Remove create_before_destroy (Terraform), or give the resource the deleteBeforeReplace option (Pulumi), so that the old VM is destroyed first. ' +
    // Terraform's apply order for a deposed object is create first, whatever the configuration says now.
    "Terraform keeps the old VM of such a failed replacement in the state as a deposed object, and always creates a deposed object's successor before it destroys the deposed object: " +
    `bring it back with "terraform state rm <address>" (the VM stays) and "terraform import <address> ${vm.uuid}", then apply again (with -replace=<address> if you asked for the replacement with -replace); the old VM is then destroyed first. ` +
    'Otherwise give this resource another name; if you renamed it, remove the old one first or move its state (terraform state mv / a moved block).'
  );
}

/** The summary of a refusal because another resource (or process) holds the container VM: front ends tell it by this (docker's 409). */
const HELD_SUMMARY = 'Container VM held by another resource';

function isHeld(vm: VmRow): boolean {
  return vm.customValues?.get(CREATED_FIELD) === 'done' || vm.extraConfig.get(KEYS.created) === 'done';
}

/**
 * How long after CreateVM a pending VM may still be another process's create at work: its
 * CreateVM, power-on and mark take a few seconds on vCenter (well under a second on the simulator);
 * the rest is room for a busy vCenter. A pending VM younger than this, on the server's clock, is
 * waited for: adopting it at once made two creates of one name (two endpoints, an endpoint and an
 * apply, two Terraform workspaces) both succeed with one VM. Older, it is a killed create's leftover
 * (docs/terraform.md, lost replies and interrupted creates).
 */
export const CREATE_LEASE_MS = 60_000;

/** How often a pending VM of another create is looked at while it is waited for. */
const CREATE_WATCH_MS = 1_000;

/** The mark of a create that failed after CreateVM (where the mark `done` goes): the next create adopts its VM at once. */
const ABANDONED = 'abandoned';

function isAbandoned(vm: VmRow): boolean {
  return !isHeld(vm) && (vm.customValues?.get(CREATED_FIELD) === ABANDONED || vm.extraConfig.get(KEYS.created) === ABANDONED);
}

/**
 * How long ago, on the server's clock, the create of pending VM `vm` began (its config.createDate
 * against ServiceInstance.CurrentTime): `ageMs` 0 and no `createdAt` where vSphere does not date
 * VMs (before vSphere 6.7), so the whole lease is waited from now. An abandoned VM is a lease old.
 */
async function pendingAge(client: VimClient, vm: VmRow): Promise<{ readonly ageMs: number; readonly createdAt?: string }> {
  if (isAbandoned(vm)) return { ageMs: CREATE_LEASE_MS };
  const [row, now] = await Promise.all([
    retrieveObjects<Record<string, unknown>>(client, [moRef('VirtualMachine', vm.moid)], ['config.createDate']),
    client.serverTime(),
  ]);
  const createdAt = row[0]?.props['config.createDate'];
  const created = typeof createdAt === 'string' ? Date.parse(createdAt) : NaN;
  if (Number.isNaN(created)) return { ageMs: 0 };
  return { ageMs: Math.max(0, now.getTime() - created), createdAt: new Date(created).toISOString() };
}

function racedMessage(vm: VmRow, vchId: string, name: string, createdAt: string | undefined): string {
  return (
    `container VM "${name}" in VCH ${vchId} was created by another process at the same time (${vm.moid}${createdAt ? `, created at ${createdAt}` : ''}), ` +
    "and that create finished first: the VM is the other process's (another vic endpoint, vic apply, Terraform workspace or Pulumi stack), not this one's. " +
    'Choose another name, or remove that container VM through whoever created it, then try again.'
  );
}

/**
 * Waits while pending VM `vm` of this name may be another process's create still at work (younger
 * than CREATE_LEASE_MS on the server's clock). Returns the VM to adopt (it outlived the lease
 * unmarked, or its create gave it up), or undefined once it is gone (that create failed and removed
 * it: this one creates it). Marked done meanwhile, it is the other process's: refused.
 */
async function outwaitOtherCreate(ctx: LifecycleContext, vm: VmRow, vchId: string, name: string): Promise<VmRow | undefined> {
  const { ageMs, createdAt } = await pendingAge(ctx.client, vm);
  const waitMs = CREATE_LEASE_MS - ageMs;
  if (waitMs <= 0) return vm;
  ctx.progress(
    `waiting for VM ${vm.moid}, made by another create of "${name}"${createdAt ? ` at ${createdAt}` : ''}, to finish (up to ${Math.ceil(waitMs / 1000)} s), then adopting it`,
  );
  const ref = moRef('VirtualMachine', vm.moid);
  const signal = currentCancellation();
  // Only a duration is measured here, so the local clock serves.
  const deadline = Date.now() + waitMs;
  let now: VmRow | undefined = vm;
  for (let left = waitMs; left > 0; left = deadline - Date.now()) {
    if (signal?.aborted || !(await sleepUnlessAborted(Math.min(CREATE_WATCH_MS, left), signal)))
      throw new ResourceError(`stopped waiting for VM ${vm.moid} of another create of container VM "${name}": cancelled`);
    now = await readVmWithMarks(ctx.client, ref);
    if (!now || now.uuid !== vm.uuid || !isOurs(now, vchId, name)) return undefined;
    if (isHeld(now)) {
      const detail = racedMessage(now, vchId, name, createdAt);
      throw new ResourceError(detail, [{ path: ['name'], severity: 'error', summary: HELD_SUMMARY, detail }]);
    }
    if (isAbandoned(now)) break;
  }
  return now;
}

/**
 * The key of CREATED_FIELD, defined on first use; none where vSphere has no custom fields (an ESXi
 * host has no CustomFieldsManager) or the user may not define one: `done` then goes to extraConfig.
 */
function createdFieldKey(ctx: LifecycleContext): Promise<number | undefined> {
  if (!ctx.client.serviceContent.customFieldsManager) return Promise.resolve(undefined);
  return ctx.memo('container-vm:created-field', () =>
    ensureCustomFieldDef(ctx.client, CREATED_FIELD, 'VirtualMachine').then(
      (def) => def.key,
      (e: unknown) => (isFault(e, 'NoPermission') ? undefined : Promise.reject(e)),
    ),
  );
}

/**
 * The last step of a create: from here on the VM is this resource's, never adopted by another
 * create. A user who may not set custom fields gets the extraConfig mark, which every reader knows.
 */
async function markCreated(
  ctx: LifecycleContext,
  ref: ManagedObjectReference,
  fieldKey: Promise<number | undefined>,
  mark: 'done' | typeof ABANDONED = 'done',
): Promise<void> {
  const key = await fieldKey;
  const done = await (key === undefined
    ? false
    : setCustomField(ctx.client, ref, key, mark).then(
        () => true,
        (e: unknown) => (isFault(e, 'NoPermission') ? false : Promise.reject(e)),
      ));
  if (!done) await reconfigureVm(ctx.client, ref, { extraConfig: { [KEYS.created]: mark } });
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
  /** Per NIC "<index>;<address/prefix>;<gateway>;<mac>", joined by "," (the tether's NetworksReport). */
  networks: 'guestinfo.vic.networks',
  restartCount: 'guestinfo.vic.restart_count',
} as const;

function processState(vm: VmRow): Attrs {
  const x = vm.extraConfig;
  const reported = x.get(STATUS_KEYS.status);
  const code = x.get(STATUS_KEYS.exitCode);
  // A VM that went down while its process ran, without a word from the guest, killed it: exit
  // code 137, as for docker kill (the simulator's runner records the same a moment later).
  const killed = reported === 'running' && vm.powerState !== 'poweredOn';
  const status = killed ? 'exited' : reported === 'running' || reported === 'exited' ? reported : 'created';
  const restarts = x.get(STATUS_KEYS.restartCount);
  return {
    status,
    exit_code: killed ? 137 : code !== undefined && code !== '' && Number.isInteger(Number(code)) ? Number(code) : null,
    started_at: x.get(STATUS_KEYS.startedAt) || null,
    finished_at: status === 'exited' ? x.get(STATUS_KEYS.finishedAt) || null : null,
    // The restarts of this run under its restart policy (the tether counts them from each power-on).
    restart_count: status !== 'created' && restarts !== undefined && /^\d+$/.test(restarts) ? Number(restarts) : null,
  };
}

/** Whether the guest ever reported the container's process (running or ended): not when it never booted far enough. */
function processReported(vm: VmRow): boolean {
  const reported = vm.extraConfig.get(STATUS_KEYS.status);
  return reported === 'running' || reported === 'exited';
}

/**
 * Whether the process of the VM's current boot reported: a status left by an earlier run (a
 * container started again, and still booting) ended before this boot began. vSphere dates the boot
 * (`summary.runtime.bootTime`, as `runtime.bootTime`; the simulator too); asked only for an ended
 * status on a VM that is on, the one case where the status may be an earlier run's.
 */
async function reportedThisBoot(client: VimClient, ref: ManagedObjectReference, vm: VmRow): Promise<boolean> {
  if (!processReported(vm)) return false;
  if (vm.extraConfig.get(STATUS_KEYS.status) !== 'exited') return true;
  const finished = Date.parse(vm.extraConfig.get(STATUS_KEYS.finishedAt) ?? '');
  const [row] = await retrieveObjects<{ 'summary.runtime.bootTime'?: string }>(client, [ref], ['summary.runtime.bootTime']);
  const booted = Date.parse(String(row?.props['summary.runtime.bootTime'] ?? ''));
  return Number.isNaN(finished) || Number.isNaN(booted) || finished >= booted;
}

/**
 * With must_run false, a container whose process ended by itself (the VM powered off after it) has
 * done what "running" asked: neither drift nor a reason to power it on again.
 */
function ranToItsEnd(vm: VmRow, mustRun: Value | undefined): boolean {
  return mustRun === false && vm.powerState !== 'poweredOn' && processState(vm).status === 'exited';
}

/**
 * secret_env as the state holds it: the marker has salted hashes only, so each value is the one
 * (from `known`, then the guest config) whose hash matches; without `resolve`, values stay hidden.
 */
function secretEnvOf(vm: VmRow, spec: Attrs, resolve: { readonly known?: Attrs | null } | undefined): Attrs | null {
  const hashes = spec.secret_env as Record<string, string> | null | undefined;
  if (!hashes || typeof hashes !== 'object' || Object.keys(hashes).length === 0) return null;
  const known = (resolve?.known?.secret_env ?? {}) as Record<string, Value>;
  const guest = new Map<string, string>();
  if (resolve) {
    try {
      for (const kv of decodeGuestConfig(vm.extraConfig.get(GUESTINFO_CONFIG_KEY) ?? '').env) {
        const i = kv.indexOf('=');
        if (i > 0) guest.set(kv.slice(0, i), kv.slice(i + 1));
      }
    } catch {
      // No readable guest config: values not in `known` read as unreadable, which the plan replaces.
    }
  }
  const uuid = vm.uuid ?? '';
  const out: Attrs = {};
  for (const [name, hash] of Object.entries(hashes)) {
    const candidates = [known[name], guest.get(name)].filter((v): v is string => typeof v === 'string');
    out[name] = candidates.find((v) => secretEnvHash(uuid, name, v) === hash) ?? SECRET_UNREADABLE;
  }
  return out;
}

/**
 * The user inputs kept in `vic.spec`. One that cannot be read is an error, never an empty spec: an
 * empty spec differs from every config in attributes that force a replacement, and a container VM
 * must not be destroyed and re-created because its marker was damaged.
 */
function specOfVm(vm: VmRow, strict: boolean): Attrs {
  const text = vm.extraConfig.get(KEYS.spec);
  let parsed: unknown;
  let why: string | undefined;
  if (text === undefined || text === '') why = 'it is missing';
  else {
    try {
      parsed = JSON.parse(text);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) why = 'it is not a JSON object';
    } catch (err) {
      why = `it is not JSON (${(err as Error).message})`;
    }
  }
  if (!why) return parsed as Attrs;
  if (!strict) return {};
  throw new ResourceError(
    `container VM "${vm.extraConfig.get(KEYS.name) ?? vm.name}" (${vm.moid}): its extraConfig "${KEYS.spec}" cannot be read: ${why}. vic-iac keeps the container's inputs (${SPEC_FIELDS.join(', ')}) there and will not guess them, nor replace the VM because of it. ` +
      `Restore the value vic-iac wrote (vSphere Client: the VM's Advanced Parameters), or delete the VM yourself to have it created again.`,
  );
}

/**
 * The state as vSphere has it. `secrets` resolves secret_env values (see secretEnvOf); a listing
 * leaves it out and gets only the names. `strict: false` (listings) reads a damaged spec as empty
 * instead of failing. `asked` is the power_state the state or config holds: a VM that ran to its
 * end under must_run false still reads as the "running" it was asked to be.
 */
export function stateOfVm(
  vm: VmRow,
  options: { readonly strict?: boolean; readonly secrets?: { readonly known?: Attrs | null }; readonly asked?: Value } = {},
): Attrs {
  const spec = specOfVm(vm, options.strict ?? true);
  // VMs made before must_run existed must keep running.
  const mustRun = spec.must_run ?? true;
  const labels = parseJson<Record<string, string> | null>(vm.extraConfig.get(KEYS.labels), null);
  return {
    id: vm.uuid ?? null,
    vch_id: vm.extraConfig.get(KEYS.vch) ?? null,
    image_id: vm.extraConfig.get(KEYS.image) ?? null,
    name: vm.extraConfig.get(KEYS.name) ?? vm.name,
    ...Object.fromEntries(SPEC_FIELDS.map((k) => [k, spec[k] ?? null])),
    secret_env: secretEnvOf(vm, spec, options.secrets),
    cpus: vm.numCpu,
    memory_mb: vm.memoryMb,
    labels: labels && Object.keys(labels).length > 0 ? labels : null,
    networks: spec.networks ?? [],
    // Repeated blocks in Terraform: none is an empty list, never null.
    volumes: spec.volumes ?? [],
    // A maintenance boot runs no process: the container stays stopped (docker cp of a stopped container).
    power_state: (vm.powerState === 'poweredOn' && !inMaintenance(vm)) || (options.asked === 'running' && ranToItsEnd(vm, mustRun)) ? 'running' : 'stopped',
    // VMs made before the restart policy existed never restart.
    restart: spec.restart ?? 'no',
    must_run: mustRun,
    // VMs made before start_wait existed: their applies never waited.
    start_wait: typeof spec.start_wait === 'number' ? spec.start_wait : 0,
    moid: vm.moid,
    // What VMware tools report, else what the tether reported (no tools in a container VM).
    ip_addresses:
      vm.ipAddresses.length > 0 || vm.powerState !== 'poweredOn'
        ? [...vm.ipAddresses]
        : (vm.extraConfig.get(STATUS_KEYS.ipAddresses) ?? '').split(',').filter((ip) => ip !== ''),
    network_interfaces: networkInterfaces(vm),
    vm_path: vm.vmPath ?? null,
    ...processState(vm),
    published_ports: publishedPorts(vm),
    guest_queued: vm.powerState === 'poweredOn' && (vm.extraConfig.get(KEYS.guestQueued) ?? '') !== '',
  };
}

/**
 * `network_interfaces`: the guest's report of its NICs (STATUS_KEYS.networks) while the VM is on for
 * its process, in NIC order; a NIC that reported nothing between two that did has empty fields.
 */
export function networkInterfaces(vm: VmRow): Attrs[] {
  if (vm.powerState !== 'poweredOn' || inMaintenance(vm)) return [];
  const byNic = new Map<number, Attrs>();
  for (const entry of (vm.extraConfig.get(STATUS_KEYS.networks) ?? '').split(',')) {
    const [index = '', cidr = '', gateway = '', mac = ''] = entry.split(';');
    const [address = '', prefix = ''] = cidr.split('/');
    // vSphere gives a VM at most 10 NICs.
    if (/^\d+$/.test(index) && Number(index) < 10 && address !== '' && /^\d+$/.test(prefix)) {
      byNic.set(Number(index), { ip_address: address, prefix_length: Number(prefix), gateway, mac_address: mac });
    }
  }
  const count = byNic.size === 0 ? 0 : Math.max(...byNic.keys()) + 1;
  return Array.from({ length: count }, (_, nic) => byNic.get(nic) ?? { ip_address: '', prefix_length: 0, gateway: '', mac_address: '' });
}

/**
 * `vic.published_ports` ("80/tcp=127.0.0.1:41234,…", written by the simulator's runner at each
 * power-on, before its task ends) while the VM is on for its process, as dockerd shows a container's
 * ports from its start: also while the guest boots or waits for a slot (an exit on record from before
 * they were picked is an earlier run's). Empty otherwise: the runner leaves the last ones behind when
 * the guest stops, and a maintenance boot, or a process of this run that ended, publishes nothing.
 */
function publishedPorts(vm: VmRow): Record<string, string> {
  if (vm.powerState !== 'poweredOn' || inMaintenance(vm) || endedSincePublished(vm)) return {};
  const entries = (vm.extraConfig.get(KEYS.publishedPorts) ?? '').split(',').flatMap((entry) => {
    const [port, host] = entry.trim().split('=');
    return /^\d+\/(tcp|udp)$/.test(port ?? '') && /^[^=]+:\d+$/.test(host ?? '') ? [[port, host] as const] : [];
  });
  return Object.fromEntries(entries);
}

/** Whether the process on record ended after the ports on record were picked: they are not the container's now. */
function endedSincePublished(vm: VmRow): boolean {
  if (vm.extraConfig.get(STATUS_KEYS.status) !== 'exited') return false;
  const finished = Date.parse(vm.extraConfig.get(STATUS_KEYS.finishedAt) ?? '');
  const picked = Date.parse(vm.extraConfig.get(KEYS.publishedAt) ?? '');
  return Number.isNaN(finished) || Number.isNaN(picked) || finished >= picked;
}

const readVm = (client: VimClient, ref: ManagedObjectReference): Promise<VmRow | undefined> => readVmRow(client, ref);

/** A VM with its custom field values: whether a create finished is one. */
const readVmWithMarks = (client: VimClient, ref: ManagedObjectReference): Promise<VmRow | undefined> => readVmRow(client, ref, { customValues: true });

/** The VM vCenter-wide with this BIOS UUID (FindByUuid, then its row); undefined when none has it. */
async function vmByUuid(client: VimClient, uuid: string): Promise<VmRow | undefined> {
  const ref = await new Inventory(client).findVmByUuid(uuid);
  return ref ? readVmWithMarks(client, ref) : undefined;
}

/**
 * Who holds a BIOS UUID, asked once per command until it changes something: a front end's lookup
 * of a name and the plan's check that follows share it. The create asks again, unless that answer
 * found nobody less than a second before (LifecycleContext.planAnswer).
 */
function holderMemo(ctx: LifecycleContext, uuid: string): Promise<VmRow | undefined> {
  return ctx.memo(holderKey(uuid), () => vmByUuid(ctx.client, uuid));
}

const holderKey = (uuid: string) => `${VOLATILE}uuid-holder:${uuid}`;

/**
 * The container VM of VCH `vchId` named `name`, by lookups alone. Its name is its `vic.name`
 * marker, which a listing reads. Made under that name, its BIOS UUID derives from the name (the
 * walk a create takes); renamed to it, its VM is named so in the VCH's folder, since a rename gives
 * the VM its new name before the marker (FindChild). Neither lookup grows with the pool.
 */
async function containerNamed(ctx: LifecycleContext, vchId: string, name: string): Promise<VmRow | undefined> {
  // Both lookups at once: a name no container has (every create's) needs both answers.
  const byFolder = namedInFolder(ctx, vchId, name);
  byFolder.catch(() => undefined);
  const { holder } = await chooseUuid(vchId, name, (u) => holderMemo(ctx, u));
  const found = holder && isOurs(holder, vchId, name) ? holder : await byFolder;
  // Read now, and this command may change it next: a row an earlier command handed on is stale.
  if (found) ctx.takeHandedOn(handedRowKey(found.moid));
  return found;
}

/** The container VM named `name` in the VCH's folder (its VM's name, which a rename sets first). */
async function namedInFolder(ctx: LifecycleContext, vchId: string, name: string): Promise<VmRow | undefined> {
  const marker = await vchMarker(ctx, vchId);
  if (!marker.folder_id) {
    // No folder of its own (a standalone host): one read of the pool tells.
    return (await takeSnapshot(ctx.client, [vchId])).vmsInPool(vchId).find((vm) => isOurs(vm, vchId, name));
  }
  const ref = await new Inventory(ctx.client).findChild(moRef('Folder', marker.folder_id), name);
  const vm = ref?.type === 'VirtualMachine' ? await readVm(ctx.client, ref) : undefined;
  return vm && isOurs(vm, vchId, name) ? vm : undefined;
}

/** The container VM of VCH `vchId` with BIOS UUID `id`: by its last MOID when given (one read), else FindByUuid. */
async function containerWithId(ctx: LifecycleContext, vchId: string, id: string, moid?: string): Promise<VmRow | undefined> {
  const uuid = id.toLowerCase();
  // The VM an earlier command's create made and handed on (docker run's start, a moment after its
  // create): not read again. A power-on vSphere refuses (InvalidPowerState) is followed by a read
  // (reconcile); one of a VM gone fails, and the front end looks the container up again.
  const made = moid ? ctx.takeHandedOn<VmRow>(handedRowKey(moid)) : undefined;
  if (made?.uuid === uuid && isOurs(made, vchId)) {
    ctx.hand(handedRowKey(made.moid), made);
    return made;
  }
  const hinted = moid ? await readVm(ctx.client, moRef('VirtualMachine', moid)) : undefined;
  // A MOID names another VM once this one is gone or registered again: the UUID decides.
  const vm = hinted?.uuid === uuid ? hinted : await vmByUuid(ctx.client, uuid);
  if (!vm || !isOurs(vm, vchId)) return undefined;
  // Read now: a row handed on under the MOID it has now (not the hint) is stale too.
  if (vm.moid !== moid) ctx.takeHandedOn(handedRowKey(vm.moid));
  // A command over one container (docker start, stop) changes it next: that change reads it no more.
  ctx.hand(handedRowKey(vm.moid), vm);
  return vm;
}

/** Looks for the VM a create whose reply was lost made; the server may still be finishing it. */
async function vmMadeByLostCreate(client: VimClient, uuid: string): Promise<ManagedObjectReference | undefined> {
  const inventory = new Inventory(client);
  // Up to about 8 s: under load vSphere (and the simulator) may take a while to finish the task.
  for (const waitMs of [0, 250, 500, 1000, 2000, 4000]) {
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    const ref = await inventory.findVmByUuid(uuid);
    if (ref) return ref;
  }
  return undefined;
}

async function vchMarker(ctx: LifecycleContext, vchId: string): Promise<VchMarker> {
  const marker = await ctx.memo(`vch:${vchId}`, () => readVchMarker(ctx.client, vchId));
  if (!marker)
    throw new PlacementError(
      'vch_id',
      `virtual container host ${vchId} not found (or its pool is not managed by vic-iac). Use the id of a vic_virtual_container_host.`,
    );
  return marker;
}

function imageMetadataKey(store: ImageStore, digest: string): string {
  return `image-metadata:${store.description}:${digest}`;
}

/**
 * A CreateVM_Task vSphere refused may have been refused for its image: ESX makes no child disk
 * whose parent is gone (the image deleted outside vic-iac since the plan, or since a kept lookup
 * read it). The store is asked again, afresh: an image no longer there is the error, naming it and
 * what to do; otherwise vSphere's refusal stands.
 */
async function refusedForImage(ctx: LifecycleContext, marker: VchMarker, config: ContainerVmAttrs, refusal: unknown): Promise<never> {
  if (isTransient(refusal)) throw refusal;
  const store = imageStoreOf(ctx.client, marker);
  const digest = config.image_id;
  ctx.forget(imageMetadataKey(store, digest));
  ctx.forget(storedImageKey(store, digest));
  const now = await inspectStoredImage(store, digest).catch(() => undefined);
  if (!now || now.state === 'complete') throw refusal;
  const why = now.state === 'absent' ? 'is no longer in' : `is only partly in (${now.reason})`;
  throw new PlacementError(
    'image_id',
    `image ${digest} ${why} the image store ${store.description} of VCH "${marker.name}": it was deleted outside vic-iac after the plan, ` +
      `so vSphere refused to make container VM "${config.name}" over its disk (${(refusal as Error).message}). Nothing was created. ` +
      'Create the image again (refresh and apply: a vic_image resource on this VCH re-creates it; docker pull through the endpoint), then apply again.',
  );
}

/**
 * What the store holds of an image, looked at once per command (a listing of the store in the same
 * command has looked already). A complete image never changes (content-addressed), so its metadata
 * is a lasting lookup too, kept by a front end across its commands. One deleted since it was read
 * is not looked for again at every create: vSphere refuses a VM whose child disk names a parent
 * that is gone, and the create then asks the store afresh (refusedForImage).
 */
async function storedImage(ctx: LifecycleContext, marker: VchMarker, digest: string): Promise<ImageMetadata> {
  const store = imageStoreOf(ctx.client, marker);
  const key = storedImageKey(store, digest);
  const lastingKey = imageMetadataKey(store, digest);
  const stored = await ctx.memo(lastingKey, () => ctx.memo(key, () => inspectStoredImage(store, digest)));
  if (stored.state !== 'complete') {
    ctx.forget(key);
    ctx.forget(lastingKey);
    const why = stored.state === 'absent' ? 'is not in' : `is only partly in (${stored.reason})`;
    throw new PlacementError(
      'image_id',
      `image ${digest} ${why} the image store ${store.description} of VCH "${marker.name}". Create it with a vic_image resource on this VCH first.`,
    );
  }
  return stored.metadata;
}

/**
 * While the VCH is not known yet (created in the same apply), its datacenter is not either: a
 * network is refused only when no datacenter has it, since the VM can then never attach it.
 */
async function networksNowhere(ctx: LifecycleContext, networks: readonly unknown[], prior: ContainerVmAttrs | null): Promise<Problem[]> {
  const inv = new Inventory(ctx.client);
  const datacenters = await ctx.memo('container-vm:datacenters', () => inv.datacenters());
  const somewhere = (name: string) =>
    ctx.memo(`container-vm:network-anywhere:${name}`, async () => {
      for (const dc of datacenters) {
        const found = await inv.network(dc, name).then(
          () => true,
          (e: unknown) => (isNotFound(e) || isInvalidArgument(e) ? false : Promise.reject(e)),
        );
        if (found) return true;
      }
      return false;
    });
  const problems: Problem[] = [];
  for (const [i, n] of networks.entries()) {
    if (typeof n !== 'string' || prior?.networks?.includes(n) || (await somewhere(n))) continue;
    problems.push({
      path: ['networks', i],
      severity: 'error',
      summary: 'Cannot resolve "networks"',
      detail: `network ${JSON.stringify(n)} not found in any datacenter (looked in ${datacenters.map((d) => d.name).join(', ') || 'none'}); the virtual container host is not created yet, so its datacenter is not known, but none has this network. Check networks = ${JSON.stringify(n)}.`,
    });
  }
  return problems;
}

/** The portgroups of the VM's NICs: those given (an empty list: none), else the VCH's bridge network. */
function wantedNetworks(config: ContainerVmAttrs, marker: VchMarker): string[] {
  const given = config.networks;
  if (Array.isArray(given)) return given;
  return marker.bridge_network ? [marker.bridge_network] : [];
}

function specOf(config: ContainerVmAttrs, networks: string[], uuid: string): Attrs {
  const spec: Attrs = {};
  for (const k of SPEC_FIELDS) spec[k] = config[k] ?? null;
  spec.networks = networks;
  spec.secret_env = secretEnvHashes(uuid, config.secret_env);
  return spec;
}

/** Powers the VM as asked; returns the power state its own task left it in, undefined when it took none or vSphere refused it (InvalidPowerState: changed meanwhile). */
async function setPower(ctx: LifecycleContext, vm: VmRow, want: unknown, now: string): Promise<string | undefined> {
  const on = now === 'poweredOn';
  const ref = moRef('VirtualMachine', vm.moid);
  const refused = (e: unknown) => (isFault(e, 'InvalidPowerState') ? false : Promise.reject(e));
  // A maintenance boot whose client died before it ended it (the VM reads as stopped): ended first, so that this boot runs the process.
  if (want === 'running' && on && inMaintenance(vm)) {
    await endMaintenance(ctx, ref);
    return setPower(ctx, { ...vm, extraConfig: new Map([...vm.extraConfig].filter(([k]) => k !== KEYS.maintenance)) }, want, 'poweredOff');
  }
  if (want === 'running' && !on) {
    if (vm.extraConfig.get(KEYS.maintenance)) await reconfigureVm(ctx.client, ref, { extraConfig: { [KEYS.maintenance]: '', [MAINTENANCE_GUEST_KEY]: '' } });
    return (await powerOnVm(ctx.client, ref).then(() => true, refused)) ? 'poweredOn' : undefined;
  }
  if (want === 'stopped' && on) {
    const stopped = await stopVm(ctx, vm);
    return stopped === 'ended' ? 'ended' : stopped ? 'poweredOff' : undefined;
  }
  return undefined;
}

/** How long a container's process gets to end on SIGTERM before its VM is powered off: docker stop's default -t. */
const STOP_GRACE_MS = 10_000;
const STOP_LOOK_MS = 250;
const SIGTERM = 15;

function stopGraceMs(): number {
  const set = Number(process.env.VIC_STOP_GRACE_MS);
  return Number.isInteger(set) && set >= 0 ? set : STOP_GRACE_MS;
}

/**
 * A signal for the VM's process, where the tether reads it (guest-config.md, "Signals from the
 * hypervisor"). A stop's (`stop`) also tells the tether not to run the process again under its
 * restart policy, as dockerd leaves a container its user stopped.
 */
async function sendSignal(client: VimClient, moid: string, signal: number, stop = false): Promise<void> {
  // A new sequence makes each request new, so the same signal twice is delivered twice.
  const sequence = `${Date.now().toString(36)}.${randomBytes(3).toString('hex')}`;
  await reconfigureVm(client, moRef('VirtualMachine', moid), { extraConfig: { [SIGNAL_KEY]: `${sequence} ${signal}${stop ? ' stop' : ''}` } });
}

/**
 * Powers a running container VM off as docker stop does: SIGTERM to its process first, so that it
 * ends and what it wrote reaches its volumes, then a power-off if the VM is still on after the grace
 * time (VIC_STOP_GRACE_MS, default 10 s), unless the Docker endpoint asks (its stop has sent the
 * signal and waited already; a kill must not wait). A VM whose process has not reported running (still
 * booting, or no tether), or whose tether reads no signal (on vSphere, as yet), is powered off at once. 'ended': the process ended and its VM went off by itself;
 * 'powered-off': powered off; undefined: vSphere refused, the VM being off meanwhile.
 */
async function stopVm(ctx: LifecycleContext, vm: VmRow): Promise<'ended' | 'powered-off' | undefined> {
  const ref = moRef('VirtualMachine', vm.moid);
  // The Docker endpoint stops as docker asks (stop -t, kill): its power-off is the end of that.
  const grace = ctx.forDocker ? 0 : stopGraceMs();
  // The tether says it reads the hypervisor's line, which carries signals as it carries exec
  // requests (guest-config.md): under vSphere it does not yet, and nothing would end the process.
  const hears = vm.extraConfig.get(EXEC_STATUS_KEY) === 'serial';
  if (processState(vm).status === 'running' && hears && grace > 0) {
    ctx.progress('stop: SIGTERM to the process');
    await sendSignal(ctx.client, vm.moid, SIGTERM, true);
    const deadline = Date.now() + grace;
    while (Date.now() < deadline) {
      if (!(await sleepUnlessAborted(Math.min(STOP_LOOK_MS, deadline - Date.now()), ctx.signal ?? currentCancellation()))) break;
      const [row] = await retrieveObjects<{ 'runtime.powerState'?: string }>(ctx.client, [ref], ['runtime.powerState']);
      if (!row || row.props['runtime.powerState'] !== 'poweredOn') return 'ended';
    }
    ctx.progress(`stop: the process did not end within ${Math.round(grace / 1000)} s of SIGTERM: power off`);
  }
  return (await powerOffVm(ctx.client, ref).then(
    () => true,
    (e: unknown) => (isFault(e, 'InvalidPowerState') ? false : Promise.reject(e)),
  ))
    ? 'powered-off'
    : undefined;
}

/**
 * Ends a maintenance boot: SIGTERM to its guest, which unmounts the disks and powers off, then a
 * power-off if it is still on after MAINTENANCE_END_MS; then its markers go.
 */
async function endMaintenance(ctx: LifecycleContext, ref: ManagedObjectReference): Promise<void> {
  const on = async () => {
    const [row] = await retrieveObjects<{ 'runtime.powerState'?: string }>(ctx.client, [ref], ['runtime.powerState']);
    return row?.props['runtime.powerState'] === 'poweredOn';
  };
  if (await on()) {
    await sendSignal(ctx.client, ref.value, SIGTERM);
    // As long as a stop gives a process (VIC_STOP_GRACE_MS): the guest unmounts the disks and powers off.
    const deadline = Date.now() + stopGraceMs();
    while (Date.now() < deadline && (await on())) await new Promise((r) => setTimeout(r, STOP_LOOK_MS));
    await powerOffVm(ctx.client, ref).catch((e: unknown) => (isFault(e, 'InvalidPowerState') ? undefined : Promise.reject(e)));
  }
  await reconfigureVm(ctx.client, ref, { extraConfig: { [KEYS.maintenance]: '', [MAINTENANCE_GUEST_KEY]: '', [MAINTENANCE_READY_KEY]: '' } });
}

/** The VM's guest config with the restart policy and /etc/hosts lines of `config`, which the tether reads at its next boot. */
function withBootChanges(vm: VmRow, config: ContainerVmAttrs): string {
  const encoded = vm.extraConfig.get(GUESTINFO_CONFIG_KEY);
  if (!encoded)
    throw new ResourceError(
      `container VM "${vm.name}" (${vm.moid}) has no guest config (${GUESTINFO_CONFIG_KEY}) to change its restart policy or extra_hosts in`,
    );
  const { restart: _restart, hosts: _hosts, ...rest } = decodeGuestConfig(encoded);
  return encodeGuestConfig({ ...rest, ...restartOf(config as unknown as Attrs), ...hostsOf(config as unknown as Attrs) });
}

async function afterChange(client: VimClient, ref: ManagedObjectReference, config: ContainerVmAttrs): Promise<Attrs> {
  const vm = await readVm(client, ref);
  if (!vm) throw new ResourceError(`VM ${ref.value} vanished during apply`);
  return stateOfVm(vm, { secrets: { known: config }, asked: config.power_state });
}

/**
 * Brings an existing VM (ours) to the config's in-place attributes. `prior` is the state being
 * updated (none when a create adopts a leftover VM).
 */
async function reconcile(ctx: LifecycleContext, vm: VmRow, config: ContainerVmAttrs, prior?: ContainerVmAttrs): Promise<Attrs> {
  const { client } = ctx;
  const ref = moRef('VirtualMachine', vm.moid);
  const hardware = config.cpus !== vm.numCpu || config.memory_mb !== vm.memoryMb;
  const labels = JSON.stringify(config.labels ?? {});
  const labelsChanged = labels !== (vm.extraConfig.get(KEYS.labels) ?? '{}');
  const spec = specOfVm(vm, true);
  const mustRunChanged = (spec.must_run ?? true) !== config.must_run;
  // The restart policy: kept in the spec, and in the guest config the tether reads at its next boot.
  const restartChanged = (spec.restart ?? 'no') !== (config.restart ?? 'no') || Number(spec.max_restarts ?? 0) !== Number(config.max_restarts ?? 0);
  // extra_hosts too: the tether writes them into /etc/hosts at its next boot.
  const hostsChanged = JSON.stringify(spec.extra_hosts ?? []) !== JSON.stringify(config.extra_hosts ?? []);
  // start_wait: only kept, for the power-ons to come (processReport).
  const waitChanged = Number(spec.start_wait ?? 0) !== Number(config.start_wait ?? 0);
  const specChanged = mustRunChanged || restartChanged || hostsChanged || waitChanged;
  // A run-once container that ended, and was running as asked, is not started again by another
  // in-place change; one the state had stopped is started, as asked now.
  const keepEnded = prior?.power_state === 'running' && ranToItsEnd(vm, config.must_run);
  let powerState = vm.powerState;
  if (hardware && powerState === 'poweredOn') {
    // vSphere refuses CPU and memory changes on a running VM without hot-add; the plan said so.
    ctx.progress('power off for reconfigure');
    // Refused as InvalidPowerState when the VM went off meanwhile (a power-off of a run that was
    // killed, finishing now): off is what the reconfigure needs, so only another state fails it.
    if (!(await stopVm(ctx, vm)) && (await readVm(client, ref))?.powerState !== 'poweredOff') {
      throw new ResourceError(
        `container VM "${vm.name}" (${vm.moid}) could not be powered off for its cpus/memory_mb change: it is neither on nor off; apply again`,
      );
    }
    powerState = 'poweredOff';
  }
  if (hardware || labelsChanged || specChanged) {
    ctx.progress('reconfigure');
    await reconfigureVm(client, ref, {
      ...(hardware ? { numCPUs: config.cpus, memoryMB: config.memory_mb } : {}),
      ...(labelsChanged || specChanged
        ? {
            extraConfig: {
              ...(labelsChanged ? { [KEYS.labels]: labels } : {}),
              ...(specChanged
                ? {
                    [KEYS.spec]: JSON.stringify({
                      ...spec,
                      must_run: config.must_run,
                      start_wait: config.start_wait ?? 0,
                      ...(restartChanged ? { restart: config.restart ?? 'no', max_restarts: config.max_restarts ?? null } : {}),
                      ...(hostsChanged ? { extra_hosts: config.extra_hosts ?? null } : {}),
                    }),
                  }
                : {}),
              ...(restartChanged || hostsChanged ? { [GUESTINFO_CONFIG_KEY]: withBootChanges(vm, config) } : {}),
            },
          }
        : {}),
    });
  }
  // Asked before the power-off, which clears the VM's boot time.
  const reported = keepEnded || config.power_state === 'running' || powerState !== 'poweredOn' ? true : await reportedThisBoot(client, ref, vm);
  if (!keepEnded && config.power_state === 'running' && powerState !== 'poweredOn') await refuseVolumesInUse(ctx, config, vm.moid);
  const poweringAt = new Date().toISOString();
  const power = keepEnded ? undefined : await setPower(ctx, vm, config.power_state, powerState);
  // A process that ended on its stop signal reported its end: read it back (afterChange).
  if (power === 'ended') return afterChange(client, ref, config);
  const powered = power;
  let extraConfig = vm.extraConfig;
  // A start ended a maintenance boot first (setPower): this boot is the process's. The row was read
  // before the power-on, so the ports it shows are the last run's: the next read has this one's.
  if (powered === 'poweredOn') {
    const stale = new Set<string>([
      KEYS.publishedPorts,
      ...(extraConfig.get(KEYS.maintenance) ? [KEYS.maintenance, MAINTENANCE_GUEST_KEY, MAINTENANCE_READY_KEY] : []),
    ]);
    extraConfig = new Map([...extraConfig].filter(([k]) => !stale.has(k)));
  }
  if (powered === 'poweredOff' && !reported) {
    // Powered off before this boot's process reported (the guest still booting): the process was
    // killed as a running one is, so it reads as docker's Exited (137), not as never started, nor as
    // the end of an earlier run.
    const ended = { [STATUS_KEYS.status]: 'exited', [STATUS_KEYS.exitCode]: '137', [STATUS_KEYS.finishedAt]: new Date().toISOString() };
    await reconfigureVm(client, ref, { extraConfig: ended });
    extraConfig = new Map([...vm.extraConfig, ...Object.entries(ended)]);
  }
  if (powered === 'poweredOn') {
    const reportedNow = await processReport(ctx, ref, config, vm.extraConfig.get(STATUS_KEYS.startedAt), poweringAt);
    if (reportedNow) return reportedNow;
  }
  if (powered && !hardware && !labelsChanged && !specChanged) {
    // Only the power changed, by a task that succeeded: the VM is the row just read, powered as
    // asked (what the guest reports next, the next read shows).
    return bootedAfter(
      stateOfVm(
        { ...vm, extraConfig, powerState: powered, ...(powered === 'poweredOn' ? {} : { ipAddresses: [] }) },
        { secrets: { known: config }, asked: config.power_state },
      ),
      powered === 'poweredOn' ? poweringAt : undefined,
    );
  }
  return bootedAfter(await afterChange(client, ref, config), powered === 'poweredOn' ? poweringAt : undefined);
}

/**
 * The state of a VM this change powered on at `since`: an end its guest reported before then is the
 * last run's, and the new run has not reported yet, so the process reads as docker's Created (the
 * next read shows it running once the guest says so), not as the old run's Exited.
 */
function bootedAfter(state: Attrs, since: string | undefined): Attrs {
  const ended = typeof state.finished_at === 'string' ? Date.parse(state.finished_at) : NaN;
  if (since === undefined || state.status !== 'exited' || !(ended < Date.parse(since))) return state;
  return { ...state, status: 'created', exit_code: null, started_at: null, finished_at: null, restart_count: null };
}

/** What a container VM's run reports (its guest, and the simulator's runner): new at each power-on or power-off. */
const RUN_REPORT = [
  'status',
  'exit_code',
  'started_at',
  'finished_at',
  'restart_count',
  'ip_addresses',
  'network_interfaces',
  'published_ports',
  'guest_queued',
] as const satisfies ReadonlyArray<keyof ContainerVmAttrs>;

/** How often processReport reads the VM while it waits. */
const REPORT_POLL_MS = 250;

/**
 * `start_wait`: after this apply's power-on, the VM is read until its guest reports this run's
 * process (a `started_at` other than `before`, the last run's: running, ended already, or waiting
 * out its restart policy's back-off), says that it waits for a free slot of the simulator, or the VM
 * went off; at most start_wait seconds, after which the apply goes on with the VM on (the next
 * refresh reads what the guest reports). Undefined when start_wait is 0: the apply ends at the
 * power-on. `since` is when the power-on was asked (bootedAfter).
 */
async function processReport(
  ctx: LifecycleContext,
  ref: ManagedObjectReference,
  config: ContainerVmAttrs,
  before: string | undefined,
  since: string | undefined,
): Promise<Attrs | undefined> {
  const seconds = Number(config.start_wait ?? 0);
  if (!(seconds > 0)) return undefined;
  ctx.progress('wait for the process to report');
  const deadline = Date.now() + seconds * 1000;
  const signal = ctx.signal ?? currentCancellation();
  for (;;) {
    const vm = await readVm(ctx.client, ref);
    if (!vm) throw new ResourceError(`VM ${ref.value} vanished during apply`);
    const started = vm.extraConfig.get(STATUS_KEYS.startedAt) || undefined;
    const queued = (vm.extraConfig.get(KEYS.guestQueued) ?? '') !== '';
    const settled = vm.powerState !== 'poweredOn' || queued || (started !== undefined && started !== before);
    const late = !settled && Date.now() >= deadline;
    if (late)
      ctx.warn({
        summary: `container VM "${String(config.name)}": no report from its process within start_wait`,
        detail: `The process of container VM "${String(config.name)}" (${ref.value}) has not reported ${seconds} s after the power-on (start_wait = ${seconds}). The apply ends with the VM on, and status "created"; the next refresh reads what its guest reports. Its console (vic logs ${String(config.name)}) says how far the boot got.`,
      });
    if (settled || late || !(await sleepUnlessAborted(REPORT_POLL_MS, signal)))
      return bootedAfter(stateOfVm(vm, { secrets: { known: config }, asked: config.power_state }), since);
  }
}

/**
 * The VM of a create that stopped midway (found by its BIOS UUID), brought to the config and marked
 * done; none when there is none, or when it went while another create's end was waited for. A VM
 * that is not ours, or that another resource holds, is refused.
 */
async function adoptLeftover(
  ctx: LifecycleContext,
  config: ContainerVmAttrs,
  uuid: string,
  existing: VmRow | undefined,
  fieldKey: Promise<number | undefined>,
): Promise<Attrs | undefined> {
  const { vch_id: vchId, name } = config;
  if (!existing) return undefined;
  const existingRef = moRef('VirtualMachine', existing.moid);
  if (!isOurs(existing, vchId, name)) {
    throw new ResourceError(
      `VM ${existing.name} (${existing.moid}) already has BIOS UUID ${uuid} and was not made by vic-iac; refusing to adopt it. Choose another name, or remove that VM.`,
    );
  }
  if (isHeld(existing))
    throw new ResourceError(heldMessage(existing, vchId, name), [
      { path: ['name'], severity: 'error', summary: HELD_SUMMARY, detail: heldMessage(existing, vchId, name) },
    ]);
  const left = await outwaitOtherCreate(ctx, existing, vchId, name);
  if (!left) return undefined;
  ctx.progress('adopting the VM an earlier apply created');
  const adopted = await reconcile(ctx, left, config);
  await markCreated(ctx, existingRef, fieldKey);
  return adopted;
}

/** A new VM as CreateVM_Task takes it: its devices, its markers (created: pending) and where its files go. */
interface PlannedVm {
  readonly uuid: string;
  /** What the UUID derives from: the name, or a later generation of it. */
  readonly seed: string;
  readonly marker: VchMarker;
  readonly dc: Parameters<typeof networkOf>[1];
  /** The VM's directory in the image store. */
  readonly dir: string;
  readonly vmPath: string;
  readonly devices: VirtualDeviceConfigSpec[];
  readonly extraConfig: Record<string, string>;
}

async function plannedVm(ctx: LifecycleContext, config: ContainerVmAttrs, uuid: string, seed: string, marker: VchMarker): Promise<PlannedVm> {
  const { name } = config;
  const image = await storedImage(ctx, marker, config.image_id);
  const networks = wantedNetworks(config, marker);
  const dc = { ref: moRef('Datacenter', marker.datacenter_id), name: marker.datacenter } as Parameters<typeof networkOf>[1];
  const targets: NetworkTarget[] = [];
  for (const n of networks) targets.push(await networkOf(ctx, dc, 'networks', n));

  const ds = marker.datastore;
  const layout = imageLayout(config.image_id);
  // A renamed container VM keeps the directory of its first name: a later one of that name gets its
  // UUID as directory, which no name is in practice.
  const dir = `${marker.image_store_path}/containers/${seed === name ? name : uuid}`;
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
        capacityKB: Math.max(imageKB, config.disk_size_mb * 1024),
        parentFileName: datastorePath(ds, `${marker.image_store_path}/${layout.descriptor}`),
      }),
      'create',
    ),
    ...(marker.bootstrap_iso ? [addDevice(isoCdrom({ key: -102, isoFileName: marker.bootstrap_iso }))] : []),
    ...targets.map((network, i) => addDevice(networkAdapter({ key: -110 - i, model: 'vmxnet3', network }))),
    addDevice(fileSerialPort({ key: -103, fileName: datastorePath(ds, `${dir}/console.log`) })),
  ];
  devices.push(...(await volumeDevices(ctx, config, marker)));
  const guest = guestConfig(config, { ...image, rootfs_uuid: image.rootfs_uuid }, targets.length);
  const extraConfig: Record<string, string> = {
    [GUESTINFO_CONFIG_KEY]: encodeGuestConfig(guest),
    [KEYS.owner]: OWNER,
    [KEYS.vch]: config.vch_id,
    [KEYS.name]: name,
    [KEYS.image]: config.image_id,
    [KEYS.spec]: JSON.stringify(specOf(config, networks, uuid)),
    [KEYS.labels]: JSON.stringify(config.labels ?? {}),
    [KEYS.created]: 'pending',
    [KEYS.createToken]: randomBytes(12).toString('hex'),
    ...(seed !== name ? { [KEYS.uuidSeed]: seed } : {}),
    // For a runner that can publish them (the embedded simulator's, docs/runner.md).
    ...(image.exposed_ports?.length ? { [KEYS.exposedPorts]: image.exposed_ports.join(',') } : {}),
    ...(config.ports?.length ? { [KEYS.portBindings]: portBindings(config.ports) } : {}),
    'disk.EnableUUID': 'TRUE',
  };
  return { uuid, seed, marker, dc, dir, vmPath: datastorePath(ds, `${dir}/${name}.vmx`), devices, extraConfig };
}

/** `ports` as the runner reads them (KEYS.portBindings). */
function portBindings(ports: NonNullable<ContainerVmAttrs['ports']>): string {
  return ports.map((p) => `${p.internal}/${p.protocol ?? 'tcp'}=${p.ip ?? '0.0.0.0'}:${p.external ?? 0}`).join(',');
}

/**
 * The create's steps after CreateVM: the power-on asked for, then the mark that makes the VM this
 * resource's. Failing, the create marks the VM abandoned (when vSphere lets it), so that the next
 * create adopts it at once instead of waiting out CREATE_LEASE_MS as for a create still at work.
 */
async function finishCreate(
  ctx: LifecycleContext,
  ref: ManagedObjectReference,
  config: ContainerVmAttrs,
  fieldKey: Promise<number | undefined>,
): Promise<void> {
  try {
    if (config.power_state === 'running') {
      await refuseVolumesInUse(ctx, config, ref.value);
      ctx.progress('power on');
      // Alone, not gathered with the other creates into PowerOnMultiVM_Task: at Terraform's
      // parallelism the batches stay small and save no round trips (bench/README.md, apply).
      await powerOnVm(ctx.client, ref);
    }
    await markCreated(ctx, ref, fieldKey);
  } catch (err) {
    // A stopped apply gives its VM up too where the mark is a custom field (no task; no new task
    // starts once an apply is cancelled, so the extraConfig mark is then not written).
    await markCreated(ctx, ref, fieldKey, ABANDONED).catch(() => undefined);
    throw err;
  }
}

/** CreateVM refused because another create of the same name made its VM first: `vm`, still pending. */
class OtherCreateFirst extends Error {
  constructor(readonly vm: VmRow) {
    super(`VM ${vm.moid} of another create of container VM "${vm.extraConfig.get(KEYS.name) ?? vm.name}" was made first`);
  }
}

/**
 * A container VM as a listing shows it (docker ps, vic ls): its state, and when vSphere made it
 * (`vm_created`, not an attribute: what docker shows as Created for one an IaC state made).
 */
function listed(vm: VmRow): Attrs {
  return { ...stateOfVm(vm, { strict: false }), vm_created: vm.createdAt ?? null };
}

/**
 * The create of a container VM whose files are on the datastore while no VM is registered with them
 * (a VM removed from the inventory, its files left): vSphere refuses it (FileAlreadyExists).
 */
function filesLeftBehind(name: string, vmPath: string, uuid: string): ResourceError {
  const dir = vmPath.replace(/\/[^/]+$/, '');
  return new ResourceError(
    `container VM "${name}": ${vmPath} already exists, but no VM in vSphere is registered with it (a VM removed from the inventory without deleting its files, as vSphere Client's "Remove from Inventory" does). ` +
      `vic-iac does not write over it. Register it again (vSphere Client: browse the datastore, then Register VM on that .vmx) and import it by its BIOS UUID ${uuid}; ` +
      `or, if you no longer need it, delete the directory ${dir} (volumes live in the store's volumes/ directory, not there) and apply again. Nothing was created.`,
  );
}

/**
 * CreateVM_Task, made once whatever happens to its reply: a missing VM directory is made and the
 * create tried again; a lost reply is looked for by the BIOS UUID before anything is tried again.
 */
async function createOnce(ctx: LifecycleContext, planned: PlannedVm, config: ContainerVmAttrs): Promise<ManagedObjectReference> {
  const { client } = ctx;
  const { uuid, marker, dc, dir, vmPath, devices, extraConfig } = planned;
  const { vch_id: vchId, name } = config;
  const create = () =>
    createVm(client, {
      folder: moRef('Folder', marker.folder_id ?? ''),
      pool: moRef('ResourcePool', vchId),
      config: {
        name,
        uuid,
        guestId: 'otherGuest64',
        annotation: `Container VM "${name}" of virtual container host "${marker.name}" (${vchId}), managed by vic-iac. Changes made here are reverted by the next apply.`,
        files: { vmPathName: vmPath },
        numCPUs: config.cpus,
        memoryMB: config.memory_mb,
        deviceChange: devices,
        extraConfig,
      },
    });
  // vSphere makes the VM's own directory (the last one of the .vmx path) inside <store>/containers,
  // which the VCH made. A store without it (made by hand, or cleaned) gets it here, once.
  const attempt = () =>
    create().catch(async (e: unknown) => {
      if (!isFault(e, 'FileFault') && !isFault(e, 'FileNotFound')) throw e;
      await makeDirectory(client, datastorePath(marker.datastore, dir), dc.ref).catch((m: unknown) =>
        isFault(m, 'FileAlreadyExists') ? undefined : Promise.reject(m),
      );
      return create();
    });
  return attempt().catch(async (e: unknown) => {
    // The reply may have been lost after vSphere made the VM (CreateVM_Task is never retried
    // blindly), or a create of an earlier run that was killed may still be finishing (its .vmx
    // exists before the VM is registered): the BIOS UUID finds it, and only a VM with our
    // markers is taken as ours.
    if (!isTransient(e) && !isDuplicateName(e) && !isFileAlreadyExists(e)) throw e;
    const made = await vmMadeByLostCreate(client, uuid);
    if (!made) return attempt().catch((again: unknown) => Promise.reject(isFileAlreadyExists(again) ? filesLeftBehind(name, vmPath, uuid) : again));
    // Found while its task may still be filling it in: its markers can take a moment to read.
    let vm = await readVmWithMarks(client, made);
    for (const waitMs of [250, 500, 1000, 2000]) {
      if (vm && isOurs(vm, vchId, name)) break;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      vm = await readVmWithMarks(client, made);
    }
    // A finished VM (`done`) is not what this create made: one being destroyed by a killed run, say.
    if (!vm || !isOurs(vm, vchId, name) || isHeld(vm)) throw e;
    // Another process's create of this name got there first (vSphere refused this one's as a
    // duplicate): its VM is waited for, as one found before CreateVM is.
    if (vm.extraConfig.get(KEYS.createToken) !== extraConfig[KEYS.createToken]) throw new OtherCreateFirst(vm);
    ctx.progress('the reply to create VM was lost; found the VM it made');
    return made;
  });
}

// ---------------------------------------------------------------------------------------------
// Volumes: each mount is an independent disk on the VM's SCSI controller, at units 1 to 15 (7 is
// the controller's own): persistent when read-write, nonpersistent when read-only, so that running
// container VMs can share a volume read-only (see VOLUME_LOCKS). Changing the set of mounts replaces the VM (`volumes` is
// forceNew): the tether mounts only at boot, so a hot-added disk would not be mounted until a
// restart anyway, and a replacement keeps the guest config and the disks in one step.

const FIRST_VOLUME_KEY = -200;

function volumeUnit(index: number): number {
  const unit = index + 1;
  return unit >= 7 ? unit + 1 : unit;
}

/**
 * How vSphere opens a volume's disk at power-on, and so who may share it. Persistent, the VM takes
 * the disk's writer lock: no other running VM may open it. Nonpersistent, it opens the disk
 * read-only under a reader lock, which other readers share, and writes to a redo log that vSphere
 * discards at power-off. A read-only mount is attached nonpersistent: the tether mounts it read-only
 * anyway, and ext4 may still replay its journal into the redo log. Independent, either way: VM
 * snapshots neither capture nor revert a volume.
 */
const VOLUME_LOCKS =
  'a volume is open read-write in one running VM at a time (vSphere locks its disk); read-only mounts share it with other read-only mounts only';

function volumeDiskMode(readOnly: boolean | undefined): 'independent_persistent' | 'independent_nonpersistent' {
  return readOnly === true ? 'independent_nonpersistent' : 'independent_persistent';
}

function volumeDisk(index: number, volume: MountedVolume, readOnly: boolean | undefined): VirtualDeviceConfigSpec {
  return addDevice(
    virtualDisk({
      key: FIRST_VOLUME_KEY - index,
      controllerKey: -100,
      unitNumber: volumeUnit(index),
      fileName: volume.id,
      capacityKB: volume.capacityKB,
      diskMode: volumeDiskMode(readOnly),
    }),
  );
}

/** The disks of the config's volumes, for a new VM; a mount the plan accepted but vSphere no longer has fails the create. */
async function volumeDevices(ctx: LifecycleContext, config: ContainerVmAttrs, marker: VchMarker): Promise<VirtualDeviceConfigSpec[]> {
  if ((config.volumes ?? []).length === 0) return [];
  const mounts = config.volumes ?? [];
  return (await mountedVolumes(ctx, config, marker)).map((v, i) => volumeDisk(i, v, mounts[i]?.read_only));
}

/** The volumes of the config's mounts, at apply time: one the plan accepted but vSphere no longer has fails the step. */
async function mountedVolumes(ctx: LifecycleContext, config: ContainerVmAttrs, marker: VchMarker): Promise<MountedVolume[]> {
  const ids = (config.volumes ?? []).map((m) => m.volume_id);
  const resolved = await resolveMounts(ctx, config.vch_id, marker, ids, { planning: false });
  if (resolved.problems.length > 0) throw new ResourceError(resolved.problems.map((p) => p.detail).join('\n'), resolved.problems);
  return resolved.volumes as MountedVolume[];
}

/** A VM's devices now. */
async function devicesOfVm(client: VimClient, moid: string): Promise<VirtualDevice[]> {
  const [row] = await retrieveObjects(client, [moRef('VirtualMachine', moid)], ['config.hardware.device']);
  const raw = row?.props['config.hardware.device'];
  return (Array.isArray(raw) ? raw : raw ? [raw] : []) as VirtualDevice[];
}

/** The disks (by datastore path) among a VM's devices. */
function disksByFile(devices: readonly VirtualDevice[]): Map<string, VirtualDevice> {
  const out = new Map<string, VirtualDevice>();
  for (const d of devices) if (d.$type === 'VirtualDisk' && typeof d.backing?.fileName === 'string') out.set(d.backing.fileName, d);
  return out;
}

/** Plan-time checks of the mounts: the volumes, one read-write user per volume, and disks detached outside. */
async function checkVolumes(
  ctx: LifecycleContext,
  config: PlannedAttrs<typeof containerVm.schema>,
  prior: ContainerVmAttrs | null,
  vchId: string,
  marker: VchMarker,
): Promise<{ problems: Problem[]; equivalent: { attribute: string; reason: string }[]; notes: string[] }> {
  const problems: Problem[] = [];
  const equivalent: { attribute: string; reason: string }[] = [];
  const notes: string[] = [];
  if (isUnknown(config.volumes) || !config.volumes) return { problems, equivalent, notes };
  const mounts = config.volumes as Array<{ volume_id: string | Unknown; path: string | Unknown; read_only: boolean | Unknown }>;
  const ids = mounts.map((m) => (isUnknown(m.volume_id) ? undefined : m.volume_id));
  problems.push(...(await resolveMounts(ctx, vchId, marker, ids, { planning: true })).problems);
  // Within a plan, the running container VMs that mount a volume: one read-write, or any number
  // read-only (VOLUME_LOCKS; refuseVolumesInUse says so at power-on, across commands). Terraform
  // plans every resource in one provider process, so the command's memo sees them all.
  // A run-once job (must_run = false) that ended holds no disk, and is not started again while its
  // mounts stay as they are (a change of them replaces it: then it runs again, and power-on checks).
  const ended = config.must_run === false && prior?.status === 'exited' && JSON.stringify(prior.volumes ?? []) === JSON.stringify(config.volumes);
  const name = isUnknown(config.name) ? undefined : String(config.name);
  const who = config.power_state !== 'running' || ended ? undefined : name;
  for (const [i, m] of mounts.entries()) {
    if (isUnknown(m.volume_id)) continue;
    const users = await ctx.memo(`volume-runners:${m.volume_id}`, () => Promise.resolve(new Map<string, 'read-only' | 'read-write'>()));
    // Planned again not running (a second plan of it in this engine): it holds the volume no more.
    if (who === undefined && name !== undefined) users.delete(name);
    // A mode not known yet is checked at power-on.
    if (who === undefined || isUnknown(m.read_only)) continue;
    const mode = m.read_only === true ? 'read-only' : 'read-write';
    const others = [...users].filter(([name, theirs]) => name !== who && (mode === 'read-write' || theirs === 'read-write'));
    if (others.length === 0) {
      if (users.get(who) !== 'read-write') users.set(who, mode);
      continue;
    }
    const named = others.map(([name, theirs]) => `"${name}" (${theirs})`).join(', ');
    problems.push({
      path: ['volumes', i, 'volume_id'],
      severity: 'error',
      summary: 'Volume mounted by two running container VMs',
      detail:
        `volumes[${i}]: volume ${m.volume_id} is already mounted by running container VM(s) ${named} in this configuration, and this mount is ${mode}: ${VOLUME_LOCKS}. ` +
        `Mount it read-only everywhere (read_only = true), in one running container VM only, or set power_state = "stopped" here.`,
    });
  }
  // The read leaves out mounts whose disk was detached in vSphere. When the VM's own marker still
  // has the config's mounts, the difference is that detachment: attached again in place, no
  // replacement (a change of the mounts themselves replaces the VM).
  if (prior?.moid && JSON.stringify(prior.volumes ?? []) !== JSON.stringify(config.volumes)) {
    const vm = await readVm(ctx.client, moRef('VirtualMachine', prior.moid));
    const configured = vm ? specOfVm(vm, false).volumes : undefined;
    if (JSON.stringify(configured ?? []) === JSON.stringify(config.volumes)) {
      const present = new Set((prior.volumes ?? []).map((v) => v.volume_id));
      const missing = mounts.filter((m) => !present.has(m.volume_id as string));
      equivalent.push({
        attribute: 'volumes',
        reason: `volumes: ${missing.map((m) => `${String(m.volume_id)} (mounted at ${String(m.path)})`).join(', ')} detached outside vic-iac: attached again`,
      });
      if (prior.power_state === 'running') notes.push(`re-attaching volumes restarts container VM "${prior.name}" so that the tether mounts them`);
    }
  }
  return { problems, equivalent, notes };
}

/** The volume disks each VM of a snapshot has attached, read once per snapshot for the VMs whose mounts need it. */
const attachedBySnapshot = new WeakMap<InventorySnapshot, Promise<Map<string, Map<string, VirtualDevice>>>>();

function attachedDisksOf(client: VimClient, snapshot: InventorySnapshot): Promise<Map<string, Map<string, VirtualDevice>>> {
  let pending = attachedBySnapshot.get(snapshot);
  if (!pending) {
    const moids = [...snapshot.vms.values()].filter((vm) => isOurs(vm) && mountsOfVm(vm).length > 0).map((vm) => vm.moid);
    pending = disksOfVms(client, moids);
    attachedBySnapshot.set(snapshot, pending);
    pending.catch(() => attachedBySnapshot.delete(snapshot));
  }
  return pending;
}

/** The disks of each VM, by datastore path: one read for all of them. */
async function disksOfVms(client: VimClient, moids: readonly string[]): Promise<Map<string, Map<string, VirtualDevice>>> {
  const out = new Map<string, Map<string, VirtualDevice>>();
  if (moids.length === 0) return out;
  const rows = await retrieveObjects(
    client,
    moids.map((m) => moRef('VirtualMachine', m)),
    ['config.hardware.device'],
  );
  for (const row of rows) {
    const raw = row.props['config.hardware.device'];
    out.set(row.ref.value, disksByFile((Array.isArray(raw) ? raw : raw ? [raw] : []) as VirtualDevice[]));
  }
  return out;
}

function mountsOfVm(vm: VmRow): Array<{ volume_id: string; read_only?: boolean }> {
  const volumes = specOfVm(vm, false).volumes;
  return Array.isArray(volumes) ? (volumes as Array<{ volume_id: string; read_only?: boolean }>) : [];
}

/** A volume as a message names it: `volume "data" ([ds] store/volumes/data/data.vmdk)`. */
function volumeLabel(id: string): string {
  const name = parseVolumeId(id)?.name;
  return name ? `volume "${name}" (${id})` : `volume ${id}`;
}

/** Whether a VM opens this disk under a reader lock (VOLUME_LOCKS): attached nonpersistent. */
function sharedReadOnly(disks: Map<string, VirtualDevice> | undefined, volumeId: string): boolean {
  const mode = disks?.get(volumeId)?.backing?.diskMode;
  return mode === 'independent_nonpersistent' || mode === 'nonpersistent';
}

/**
 * VOLUME_LOCKS at power-on: vSphere refuses to open a disk another running VM holds under a lock
 * that excludes it (so does the simulator's QEMU). Powering on container VM `name` (`self`, when
 * it exists) while another running container VM of the VCH holds one of its volumes so is refused
 * here, saying which, rather than left to a lock error (or, under the simulator, a guest that
 * never starts). Two read-only users share a volume when both attached it nonpersistent: a VM made
 * before read-only mounts were attached so holds the writer lock, and is named as holding it.
 */
async function refuseVolumesInUse(ctx: LifecycleContext, config: ContainerVmAttrs, self?: string): Promise<void> {
  const mine = new Map((config.volumes ?? []).map((m) => [m.volume_id, m.read_only === true]));
  if (mine.size === 0) return;
  const holders = (await takeSnapshot(ctx.client, [config.vch_id]))
    .vmsInPool(config.vch_id)
    .filter((vm) => vm.moid !== self && vm.powerState === 'poweredOn')
    .map((vm) => ({ vm, shared: mountsOfVm(vm).filter((m) => mine.has(m.volume_id)) }))
    .filter((h) => h.shared.length > 0);
  if (holders.length === 0) return;
  // Only where both mounts are read-only do the disks' modes decide: one read of them, self's too.
  const readers = holders.filter(({ shared }) => shared.some((m) => m.read_only === true && mine.get(m.volume_id) === true));
  const disks = await disksOfVms(ctx.client, [...readers.map(({ vm }) => vm.moid), ...(self && readers.length > 0 ? [self] : [])]);
  const selfShares = (id: string) => self === undefined || sharedReadOnly(disks.get(self), id);
  const blocking = holders
    .map(({ vm, shared }) => ({
      vm,
      shared: shared.filter(
        (m) => !(m.read_only === true && mine.get(m.volume_id) === true && sharedReadOnly(disks.get(vm.moid), m.volume_id) && selfShares(m.volume_id)),
      ),
    }))
    .filter((h) => h.shared.length > 0);
  if (blocking.length === 0) return;
  const names = blocking.map(({ vm }) => `"${vm.extraConfig.get(KEYS.name) ?? vm.name}"`);
  const how = (vm: VmRow, m: { volume_id: string; read_only?: boolean }) =>
    `${volumeLabel(m.volume_id)} attached ${m.read_only === true && (!disks.has(vm.moid) || sharedReadOnly(disks.get(vm.moid), m.volume_id)) ? 'read-only' : 'read-write'}`;
  // Read-only in its spec, read-write on its disk: a VM made before read-only mounts were attached nonpersistent.
  const stale = blocking.flatMap(({ shared }) => shared).filter((m) => m.read_only === true && mine.get(m.volume_id) === true && !selfShares(m.volume_id));
  const staleNote = stale.length
    ? ` Container VM "${config.name}" itself has ${[...new Set(stale.map((m) => volumeLabel(m.volume_id)))].join(', ')} attached read-write, although it mounts it read-only (it was made before vic-iac attached read-only mounts nonpersistent): replace it (terraform apply -replace, or a new container VM) to share the volume.`
    : '';
  throw new ResourceError(
    `container VM "${config.name}" cannot start: ${blocking.map(({ vm, shared }, i) => `${names[i]} (${vm.moid}), running, has ${shared.map((m) => how(vm, m)).join(', ')}`).join('; ')}. ` +
      `${VOLUME_LOCKS.charAt(0).toUpperCase()}${VOLUME_LOCKS.slice(1)}. Stop ${names.join(', ')} first, mount another volume, or mount it read-only in every running container VM.${staleNote}`,
  );
}

/** The state's mounts, less those whose disk is not attached (detached in vSphere): one batched read per refresh. */
async function withAttachedVolumes(ctx: LifecycleContext, snapshot: InventorySnapshot, vm: VmRow, state: Attrs): Promise<Attrs> {
  const mounts = (state.volumes ?? []) as Array<{ volume_id: string }>;
  if (mounts.length === 0) return state;
  const attached = snapshot.vms.has(vm.moid)
    ? (await attachedDisksOf(ctx.client, snapshot)).get(vm.moid)
    : (await disksOfVms(ctx.client, [vm.moid])).get(vm.moid);
  if (!attached) return state;
  return { ...state, volumes: mounts.filter((m) => attached.has(m.volume_id)) as unknown as Value[] };
}

/** Attaches again the config's volumes a VM lost (detached outside); restarts a running VM so the tether mounts them. */
async function reattachVolumes(ctx: LifecycleContext, vm: VmRow, config: ContainerVmAttrs): Promise<void> {
  const mounts = config.volumes ?? [];
  if (mounts.length === 0) return;
  const devices = await devicesOfVm(ctx.client, vm.moid);
  const attached = disksByFile(devices);
  if (mounts.every((m) => attached.has(m.volume_id))) return;
  const volumes = await mountedVolumes(ctx, config, await vchMarker(ctx, config.vch_id));
  // The VM's own controller now, not the placeholder key of a new VM's.
  const controller = devices.find((d) => d.$type.endsWith('SCSIController'))?.key;
  const changes = volumes.flatMap((v, i) => {
    if (attached.has(v.id)) return [];
    const change = volumeDisk(i, v, mounts[i]?.read_only);
    return [{ ...change, device: { ...change.device, controllerKey: controller } }];
  });
  const ref = moRef('VirtualMachine', vm.moid);
  const running = vm.powerState === 'poweredOn';
  if (running) await stopVm(ctx, vm);
  ctx.progress('attach volumes');
  await reconfigureVm(ctx.client, ref, { deviceChange: changes });
  if (running) await powerOnVm(ctx.client, ref);
}

/**
 * Detaches the volume disks of a VM about to be destroyed: Destroy_Task deletes every disk of the
 * VM, independent ones included, and a volume must outlive its container VM.
 */
async function detachVolumes(ctx: LifecycleContext, ref: ManagedObjectReference): Promise<void> {
  const attached = [...disksByFile(await devicesOfVm(ctx.client, ref.value))].filter(([fileName]) => parseVolumeId(fileName) !== undefined);
  if (attached.length === 0) return;
  ctx.progress('detach volumes');
  await reconfigureVm(ctx.client, ref, { deviceChange: attached.map(([, disk]) => removeDevice(disk)) });
}

export const containerVmLifecycle: Lifecycle<ContainerVmAttrs> = {
  declaration: containerVm,

  poolsOf: (state) => (typeof state.vch_id === 'string' && state.vch_id ? [state.vch_id] : []),
  readsVms: true,

  async read(ctx, snapshot: InventorySnapshot, prior) {
    const uuid = String(prior.id ?? '').toLowerCase();
    let vm = snapshot.vmsByUuid.get(uuid);
    if (!vm && !snapshot.missingPools.has(prior.vch_id)) {
      // Not in its pool: moved elsewhere in vSphere, or gone. One lookup tells (rare path).
      const ref = await new Inventory(ctx.client).findVmByUuid(uuid);
      vm = ref ? await readVm(ctx.client, ref) : undefined;
    }
    if (!vm) return null;
    if (!isOurs(vm))
      throw new ResourceError(
        `VM ${vm.name} (${vm.moid}) has the BIOS UUID ${uuid} of container VM "${prior.name}" but no vic-iac markers; it was not made by vic-iac. Remove it from the state, or delete that VM.`,
      );
    return withAttachedVolumes(ctx, snapshot, vm, stateOfVm(vm, { secrets: { known: prior }, asked: prior.power_state }));
  },

  // Inputs not known yet (a VCH, an image or a name made in the same apply) skip only the checks
  // that need them.
  checksUnknown: true,

  async check(ctx, config: PlannedAttrs<typeof containerVm.schema>, prior): Promise<PlanCheck> {
    const problems: Problem[] = [...dockerOriginWarning(config.labels, 'container')];
    const notes: string[] = [];
    const inPlaceNotes: string[] = [];
    // A map not known yet has no names to compare.
    const plain = isUnknown(config.env) ? {} : (config.env ?? {});
    for (const name of Object.keys(isUnknown(config.secret_env) ? {} : (config.secret_env ?? {})).filter((k) => k in plain)) {
      problems.push({
        path: ['secret_env', name],
        severity: 'error',
        summary: 'Variable in both env and secret_env',
        detail: `"${name}" is set in both env and secret_env, so it is unclear which value the container gets. Keep it in one of them: secret_env if its value is a secret.`,
      });
    }
    const given: unknown[] = Array.isArray(config.networks) ? config.networks : [];
    if (isUnknown(config.vch_id)) return { problems: [...problems, ...(await networksNowhere(ctx, given, prior))] };
    const vchId = config.vch_id;
    let marker: VchMarker | undefined;
    problems.push(...(await collectPlacement([vchMarker(ctx, vchId).then((m) => (marker = m))])));
    if (!marker) return { problems };
    const m = marker;
    // A static address with no NIC to put it on (networks unset, and a VCH without a bridge network):
    // validate can only see `networks = []`.
    if (
      typeof config.ip_address === 'string' &&
      !Array.isArray(config.networks) &&
      !isUnknown(config.networks) &&
      wantedNetworks(config as ContainerVmAttrs, m).length === 0
    ) {
      problems.push({
        path: ['ip_address'],
        severity: 'error',
        summary: 'Static address without a NIC',
        detail: `ip_address = "${config.ip_address}" is set, but the container VM gets no NIC to put it on: networks is unset, and virtual container host "${m.name}" has no bridge_network. Name a portgroup in networks (e.g. networks = ["VM Network"]), give the VCH a bridge_network, or remove ip_address.`,
      });
    }
    // vSphere refuses to power on a VM with more vCPUs than its host has: said at plan time (once
    // per command and VCH; a single vCPU needs no look).
    if (typeof config.cpus === 'number' && config.cpus > 1 && prior?.cpus !== config.cpus) {
      const most = await ctx.memo(`max-vcpus:${vchId}`, () => readMaxVcpus(ctx.client, vchId));
      if (most > 0 && config.cpus > most) {
        problems.push({
          path: ['cpus'],
          severity: 'error',
          summary: 'More vCPUs than a host has',
          detail: `cpus = ${config.cpus} is more than any host of ${m.compute} (the compute of VCH "${m.name}") has: ${most} logical CPUs. vSphere would refuse to power the VM on. Use at most ${most}.`,
        });
      }
    }
    const dc = { ref: moRef('Datacenter', m.datacenter_id), name: m.datacenter } as Parameters<typeof networkOf>[1];
    const checks: Array<Promise<unknown>> = [];
    // An image this plan replaces is made before the VM: its new digest is not in the store yet.
    const imageId = isUnknown(config.image_id) ? undefined : config.image_id;
    if (imageId !== undefined && (!prior || prior.image_id !== imageId) && !ctx.expected(plannedImageKey(vchId, imageId)))
      checks.push(storedImage(ctx, m, imageId));
    const perNetwork = await Promise.all(
      given.map(async (n, i) => {
        if (typeof n !== 'string' || prior?.networks?.includes(n)) return [];
        const found = await collectPlacement([networkOf(ctx, dc, 'networks', n)]);
        return found.map((p) => ({ ...p, path: ['networks', i] }));
      }),
    );
    problems.push(...(await collectPlacement(checks)), ...perNetwork.flat());
    const volumes = await checkVolumes(ctx, config, prior, vchId, m);
    problems.push(...volumes.problems);
    // Volumes attached again restart the VM: a replacement makes a new one instead.
    inPlaceNotes.push(...volumes.notes);
    const equivalent = volumes.equivalent;
    // vSphere changes CPUs and memory of a VM that is off: a running one is powered off and on again.
    const hardwareCycles = prior?.power_state === 'running' && (prior.cpus !== config.cpus || prior.memory_mb !== config.memory_mb);
    if (!prior && (isUnknown(config.name) || ctx.referencesOnly)) {
      // The BIOS UUID needs the name, and a VM this create may replace still holds it: who holds it
      // is checked by the create.
    } else if (!prior && !isUnknown(config.name)) {
      // A plan over many new VMs looks once at what the VCH pool holds (one snapshot per process);
      // a squatter elsewhere in vSphere is still refused at apply time, by FindByUuid. Not VOLATILE:
      // what this engine creates or deletes is ours, so it cannot change who else holds a UUID, and
      // Terraform plans each new VM again while applying: dropping the snapshot at every create made
      // an apply of N VMs take a snapshot of the growing pool per VM (bench/README.md, apply).
      // A command over one VM (lookups 'each') asks FindByUuid instead: its cost does not grow with the pool.
      const holderOf =
        ctx.lookups === 'each'
          ? (u: string) => holderMemo(ctx, u)
          : async (u: string) => (await ctx.memo(`uuid-holders:${vchId}`, () => takeSnapshot(ctx.client, [vchId], { customValues: true }))).vmsByUuid.get(u);
      const { uuid, holder: vm } = await chooseUuid(vchId, config.name, holderOf);
      if (vm && !isOurs(vm, vchId, config.name)) {
        problems.push({
          path: ['name'],
          severity: 'error',
          summary: 'BIOS UUID taken',
          detail: `VM ${vm.name} (${vm.moid}) already has the BIOS UUID ${uuid} that container VM "${config.name}" in VCH ${vchId} needs, and it was not made by vic-iac. Choose another name, or remove that VM.`,
        });
      } else if (vm && isHeld(vm) && vm.uuid !== ctx.replacing?.id && (ctx.lookups === 'each' || (await new Inventory(ctx.client).findVmByUuid(uuid)))) {
        // A pool snapshot is as old as the command: the VM may have been deleted since, so look again
        // (a lookup per VM was just made).
        problems.push({ path: ['name'], severity: 'error', summary: HELD_SUMMARY, detail: heldMessage(vm, vchId, config.name) });
      } else if (vm && !isHeld(vm)) {
        // Young, it may be another process's create at work: the apply waits for it (outwaitOtherCreate).
        const { ageMs, createdAt } = await pendingAge(ctx.client, vm);
        notes.push(
          ageMs >= CREATE_LEASE_MS
            ? `container VM "${config.name}" already exists as ${vm.moid} (an earlier apply stopped midway); it will be adopted, not duplicated`
            : `container VM "${config.name}" already exists as ${vm.moid}, made by a create that has not finished${createdAt ? ` (begun at ${createdAt})` : ''}: another process may be creating this name now. ` +
                `The apply waits up to ${Math.ceil((CREATE_LEASE_MS - ageMs) / 1000)} s for that create: if it finishes, this one fails; if not, the VM is adopted, not duplicated`,
        );
      }
    } else if (hardwareCycles) {
      inPlaceNotes.push(`changing cpus or memory_mb powers container VM "${prior.name}" off and on again`);
    } else if (
      prior?.power_state === 'running' &&
      ((prior.restart ?? 'no') !== (config.restart ?? 'no') || Number(prior.max_restarts ?? 0) !== Number(config.max_restarts ?? 0))
    ) {
      inPlaceNotes.push(`container VM "${prior.name}" runs: its guest follows the new restart policy from its next start`);
    } else if (
      prior?.power_state === 'running' &&
      config.power_state === 'running' &&
      JSON.stringify(prior.extra_hosts ?? []) !== JSON.stringify(config.extra_hosts ?? [])
    ) {
      inPlaceNotes.push(`container VM "${prior.name}" runs: its guest writes the new extra_hosts into /etc/hosts at its next start`);
    } else if (prior?.power_state === 'stopped' && prior.status === 'exited' && config.power_state === 'running' && config.must_run !== false) {
      // Why a plan wants to start it again, every time its process ends: say so, and what a run-once job sets.
      notes.push(
        `the process of container VM "${prior.name}" exited (${String(prior.exit_code ?? '?')}) and its VM powered off: must_run (true by default) starts it again at this apply. ` +
          'A process that keeps running settles; a run-once job sets must_run = false',
      );
    }
    // An update that powers the VM on or off (power_state, or a cpus or memory_mb change of a
    // running one) changes what its guest reports: known after the apply, not the prior run's.
    const cycles = prior !== null && !isUnknown(config.power_state) && (prior.power_state !== config.power_state || hardwareCycles);
    return { problems, notes, inPlaceNotes, equivalent, ...(cycles ? { planned: Object.fromEntries(RUN_REPORT.map((name) => [name, UNKNOWN])) } : {}) };
  },

  async create(ctx, config) {
    const { client } = ctx;
    const inventory = new Inventory(client);
    // Asked at every create (unless this command's plan asked a moment ago), never answered from a
    // snapshot: a squatter may appear anywhere in vSphere after the command looked. FindByUuid costs the server one lookup; reading every VM's
    // BIOS UUID once for several concurrent creates costs a round trip less per create but grows with
    // the inventory, and on a large one took far longer than the lookups it replaced (bench/README.md).
    // Defined (once per command) while the create goes on; only the last step needs it.
    const fieldKey = createdFieldKey(ctx);
    fieldKey.catch(() => undefined);
    const { uuid, seed, holder } = await chooseUuid(config.vch_id, config.name, async (u) => {
      // The plan of this command found no VM with this UUID a moment ago (a command over one
      // VM: the Docker endpoint's create): asking again would only shorten that moment. A VM
      // found there is looked up afresh: what to adopt or refuse is decided on what vSphere has now.
      const planned = ctx.planAnswer<VmRow | undefined>(holderKey(u));
      if (planned && (await planned.catch(() => null)) === undefined) return undefined;
      const ref = await inventory.findVmByUuid(u);
      return ref ? readVmWithMarks(client, ref) : undefined;
    });
    const adopted = await adoptLeftover(ctx, config, uuid, holder, fieldKey);
    if (adopted) return adopted;
    const marker = await vchMarker(ctx, config.vch_id);
    const planned = await plannedVm(ctx, config, uuid, seed, marker);
    const { extraConfig, vmPath } = planned;
    const name = config.name;
    let ref: ManagedObjectReference | undefined;
    // Another process's create of the name may make its VM between the lookup and this CreateVM:
    // that VM is waited for, and only when it went again does this create make one, twice at most.
    for (let round = 0; !ref; round++) {
      ctx.progress('create VM');
      try {
        ref = await createOnce(ctx, planned, config);
      } catch (e) {
        if (!(e instanceof OtherCreateFirst) || round >= 2) return refusedForImage(ctx, marker, config, e);
        const adoptedNow = await adoptLeftover(ctx, config, uuid, e.vm, fieldKey);
        if (adoptedNow) return adoptedNow;
      }
    }
    await finishCreate(ctx, ref, config, fieldKey);
    extraConfig[KEYS.created] = 'done';
    // All of it is what we just asked for; vSphere reports addresses later, the next refresh reads them.
    const made: VmRow = {
      moid: ref.value,
      name,
      uuid,
      powerState: config.power_state === 'running' ? 'poweredOn' : 'poweredOff',
      extraConfig: new Map(Object.entries(extraConfig)),
      numCpu: config.cpus,
      memoryMb: config.memory_mb,
      vmPath,
      ipAddresses: [],
    };
    // For the command that follows (docker run's start): it powers the VM on without reading it.
    ctx.handOn(handedRowKey(made.moid), made);
    const reported = config.power_state === 'running' ? await processReport(ctx, ref, config, undefined, undefined) : undefined;
    return reported ?? stateOfVm(made, { secrets: { known: config } });
  },

  async update(ctx, prior, config) {
    const moid = String(prior.moid);
    const handed = ctx.take<VmRow>(handedRowKey(moid));
    const vm = handed?.uuid === String(prior.id ?? '').toLowerCase() ? handed : await readVm(ctx.client, moRef('VirtualMachine', moid));
    if (!vm) throw new ResourceError(`container VM "${prior.name}" (${String(prior.moid)}) no longer exists; refresh and plan again to re-create it`);
    await reattachVolumes(ctx, vm, config);
    return reconcile(ctx, vm, config, prior);
  },

  async delete(ctx, prior) {
    const ref = moRef('VirtualMachine', String(prior.moid));
    const vm = await readVm(ctx.client, ref);
    if (!vm) return;
    if (!isOurs(vm)) throw new ResourceError(`VM ${vm.name} (${vm.moid}) carries no vic-iac markers; refusing to delete it`);
    // The MOID comes from the state; the BIOS UUID is vSphere's own identity of the VM the state means.
    if (prior.id && vm.uuid !== String(prior.id).toLowerCase()) {
      throw new ResourceError(
        `VM ${vm.name} (${vm.moid}) has the BIOS UUID ${String(vm.uuid)}, not ${String(prior.id)} of container VM "${prior.name}"; refusing to delete it. Refresh the state and plan again.`,
      );
    }
    if (vm.powerState === 'poweredOn') {
      ctx.progress('power off');
      // What a process writes to its volumes outlives the VM: it is stopped as docker stop would.
      // The rest of the VM goes with it, so one without volumes is powered off at once.
      const mounts = Array.isArray(prior.volumes) ? prior.volumes : [];
      if (mounts.length > 0) await stopVm(ctx, vm);
      else await powerOffVm(ctx.client, ref).catch((e: unknown) => (isFault(e, 'InvalidPowerState') ? undefined : Promise.reject(e)));
    }
    await detachVolumes(ctx, ref);
    ctx.progress('destroy');
    await destroyVm(ctx.client, ref).catch(ignoreNotFound);
  },

  // The name is the IaC identity (a plan replaces the VM for a new name); docker rename keeps the VM
  // and its BIOS UUID, which then derives from the seed marker, not the name.
  async rename(ctx, prior, newName) {
    const { client } = ctx;
    const problems = (containerVm.schema.name.validate ?? []).flatMap((v) => v(newName, ['name'], prior));
    if (problems.length > 0) throw new ResourceError(problems.map((p) => p.detail).join('; '), problems);
    const vm = await readVm(client, moRef('VirtualMachine', String(prior.moid)));
    if (!vm || !isOurs(vm, prior.vch_id) || (prior.id && vm.uuid !== String(prior.id).toLowerCase()))
      throw new ResourceError(`container VM "${prior.name}" (${String(prior.moid)}) no longer exists; refresh and try again`);
    const oldName = vm.extraConfig.get(KEYS.name) ?? vm.name;
    if (oldName === newName) return stateOfVm(vm, { secrets: { known: prior } });
    const found = await containerNamed(ctx, prior.vch_id, newName);
    const taken = found && found.moid !== vm.moid ? found : undefined;
    if (taken) {
      const detail = `container VM "${newName}" already exists in VCH ${prior.vch_id} (${taken.moid}); choose another name, or remove that one first`;
      throw new ResourceError(detail, [{ path: ['name'], severity: 'error', summary: 'Name in use', detail }]);
    }
    // The VM's name first, then the markers (the name a listing shows, and the seed the UUID keeps,
    // in one reconfigure): stopped in between, the container keeps its old name everywhere but in
    // vSphere's, and a lookup of the new name by the folder (containerNamed) finds no container.
    ctx.progress('rename VM');
    await renameEntity(client, moRef('VirtualMachine', vm.moid), newName);
    const seed = vm.extraConfig.get(KEYS.uuidSeed) ?? oldName;
    await reconfigureVm(client, moRef('VirtualMachine', vm.moid), {
      extraConfig: { [KEYS.name]: newName, [KEYS.uuidSeed]: seed },
    });
    const now = await readVm(client, moRef('VirtualMachine', vm.moid));
    if (!now) throw new ResourceError(`container VM "${newName}" (${vm.moid}) disappeared while it was renamed`);
    return stateOfVm(now, { secrets: { known: prior } });
  },

  // The request goes where the hypervisor side of the tether reads it (guest-config.md, Signals);
  // a new sequence makes each request new, so the same signal twice is delivered twice.
  async signal(ctx, prior, signal, stop) {
    await sendSignal(ctx.client, String(prior.moid), signal, stop);
  },

  // Input and exec requests go where the hypervisor side of the tether reads them, once the
  // process says it takes them (guest-config.md, Input from the hypervisor): read first, so nothing
  // piles up in the VM's config where nothing reads it (vSphere's tether does not yet).
  async input(ctx, prior, data, eof, exec) {
    const ref = await guestLine(ctx, prior, exec === undefined ? INPUT_STATUS_KEY : EXEC_STATUS_KEY);
    const extraConfig: Record<string, string> = {};
    const put = (value: string) => (extraConfig[nextInputKey()] = value);
    for (let at = 0; at < data.length; at += INPUT_CHUNK_BYTES) {
      const chunk = data.subarray(at, at + INPUT_CHUNK_BYTES).toString('base64');
      put(exec === undefined ? `data:${chunk}` : `exec-data:${exec}:${chunk}`);
    }
    if (eof) put(exec === undefined ? 'eof' : `exec-eof:${exec}`);
    if (Object.keys(extraConfig).length > 0) await reconfigureVm(ctx.client, ref, { extraConfig });
  },

  async resize(ctx, prior, rows, cols, exec) {
    if (![rows, cols].every((n) => Number.isInteger(n) && n >= 1 && n <= 65535))
      throw new ResourceError(`a terminal of ${rows} rows and ${cols} columns: each must be a whole number from 1 to 65535`);
    const ref = await guestLine(ctx, prior, exec === undefined ? INPUT_STATUS_KEY : EXEC_STATUS_KEY);
    const size = `${rows}x${cols}`;
    await reconfigureVm(ctx.client, ref, {
      extraConfig: { [nextInputKey()]: exec === undefined ? `resize:${size}` : `exec-resize:${exec}:${size}` },
    });
  },

  async exec(ctx, prior, id, request) {
    if (!/^[0-9a-f]{1,64}$/.test(id)) throw new ResourceError(`exec id "${id}": expected 1 to 64 lowercase hex digits`);
    if (!request.archive && !request.processes && !request.files && (request.argv.length === 0 || request.argv[0] === ''))
      throw new ResourceError('exec: no command given');
    const ref = await guestLine(ctx, prior, EXEC_STATUS_KEY);
    const json = Buffer.from(JSON.stringify(request)).toString('base64');
    await reconfigureVm(ctx.client, ref, { extraConfig: { [nextInputKey()]: `exec:${id}:${json}` } });
  },

  async maintenance(ctx, prior, token, op) {
    const ref = moRef('VirtualMachine', String(prior.moid));
    const name = String(prior.name);
    if (op === 'alive') {
      const vm = await readVm(ctx.client, ref);
      return !!vm && vm.powerState === 'poweredOn' && vm.extraConfig.get(MAINTENANCE_READY_KEY) === token;
    }
    if (op === 'end') {
      await endMaintenance(ctx, ref);
      return true;
    }
    const vm = await readVm(ctx.client, ref);
    if (!vm) throw new NotRunningError(name);
    if (vm.powerState === 'poweredOn') throw new ResourceError(`container VM "${name}" is on: a maintenance boot is for a stopped one`);
    await reconfigureVm(ctx.client, ref, { extraConfig: { [KEYS.maintenance]: token, [MAINTENANCE_GUEST_KEY]: token, [MAINTENANCE_READY_KEY]: '' } });
    try {
      ctx.progress('maintenance boot: powering on');
      await powerOnVm(ctx.client, ref);
      const deadline = Date.now() + MAINTENANCE_BOOT_MS;
      for (;;) {
        const now = await readVm(ctx.client, ref);
        if (now?.powerState === 'poweredOn' && now.extraConfig.get(MAINTENANCE_READY_KEY) === token) return true;
        // Off without a word: its guest serves no maintenance boot (under vSphere, the tether reads no exec request yet).
        if (!now || now.powerState !== 'poweredOn') throw new InputUnreachableError(name, 'exec');
        if (Date.now() > deadline)
          throw new ResourceError(`container VM "${name}": its maintenance boot did not come up within ${MAINTENANCE_BOOT_MS / 1000} s`);
        if (!(await sleepUnlessAborted(250, ctx.signal ?? currentCancellation())))
          throw new ResourceError(`container VM "${name}": maintenance boot cancelled`);
      }
    } catch (err) {
      await endMaintenance(ctx, ref).catch(() => undefined);
      throw err;
    }
  },

  // The VCH's pool in one read, as a refresh reads it (docker ps): a listing shows a container VM
  // whose spec marker is damaged rather than fail on it.
  async listIn(ctx, vchId) {
    const pool = await takeSnapshot(ctx.client, [vchId]);
    // A VCH destroyed (and perhaps made again under another id) is not one with no containers.
    if (pool.missingPools.has(vchId)) throw new VchGoneError(vchId);
    return pool
      .vmsInPool(vchId)
      .filter((vm) => isOurs(vm, vchId))
      .map(listed);
  },

  async findIn(ctx, vchId, key) {
    const vm = 'name' in key ? await containerNamed(ctx, vchId, key.name) : await containerWithId(ctx, vchId, key.id, key.moid);
    return vm ? listed(vm) : null;
  },

  async idFor(ctx, vchId, name) {
    // The walk the create takes, on the same memoized lookups as this command's plan and findIn.
    return (await chooseUuid(vchId, name, (u) => holderMemo(ctx, u))).uuid;
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
    // No prior state to compare with: secret_env values come back from the guest config, checked against their hashes.
    // A run-once job (must_run false) whose process ended by itself had been asked to run, and reads
    // so (or the next apply would run it again); one a signal ended (137, 143) had been stopped.
    const { exit_code } = processState(vm);
    const state = stateOfVm(vm, { secrets: { known: null }, asked: exit_code === 137 || exit_code === 143 ? 'stopped' : 'running' });
    // Made with docker: the state takes it from docker (withoutDockerLabels).
    return { ...state, labels: withoutDockerLabels(state.labels) };
  },
};
