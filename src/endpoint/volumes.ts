/**
 * Docker's volumes over the engine's volume resource: `docker volume create/ls/inspect/rm` and the
 * `-v NAME:/path[:ro]` of `docker create` and `run`. Volumes are listed from the VCH's store on every
 * call (one listing), so an endpoint restarted, and volumes made by Terraform, Pulumi or vic, show
 * the same. What only Docker knows about a volume (that docker made it, and when) is in its labels.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine } from '../engine';
import { formatPath, volume, type Attrs, type Problem } from '../resources';
import { ApiError, badRequest, compareVersions, conflict, notFound, notSupported, parseFilters, queryFlag, readJsonBody, sendJson } from './protocol';
import { LABEL, OWN_LABEL_PREFIX, containerId, labelsOf } from './containers';
import type { EventLog } from './events';
import { labelMatches, prunable } from './listing-filters';
import { OneAtATime } from './one-at-a-time';

/** Docker's words for the volume attributes, so a refused input names what the user typed. */
const FLAG_OF: Record<string, string> = { name: 'the volume name', size_mb: '-o size', labels: '--label' };

/**
 * The plan's errors in docker's words. `typed` holds what the user typed for an attribute (e.g.
 * `-o Capacity=0 (0 MB)` for size_mb): it stands in for the detail's leading `attr = value`.
 */
function problemsText(problems: readonly Problem[], typed: Readonly<Record<string, string>> = {}): string {
  return problems
    .filter((p) => (p.severity ?? 'error') === 'error')
    .map((p) => {
      const attr = String(p.path[0] ?? '');
      const said = p.path.length === 1 ? typed[attr] : undefined;
      const lead = said === undefined ? undefined : new RegExp(`^${attr} = (?:"(?:[^"\\\\]|\\\\.)*"|\\S+)`).exec(p.detail);
      if (said !== undefined && lead) return `${said}${p.detail.slice(lead[0].length)}`;
      return `${FLAG_OF[attr] ?? formatPath(p.path)}: ${p.detail}`;
    })
    .join('; ');
}

const SUPPORTED_FILTERS = ['name', 'label', 'dangling', 'driver'];

/** The one driver option: the disk size, in MB unless a unit says otherwise (`512`, `512MB`, `2GB`). */
const SIZE_OPTIONS = ['size', 'capacity'];
const UNIT_MB: Record<string, number> = { '': 1, M: 1, MB: 1, MIB: 1, G: 1024, GB: 1024, GIB: 1024, T: 1024 * 1024, TB: 1024 * 1024, TIB: 1024 * 1024 };

export function parseSizeOption(key: string, text: string): number {
  const m = /^\s*(\d+)\s*([A-Za-z]*)\s*$/.exec(text);
  const factor = m ? UNIT_MB[m[2].toUpperCase()] : undefined;
  if (!m || factor === undefined) {
    throw badRequest(
      `-o ${key}=${text}: not a size. Allowed: a whole number of MB, GB or TB, e.g. -o ${key}=512MB or -o ${key}=2GB (a bare number is MB; the default is ${volume.schema.size_mb.default} MB)`,
    );
  }
  const mb = Number(m[1]) * factor;
  // Past what a double holds exactly, the number would show rounded (9223372036854776000 MB).
  if (!Number.isSafeInteger(mb)) throw badRequest(`-o ${key}=${text} is above the maximum of ${MAX_VOLUME_MB} MB (2 TB)`);
  return mb;
}

/** The volume resource's largest size_mb. */
const MAX_VOLUME_MB = 2097152;

/** The driver docker is told of: a volume is a VMDK on a vSphere datastore. */
const VOLUME_DRIVER = 'vsphere';

/** The docker volume name of a volume_id (`[ds] store/volumes/<name>/<name>.vmdk`). */
function nameOfId(id: string): string {
  return /\/volumes\/([^/]+)\/[^/]+\.vmdk$/.exec(id)?.[1] ?? id;
}

/** Whether the volume has every label filter given (`key` or `key=value`). */
function hasLabels(v: Attrs, wanted: readonly string[]): boolean {
  return wanted.every((l) => labelMatches(labelsOf(v), [l]));
}

/** A volume made with docker (not by a Terraform, Pulumi or vic state). */
function madeByDocker(v: Attrs): boolean {
  return labelsOf(v)[LABEL.origin] === 'docker';
}

/** The `Mounts` of a container's inspect document and `ps` row. */
export function mountsOf(vm: Attrs): Array<Record<string, unknown>> {
  const mounts = Array.isArray(vm.volumes) ? (vm.volumes as Attrs[]) : [];
  return mounts.map((m) => ({
    Type: 'volume',
    Name: nameOfId(String(m.volume_id)),
    Source: String(m.volume_id),
    Destination: String(m.path),
    Driver: VOLUME_DRIVER,
    Mode: m.read_only ? 'ro' : '',
    RW: !m.read_only,
    Propagation: '',
  }));
}

/**
 * The options a volume shows: for one docker made, those its create gave, as given (null for none),
 * as dockerd shows them; the Terraform docker provider reads them back as its `driver_opts`, which a
 * change of replaces the volume. A volume an IaC state (or an older release) made shows its size.
 */
function volumeOptions(v: Attrs): Record<string, string> | null {
  const given = labelsOf(v)[LABEL.volumeOptions];
  if (given !== undefined) {
    try {
      const options = JSON.parse(given) as Record<string, string>;
      return Object.keys(options).length > 0 ? options : null;
    } catch {
      // A marker edited by hand: its size, as for a volume made otherwise.
    }
  }
  return { size: `${String(v.size_mb)}MB` };
}

/** One volume as the API shows it: its labels are its users', not the endpoint's own (`vic-iac.*`). */
function volumeDoc(v: Attrs): Record<string, unknown> {
  const labels = labelsOf(v);
  return {
    Name: String(v.name),
    Driver: VOLUME_DRIVER,
    Mountpoint: String(v.id),
    CreatedAt: labels[LABEL.created] ?? '',
    Labels: Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith(OWN_LABEL_PREFIX))),
    Scope: 'local',
    Options: volumeOptions(v),
    Status: { datastore: String(v.datastore), size_mb: Number(v.size_mb) },
  };
}

/**
 * dockerd's label of an anonymous volume (`-v /path`, a `--mount` without a source, an image's
 * VOLUME): the volumes that `docker rm -v`, `docker run --rm` and `docker volume prune` remove.
 */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** A volume docker made for one container (dockerd's anonymous volume). */
function anonymousVolume(v: Attrs): boolean {
  return madeByDocker(v) && ANONYMOUS_LABEL in labelsOf(v);
}

/** A `-v` of docker create: a volume mounted at a path, named, or anonymous (`name` null: made for the container). */
export interface VolumeBind {
  readonly name: string | null;
  readonly path: string;
  readonly readOnly: boolean;
}

/** A `--mount` of a create body (HostConfig.Mounts), as the CLI, the SDKs and compose send it. */
export interface MountSpec {
  readonly Type?: string;
  readonly Source?: string;
  readonly Target?: string;
  readonly ReadOnly?: boolean;
}

/** Modes of `-v name:path:mode` besides ro/rw that mean nothing for a VMDK volume: no content to copy, no SELinux label, no propagation. */
const IGNORED_MODES = new Set(['nocopy', 'z', 'Z']);

/**
 * The volumes of a create body: `-v` (Binds), `--mount type=volume` (Mounts, which docker-py's
 * `mounts=` and compose send) and the container paths of Config.Volumes. A path in Config.Volumes
 * that a bind or mount covers is that volume's target (docker-py lists every target there); one
 * that none covers (`-v /path`) is an anonymous volume, made for the container as dockerd makes
 * it. A host path is a bind mount, which needs a host: refused with what to do instead.
 */
export function parseBinds(
  binds: readonly string[] | null | undefined,
  anonymous: Record<string, unknown> | null | undefined,
  mounts?: readonly MountSpec[] | null,
): VolumeBind[] {
  const named = (binds ?? []).map((spec): VolumeBind => {
    const parts = spec.split(':');
    if (parts.length < 2 || parts.length > 3) throw badRequest(`-v ${spec}: expected <volume name>:<path>[:ro|rw]`);
    const [source, path, mode = 'rw'] = parts;
    if (source.startsWith('/') || source.startsWith('.') || source.startsWith('~')) {
      throw badRequest(`-v ${spec}: bind mounts are not supported by vic-iac: bind mounts need a host; use a named volume (-v <name>:${path})`);
    }
    const modes = mode.split(',').filter((m) => !IGNORED_MODES.has(m));
    if (modes.length > 1 || (modes.length === 1 && modes[0] !== 'ro' && modes[0] !== 'rw')) {
      throw badRequest(`-v ${spec}: mode "${mode}" is not supported; allowed: ro, rw (and nocopy, z, Z, which change nothing for a volume)`);
    }
    return { name: source, path, readOnly: modes[0] === 'ro' };
  });
  for (const m of mounts ?? []) named.push(mountBind(m));
  const covered = new Set(named.map((b) => b.path));
  for (const path of Object.keys(anonymous ?? {})) {
    if (covered.has(path)) continue;
    if (!path.startsWith('/')) throw badRequest(`-v ${path}: the path must be absolute in the container, e.g. -v /data`);
    named.push({ name: null, path, readOnly: false });
    covered.add(path);
  }
  return named;
}

/** The paths of an image's VOLUMEs that no mount of the create covers: dockerd makes an anonymous volume at each. */
export function uncoveredImageVolumes(imageVolumes: readonly string[], binds: readonly VolumeBind[]): VolumeBind[] {
  const covered = new Set(binds.map((b) => b.path.replace(/\/+$/, '') || '/'));
  return imageVolumes.filter((path) => !covered.has(path.replace(/\/+$/, '') || '/')).map((path) => ({ name: null, path, readOnly: false }));
}

/** A `--mount`: a named volume is mounted as `-v` mounts it; the other types need a host or its kernel. */
function mountBind(m: MountSpec): VolumeBind {
  const type = m.Type ?? 'volume';
  const target = m.Target ?? '';
  const said = `--mount type=${type}${m.Source ? `,source=${m.Source}` : ''},target=${target}`;
  if (type === 'bind') {
    throw badRequest(
      `${said}: bind mounts are not supported by vic-iac: bind mounts need a host; use a named volume (--mount type=volume,source=<name>,target=${target})`,
    );
  }
  if (type !== 'volume') {
    throw badRequest(`${said}: mounts of type ${type} are not supported by vic-iac; mount a named volume (--mount type=volume,source=<name>,target=${target})`);
  }
  if (!target.startsWith('/')) throw badRequest(`${said}: the target must be an absolute path in the container, e.g. target=/data`);
  // No source: an anonymous volume, made for the container.
  return { name: m.Source || null, path: target, readOnly: m.ReadOnly === true };
}

export class DockerVolumes {
  /** The creates of each name in this endpoint, one after another (oneCreateAtATime). */
  private readonly creating = new OneAtATime();

  constructor(
    private readonly vchId: () => string,
    /** The VCH's containers as vSphere has them now. */
    private readonly containers: (engine: Engine) => Promise<Attrs[]>,
    /** Where `docker events` hears of the volumes made and removed. */
    private readonly events: Pick<EventLog, 'emit'>,
  ) {}

  /**
   * Runs `step` once the creates of volume `name` this endpoint started before it are done, with
   * the volume as vSphere has it then (a new command's listing): two clients creating one name at
   * once (two `docker volume create`, two `docker run -v shared:/data`) see one volume made, and
   * the second gets it, or docker's 409, instead of taking the first one's over. Creates in other
   * processes are refused by the volume's own create (its directory lease).
   */
  private oneCreateAtATime<T>(engine: Engine, name: string, step: (there: Attrs | undefined) => Promise<T>): Promise<T> {
    return this.creating.run(name, async () => step((await this.list(engine.forCommand())).find((v) => v.name === name)));
  }

  list(engine: Engine): Promise<Attrs[]> {
    return engine.listIn('volume', this.vchId());
  }

  /** Serves `/volumes…`; `version` is the API version the client asked for (none: the newest). */
  async route(
    engine: Engine,
    method: string,
    seg: readonly string[],
    query: URLSearchParams,
    req: IncomingMessage,
    res: ServerResponse,
    version?: string,
  ): Promise<void> {
    if (seg.length === 1 && method === 'GET') return sendJson(res, 200, await this.ls(engine, query));
    if (seg.length === 2 && seg[1] === 'create' && method === 'POST') return this.createRequest(engine, req, res);
    if (seg.length === 2 && seg[1] === 'prune' && method === 'POST') return sendJson(res, 200, await this.prune(engine, query, version));
    if (seg.length === 2 && method === 'GET') return sendJson(res, 200, volumeDoc(await this.find(engine, seg[1])));
    if (seg.length === 2 && method === 'DELETE') return this.rm(engine, seg[1], queryFlag(query, 'force'), res);
    throw notSupported(`${method} /${seg.join('/')}`, 'docker volume create, ls, inspect and rm are served');
  }

  /**
   * The volumes as `docker system df` shows them: each with how many containers mount it, and its
   * capacity as its size (what its files take is not read: its ext4 is on the datastore).
   */
  async usage(engine: Engine): Promise<Record<string, unknown>[]> {
    const [volumes, vms] = await Promise.all([this.list(engine), this.containers(engine)]);
    return volumes.map((v) => ({
      ...volumeDoc(v),
      UsageData: {
        Size: Number(v.size_mb ?? 0) * 1024 * 1024,
        RefCount: vms.filter((vm) => mountsOf(vm).some((m) => String(m.Source) === String(v.id))).length,
      },
    }));
  }

  private async find(engine: Engine, name: string): Promise<Attrs> {
    const found = (await this.list(engine)).find((v) => v.name === name);
    if (!found) throw notFound(`get ${name}: no such volume`);
    return found;
  }

  private async ls(engine: Engine, query: URLSearchParams): Promise<Record<string, unknown>> {
    const filters = parseFilters(query.get('filters'));
    for (const key of filters.keys()) {
      if (!SUPPORTED_FILTERS.includes(key)) throw badRequest(`invalid filter '${key}': vic-iac filters volumes by ${SUPPORTED_FILTERS.join(', ')}`);
    }
    const needUsers = filters.has('dangling');
    const [volumes, vms] = await Promise.all([this.list(engine), needUsers ? this.containers(engine) : Promise.resolve([])]);
    const used = new Set(vms.flatMap((vm) => mountsOf(vm).map((m) => String(m.Source))));
    const shown = volumes.filter((v) =>
      [...filters].every(([k, values]) => {
        if (values.length === 0) return true;
        if (k === 'name') return values.some((n) => String(v.name).includes(n));
        // The CLI's default driver is local, which the endpoint takes as vsphere at create.
        if (k === 'driver') return values.some((d) => d === VOLUME_DRIVER || d === 'local');
        if (k === 'label') return hasLabels(v, values);
        const dangling = !used.has(String(v.id));
        return values.some((d) => (d === 'true' || d === '1') === dangling);
      }),
    );
    return { Volumes: shown.map(volumeDoc), Warnings: [] };
  }

  private async createRequest(engine: Engine, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body =
      (await readJsonBody<{ Name?: string; Driver?: string; DriverOpts?: Record<string, string> | null; Labels?: Record<string, string> | null }>(req)) ?? {};
    const driver = body.Driver ?? '';
    if (driver !== '' && driver !== 'local' && driver !== VOLUME_DRIVER) {
      // dockerd's words for a driver it does not have, then what to use.
      throw badRequest(
        `--driver ${driver}: error looking up volume plugin ${driver}: plugin not found; vic-iac volumes are VMDKs in the VCH's store: use the default driver (local) or vsphere`,
      );
    }
    let sizeMb: number | undefined;
    const typed: Record<string, string> = {};
    for (const [key, value] of Object.entries(body.DriverOpts ?? {})) {
      if (!SIZE_OPTIONS.includes(key.toLowerCase())) {
        throw badRequest(`-o ${key}=${value}: ${key} is not a supported option; allowed: size (or capacity), e.g. -o size=512MB`);
      }
      sizeMb = parseSizeOption(key, value);
      typed.size_mb = `-o ${key}=${value} (${sizeMb} MB)`;
    }
    const name = body.Name || randomName();
    typed.name = `create ${name}: ${JSON.stringify(name)}`;
    // As VIC did (dockerd would hand back the existing one): a second create under the same name is
    // more likely a mistake than a wish to share, and the volume may be an IaC state's.
    const made = await this.oneCreateAtATime(engine, name, (there) => {
      if (there) throw conflict(`A volume named ${name} already exists. Choose a different volume name.`);
      return this.create(engine, name, { sizeMb, labels: body.Labels ?? {}, options: body.DriverOpts ?? {}, typed });
    });
    sendJson(res, 201, volumeDoc(made));
  }

  /**
   * Makes a volume through a volume plan, labelled as docker's, with the options its create gave
   * (`options`, as given: what inspect shows); `typed` words its errors (problemsText).
   */
  async create(
    engine: Engine,
    name: string,
    o: { sizeMb?: number; labels?: Record<string, string>; options?: Record<string, string>; typed?: Readonly<Record<string, string>> } = {},
  ): Promise<Attrs> {
    const plan = await engine.plan('volume', null, {
      vch_id: this.vchId(),
      name,
      ...(o.sizeMb !== undefined ? { size_mb: o.sizeMb } : {}),
      labels: {
        ...(o.labels ?? {}),
        [LABEL.origin]: 'docker',
        [LABEL.created]: new Date().toISOString(),
        [LABEL.volumeOptions]: JSON.stringify(o.options ?? {}),
      },
    });
    const text = problemsText(plan.problems, o.typed);
    if (text) throw badRequest(text);
    const made = (await engine.apply(plan)) as Attrs;
    this.events.emit(volumeEvent('create', made));
    return made;
  }

  /** rm -f does not force a volume in use, as in Docker: it only makes an unknown name no error. */
  private async rm(engine: Engine, name: string, force: boolean, res: ServerResponse): Promise<void> {
    const [volumes, vms] = await Promise.all([this.list(engine), this.containers(engine)]);
    const v = volumes.find((x) => x.name === name);
    if (!v) {
      if (!force) throw notFound(`get ${name}: no such volume`);
      res.writeHead(204);
      return void res.end();
    }
    if (!madeByDocker(v)) {
      throw conflict(
        `remove ${name}: volume "${name}" is managed by infrastructure as code (a Terraform, Pulumi or vic state made it, not docker): remove it from that configuration and apply`,
      );
    }
    const users = vms.filter((vm) => mountsOf(vm).some((m) => m.Source === v.id));
    if (users.length > 0) {
      throw conflict(
        `remove ${name}: volume is in use - [${users.map(containerId).join(', ')}] (containers ${users.map((u) => String(u.name)).join(', ')}); remove those containers first`,
      );
    }
    await this.destroy(engine, v);
    res.writeHead(204);
    res.end();
  }

  async destroy(engine: Engine, v: Attrs): Promise<void> {
    const plan = await engine.plan('volume', v, null);
    const text = problemsText(plan.problems);
    if (text) throw badRequest(`cannot remove volume ${String(v.name)}: ${text}`);
    try {
      await engine.apply(plan);
    } catch (err) {
      // The resource refuses a volume attached to a VM (one that another endpoint just started, say).
      if (err instanceof Error && !(err instanceof ApiError) && /is attached to/.test(err.message)) throw conflict(`remove ${String(v.name)}: ${err.message}`);
      throw err;
    }
    this.events.emit(volumeEvent('destroy', v));
  }

  /**
   * The container_vm `volumes` of a create's `-v` list: unknown names are made first (the default
   * size), as dockerd does for named volumes. Returns the mounts and the volumes made, which the
   * caller removes if the container is refused after all.
   */
  async mountsFor(engine: Engine, binds: readonly VolumeBind[]): Promise<{ volumes: Attrs[]; made: Attrs[] }> {
    if (binds.length === 0) return { volumes: [], made: [] };
    const known = binds.some((b) => b.name !== null) ? await this.list(engine) : [];
    const made: Attrs[] = [];
    const volumes: Attrs[] = [];
    try {
      for (const b of binds) {
        if (b.name === null) {
          // An anonymous volume: a new name, so nobody else makes it meanwhile.
          const anon = await this.create(engine, randomName(), { labels: { [ANONYMOUS_LABEL]: '' } });
          made.push(anon);
          volumes.push({ volume_id: String(anon.id), path: b.path, read_only: b.readOnly });
          continue;
        }
        const name = b.name;
        let v = known.find((x) => x.name === name) ?? made.find((x) => x.name === name);
        if (!v) {
          // Made here unless another request made it meanwhile: then it is used, and never undone.
          const got = await this.oneCreateAtATime(engine, name, async (there) =>
            there ? { v: there, mine: false } : { v: await this.create(engine, name), mine: true },
          );
          v = got.v;
          if (got.mine) made.push(got.v);
        }
        volumes.push({ volume_id: String(v.id), path: b.path, read_only: b.readOnly });
      }
    } catch (err) {
      await this.undo(engine, made);
      throw err;
    }
    return { volumes, made };
  }

  /**
   * `docker rm -v` and the removal of a `--rm` container: the anonymous volumes the container
   * mounted, unless another container mounts them too (compose hands a recreated service's
   * anonymous volumes on to its new container), as dockerd does. A volume that cannot be removed
   * is kept and reported through `warn`, as dockerd only warns: the container is gone either way.
   */
  async removeAnonymous(engine: Engine, vm: Attrs, warn: (text: string) => void): Promise<void> {
    const ids = new Set(mountsOf(vm).map((m) => String(m.Source)));
    if (ids.size === 0) return;
    const [volumes, vms] = await Promise.all([this.list(engine), this.containers(engine)]);
    const others = new Set(vms.filter((o) => containerId(o) !== containerId(vm)).flatMap((o) => mountsOf(o).map((m) => String(m.Source))));
    for (const v of volumes.filter((x) => ids.has(String(x.id)) && anonymousVolume(x))) {
      if (others.has(String(v.id))) continue;
      await this.destroy(engine, v).catch((err: unknown) => warn(`volume ${String(v.name)} of container ${String(vm.name)} kept: ${(err as Error).message}`));
    }
  }

  /**
   * `docker volume prune`: the volumes docker made that no container mounts; only anonymous ones
   * unless `--all` (API 1.42 and later, as dockerd; an older client's prune takes all of them).
   * A volume an IaC state made is never pruned, and neither is one a VM outside the VCH's pool
   * still has attached (its destroy refuses it). vic-iac does not know how much of a volume's disk
   * is used, so SpaceReclaimed is 0.
   */
  private async prune(engine: Engine, query: URLSearchParams, version: string | undefined): Promise<Record<string, unknown>> {
    const filters = parseFilters(query.get('filters'));
    for (const key of filters.keys()) {
      if (key !== 'all' && key !== 'label' && key !== 'label!') throw badRequest(`invalid filter '${key}': vic-iac prunes volumes by all, label and label!`);
    }
    const allAsked = (filters.get('all') ?? []).some((a) => a === 'true' || a === '1');
    const all = allAsked || (version !== undefined && compareVersions(version, '1.42') < 0);
    const [volumes, vms] = await Promise.all([this.list(engine), this.containers(engine)]);
    const used = new Set(vms.flatMap((vm) => mountsOf(vm).map((m) => String(m.Source))));
    const deleted: string[] = [];
    for (const v of volumes) {
      if (!madeByDocker(v) || used.has(String(v.id)) || (!all && !anonymousVolume(v)) || !prunable(labelsOf(v), filters)) continue;
      const gone = await this.destroy(engine, v).then(
        () => true,
        () => false,
      );
      if (gone) deleted.push(String(v.name));
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: 0 };
  }

  /** Removes the volumes a refused create made, so nothing is left half-applied. */
  async undo(engine: Engine, made: readonly Attrs[]): Promise<void> {
    for (const v of made) await this.destroy(engine, v).catch(() => undefined);
  }
}

/** A volume's event as dockerd words it: by name, with its driver. */
function volumeEvent(action: 'create' | 'destroy', v: Attrs): Parameters<EventLog['emit']>[0] {
  return { Type: 'volume', Action: action, Actor: { ID: String(v.name), Attributes: { driver: VOLUME_DRIVER } } };
}

/**
 * The volume events of a container's start (`mount`, before its `start`) and end (`unmount`, after
 * its `die`), one per volume it mounts, as dockerd sends them.
 */
export function mountEvents(action: 'mount' | 'unmount', vm: Attrs): Array<Parameters<EventLog['emit']>[0]> {
  return mountsOf(vm).map((m) => ({
    Type: 'volume',
    Action: action,
    Actor: {
      ID: String(m.Name),
      Attributes: {
        container: containerId(vm),
        driver: VOLUME_DRIVER,
        ...(action === 'mount' ? { destination: String(m.Destination), propagation: '', 'read/write': String(m.RW) } : {}),
      },
    },
  }));
}

/** A volume's name as dockerd makes them when none is given: 64 hex digits. */
function randomName(): string {
  return randomBytes(32).toString('hex');
}
