/**
 * image against vSphere: the pipeline (src/images) pulls, flattens and uploads into the VCH's image
 * store on its datastore. Content-addressed: a digest already complete in the store is reused.
 * The reference is resolved at plan time (once per command), even while the VCH is still unknown;
 * when a tag moved, the plan shows the new digest and replaces the image, new one first.
 *
 * Where an image lives is decided once, when it enters the state (create, import), from the VCH
 * marker. From then on read, update and delete take its directory from the state (`disk_path`,
 * checked against `id`) and its datacenter from vSphere (the pool's parents): the marker is a custom
 * field that anyone allowed to set custom fields could rewrite to point a delete elsewhere.
 */
import { createHash } from 'node:crypto';
import { access as fileAccess, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DatastoreImageStore,
  ImageError,
  RegistryError,
  buildImage,
  commitImage,
  extractImageArchive,
  readArchiveImages,
  storeLocalImage,
  pushImage,
  writeImageArchive,
  deleteStoredImage,
  imageLayout,
  formatImageReference,
  inspectStoredImage,
  parseImageReference,
  readStoredImage,
  resolveReference,
  storeOfImageDisk,
  type DatastoreStoreLocation,
  type ImageInfo,
  type ImageStore,
  type RegistryAccessOptions,
} from '../images';
import { addImageReference, readImageHolders, removeImageReference, renameImageReference, sameReference } from '../images/image-references';
import { datastorePath, isNotFound, moRef, type ManagedObjectReference, type VimClient } from '../vsphere';
import { listDatastoreDirectory } from '../vsphere/datastore-browser';
import { diskUsersOutside, isBelow } from './disk-users';
import { InUseError, ResourceError } from './errors';
import { image, type ImageAttrs } from './image';
import { madeByDocker, type Lifecycle, type LifecycleContext, type PlanCheck } from './lifecycle';
import { containsUnknown, isUnknown, type Attrs, type PlannedAttrs, type Problem } from './schema';
import { inventory } from './placement';
import { VCH_MARKER_FIELD, VchMarker, imageStoreOf, readVchMarker, takeSnapshot, unreadableMarker } from './snapshot';
import { STORE_MARKER_FILE, datacenterAbove, inspectStore } from './vch-ownership';

function access(config: Attrs): RegistryAccessOptions {
  const auth = config.registry_auth as { username?: string; password?: string } | null | undefined;
  return {
    reference: String(config.reference),
    platform: String(config.platform ?? 'linux/amd64'),
    auth: auth?.username ? { username: auth.username, password: String(auth.password ?? '') } : undefined,
    insecureRegistry: config.insecure_registry === true,
    caFile: (config.ca_file as string | null) ?? undefined,
  };
}

/** The state: inputs as the user gave them, outputs from what the store holds. */
function stateOf(info: ImageInfo, inputs: Attrs): Attrs {
  return {
    id: info.digest,
    vch_id: inputs.vch_id,
    reference: inputs.reference,
    platform: inputs.platform ?? info.platform,
    registry_auth: inputs.registry_auth ?? null,
    insecure_registry: inputs.insecure_registry ?? false,
    ca_file: inputs.ca_file ?? null,
    size_mb: inputs.size_mb ?? Math.ceil(info.sizeBytes / (1024 * 1024)),
    digest: info.digest,
    disk_path: info.diskPath,
    size_bytes: info.sizeBytes,
    entrypoint: [...info.config.entrypoint],
    cmd: [...info.config.cmd],
    env: [...info.config.env],
    working_dir: info.config.working_dir,
    user: info.config.user,
    exposed_ports: [...info.config.exposed_ports],
    labels: { ...info.config.labels },
  };
}

async function markerOf(ctx: LifecycleContext, vchId: string): Promise<VchMarker> {
  const marker = await ctx.memo(`vch:${vchId}`, () => readVchMarker(ctx.client, vchId));
  if (!marker) throw new ResourceError(`virtual container host ${vchId} not found (or not managed by vic-iac); use the id of a vic_virtual_container_host`);
  return marker;
}

/**
 * The image store the state names: the datastore and directory of `disk_path`, which must be where
 * vic-iac puts the disk of the digest in `id`. A state edited into another shape is refused, never
 * followed.
 */
function storeInState(prior: Attrs): DatastoreStoreLocation {
  const id = String(prior.id);
  const diskPath = prior.disk_path;
  const location = typeof diskPath === 'string' ? storeOfImageDisk(diskPath, id) : undefined;
  if (location) return location;
  const hex = /^sha256:[0-9a-f]{64}$/.test(id) ? id.slice('sha256:'.length) : '<64 hex digits of the digest in id>';
  throw new ResourceError(
    `image ${id}: the state's disk_path = ${JSON.stringify(diskPath ?? null)} is not where vic-iac puts an image disk. ` +
      `Allowed: "[<datastore>] <image store>/images/${hex}/${hex}.vmdk" (id must be the image digest, sha256:<64 hex digits>). ` +
      'vic-iac reads and deletes the image only where the state says it wrote it, and will not guess another place. ' +
      'Restore disk_path (and id) to what the apply wrote, or remove the image from the state and import it again by <vch_id>/<digest>.',
  );
}

/** The store that holds the image the state names (its datacenter from vSphere), for reading what is kept beside its disk. */
async function storeOfImage(ctx: LifecycleContext, prior: Attrs): Promise<DatastoreImageStore> {
  const dc = await datacenterOfPool(ctx, String(prior.vch_id));
  if (!dc) throw new ResourceError(`image ${String(prior.id)}: its virtual container host ${String(prior.vch_id)} is gone`);
  return storeAt(ctx.client, storeInState(prior), dc);
}

/** The largest image config read back: a registry's limit for a manifest or config is a few MB. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** The largest file listing read back: some 2 million entries, compressed. */
const MAX_FILE_LISTING_BYTES = 256 * 1024 * 1024;

type DatacenterLocation = { readonly ref: ManagedObjectReference; readonly path: string };

function storeAt(client: VimClient, location: DatastoreStoreLocation, datacenter: DatacenterLocation): DatastoreImageStore {
  return new DatastoreImageStore({ client, datacenter, datastore: location.datastore, path: location.path });
}

/** The datacenter vSphere puts the VCH pool in; undefined when the pool is gone. Pools never change datacenter. */
async function datacenterOfPool(ctx: LifecycleContext, vchId: string): Promise<DatacenterLocation | undefined> {
  try {
    const dc = await ctx.memo(`datacenter-of:${vchId}`, () => datacenterAbove(ctx.client, moRef('ResourcePool', vchId)));
    return { ref: dc.ref, path: dc.name };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function sameDatacenter(a: DatacenterLocation, b: DatacenterLocation): boolean {
  return a.ref.value === b.ref.value && a.path === b.path;
}

/** A registry failure as a plan-time problem on the attribute the user can fix. */
function registryProblem(err: ImageError): Problem {
  const path = err.code === 'RegistryAuth' ? ['registry_auth'] : err.code === 'PlatformNotFound' ? ['platform'] : ['reference'];
  return { path, severity: 'error', summary: 'Image reference cannot be resolved', detail: err.message };
}

function pinnedDigest(reference: string): string | undefined {
  return parseImageReference(reference).digest;
}

/**
 * The memo key of what a store holds of a digest (inspectStoredImage): a command that lists the
 * store and then uses one of its images (a docker run) inspects it once.
 */
export function storedImageKey(store: ImageStore, digest: string): string {
  return `image:${store.description}:${digest}`;
}

/** Names an image a plan will make in a VCH's store, for the plans of the container VMs that use it. */
export function plannedImageKey(vchId: string, digest: string): string {
  return `image:${vchId}/${digest}`;
}

/** The inputs a registry round trip needs; resolution waits while any is unknown. */
const ACCESS_INPUTS = ['reference', 'platform', 'registry_auth', 'insecure_registry', 'ca_file'] as const;

/** One registry round trip per reference and access settings per command (credentials hashed, never kept). */
function resolveOnce(ctx: LifecycleContext, config: Attrs): Promise<{ digest: string }> {
  const settings = access(config);
  const key = createHash('sha256').update(JSON.stringify(settings)).digest('hex');
  return ctx.memo(`resolve:${key}`, () => resolveReference(settings, { checkPlatform: true }));
}

async function caFileProblem(caFile: string): Promise<Problem | undefined> {
  try {
    await fileAccess(caFile, constants.R_OK);
    return undefined;
  } catch (err) {
    return {
      path: ['ca_file'],
      severity: 'error',
      summary: 'CA file cannot be read',
      detail: `ca_file "${caFile}" cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}). Point ca_file at a PEM file with the CA that signed the registry certificate.`,
    };
  }
}

/**
 * Takes name `name` from the store's other images, now that it holds image `digest` (its tag moved
 * in the registry and was pulled again, or `docker tag` gave it to this image): one name, one image,
 * or a create by that name would make a container of whichever the store lists first. Each keeps
 * its holder under its digest, `<repository>@sha256:…` (as dockerd leaves such an image untagged),
 * so it stays until that holder goes: a resource that still names it by the tag destroys it as
 * before (the last holder), and `docker rmi` removes it by that name or its id.
 */
async function takeName(ctx: LifecycleContext, vchId: string, name: string, digest: string): Promise<void> {
  if (pinnedDigest(name)) return;
  // Not kept for the command: a create over one of these images later checks that it is still there.
  const others = (await listImagesIn(ctx, vchId, false)).filter((i) => i.id !== digest && (i.references as string[]).some((r) => sameReference(r, name)));
  if (others.length === 0) return;
  const store = imageStoreOf(ctx.client, await markerOf(ctx, vchId));
  const { registry, repository } = parseImageReference(name);
  for (const other of others) {
    const untagged = formatImageReference({ registry, repository, digest: String(other.id) });
    await renameImageReference(store, String(other.id), String(other.reference), name, untagged);
  }
}

/** Every complete image of the VCH's store, with the references that hold it (`listIn`). */
async function listImagesIn(ctx: LifecycleContext, vchId: string, memo = true): Promise<Attrs[]> {
  const marker = await markerOf(ctx, vchId);
  // The marker names the store's datastore and datacenter by MOID: no walk up the inventory to find them.
  let dsRef = marker.datastore_id ? moRef('Datastore', marker.datastore_id) : undefined;
  if (!dsRef) dsRef = (await inventory(ctx).datastore(await datacenterAbove(ctx.client, moRef('ResourcePool', vchId)), marker.datastore)).ref;
  const entries = await listDatastoreDirectory(ctx.client, dsRef, datastorePath(marker.datastore, `${marker.image_store_path}/images`));
  const store = imageStoreOf(ctx.client, marker);
  const digests = (entries ?? []).filter((e) => e.folder && /^[0-9a-f]{64}$/.test(e.name)).map((e) => `sha256:${e.name}`);
  // A partial image (a pull still running, or one that stopped midway) is not an image yet.
  const infos = await Promise.all(
    digests.map((d) =>
      readStoredImage(store, d, memo ? (st, digest) => ctx.memo(storedImageKey(st, digest), () => inspectStoredImage(st, digest)) : undefined),
    ),
  );
  const complete = infos.filter((i): i is ImageInfo => i !== undefined);
  // Every reference that holds an image (two tags of one digest): docker images lists each.
  const holders = await Promise.all(complete.map((info) => readImageHolders(store, info.digest, info.reference)));
  return complete.map((info, i) => ({
    ...stateOf(info, { vch_id: vchId, reference: info.reference }),
    created: info.created,
    // For docker images: when the image was built, and what its files take (the store's own
    // figures, the pull time and the disk size, for an image stored before they were recorded).
    image_created: info.imageCreated ?? info.created,
    content_bytes: info.contentBytes ?? info.sizeBytes,
    // For docker: what the image config declares beyond the attributes (null: not recorded, a store
    // written before these were kept).
    image_volumes: info.config.volumes ?? null,
    image_stop_signal: info.config.stop_signal ?? null,
    image_healthcheck: (info.config.healthcheck as unknown as Attrs | undefined) ?? null,
    // A committed image's (docker commit -a, -m).
    image_author: info.author ?? null,
    image_comment: info.comment ?? null,
    // Its config kept beside its disk (docker history), and the size of each layer's files; null in stores written before.
    image_config_digest: info.configDigest ?? null,
    image_layer_sizes: info.layerSizes ?? null,
    references: holders[i].references,
    // The references an IaC state holds: docker may not remove them (the endpoint's docker rmi).
    managed_references: holders[i].managed,
  }));
}

export const imageLifecycle: Lifecycle<ImageAttrs> = {
  declaration: image,

  poolsOf: (state) => (typeof state.vch_id === 'string' && state.vch_id ? [state.vch_id] : []),
  readsVms: false,

  async read(ctx, snapshot, prior) {
    const vchId = prior.vch_id;
    const pool = snapshot.pools.get(vchId);
    if (pool?.markerError) throw unreadableMarker(pool);
    // The VCH is gone, and its images with it.
    if (!pool) return null;
    const location = storeInState(prior);
    const digest = String(prior.id);
    // The marker's datacenter spares a refresh the walk up the pool's parents. It only locates the
    // datastore of the state's directory, and an image is called gone only once the datacenter
    // vSphere puts the pool in agrees: a rewritten marker cannot drop an image from the state.
    const hinted = pool.marker ? { ref: moRef('Datacenter', pool.marker.datacenter_id), path: pool.marker.datacenter } : undefined;
    let info: ImageInfo | undefined;
    let answered = false;
    if (hinted) {
      try {
        info = await readStoredImage(storeAt(ctx.client, location, hinted), digest);
        answered = true;
      } catch {
        // Asked again below, where vSphere puts the pool: an error there is the one to report.
      }
    }
    if (!info) {
      const dc = await datacenterOfPool(ctx, vchId);
      if (!dc) return null;
      if (!(answered && hinted && sameDatacenter(dc, hinted))) info = await readStoredImage(storeAt(ctx.client, location, dc), digest);
    }
    return info ? stateOf(info, prior) : null;
  },

  // The reference is known at plan time even when the VCH is not (created in the same apply).
  checksUnknown: true,

  async check(ctx, config: PlannedAttrs<typeof image.schema>, prior): Promise<PlanCheck> {
    const problems: Problem[] = [];
    const vchId = isUnknown(config.vch_id) ? undefined : config.vch_id;
    // Through the command's `vch:` memo, which the VCH's refresh filled: no read of its own.
    if (vchId !== undefined && !(await ctx.memo(`vch:${vchId}`, () => readVchMarker(ctx.client, vchId)))) {
      problems.push({
        path: ['vch_id'],
        severity: 'error',
        summary: 'Virtual container host not found',
        detail: `virtual container host ${vchId} not found (or not managed by vic-iac). Use the id of a vic_virtual_container_host.`,
      });
    }
    if (typeof config.ca_file === 'string' && config.ca_file !== '') {
      const problem = await caFileProblem(config.ca_file);
      if (problem) return { problems: [...problems, problem] };
    }
    if (ACCESS_INPUTS.some((n) => containsUnknown(config[n]))) return { problems };
    const reference = config.reference as string; // known: checked just above
    const pinned = pinnedDigest(reference);
    let digest: string;
    // A digest reference never changes: looked up when it is new, not at every plan.
    if (pinned && prior?.reference === reference) digest = pinned;
    else {
      try {
        digest = (await resolveOnce(ctx, config)).digest;
      } catch (err) {
        if (!ImageError.isImageError(err)) throw err;
        // The registry is down, and the store holds what this reference last resolved to (the
        // refresh found it): the plan goes on with that digest, so a container VM can still be
        // resized, stopped or changed while the registry is out. A moved tag is seen by the next
        // plan that reaches the registry.
        if (!(prior && prior.reference === reference && typeof prior.digest === 'string' && RegistryError.isOutage(err))) {
          return { problems: [...problems, registryProblem(err)] };
        }
        problems.push({
          path: ['reference'],
          severity: 'warning',
          summary: 'Registry unreachable: the stored image is kept',
          detail:
            `${err.message}. This plan keeps ${reference} at ${prior.digest}, the image the store holds; whether the tag moved in the registry ` +
            'is checked by the next plan that reaches it. To stop depending on the registry for this, pin the reference by digest (name@sha256:…).',
        });
        digest = prior.digest;
      }
    }
    // The digest is known now: the plan shows it, and the container VMs that use the image see
    // their image_id (Terraform replaces only on a path whose value changes, and an apply must
    // keep every value its plan knew).
    const moved = digest !== prior?.digest;
    if (moved && vchId !== undefined) ctx.expect(plannedImageKey(vchId, digest));
    const planned = moved ? { id: digest, digest } : undefined;
    if (!prior) return { problems, planned };
    if (moved && prior.reference === reference) {
      return {
        problems,
        planned,
        forceReplace: [{ path: ['digest'], reason: `reference ${reference} now points at ${digest} (was ${String(prior.digest)}) (forces replacement)` }],
      };
    }
    if (!moved && prior.reference !== reference) {
      return {
        problems,
        equivalent: [{ attribute: 'reference', reason: `reference: ${prior.reference} → ${reference} (the same digest ${digest}: nothing to pull)` }],
      };
    }
    return { problems, planned };
  },

  async create(ctx, config) {
    const marker = await markerOf(ctx, config.vch_id);
    const store = imageStoreOf(ctx.client, marker);
    const build = () =>
      buildImage(
        {
          ...access(config),
          sizeMb: config.size_mb ?? undefined,
          signal: ctx.signal,
          onProgress: (e) => ctx.progress(e.phase, e.current, e.total, e.detail),
        },
        store,
      );
    // An IaC state's reference is marked as the state's, so that docker may not remove it; docker's
    // own pull of a new image needs no mark (an image without a list is docker's to remove).
    const managed = !ctx.forDocker;
    const hold = (got: ImageInfo) =>
      got.reused || managed ? addImageReference(store, got.digest, got.reference, config.reference, managed) : Promise.resolve([]);
    let info = await build();
    // The store had this digest already, under another reference maybe: that one keeps holding it.
    // Its last holder's destroy may have deleted it since (another process): then it is pulled again.
    if (!(await hold(info))) {
      info = await build();
      if (!(await hold(info))) {
        throw new ResourceError(`image ${info.digest} was deleted again by another process while this pull added ${config.reference} to it; apply again`);
      }
    }
    await takeName(ctx, config.vch_id, config.reference, info.digest);
    return stateOf(info, config);
  },

  async update(ctx, prior, config) {
    // Only access settings (credentials, TLS) change in place; the stored image stays as it is.
    const vchId = prior.vch_id;
    const location = storeInState(prior);
    const dc = await datacenterOfPool(ctx, vchId);
    if (!dc) throw new ResourceError(`virtual container host ${vchId} not found; refresh and plan again`);
    const info = await readStoredImage(storeAt(ctx.client, location, dc), String(prior.id));
    if (!info) throw new ResourceError(`image ${String(prior.id)} is no longer in the image store; refresh and plan again to re-create it`);
    // A reference edited into another name for the same digest: the image's holders follow.
    const store = storeAt(ctx.client, location, dc);
    if (prior.reference !== config.reference) await renameImageReference(store, info.digest, info.reference, prior.reference, config.reference);
    // The state holds it under that name: marked so (an image pulled before the marks were kept).
    if (!ctx.forDocker) await addImageReference(store, info.digest, info.reference, config.reference, true);
    return stateOf(info, config);
  },

  async delete(ctx, prior) {
    const vchId = prior.vch_id;
    const location = storeInState(prior);
    // The pool only: its VMs are read under the lock, when the last holder deletes.
    const pool = (await takeSnapshot(ctx.client, [vchId], { vms: false })).pools.get(vchId);
    if (pool?.markerError) throw unreadableMarker(pool);
    // The VCH is gone: its destroy decided what became of its image store.
    if (!pool) return;
    const dc = await datacenterOfPool(ctx, vchId);
    if (!dc) return;
    const store = storeAt(ctx.client, location, dc);
    // Another reference of the same digest (another stack's image, a docker pull of another tag)
    // still holds the disk: only this reference goes, whoever uses the disk.
    const stored = await readStoredImage(store, String(prior.id));
    const deleteIfUnused = async () => {
      // Who uses the image comes from vSphere: the VMs in the pool that name it, read here, under
      // the image's lock, so that a container VM made from it while this delete waited for the lock
      // (up to its 30 s) counts; and the VMs elsewhere whose disks have it as their base (a
      // container VM moved out of the pool).
      const inPool = (await takeSnapshot(ctx.client, [vchId])).vmsInPool(vchId);
      const imageDirectory = datastorePath(location.datastore, `${location.path}/${imageLayout(String(prior.id)).directory}`);
      const elsewhere = pool.marker
        ? await diskUsersOutside(ctx.client, pool.marker.datastore_id, new Set(inPool.map((vm) => vm.moid)), isBelow(imageDirectory))
        : [];
      const inPoolUsers = inPool.filter((vm) => vm.extraConfig.get('vic.image') === prior.id);
      const users = [...inPoolUsers, ...elsewhere];
      // Only containers docker made use it: the image stays for them, docker's from now on, under
      // its digest (`<repository>@sha256:…`, as dockerd leaves an image untagged while a container
      // uses it), and `docker rmi` removes it once they are gone. A state's apply that replaces
      // the image (its tag moved) is not refused midway, after its own containers went. docker's
      // own rmi is refused instead, as dockerd refuses to delete an image a container uses.
      if (!ctx.forDocker && users.length > 0 && elsewhere.length === 0 && inPoolUsers.every((vm) => madeByDocker(vm.extraConfig.get('vic.labels')))) {
        const { registry, repository } = parseImageReference(String(prior.reference));
        return formatImageReference({ registry, repository, digest: String(prior.id) });
      }
      if (users.length > 0) {
        throw new InUseError(
          `image ${String(prior.id)} is in use by ${users.length} container VM(s): ${users.map((v) => `${v.name} (${v.moid})`).join(', ')}. Delete or replace them first (ResourceInUse).`,
        );
      }
      await deleteStoredImage(store, String(prior.id));
      return undefined;
    };
    // The last holder deletes it under the image's lock: no other process adds a holder meanwhile.
    if (stored) await removeImageReference(store, stored.digest, stored.reference, prior.reference, deleteIfUnused);
    else await deleteIfUnused();
  },

  async keptFile(ctx, prior, file) {
    const store = await storeOfImage(ctx, prior);
    const layout = imageLayout(String(prior.id));
    if (file === 'listing') return (await store.readFile(layout.files, MAX_FILE_LISTING_BYTES)) ?? null;
    const config = (await readStoredImage(store, String(prior.id)))?.configDigest;
    return config ? ((await store.readFile(layout.blob(config), MAX_CONFIG_BYTES)) ?? null) : null;
  },

  async load(ctx, vchId, options) {
    const store = imageStoreOf(ctx.client, await markerOf(ctx, vchId));
    const unpacked = join(options.workDir, 'archive');
    await mkdir(unpacked);
    await extractImageArchive(options.archive, unpacked);
    const stored: Array<{ id: string; names: readonly string[] }> = [];
    for (const { image, tags } of await readArchiveImages(unpacked)) {
      const info = await storeLocalImage({ ...image, ...(tags.length > 0 ? { name: tags[0] } : {}), unnamedRepository: 'loaded' }, store, {
        workDir: options.workDir,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        onProgress: (e) => ctx.progress(e.phase, e.current, e.total, e.detail),
      });
      // Its other names hold it too (all of them when the store had it already, under another name maybe).
      for (const tag of info.reused ? tags : tags.slice(1)) {
        if (!(await addImageReference(store, info.digest, info.reference, tag, !ctx.forDocker))) {
          throw new ResourceError(`image ${info.digest} was deleted by another process while docker load named it ${tag}; load again`);
        }
      }
      for (const tag of tags) await takeName(ctx, vchId, tag, info.digest);
      stored.push({ id: info.digest, names: tags });
    }
    const listed = await listImagesIn(ctx, vchId, false);
    return stored.flatMap(({ id, names }) => listed.filter((i) => i.id === id).map((image) => ({ image, names })));
  },

  async push(ctx, prior, options) {
    return pushImage({ ...options, store: await storeOfImage(ctx, prior) });
  },

  async save(ctx, images, out, access, onStarted) {
    const sources = await Promise.all(
      images.map(async ({ prior, names, sources }) => ({
        source: {
          digest: String(prior.id),
          sources,
          insecure: access.insecure,
          store: await storeOfImage(ctx, prior),
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        },
        names,
      })),
    );
    await writeImageArchive(sources, out, onStarted);
  },

  async importState(ctx, id) {
    const match = /^([^/]+)\/(sha256:[0-9a-f]{64})$/.exec(id);
    if (!match) throw new ResourceError(`cannot import image "${id}": use <vch_id>/<digest>, e.g. resgroup-42/sha256:…`);
    const [, vchId, digest] = match;
    // The one place the marker locates an image already made: the user asked for this VCH's image,
    // and what is found becomes disk_path, which every later read and delete follows. The store must
    // say it is this VCH's: an image taken from another VCH's store would later be deleted from
    // under that VCH's container VMs, which this pool's users check cannot see.
    const marker = await markerOf(ctx, vchId);
    const dc = await datacenterAbove(ctx.client, moRef('ResourcePool', vchId));
    const ds = await inventory(ctx).datastore(dc, marker.datastore);
    const where = datastorePath(ds.name, marker.image_store_path);
    const store = await inspectStore(ctx.client, { datacenter: dc.name, datacenterRef: dc.ref, datastore: ds, path: marker.image_store_path });
    if (store.kind === 'marked' && !(typeof store.owner === 'object' && store.owner.vch === vchId)) {
      const owner = typeof store.owner === 'object' ? `says it belongs to virtual container host ${store.owner.vch}` : 'cannot be read';
      throw new ResourceError(
        `cannot import image ${digest} into virtual container host ${vchId}: the pool's "${VCH_MARKER_FIELD}" marker names the image store ${where}, whose ${STORE_MARKER_FILE} ${owner}. ` +
          `vic-iac imports an image only from its own VCH's store. Restore image_store_path in the pool's marker (vSphere Client: the pool's Custom Attributes)${typeof store.owner === 'object' ? `, or import ${store.owner.vch}/${digest} instead` : ''}.`,
      );
    }
    const info = await readStoredImage(storeAt(ctx.client, { datastore: ds.name, path: marker.image_store_path }, { ref: dc.ref, path: dc.name }), digest);
    if (!info) throw new ResourceError(`image ${digest} is not (completely) in the image store ${where} of VCH ${vchId}`);
    if (!storeOfImageDisk(info.diskPath, digest)) {
      throw new ResourceError(
        `cannot import image ${digest}: the image store ${where} named by the pool's "${VCH_MARKER_FIELD}" marker is not a directory inside the datastore; restore image_store_path in the marker`,
      );
    }
    return stateOf(info, { vch_id: vchId, reference: `${info.reference.replace(/@sha256:[0-9a-f]{64}$/, '')}@${digest}`, platform: info.platform });
  },

  listIn: listImagesIn,

  async commit(ctx, vchId, options) {
    const store = imageStoreOf(ctx.client, await markerOf(ctx, vchId));
    const info = await commitImage(
      { ...options, ...(ctx.signal ? { signal: ctx.signal } : {}), onProgress: (e) => ctx.progress(e.phase, e.current, e.total, e.detail) },
      store,
    );
    // The same files and config, committed within the same second: the image is there already, maybe under another name.
    if (info.reused && options.name && !(await addImageReference(store, info.digest, info.reference, options.name, !ctx.forDocker))) {
      throw new ResourceError(`image ${info.digest} was deleted by another process while this commit named it ${options.name}; commit again`);
    }
    if (options.name) await takeName(ctx, vchId, options.name, info.digest);
    return (await listImagesIn(ctx, vchId, false)).find((i) => i.id === info.digest) ?? stateOf(info, { vch_id: vchId, reference: info.reference });
  },

  async addName(ctx, prior, name) {
    const vchId = prior.vch_id;
    let pinned: string | undefined;
    try {
      pinned = pinnedDigest(name);
    } catch (err) {
      throw new ResourceError(`cannot name image ${String(prior.id)} ${JSON.stringify(name)}: ${(err as Error).message}`);
    }
    if (pinned) {
      throw new ResourceError(
        `cannot name image ${String(prior.id)} ${name}: a name with a digest names one image already; give a repository and tag, e.g. ${name.replace(/@.*$/, '')}:mine`,
      );
    }
    const marker = await markerOf(ctx, vchId);
    const store = imageStoreOf(ctx.client, marker);
    const info = await readStoredImage(store, String(prior.id));
    if (!info || !(await addImageReference(store, info.digest, info.reference, name, !ctx.forDocker))) {
      throw new ResourceError(`image ${String(prior.id)} is no longer in the image store of VCH ${vchId} (removed meanwhile): pull it again`);
    }
    await takeName(ctx, vchId, name, info.digest);
    return stateOf(info, { ...prior, reference: name });
  },

  async lookup(ctx, config) {
    const vchId = String(config.vch_id);
    const marker = await markerOf(ctx, vchId);
    const store = imageStoreOf(ctx.client, marker);
    const reference = String(config.reference);
    const where = `the image store [${marker.datastore}] ${marker.image_store_path} of VCH ${vchId}`;
    const pinned = pinnedDigest(reference);
    if (pinned) {
      const info = await readStoredImage(store, pinned);
      if (!info) throw new ResourceError(`image ${reference} is not in ${where}; create it with a vic_image resource`);
      return stateOf(info, { vch_id: vchId, reference });
    }
    // By the names the store holds (as pulled, or tagged since): the registry is not asked, so a
    // private, plain-HTTP or unreachable one does not matter, and the data source needs none of
    // the pull settings (it has none to set).
    const images = await listImagesIn(ctx, vchId);
    const named = images.find((i) => Array.isArray(i.references) && i.references.some((r) => typeof r === 'string' && sameReference(r, reference)));
    let digest = typeof named?.id === 'string' ? named.id : undefined;
    let asked = '';
    if (!digest) {
      // Another tag of a stored image (pulled as busybox:1.36, looked up as busybox:latest): what the registry says it names.
      try {
        digest = (await resolveReference(access({ reference }))).digest;
      } catch (err) {
        if (!ImageError.isImageError(err)) throw err;
        asked = `, and the registry could not say which image it names (${err.message.replace(/; (if it serves plain HTTP, )?set insecure_registry.*$/, '')})`;
      }
    }
    const info = digest ? await readStoredImage(store, digest) : undefined;
    if (!info) {
      const names = images.flatMap((i) => (Array.isArray(i.references) ? i.references.map(String) : []));
      throw new ResourceError(
        `no image named ${reference} in ${where}${digest ? ` (it names ${digest}, which the store does not hold)` : asked}. ` +
          `Names it holds: ${names.length > 0 ? names.join(', ') : 'none'}. Pull it with a vic_image resource (which takes the registry's settings), or look it up by digest (name@sha256:…).`,
      );
    }
    return stateOf(info, { vch_id: vchId, reference });
  },
};
