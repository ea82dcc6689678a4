/**
 * image against vSphere: the pipeline (src/images) pulls, flattens and uploads into the VCH's image
 * store on its datastore. Content-addressed: a digest already complete in the store is reused.
 * A tag is resolved at plan time; when it moved, the plan replaces the image.
 */
import { ImageError, buildImage, deleteStoredImage, parseImageReference, readStoredImage, resolveReference, type ImageInfo, type RegistryAccessOptions } from '../images';
import { ResourceError } from './errors';
import { image } from './image';
import type { Lifecycle, LifecycleContext, PlanCheck } from './lifecycle';
import type { Attrs, Problem } from './schema';
import { VchMarker, imageStoreOf, readVchMarker, takeSnapshot, unreadableMarker } from './snapshot';

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

/** A registry failure as a plan-time problem on the attribute the user can fix. */
function registryProblem(err: ImageError): Problem {
  const path = err.code === 'RegistryAuth' ? ['registry_auth'] : err.code === 'PlatformNotFound' ? ['platform'] : ['reference'];
  return { path, severity: 'error', summary: 'Image reference cannot be resolved', detail: err.message };
}

function pinnedDigest(reference: string): string | undefined {
  return parseImageReference(reference).digest;
}

export const imageLifecycle: Lifecycle = {
  declaration: image,

  poolsOf: (state) => (typeof state.vch_id === 'string' && state.vch_id ? [state.vch_id] : []),
  readsVms: false,

  async read(ctx, snapshot, prior) {
    const pool = snapshot.pools.get(String(prior.vch_id));
    if (pool?.markerError) throw unreadableMarker(pool);
    const marker = pool?.marker;
    if (!marker) return null;
    const info = await readStoredImage(imageStoreOf(ctx.client, marker), String(prior.id));
    return info ? stateOf(info, prior) : null;
  },

  async check(ctx, config, prior): Promise<PlanCheck> {
    const problems: Problem[] = [];
    if (!(await readVchMarker(ctx.client, String(config.vch_id)))) {
      problems.push({ path: ['vch_id'], severity: 'error', summary: 'Virtual container host not found', detail: `virtual container host ${String(config.vch_id)} not found (or not managed by vic-iac). Use the id of a vic_virtual_container_host.` });
    }
    const reference = String(config.reference);
    const pinned = pinnedDigest(reference);
    // A digest reference never changes; a tag is looked up again at every plan.
    if (pinned && prior?.reference === reference) return { problems };
    try {
      const resolved = await resolveReference(access(config));
      if (prior && prior.reference === reference && prior.digest !== resolved.digest) {
        return { problems, forceReplace: [{ path: ['reference'], reason: `reference ${reference} now points at ${resolved.digest} (was ${String(prior.digest)}) (forces replacement)` }] };
      }
    } catch (err) {
      if (!ImageError.isImageError(err)) throw err;
      problems.push(registryProblem(err));
    }
    return { problems };
  },

  async create(ctx, config) {
    const marker = await markerOf(ctx, String(config.vch_id));
    const store = imageStoreOf(ctx.client, marker);
    const info = await buildImage(
      {
        ...access(config),
        sizeMb: (config.size_mb as number | null) ?? undefined,
        signal: ctx.signal,
        onProgress: (e) => ctx.progress(e.phase, e.current, e.total, e.detail),
      },
      store,
    );
    return stateOf(info, config);
  },

  async update(ctx, prior, config) {
    // Only access settings (credentials, TLS) change in place; the stored image stays as it is.
    const marker = await markerOf(ctx, String(prior.vch_id));
    const info = await readStoredImage(imageStoreOf(ctx.client, marker), String(prior.id));
    if (!info) throw new ResourceError(`image ${String(prior.id)} is no longer in the image store; refresh and plan again to re-create it`);
    return stateOf(info, config);
  },

  async delete(ctx, prior) {
    const vchId = String(prior.vch_id);
    const snap = await takeSnapshot(ctx.client, [vchId]);
    const pool = snap.pools.get(vchId);
    if (pool?.markerError) throw unreadableMarker(pool);
    const marker = pool?.marker;
    if (!marker) return;
    const users = snap.vmsInPool(vchId).filter((vm) => vm.extraConfig.get('vic.image') === prior.id);
    if (users.length > 0) {
      throw new ResourceError(
        `image ${String(prior.id)} is in use by ${users.length} container VM(s): ${users.map((v) => `${v.name} (${v.moid})`).join(', ')}. Delete or replace them first (ResourceInUse).`,
      );
    }
    await deleteStoredImage(imageStoreOf(ctx.client, marker), String(prior.id));
  },

  async importState(ctx, id) {
    const match = /^([^/]+)\/(sha256:[0-9a-f]{64})$/.exec(id);
    if (!match) throw new ResourceError(`cannot import image "${id}": use <vch_id>/<digest>, e.g. resgroup-42/sha256:…`);
    const [, vchId, digest] = match;
    const marker = await markerOf(ctx, vchId);
    const info = await readStoredImage(imageStoreOf(ctx.client, marker), digest);
    if (!info) throw new ResourceError(`image ${digest} is not (completely) in the image store of VCH ${vchId}`);
    return stateOf(info, { vch_id: vchId, reference: `${info.reference.replace(/@sha256:[0-9a-f]{64}$/, '')}@${digest}`, platform: info.platform });
  },

  async lookup(ctx, config) {
    const vchId = String(config.vch_id);
    const marker = await markerOf(ctx, vchId);
    const reference = String(config.reference);
    const digest = pinnedDigest(reference) ?? (await resolveReference(access(config))).digest;
    const info = await readStoredImage(imageStoreOf(ctx.client, marker), digest);
    if (!info) throw new ResourceError(`image ${reference} (${digest}) is not in the image store of VCH ${vchId}; create it with a vic_image resource`);
    return stateOf(info, { vch_id: vchId, reference });
  },
};
