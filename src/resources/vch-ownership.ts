/**
 * What a virtual container host owns, and how it claims it. A VCH is three vSphere objects: a pool,
 * a VM folder and an image store directory. Each carries a marker that names the pool:
 *   - the pool: the custom field `vic-iac.vch` (the VCH marker, see snapshot.ts);
 *   - the folder: the same custom field, `{"v":1,"vch":"<pool MOID>"}`;
 *   - the image store: the file `<image_store_path>/vic-iac-vch.json`, `{"v":1,"vch":"<pool MOID>"}`.
 *
 * The rule for claiming (create):
 *   1. An object that carries our marker for this VCH is adopted (an earlier create stopped midway).
 *   2. An object that carries another VCH's marker, or none, is refused: at plan time, and again at
 *      apply time, since vSphere may change in between. vic-iac never takes over what it did not make.
 *      An image store whose marker names a VCH that no longer exists (destroyed without
 *      force_destroy, which keeps the store for its volumes) was made by vic-iac and belongs to no
 *      one: a new VCH reuses it. So is an EMPTY VM folder whose marker names a pool that no longer
 *      exists (the pool deleted outside vic-iac): the VCH made again under that name adopts it.
 *   3. Except when the reply to our own create was lost (the server acted, the answer never came):
 *      the object then exists without a marker. It is adopted only when this command looked a
 *      moment before and found the name free, tried to create it, and finds it empty; or, on a
 *      later run, when the VCH pool (marked first, `pending` until create ends) claims it and it is
 *      empty. An unmarked object that holds anything is never adopted.
 *
 * What delete removes comes from the state and from vSphere's own identities (the pool's VMs, the
 * folder's children, a container VM's BIOS UUID derived from the VCH and its name), never from a
 * custom field that anyone allowed to set custom fields could rewrite.
 */
import {
  asArray,
  datastoreDirectoryExists,
  downloadDatastoreFile,
  isDuplicateName,
  isFileAlreadyExists,
  isNotFound,
  listDatastoreDirectory,
  uploadDatastoreFile,
  type DatastoreEntry,
  type ManagedObjectReference,
  type VimClient,
} from '../vsphere';
import { createFolder } from '../vsphere/folder';
import { customFieldsOf, listCustomFieldDefs, setCustomField } from '../vsphere/custom-fields';
import { datastorePath, makeDirectory } from '../vsphere/file-manager';
import { retrieveFromContainer, retrieveObject } from '../vsphere/property-collector';
import { createResourcePool, updateResourcePool, type ResourcePoolSpec } from '../vsphere/resource-pool';
import { Inventory, type Datacenter, type InventoryObject } from '../vsphere/inventory';
import { expectedUuid, isOurs } from './container-vm.lifecycle';
import { ResourceError } from './errors';
import type { Problem } from './schema';
import { PoolRow, VCH_MARKER_FIELD, VmRow, poolIsGone, takeSnapshot, unreadableMarker } from './snapshot';

/** The image store's marker file, inside `<image_store_path>`. */
export const STORE_MARKER_FILE = 'vic-iac-vch.json';

interface OwnerMarker {
  readonly v: 1;
  readonly vch: string;
}

function parseOwner(text: string | undefined): OwnerMarker | 'unreadable' | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    const m = JSON.parse(text) as Partial<OwnerMarker> | null;
    return m && m.v === 1 && typeof m.vch === 'string' ? (m as OwnerMarker) : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

// ---------------------------------------------------------------------------------------------
// The pool

/** The pool named `name` directly under `parent`, read with its marker (no VMs). */
export async function childPoolRow(client: VimClient, parent: ManagedObjectReference, name: string): Promise<PoolRow | undefined> {
  const { resourcePool } = await retrieveObject<{ resourcePool?: ManagedObjectReference[] }>(client, parent, ['resourcePool']);
  const children = asArray(resourcePool);
  if (children.length === 0) return undefined;
  const rows = await retrieveFromContainer<{ name: string }>(client, {
    container: parent,
    recursive: false,
    select: [{ type: 'ResourcePool', paths: ['name'] }],
  });
  const ref = rows.find((r) => r.props.name === name)?.ref;
  if (!ref) return undefined;
  return (await takeSnapshot(client, [ref.value])).pools.get(ref.value);
}

/** A pool whose marker says a create of this VCH stopped midway: the next create adopts it. */
function isPendingCreate(pool: PoolRow, name: string): boolean {
  return Boolean(pool.marker?.pending) && pool.marker?.name === name;
}

/**
 * The pool of the VCH this create replaces (its id, `replacing`, known while planning), found under
 * the same name and parent. Planned, the replacement's order is not known: a replacement that
 * destroys the old VCH first frees its pool, folder and image store, so they do not stand in its
 * way. Applied, the old VCH still being there means the replacement is being created first, which
 * cannot work under the same name: the apply refuses it (see replacedFirst).
 */
function isReplacedVch(pool: PoolRow, name: string, replacing: string | undefined): boolean {
  return replacing !== undefined && pool.moid === replacing && pool.marker?.name === name;
}

/**
 * What a refusal at apply adds when the VCH holding the name (`holder`, its pool MOID) may be the
 * one this create replaces: Terraform's apply does not say which object a create replaces.
 */
function replacedFirst(holder: string): string {
  return (
    "If this VCH replaces that one under the same name and is being created before the old one is destroyed (Terraform's lifecycle create_before_destroy, on the VCH or on a resource that depends on it, such as an image or a volume; `pulumi up --replace`): " +
    'a VCH cannot be created beside the one whose name it takes. Remove create_before_destroy from the VCH and from the resources that depend on it (in Pulumi, replace it with the deleteBeforeReplace option). ' +
    "Terraform keeps the old VCH of such a failed replacement in the state as a deposed object, and always creates a deposed object's successor before it destroys the deposed object: " +
    `bring it back with "terraform state rm <address>" (the VCH stays) and "terraform import <address> ${holder}", then apply again; the old VCH is then destroyed first.`
  );
}

/** Why an existing pool of this name cannot become this VCH; undefined when it is ours to adopt. */
function poolRefusal(pool: PoolRow, name: string, where: string): string | undefined {
  if (pool.markerError) return unreadableMarker(pool).message;
  if (!pool.marker) {
    return `A resource pool named "${name}" (${pool.moid}) already exists under ${where} and is not managed by vic-iac. vic-iac never takes over a pool it did not make. Choose another name, or remove that pool.`;
  }
  if (isPendingCreate(pool, name)) return undefined;
  return (
    `A virtual container host named "${name}" (${pool.moid}) already exists under ${where}: another state (a Terraform configuration, a Pulumi stack or a vic spec) created it and manages it. ` +
    'Two states must not manage one VCH: each would change and delete it behind the other. To use that VCH here, look it up with the virtual_container_host data source ' +
    '(data "vic_virtual_container_host" in Terraform) and give its id to images and container VMs (in Pulumi, pass its id, e.g. from a StackReference, as vchId); to move it into this state, import it; otherwise choose another name. ' +
    replacedFirst(pool.moid)
  );
}

/** An empty pool: no VMs, no child pools. */
async function poolIsEmpty(client: VimClient, pool: ManagedObjectReference): Promise<boolean> {
  const props = await retrieveObject<{ vm?: ManagedObjectReference[]; resourcePool?: ManagedObjectReference[] }>(client, pool, ['vm', 'resourcePool']);
  return asArray(props.vm).length === 0 && asArray(props.resourcePool).length === 0;
}

/**
 * The VCH pool: created, or adopted when a create of this VCH stopped midway (marked pending) or
 * when the reply to this very create was lost (unmarked and empty, and free a moment before).
 */
export async function claimPool(
  client: VimClient,
  parent: ManagedObjectReference,
  name: string,
  where: string,
  spec: ResourcePoolSpec,
): Promise<{ pool: ManagedObjectReference; adopted: boolean }> {
  const before = await childPoolRow(client, parent, name);
  if (before) {
    const refusal = poolRefusal(before, name, where);
    if (refusal) throw new ResourceError(refusal);
    const pool = { type: 'ResourcePool', value: before.moid };
    await updateResourcePool(client, pool, spec);
    return { pool, adopted: true };
  }
  try {
    return { pool: await createResourcePool(client, parent, name, spec), adopted: false };
  } catch (err) {
    // The client retries a lost reply, and the retry finds the pool the first attempt made.
    if (!isDuplicateName(err)) throw err;
    const row = await childPoolRow(client, parent, name);
    if (!row) throw err;
    const pool = { type: 'ResourcePool', value: row.moid };
    if (!row.marker && !row.markerError && (await poolIsEmpty(client, pool))) {
      await updateResourcePool(client, pool, spec);
      return { pool, adopted: true };
    }
    throw new ResourceError(
      poolRefusal(row, name, where) ?? `resource pool "${name}" (${row.moid}) appeared under ${where} while this VCH was being created; run the command again`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The folder

export interface FolderRow {
  readonly ref: ManagedObjectReference;
  readonly name: string;
  readonly owner?: OwnerMarker | 'unreadable';
  readonly children: readonly ManagedObjectReference[];
  /** The pool its marker names no longer exists (set by `withOwnerGone`). */
  readonly ownerGone?: boolean;
}

/** `folder`, saying whether the pool its marker names (another than `pool`) still exists: one read, only for a folder marked for another pool. */
async function withOwnerGone(client: VimClient, folder: FolderRow, pool: string | undefined): Promise<FolderRow> {
  if (typeof folder.owner !== 'object' || folder.owner.vch === pool) return folder;
  return { ...folder, ownerGone: await poolIsGone(client, folder.owner.vch) };
}

export async function readFolder(client: VimClient, ref: ManagedObjectReference): Promise<FolderRow | undefined> {
  try {
    // The manager's definitions, not the entity's availableField: vcsim fills that only on entities
    // that existed when the definition was added.
    const [p, fields] = await Promise.all([
      retrieveObject<{ name: string; customValue?: unknown; childEntity?: ManagedObjectReference[] }>(client, ref, ['name', 'customValue', 'childEntity']),
      listCustomFieldDefs(client),
    ]);
    return { ref, name: String(p.name), owner: parseOwner(customFieldsOf(p.customValue, fields)[VCH_MARKER_FIELD]), children: asArray(p.childEntity) };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function childFolderRow(client: VimClient, parent: ManagedObjectReference, name: string): Promise<FolderRow | undefined> {
  const rows = await retrieveFromContainer<{ name: string }>(client, { container: parent, recursive: false, select: [{ type: 'Folder', paths: ['name'] }] });
  const ref = rows.find((r) => r.props.name === name)?.ref;
  return ref ? readFolder(client, ref) : undefined;
}

function describeOwner(owner: OwnerMarker | 'unreadable' | undefined): string {
  if (owner === undefined) return 'is not managed by vic-iac';
  if (owner === 'unreadable') return `carries a "${VCH_MARKER_FIELD}" marker that vic-iac cannot read`;
  return `belongs to virtual container host ${owner.vch}`;
}

/** The adoption of an empty folder left by a VCH whose pool is gone, as a plan says it. */
function orphanFolderNote(folder: FolderRow): string {
  return `the VM folder "${folder.name}" (${folder.ref.value}) was left by virtual container host ${typeof folder.owner === 'object' ? folder.owner.vch : '?'}, whose resource pool no longer exists; this VCH adopts it`;
}

/**
 * Why an existing folder cannot become this VCH's; undefined when it is marked for this pool, or
 * when it is unmarked and empty and `claimsUnmarked` (see the rule at the top of this file).
 */
function folderRefusal(folder: FolderRow, pool: string | undefined, dc: Datacenter, claimsUnmarked: boolean): string | undefined {
  if (pool && typeof folder.owner === 'object' && folder.owner.vch === pool) return undefined;
  if (pool && claimsUnmarked && folder.owner === undefined && folder.children.length === 0) return undefined;
  if (typeof folder.owner === 'object' && folder.ownerGone) {
    if (folder.children.length === 0) return undefined;
    return (
      `A VM folder named "${folder.name}" (${folder.ref.value}) already exists in datacenter "${dc.name}": virtual container host ${folder.owner.vch} made it, and its resource pool no longer exists (deleted outside vic-iac), ` +
      `but the folder still holds ${folder.children.length} object(s), its container VMs maybe. vic-iac adopts such a folder only when it is empty: move or delete what it holds (vic ls --all lists the container VMs vic-iac made), then apply again. ` +
      'The image store and the volumes in it are kept and reused by the VCH made again under this name.'
    );
  }
  return `A VM folder named "${folder.name}" (${folder.ref.value}) already exists in datacenter "${dc.name}" and ${describeOwner(folder.owner)}${folder.owner === undefined && folder.children.length > 0 ? ` (it holds ${folder.children.length} object(s))` : ''}. vic-iac never takes over a folder it did not make for this VCH. Choose another VCH name, or rename or remove that folder.${typeof folder.owner === 'object' ? ` ${replacedFirst(folder.owner.vch)}` : ''}`;
}

/** The VCH folder: created, or adopted under the rules at the top of this file. */
export async function claimFolder(
  client: VimClient,
  dc: Datacenter,
  name: string,
  pool: string,
  field: number,
  claimsUnmarked: boolean,
): Promise<ManagedObjectReference> {
  const found = await childFolderRow(client, dc.vmFolder, name);
  const before = found && (await withOwnerGone(client, found, pool));
  let folder: ManagedObjectReference;
  if (before) {
    const refusal = folderRefusal(before, pool, dc, claimsUnmarked);
    if (refusal) throw new ResourceError(refusal);
    folder = before.ref;
  } else {
    try {
      folder = await createFolder(client, dc.vmFolder, name);
    } catch (err) {
      // The client retries a lost reply; the retry finds the folder the first attempt made.
      if (!isDuplicateName(err)) throw err;
      const made = await childFolderRow(client, dc.vmFolder, name);
      if (!made) throw err;
      const row = await withOwnerGone(client, made, pool);
      const refusal = folderRefusal(row, pool, dc, true);
      if (refusal) throw new ResourceError(refusal);
      folder = row.ref;
    }
  }
  await setCustomField(client, folder, field, JSON.stringify({ v: 1, vch: pool }));
  return folder;
}

// ---------------------------------------------------------------------------------------------
// The image store

export interface StoreLocation {
  /** Datacenter inventory path, for datastore HTTP. */
  readonly datacenter: string;
  readonly datacenterRef: ManagedObjectReference;
  readonly datastore: InventoryObject;
  readonly path: string;
}

export type StoreState =
  | { readonly kind: 'absent' }
  /** `ownerGone`: the VCH the marker names no longer exists (destroyed without force_destroy, which keeps the store). */
  | { readonly kind: 'marked'; readonly owner: OwnerMarker | 'unreadable'; readonly ownerGone?: boolean }
  | { readonly kind: 'unmarked'; readonly entries: readonly DatastoreEntry[] };

function storeFile(store: StoreLocation, name: string) {
  return { datacenter: store.datacenter, datastore: store.datastore.name, path: `${store.path}/${name}` };
}

export async function inspectStore(client: VimClient, store: StoreLocation): Promise<StoreState> {
  const dir = datastorePath(store.datastore.name, store.path);
  if (!(await datastoreDirectoryExists(client, store.datastore.ref, dir))) return { kind: 'absent' };
  let text: string | undefined;
  try {
    const chunks: Buffer[] = [];
    for await (const c of await downloadDatastoreFile(client, storeFile(store, STORE_MARKER_FILE))) chunks.push(c as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (text !== undefined) {
    const owner = parseOwner(text.trim()) ?? 'unreadable';
    const ownerGone = typeof owner === 'object' && (await poolIsGone(client, owner.vch));
    return { kind: 'marked', owner, ownerGone };
  }
  return { kind: 'unmarked', entries: (await listDatastoreDirectory(client, store.datastore.ref, dir)) ?? [] };
}

/** Why an existing store directory cannot become this VCH's (the same rule as for folders). */
function storeRefusal(state: StoreState, store: StoreLocation, pool: string | undefined, claimsUnmarked: boolean): string | undefined {
  if (state.kind === 'absent') return undefined;
  if (state.kind === 'marked' && typeof state.owner === 'object' && (state.owner.vch === pool || state.ownerGone)) return undefined;
  if (state.kind === 'unmarked' && pool && claimsUnmarked && state.entries.length === 0) return undefined;
  const where = datastorePath(store.datastore.name, store.path);
  const why =
    state.kind === 'unmarked'
      ? `has no ${STORE_MARKER_FILE} (vic-iac did not make it for this VCH)${state.entries.length > 0 ? ` and holds ${state.entries.length} entr${state.entries.length === 1 ? 'y' : 'ies'}` : ''}`
      : state.owner === 'unreadable'
        ? `has a ${STORE_MARKER_FILE} that vic-iac cannot read`
        : `belongs to virtual container host ${state.owner.vch}`;
  const replaced = state.kind === 'marked' && typeof state.owner === 'object' ? ` ${replacedFirst(state.owner.vch)}` : '';
  return `The image store directory ${where} already exists and ${why}. vic-iac never takes over a directory it did not make for this VCH. Set image_store_path to a new directory, or move that one away.${replaced}`;
}

/** The image store root: created and marked, or adopted under the rules at the top of this file. */
export async function claimStore(client: VimClient, store: StoreLocation, pool: string, claimsUnmarked: boolean): Promise<void> {
  const before = await inspectStore(client, store);
  const refusal = storeRefusal(before, store, pool, claimsUnmarked);
  if (refusal) throw new ResourceError(refusal);
  if (before.kind === 'absent') {
    try {
      await makeDirectory(client, datastorePath(store.datastore.name, store.path), store.datacenterRef, true);
    } catch (err) {
      // The client retries a lost reply; the retry finds the directory the first attempt made.
      if (!isFileAlreadyExists(err)) throw err;
      const again = storeRefusal(await inspectStore(client, store), store, pool, true);
      if (again) throw new ResourceError(again);
    }
  }
  const oursAlready = before.kind === 'marked' && typeof before.owner === 'object' && before.owner.vch === pool;
  if (!oursAlready) await uploadDatastoreFile(client, storeFile(store, STORE_MARKER_FILE), `${JSON.stringify({ v: 1, vch: pool })}\n`);
}

/** Whether the store's marker names this VCH (what force_destroy requires before it deletes the store). */
export async function storeIsOurs(client: VimClient, store: StoreLocation, pool: string): Promise<boolean> {
  const state = await inspectStore(client, store);
  return state.kind === 'marked' && typeof state.owner === 'object' && state.owner.vch === pool;
}

// ---------------------------------------------------------------------------------------------
// Plan-time checks

export interface OwnershipPlan {
  readonly problems: Problem[];
  readonly notes: string[];
}

/**
 * Before a VCH is created: its pool, folder and image store names must be free, or be what an
 * earlier create of this same VCH left behind.
 */
export async function checkNewVchOwnership(
  client: VimClient,
  args: {
    dc: Datacenter;
    parent: ManagedObjectReference;
    where: string;
    name: string;
    store: StoreLocation;
    storeAttribute: string;
    /** While planning: the id of the VCH this create replaces (see isReplacedVch). */
    replacing?: string;
  },
): Promise<OwnershipPlan> {
  const { dc, parent, where, name, store, replacing } = args;
  const problems: Problem[] = [];
  const notes: string[] = [];
  const existing = await childPoolRow(client, parent, name);
  let claimant: string | undefined;
  if (existing && isReplacedVch(existing, name, replacing)) {
    // Freed by the replacement's destroy; nothing else to check for this pool.
  } else if (existing) {
    const refusal = poolRefusal(existing, name, where);
    // The folder and the store of a pool that is not ours are not ours either: one problem says it.
    if (refusal)
      return {
        problems: [{ path: ['name'], severity: 'error', summary: existing.marker ? 'VCH managed elsewhere' : 'Name already taken', detail: refusal }],
        notes,
      };
    else {
      claimant = existing.moid;
      notes.push(
        `virtual container host "${name}" was partly created by an earlier apply (${existing.moid}); it will be adopted and completed, not duplicated`,
      );
    }
  }
  const [found, storeState] = await Promise.all([childFolderRow(client, dc.vmFolder, name), inspectStore(client, store)]);
  const folder = found && (await withOwnerGone(client, found, claimant));
  // The folder and store of the VCH being replaced go with it (a kept store is reused).
  const ofReplaced = (owner: OwnerMarker | 'unreadable' | undefined) => replacing !== undefined && typeof owner === 'object' && owner.vch === replacing;
  if (folder && !ofReplaced(folder.owner)) {
    const refusal = folderRefusal(folder, claimant, dc, true);
    if (refusal) problems.push({ path: ['name'], severity: 'error', summary: 'VM folder already exists', detail: refusal });
    else if (folder.ownerGone) notes.push(orphanFolderNote(folder));
  }
  if (storeState.kind === 'marked' && ofReplaced(storeState.owner)) return { problems, notes };
  const storeProblem = storeRefusal(storeState, store, claimant, true);
  if (!storeProblem && storeState.kind === 'marked' && storeState.ownerGone && typeof storeState.owner === 'object') {
    notes.push(
      `the image store ${datastorePath(store.datastore.name, store.path)} was kept by virtual container host ${storeState.owner.vch} when it was destroyed; this VCH reuses it (and the images in it)`,
    );
  }
  if (storeProblem) problems.push({ path: [args.storeAttribute], severity: 'error', summary: 'Image store directory already exists', detail: storeProblem });
  return { problems, notes };
}

// ---------------------------------------------------------------------------------------------
// Delete

/** A container VM of this VCH: our markers, and the BIOS UUID vic-iac derives from the VCH and the name (or its seed, once renamed). */
export function isContainerVmOf(vm: VmRow, vchId: string): boolean {
  const uuid = expectedUuid(vm, vchId);
  return isOurs(vm, vchId) && uuid !== undefined && vm.uuid === uuid;
}

/** The datacenter an entity lives in, by walking up its `parent` chain (vSphere's own identity). */
export async function datacenterAbove(client: VimClient, entity: ManagedObjectReference): Promise<Datacenter> {
  let ref = entity;
  for (let depth = 0; depth < 32 && ref.type !== 'Datacenter'; depth++) {
    const { parent } = await retrieveObject<{ parent?: ManagedObjectReference }>(client, ref, ['parent']);
    if (!parent) break;
    ref = parent;
  }
  if (ref.type !== 'Datacenter') throw new ResourceError(`${entity.type} ${entity.value} is in no datacenter`);
  return new Inventory(client).datacenter(ref);
}

export async function entityName(client: VimClient, ref: ManagedObjectReference): Promise<string> {
  return String((await retrieveObject<{ name?: string }>(client, ref, ['name']).catch(() => ({ name: '?' }))).name ?? '?');
}

export function describeVms(vms: ReadonlyArray<{ name: string; moid: string }>): string {
  return vms.map((v) => `${v.name} (${v.moid})`).join(', ');
}
