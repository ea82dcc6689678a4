/**
 * volume against vSphere. A volume is three files in `<store>/volumes/<name>/`: the descriptor (its
 * id), the flat extent (ext4, formatted by vic-iac) and the marker `vic-iac-volume.json`. Reads list
 * every volume directory of a store in one SearchDatastoreSubFolders task per command, whatever
 * the number of volumes; size and labels are what vic-iac wrote (kept in the marker, taken from the
 * state). A destroy deletes only a disk whose marker names this VCH and volume.
 *
 * The marker is written once the disk is complete, so its presence in the listing is the mark of
 * a complete volume: the API reference does not say when a conversion's destination descriptor
 * appears, so the descriptor alone cannot be. While a create runs, `vic-iac-volume.creating.json`
 * (same content) says whose the directory is; a create killed midway is redone over it, never
 * adopted, and a directory holding a disk without either marker is never written to.
 */
import type { Readable } from 'node:stream';
import { DatastoreImageStore, storeRawDisk, type DiskFiles } from '../images';
import {
  datastorePath,
  deleteDatastoreFile,
  deleteVirtualDisk,
  downloadDatastoreFile,
  extendVirtualDisk,
  ignoreNotFound,
  isNotFound,
  listDatastoreSubFolders,
  moRef,
  parseDatastorePath,
  statDatastoreFile,
  uploadDatastoreFile,
  type ManagedObjectReference,
  type VimClient,
} from '../vsphere';
import { Inventory, type Datacenter } from '../vsphere/inventory';
import { removeDevice } from '../vsphere/virtual-devices';
import { reconfigureVm } from '../vsphere/virtual-machine';
import { diskUsersAmong, diskUsersOutside, isFile, type DiskUser } from './disk-users';
import { InUseError, ResourceError } from './errors';
import type { Lifecycle, LifecycleContext, PlanCheck } from './lifecycle';
import { VOLATILE, dockerOriginWarning } from './lifecycle';
import { collectPlacement, datacenterOf, datastoreOf } from './placement';
import type { Attrs, Problem } from './schema';
import { poolIsGone, readVchMarker, takeSnapshot, unreadableMarker, type VchMarker } from './snapshot';
import { describeVms } from './vch-ownership';
import { makeVolumeFilesystem } from './volume.disk';
import { volume, volumeDirectory, volumeFilesystemUuid, type VolumeAttrs } from './volume';

export const VOLUME_MARKER_FILE = 'vic-iac-volume.json';
/** The marker of a volume whose create has not finished (see the module comment). */
export const VOLUME_CREATING_MARKER_FILE = 'vic-iac-volume.creating.json';

/** What the marker file beside a volume's disk says. */
export interface VolumeMarker {
  readonly v: 1;
  readonly owner: 'vic-iac';
  readonly vch: string;
  readonly name: string;
  readonly size_mb: number;
  readonly labels: Record<string, string>;
  /**
   * The resource the volume was made for, when its front end names one across commands (a Pulumi
   * stack's resource: LifecycleContext.createdFor); empty for the others. Absent from the markers
   * of releases before it.
   */
  readonly claim?: string;
}

/** Where a volume lives: its datastore, its directory and the datastore path of its descriptor (the id). */
export interface VolumeLocation {
  readonly datastore: string;
  readonly storePath: string;
  readonly name: string;
  readonly dir: string;
  readonly id: string;
}

/** The files of a volume's disk, relative to its VCH's image store (`loc.storePath`). */
function volumeDiskFiles(name: string): DiskFiles {
  const directory = `volumes/${name}`;
  return {
    directory,
    descriptor: `${directory}/${name}.vmdk`,
    extent: `${directory}/${name}-flat.vmdk`,
    extentFileName: `${name}-flat.vmdk`,
    sparseUpload: `${directory}/${name}-upload-sparse.vmdk`,
    sparseUploadFileName: `${name}-upload-sparse.vmdk`,
  };
}

export function volumeLocation(datastore: string, storePath: string, name: string): VolumeLocation {
  const dir = volumeDirectory(storePath, name);
  return { datastore, storePath, name, dir, id: datastorePath(datastore, `${dir}/${name}.vmdk`) };
}

/** The location an id names, when it has the shape vic-iac gives volume ids; undefined otherwise. */
export function parseVolumeId(id: string): VolumeLocation | undefined {
  let parsed: { datastore: string; path: string };
  try {
    parsed = parseDatastorePath(id);
  } catch {
    return undefined;
  }
  const m = /^(.+)\/volumes\/([A-Za-z0-9][A-Za-z0-9_.-]*)\/([^/]+)\.vmdk$/.exec(parsed.path);
  if (!m || m[2] !== m[3]) return undefined;
  return volumeLocation(parsed.datastore, m[1], m[2]);
}

function locationInState(prior: Attrs): VolumeLocation {
  const id = String(prior.id ?? '');
  const loc = parseVolumeId(id);
  if (loc && loc.name === prior.name) return loc;
  throw new ResourceError(
    `volume ${JSON.stringify(prior.name)}: the state's id = ${JSON.stringify(prior.id ?? null)} is not where vic-iac puts a volume. ` +
      `Allowed: "[<datastore>] <image_store_path>/volumes/${String(prior.name)}/${String(prior.name)}.vmdk". vic-iac reads and deletes a volume only where the state says it made it. ` +
      'Restore the id the apply wrote, or remove the volume from the state and import it again by its datastore path.',
  );
}

async function vchMarkerOf(ctx: LifecycleContext, vchId: string): Promise<VchMarker> {
  const marker = await ctx.memo(`vch:${vchId}`, () => readVchMarker(ctx.client, vchId));
  if (!marker) throw new ResourceError(`virtual container host ${vchId} not found (or not managed by vic-iac); use the id of a vic_virtual_container_host`);
  return marker;
}

function datacenterOfMarker(marker: VchMarker): { ref: ManagedObjectReference; name: string } {
  return { ref: moRef('Datacenter', marker.datacenter_id), name: marker.datacenter };
}

async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The marker of the volume at `loc`: undefined when there is none, an error when it does not parse. */
async function readVolumeMarker(client: VimClient, datacenter: string, loc: VolumeLocation, file = VOLUME_MARKER_FILE): Promise<VolumeMarker | undefined> {
  let text: string;
  try {
    text = await readText(await downloadDatastoreFile(client, { datacenter, datastore: loc.datastore, path: `${loc.dir}/${file}` }));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  try {
    const m = JSON.parse(text) as Partial<VolumeMarker>;
    if (m && m.v === 1 && m.owner === 'vic-iac' && typeof m.vch === 'string' && typeof m.name === 'string') {
      const claim = typeof m.claim === 'string' ? { claim: m.claim } : {};
      return { v: 1, owner: 'vic-iac', vch: m.vch, name: m.name, size_mb: Number(m.size_mb ?? 0), labels: { ...(m.labels ?? {}) }, ...claim };
    }
  } catch {
    // Reported below, as any marker that is not ours.
  }
  throw new ResourceError(
    `volume "${loc.name}": ${datastorePath(loc.datastore, `${loc.dir}/${file}`)} is not a vic-iac volume marker; vic-iac will not read, adopt or delete that volume. Restore the file vic-iac wrote, or remove the directory ${datastorePath(loc.datastore, loc.dir)} yourself.`,
  );
}

async function writeVolumeMarker(client: VimClient, datacenter: string, loc: VolumeLocation, marker: VolumeMarker, file = VOLUME_MARKER_FILE): Promise<void> {
  const body = `${JSON.stringify(marker, null, 2)}\n`;
  await uploadDatastoreFile(client, { datacenter, datastore: loc.datastore, path: `${loc.dir}/${file}` }, body, {
    size: Buffer.byteLength(body),
    contentType: 'application/json',
  });
}

function stateOf(loc: VolumeLocation, inputs: Attrs): Attrs {
  return {
    id: loc.id,
    vch_id: inputs.vch_id,
    name: loc.name,
    size_mb: inputs.size_mb,
    labels: inputs.labels && Object.keys(inputs.labels).length > 0 ? inputs.labels : null,
    datastore: loc.datastore,
    force_destroy: inputs.force_destroy ?? false,
    filesystem_uuid: volumeFilesystemUuid(loc.id),
  };
}

/** The files of each volume directory of one store, by volume name: one task per store per command. */
async function volumeFolders(ctx: LifecycleContext, dc: Datacenter, datastore: string, storePath: string): Promise<Map<string, Set<string>>> {
  return ctx.memo(`${VOLATILE}volumes:${dc.ref.value}:[${datastore}] ${storePath}`, async () => {
    const ds = await datastoreOf(ctx, dc, datastore);
    const root = datastorePath(datastore, `${storePath}/volumes`);
    const folders = (await listDatastoreSubFolders(ctx.client, ds.ref, root)) ?? [];
    const byName = new Map<string, Set<string>>();
    for (const folder of folders) {
      const name = folder.folderPath.replace(/\/+$/, '').split('/').pop() ?? '';
      byName.set(name, new Set(folder.files.map((f) => f.name)));
    }
    return byName;
  });
}

/**
 * Whether a volume directory's files make a complete volume, for what is not in a state yet (a
 * listing, an import, a create's adoption): the descriptor and the marker (written after the disk),
 * and no sparse upload waiting for its conversion (a create of an earlier release wrote the marker
 * first; its conversion had not finished while the upload was there).
 */
function isCompleteVolume(name: string, files: ReadonlySet<string>): boolean {
  return files.has(`${name}.vmdk`) && files.has(VOLUME_MARKER_FILE) && !files.has(volumeDiskFiles(name).sparseUploadFileName);
}

/** The names of the complete volumes of one store. */
async function volumesInStore(ctx: LifecycleContext, dc: Datacenter, datastore: string, storePath: string): Promise<Set<string>> {
  const folders = await volumeFolders(ctx, dc, datastore, storePath);
  return new Set([...folders].filter(([name, files]) => isCompleteVolume(name, files)).map(([name]) => name));
}

/** The memo key a read leaves when a volume in the state is gone, for the plan that makes it again. */
function goneKey(id: string): string {
  return `volume-gone:${id}`;
}

/**
 * The VMs whose devices include the volume's disk: any VM in the VCH pool, and any VM elsewhere
 * with files on the store's datastore (a container VM moved out of the pool, a VM the disk was
 * attached to by hand), each with the disks that are the volume's.
 */
async function vmsAttaching(client: VimClient, vchId: string, datastoreId: string, id: string): Promise<DiskUser[]> {
  const pool = (await takeSnapshot(client, [vchId])).vmsInPool(vchId).map((vm) => vm.moid);
  const uses = isFile(id);
  const [inPool, elsewhere] = await Promise.all([diskUsersAmong(client, pool, uses), diskUsersOutside(client, datastoreId, new Set(pool), uses)]);
  return [...inPool, ...elsewhere];
}

/**
 * How long after the last change of a volume's directory a create may still be at work there,
 * another process's (another endpoint, a Terraform apply), on the server's clock: its files appear
 * one after another within seconds. A directory without a finished volume, younger than this, is
 * not written over; older, it is a killed create's and is made again. `VIC_VOLUME_CREATE_LEASE_MS`
 * shortens it for the tests of killed creates.
 */
export const VOLUME_CREATE_LEASE_MS = 60_000;

function volumeCreateLeaseMs(): number {
  const set = Number(process.env.VIC_VOLUME_CREATE_LEASE_MS);
  return Number.isInteger(set) && set >= 0 ? set : VOLUME_CREATE_LEASE_MS;
}

/**
 * Makes the volume's directory this create's, before it writes there: a new one is made by exactly
 * one creator (MakeDirectory fails for the others); one that is there without a finished volume is
 * taken over only once no create has changed it for the lease. Two creates of one name at once
 * otherwise wrote one disk over the other, and the volume they both reported made held no
 * filesystem.
 */
async function claimVolumeDirectory(store: DatastoreImageStore, loc: VolumeLocation, listed: boolean): Promise<void> {
  const relative = `volumes/${loc.name}`;
  const where = datastorePath(loc.datastore, loc.dir);
  const busy = (ageMs: number) =>
    new InUseError(
      `volume "${loc.name}" is being created by another process: its directory ${where} ${ageMs === 0 ? 'was just made' : `last changed ${Math.round(ageMs / 1000)} s ago`} and holds no finished volume yet. ` +
        `If that create is at work, the volume is there in a moment: use it, or choose another name. If it was killed, apply again after ${Math.ceil((volumeCreateLeaseMs() - ageMs) / 1000)} s, when its leftovers are made again.`,
    );
  if (!listed) {
    if (!(await store.createDirectory(relative))) throw busy(0);
    return;
  }
  const ageMs = await store.directoryAge(relative);
  // Gone since the listing (that create failed and cleaned up): this one makes it.
  if (ageMs === undefined) {
    if (!(await store.createDirectory(relative))) throw busy(0);
    return;
  }
  // A store that does not date its directories: taken over, as before there was a lease.
  if (ageMs !== null && ageMs < volumeCreateLeaseMs()) throw busy(ageMs);
}

/**
 * The disk of a volume whose directory this create holds: the `creating` marker first (the directory
 * says whose it is before any disk file appears), then the disk, then the marker proper, so a
 * create killed midway is made again by the next apply, never adopted.
 */
async function makeVolumeDisk(
  ctx: LifecycleContext,
  store: DatastoreImageStore,
  loc: VolumeLocation,
  wanted: VolumeMarker,
  dc: ReturnType<typeof datacenterOfMarker>,
  left: { readonly existing?: VolumeMarker; readonly creating?: VolumeMarker },
): Promise<void> {
  const { client } = ctx;
  await writeVolumeMarker(client, dc.name, loc, wanted, VOLUME_CREATING_MARKER_FILE);
  if (left.existing) await deleteDatastoreFile(client, datastorePath(loc.datastore, `${loc.dir}/${VOLUME_MARKER_FILE}`), dc.ref).catch(ignoreNotFound);
  ctx.progress('format ext4');
  const fs = await makeVolumeFilesystem(loc.id, volumeFilesystemUuid(loc.id), wanted.size_mb, ctx.signal);
  try {
    let total = 0;
    await storeRawDisk(
      store,
      volumeDiskFiles(loc.name),
      { path: fs.flatFile, sizeBytes: fs.sizeBytes, digest: fs.digest },
      {
        // What a killed create left (a marker of ours was there) is replaced.
        partial: left.existing !== undefined || left.creating !== undefined,
        signal: ctx.signal,
        onStart: (bytes, detail) => {
          total = bytes;
          ctx.progress('upload', 0, total, detail);
        },
        onFinish: () => ctx.progress('upload', total, total),
      },
    );
  } finally {
    await fs.dispose();
  }
  await writeVolumeMarker(client, dc.name, loc, wanted);
  await deleteDatastoreFile(client, datastorePath(loc.datastore, `${loc.dir}/${VOLUME_CREATING_MARKER_FILE}`), dc.ref).catch(ignoreNotFound);
}

/** The summary of a refusal because the volume exists and another resource (or a lost state) holds it. */
const HELD_SUMMARY = 'Volume held by another resource';

/**
 * A create of a volume that exists, complete, under this VCH and name: its create finished, so a
 * resource holds it (another configuration, stack or spec, or a state that lost it), as a container
 * VM whose create finished is held. Taking it over would let two states delete one volume's data.
 * Only the replacement of the resource that holds it (ctx.replacing) makes it again, and adopts it.
 */
async function heldVolumeProblem(ctx: LifecycleContext, vch: VchMarker, loc: VolumeLocation, config: VolumeAttrs): Promise<Problem | undefined> {
  const dc = await datacenterOf(ctx, vch.datacenter);
  const files = (await volumeFolders(ctx, dc, loc.datastore, loc.storePath)).get(loc.name);
  if (!files || !isCompleteVolume(loc.name, files)) return undefined;
  const marker = await readVolumeMarker(ctx.client, dc.name, loc);
  if (!marker || marker.vch !== config.vch_id || marker.name !== config.name) return undefined;
  // A front end whose create does not say whether it replaces its own object (Pulumi's: `pulumi up
  // --replace` creates first) takes over the volume its own resource made, and one an earlier
  // release made (which recorded nobody): the old resource's delete then leaves it to its successor.
  if (ctx.createsNow && (marker.claim === undefined || marker.claim === ctx.createdFor)) return undefined;
  return {
    path: ['name'],
    severity: 'error',
    summary: HELD_SUMMARY,
    detail:
      `volume "${config.name}" of VCH ${config.vch_id} already exists (${loc.id}), with its data, and the create that made it finished: another resource holds it ` +
      '(another Terraform configuration or workspace, Pulumi stack or vic spec; or two resources with this name). vic-iac will not take it over: two states would each delete it behind the other. ' +
      'To mount it from here, give its id to the container VM (volumes[].volume_id) without declaring the volume. ' +
      (ctx.createsNow
        ? // Pulumi's create: its own create-first replacement was told apart by the volume's claim.
          `If no resource holds it any more (its stack's state lost it, or the resource was renamed), import it instead of creating it, by its id ${loc.id} ` +
          `(the resource option import: '${loc.id}', or pulumi import with that id; terraform import and vic import take it too). Otherwise choose another name.`
        : `If no resource holds it any more (its state was lost, or removed with terraform state rm or vic state rm), import it instead of creating it, by its id ${loc.id} ` +
          `(terraform import <address> '${loc.id}'; vic import -f <spec> <address> '${loc.id}'; pulumi import with that id). ` +
          // A Terraform apply plans the create of a create-first replacement after deposing the old object: nothing tells it from another state's create.
          "If this is the volume's own replacement, created before the old one is destroyed (Terraform's lifecycle create_before_destroy, on the volume or on a resource that depends on it), remove create_before_destroy: " +
          `Terraform keeps the old volume in the state as a deposed object; bring it back with "terraform state rm <address>" (the volume and its data stay) and "terraform import <address> '${loc.id}'". Otherwise choose another name.`),
  };
}

export const volumeLifecycle: Lifecycle<VolumeAttrs> = {
  declaration: volume,

  poolsOf: (state) => (typeof state.vch_id === 'string' && state.vch_id ? [state.vch_id] : []),
  readsVms: false,

  async read(ctx, snapshot, prior) {
    const pool = snapshot.pools.get(prior.vch_id);
    if (pool?.markerError) throw unreadableMarker(pool);
    // The VCH is gone, and its store's volumes with it (its destroy decided what became of them).
    if (!pool?.marker) return null;
    const loc = locationInState(prior);
    const dc = await ctx.memo(`datacenter:${pool.marker.datacenter}`, () => datacenterOf(ctx, pool.marker?.datacenter));
    // A volume in the state was complete when it entered it: its descriptor and marker are enough
    // (a stray sparse upload beside them must not make the next apply create it again, over its data).
    const files = (await volumeFolders(ctx, dc, loc.datastore, loc.storePath)).get(loc.name);
    if (files?.has(`${loc.name}.vmdk`) && files.has(VOLUME_MARKER_FILE)) return stateOf(loc, prior);
    await ctx.memo(goneKey(loc.id), () => Promise.resolve(true));
    return null;
  },

  async check(ctx, config, prior): Promise<PlanCheck> {
    const problems: Problem[] = [...dockerOriginWarning(config.labels, 'volume')];
    if (prior && typeof prior.size_mb === 'number' && config.size_mb < prior.size_mb) {
      problems.push({
        path: ['size_mb'],
        severity: 'error',
        summary: 'Volume cannot shrink',
        detail: `size_mb = ${config.size_mb} is below the volume's current ${prior.size_mb} MB. vSphere cannot shrink a disk, and the ext4 filesystem on it spans the whole disk. Keep size_mb at ${prior.size_mb} or more; to start over smaller, create a new volume (another name) and copy the data.`,
      });
    }
    let marker: VchMarker | undefined;
    try {
      marker = await vchMarkerOf(ctx, config.vch_id);
    } catch (err) {
      if (!(err instanceof ResourceError)) throw err;
      problems.push({ path: ['vch_id'], severity: 'error', summary: 'Virtual container host not found', detail: `${err.message}.` });
    }
    if (!marker) return { problems };
    const m = marker;
    const datastore = config.datastore ?? m.datastore;
    if (!prior && config.datastore && config.datastore !== m.datastore) {
      const dc = await datacenterOf(ctx, m.datacenter);
      problems.push(...(await collectPlacement([datastoreOf(ctx, dc, config.datastore)])).map((p) => ({ ...p, path: ['datastore'] })));
    }
    const loc = volumeLocation(datastore, m.image_store_path, config.name);
    if (!prior && (await ctx.memo(goneKey(loc.id), () => Promise.resolve(false)))) {
      problems.push({
        path: ['name'],
        severity: 'warning',
        summary: 'Volume deleted outside vic-iac',
        detail: `volume "${config.name}" (${loc.id}) was deleted outside vic-iac. The plan creates it again, empty: the data it held is gone. Restore the files from a backup before applying if you need them.`,
      });
    }
    if (!prior && !ctx.referencesOnly && ctx.replacing?.id !== loc.id) {
      const held = await heldVolumeProblem(ctx, m, loc, config);
      if (held) problems.push(held);
    }
    if (!prior) ctx.expect(plannedVolumeKey(loc.id));
    return { problems, planned: prior ? undefined : { id: loc.id, filesystem_uuid: volumeFilesystemUuid(loc.id), datastore } };
  },

  async create(ctx, config) {
    const { client } = ctx;
    const marker = await vchMarkerOf(ctx, config.vch_id);
    const dc = datacenterOfMarker(marker);
    const loc = volumeLocation(config.datastore ?? marker.datastore, marker.image_store_path, config.name);
    const wanted: VolumeMarker = {
      v: 1,
      owner: 'vic-iac',
      vch: config.vch_id,
      name: config.name,
      size_mb: config.size_mb,
      labels: { ...(config.labels ?? {}) },
      claim: ctx.createdFor ?? '',
    };
    const volumeDc = await datacenterOf(ctx, marker.datacenter);
    // What the directory holds now, not what the plan's refresh listed.
    ctx.forget(`${VOLATILE}volumes:`);
    const listed = (await volumeFolders(ctx, volumeDc, loc.datastore, loc.storePath)).get(loc.name);
    const files = listed ?? new Set<string>();
    ctx.forget(`${VOLATILE}volumes:`);
    const [existing, creating] = await Promise.all(
      [VOLUME_MARKER_FILE, VOLUME_CREATING_MARKER_FILE].map((f) => (files.has(f) ? readVolumeMarker(client, dc.name, loc, f) : Promise.resolve(undefined))),
    );
    for (const m of [existing, creating]) {
      if (m && (m.vch !== config.vch_id || m.name !== config.name)) {
        // The volume of a VCH whose pool is gone (deleted outside vic-iac), in the store that this
        // VCH, made again, took over: it comes with the store, as its images do, data and all.
        if (m.name === config.name && (await poolIsGone(client, m.vch))) {
          ctx.progress(`adopting volume "${m.name}" of virtual container host ${m.vch}, whose resource pool no longer exists`);
          continue;
        }
        throw new ResourceError(
          `volume "${config.name}": ${loc.id} already exists and its marker says it is volume "${m.name}" of virtual container host ${m.vch}; vic-iac will not take it over. Choose another name, or import it into the configuration that owns it.`,
        );
      }
    }
    if (existing && isCompleteVolume(loc.name, files)) {
      // A volume whose state was lost, or a create killed after its disk was complete.
      ctx.progress('adopting the volume an earlier apply created');
      if (existing.size_mb < config.size_mb) await extendVirtualDisk(client, loc.id, dc.ref, config.size_mb * 1024);
      await writeVolumeMarker(client, dc.name, loc, wanted);
      if (creating) await deleteDatastoreFile(client, datastorePath(loc.datastore, `${loc.dir}/${VOLUME_CREATING_MARKER_FILE}`), dc.ref).catch(ignoreNotFound);
      return stateOf(loc, config);
    }
    const diskFiles = volumeDiskFiles(loc.name);
    if (existing && !creating && files.has(`${loc.name}.vmdk`) && files.has(diskFiles.sparseUploadFileName)) {
      const dir = datastorePath(loc.datastore, loc.dir);
      throw new ResourceError(
        `volume "${config.name}": ${dir} holds a disk, its marker and the sparse upload ${diskFiles.sparseUploadFileName}, as a create of an earlier vic-iac release leaves them: ` +
          'its conversion may not have finished (the disk may be incomplete), or it finished and the volume holds data whose state was lost. vic-iac neither adopts nor overwrites it. ' +
          `If the volume holds data you need, delete ${datastorePath(loc.datastore, `${loc.dir}/${diskFiles.sparseUploadFileName}`)} and import the volume by its id ${loc.id} (terraform import, vic import or pulumi import); otherwise delete the directory ${dir} and apply again.`,
      );
    }
    if (!existing && !creating && (files.has(`${loc.name}.vmdk`) || files.has(diskFiles.extentFileName))) {
      throw new ResourceError(
        `volume "${config.name}": ${datastorePath(loc.datastore, loc.dir)} already holds a disk (${[...files].sort().join(', ')}) without a vic-iac volume marker; vic-iac never writes over a disk it did not make. ` +
          'Choose another name, or move that disk away (or delete it if it is no longer needed) and apply again.',
      );
    }
    // The volume directory lies inside the VCH's image store: the disk goes in as image disks do.
    const store = new DatastoreImageStore({
      client,
      datacenter: { ref: dc.ref, path: dc.name },
      datastore: loc.datastore,
      path: loc.storePath,
      subject: `volume "${loc.name}" (${datastorePath(loc.datastore, loc.dir)})`,
      remedy: `check the datastore ${loc.datastore} (free space, your permissions on it) and apply again: the next apply makes the volume's disk again over what this one left`,
    });
    await claimVolumeDirectory(store, loc, listed !== undefined);
    try {
      await makeVolumeDisk(ctx, store, loc, wanted, dc, { existing, creating });
    } catch (err) {
      // Nothing of this create is worth keeping, and a directory left behind would hold the next
      // create off for the lease: it goes, unless the failure was losing the directory to another create.
      if (!(err instanceof InUseError)) await deleteDatastoreFile(client, datastorePath(loc.datastore, loc.dir), dc.ref).catch(() => undefined);
      throw err;
    }
    return stateOf(loc, config);
  },

  async update(ctx, prior, config) {
    const { client } = ctx;
    const loc = locationInState(prior);
    const marker = await vchMarkerOf(ctx, prior.vch_id);
    const dc = datacenterOfMarker(marker);
    const existing = await readVolumeMarker(client, dc.name, loc);
    if (!existing) throw new ResourceError(`volume "${prior.name}" (${loc.id}) is gone or lost its marker; refresh and plan again`);
    if (config.size_mb > prior.size_mb) {
      ctx.progress('extend disk');
      await extendVirtualDisk(client, loc.id, dc.ref, config.size_mb * 1024);
    }
    await writeVolumeMarker(client, dc.name, loc, { ...existing, size_mb: Math.max(config.size_mb, existing.size_mb), labels: { ...(config.labels ?? {}) } });
    return stateOf(loc, config);
  },

  async delete(ctx, prior) {
    const { client } = ctx;
    const loc = locationInState(prior);
    const snap = await takeSnapshot(client, [prior.vch_id], { vms: false });
    const pool = snap.pools.get(prior.vch_id);
    if (pool?.markerError) throw unreadableMarker(pool);
    if (!pool?.marker) return;
    const dc = datacenterOfMarker(pool.marker);
    const marker = await readVolumeMarker(client, dc.name, loc);
    if (!marker) {
      const descriptor = await statDatastoreFile(client, { datacenter: dc.name, datastore: loc.datastore, path: `${loc.dir}/${loc.name}.vmdk` });
      if (!descriptor) return;
      throw new ResourceError(
        `${loc.id} carries no ${VOLUME_MARKER_FILE} beside it: vic-iac did not make it (or its marker was removed) and never deletes such a disk. Delete it yourself if it is no longer needed, then remove the volume from the state.`,
      );
    }
    if (marker.vch !== prior.vch_id || marker.name !== prior.name) {
      throw new ResourceError(
        `${loc.id}: its marker says it is volume "${marker.name}" of virtual container host ${marker.vch}, not "${prior.name}" of ${prior.vch_id}; refusing to delete it. Refresh the state and plan again.`,
      );
    }
    const users = await vmsAttaching(client, prior.vch_id, pool.marker.datastore_id, loc.id);
    if (users.length > 0 && !prior.force_destroy) {
      throw new InUseError(
        `volume "${prior.name}" (${loc.id}) is attached to ${users.length} VM(s): ${describeVms(users)}. Delete those container VMs or remove the volume from their volumes first, or set force_destroy = true to detach it from them and delete it with its data (ResourceInUse).`,
      );
    }
    for (const user of users) {
      ctx.progress(`detach from ${user.name}`);
      await reconfigureVm(client, moRef('VirtualMachine', user.moid), { deviceChange: user.disks.map((disk) => removeDevice(disk)) });
    }
    ctx.progress('delete disk');
    await deleteVirtualDisk(client, loc.id, dc.ref).catch(ignoreNotFound);
    await deleteDatastoreFile(client, datastorePath(loc.datastore, loc.dir), dc.ref).catch(ignoreNotFound);
  },

  async listIn(ctx, vchId) {
    const vch = await vchMarkerOf(ctx, vchId);
    const dc = await ctx.memo(`datacenter:${vch.datacenter}`, () => datacenterOf(ctx, vch.datacenter));
    // One folder search finds them all; the markers (labels, size) are read side by side.
    const names = [...(await volumesInStore(ctx, dc, vch.datastore, vch.image_store_path))].sort();
    const rows = await Promise.all(
      names.map(async (name) => {
        const loc = volumeLocation(vch.datastore, vch.image_store_path, name);
        // A marker that is not ours, or names another VCH, is not a volume of this VCH to show.
        const marker = await readVolumeMarker(ctx.client, dc.name, loc).catch((err: unknown) =>
          err instanceof ResourceError ? undefined : Promise.reject(err),
        );
        if (!marker || marker.vch !== vchId || marker.name !== name) return undefined;
        return stateOf(loc, { vch_id: vchId, size_mb: marker.size_mb, labels: marker.labels, force_destroy: false });
      }),
    );
    return rows.filter((r): r is Attrs => r !== undefined);
  },

  async importState(ctx, id) {
    const loc = parseVolumeId(id.trim());
    if (!loc) {
      throw new ResourceError(
        `cannot import volume "${id}": use the datastore path of its VMDK descriptor, "[<datastore>] <image_store_path>/volumes/<name>/<name>.vmdk" (vic ls --all lists the volumes vic-iac made, with their ids)`,
      );
    }
    let found: ReadonlySet<string> | undefined;
    // What the store holds now: an import is a command of its own.
    ctx.forget(`${VOLATILE}volumes:`);
    for (const dc of await new Inventory(ctx.client).datacenters()) {
      let marker: VolumeMarker | undefined;
      try {
        marker = await readVolumeMarker(ctx.client, dc.name, loc);
      } catch (err) {
        if (err instanceof ResourceError) throw err;
        // The datastore is not in this datacenter.
        continue;
      }
      if (!marker) {
        const files = (await volumeFolders(ctx, dc, loc.datastore, loc.storePath).catch(() => undefined))?.get(loc.name);
        if (files?.has(VOLUME_CREATING_MARKER_FILE)) {
          throw new ResourceError(
            `cannot import ${loc.id}: its create did not finish (${VOLUME_CREATING_MARKER_FILE} is there, the disk may be incomplete). Apply the configuration that creates volume "${loc.name}" again: it redoes the disk.`,
          );
        }
        found ??= files;
        continue;
      }
      if (marker.name !== loc.name) throw new ResourceError(`cannot import ${loc.id}: its marker names volume "${marker.name}", not "${loc.name}"`);
      if (!(await volumesInStore(ctx, dc, loc.datastore, loc.storePath)).has(loc.name)) {
        throw new ResourceError(
          `cannot import ${loc.id}: the volume is incomplete (its descriptor is missing, or the conversion of its upload did not finish). Apply the configuration that creates volume "${loc.name}" again: it redoes the disk.`,
        );
      }
      const vch = await readVchMarker(ctx.client, marker.vch);
      if (!vch || vch.image_store_path !== loc.storePath) {
        throw new ResourceError(
          `cannot import ${loc.id}: its marker names virtual container host ${marker.vch}, ${vch ? `whose store is ${vch.image_store_path}, not ${loc.storePath}` : 'which no longer exists (or is not managed by vic-iac)'}`,
        );
      }
      return stateOf(loc, { vch_id: marker.vch, size_mb: marker.size_mb, labels: marker.labels, force_destroy: false });
    }
    if (found?.has(`${loc.name}.vmdk`)) {
      throw new ResourceError(
        `cannot import ${loc.id}: the disk carries no ${VOLUME_MARKER_FILE} beside it, so vic-iac did not make it; only volumes made by vic-iac can be imported. Declare a new vic_volume and copy the data over instead.`,
      );
    }
    throw new ResourceError(
      `cannot import ${loc.id}: there is no volume "${loc.name}" in the store ${datastorePath(loc.datastore, loc.storePath)}${found ? ' (its directory holds no disk)' : ''}. Check the datastore, the store path and the name: vic ls --all lists the volumes vic-iac made, with their ids.`,
    );
  },
};

/** What a container VM needs to attach one of its mounts. */
export interface MountedVolume {
  readonly id: string;
  readonly capacityKB: number;
}

/** The memo key of a volume a plan will make: the container VMs that mount it do not look for it in vSphere yet. */
export function plannedVolumeKey(id: string): string {
  return `volume:${id}`;
}

/**
 * Checks the mounts of a container VM in the VCH `vchId` against vSphere: each volume must exist
 * (or, while `planning`, be made by this plan) and carry the marker of this VCH. Returns the problems on the
 * mount's `volume_id`, and what attaching each known volume needs.
 */
export async function resolveMounts(
  ctx: LifecycleContext,
  vchId: string,
  vch: VchMarker,
  volumeIds: readonly (string | undefined)[],
  options: { readonly planning: boolean },
): Promise<{ problems: Problem[]; volumes: (MountedVolume | undefined)[] }> {
  const problems: Problem[] = [];
  const volumes = await Promise.all(
    volumeIds.map(async (id, i): Promise<MountedVolume | undefined> => {
      if (id === undefined) return undefined;
      const path = ['volumes', i, 'volume_id'];
      const loc = parseVolumeId(id);
      const bad = (summary: string, detail: string) => {
        problems.push({ path, severity: 'error', summary, detail: `volumes[${i}].volume_id = ${JSON.stringify(id)} ${detail}` });
        return undefined;
      };
      if (!loc)
        return bad(
          'Not a volume id',
          'is not the id of a vic_volume ("[<datastore>] <store>/volumes/<name>/<name>.vmdk"). Use the id of a vic_volume resource.',
        );
      if (loc.storePath !== vch.image_store_path) {
        return bad(
          'Volume of another VCH',
          `is a volume of the store ${loc.storePath}, not of this container VM's virtual container host "${vch.name}" (${vchId}, store ${vch.image_store_path}). A container VM mounts only volumes of its own VCH: create the volume with vch_id = ${JSON.stringify(vchId)}.`,
        );
      }
      if (options.planning && ctx.expected(plannedVolumeKey(id))) return undefined;
      const marker = await ctx.memo(`volume-marker:${id}`, () => readVolumeMarker(ctx.client, vch.datacenter, loc));
      if (!marker) {
        ctx.forget(`volume-marker:${id}`);
        return bad('Volume not found', `names no volume: ${loc.dir} holds no vic-iac volume. Create it with a vic_volume resource first.`);
      }
      if (marker.vch !== vchId) {
        return bad(
          'Volume of another VCH',
          `is volume "${marker.name}" of virtual container host ${marker.vch}, not of ${vchId}. A container VM mounts only volumes of its own VCH: create the volume with vch_id = ${JSON.stringify(vchId)}.`,
        );
      }
      return { id, capacityKB: Math.max(1, marker.size_mb) * 1024 };
    }),
  );
  return { problems, volumes };
}
