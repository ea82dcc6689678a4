/**
 * The Docker Engine API for one VCH: a front end over the shared engine, like the Terraform
 * provider. Every container is a container_vm and every image an image resource of that VCH, made,
 * changed and deleted through engine plans, so docker's containers are the same VMs as IaC's. The
 * endpoint keeps nothing vSphere cannot rebuild: containers are read from vSphere on every call
 * (listed, or looked up by name or id when the request names one), and what only Docker knows (the
 * image name typed, --rm) is in the VM's labels.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import {
  HandedOn,
  InUseError,
  InputUnreachableError,
  NotRunningError,
  ResourceError,
  VchGoneError,
  type CommitImageOptions,
  type LoadedImage,
  type Engine,
  type ExecRequest,
  type ProgressEvent,
  type PushEvent,
} from '../engine';
import {
  OutputLineReader,
  canonicalReference,
  containerVm,
  formatPath,
  heldByState,
  parseImageReference,
  processOf,
  type Attrs,
  type ImageProcessConfig,
  type OutputLine,
  type Problem,
} from '../resources';
import {
  API_VERSION,
  ApiError,
  MIN_API_VERSION,
  STREAM,
  badRequest,
  conflict,
  frame,
  notFound,
  notSupported,
  parseApiPath,
  parseFilters,
  queryFlag,
  readJsonBody,
  sendError,
  sendJson,
  unixSeconds,
} from './protocol';
import {
  LABEL,
  SUPPORTED_PS_FILTERS,
  DOCKER_STATUSES,
  endpointOn,
  containerId,
  defaultHostname,
  exposedPortKey,
  containerInspect,
  containerSummary,
  createdMs,
  dockerState,
  restarting,
  shownState,
  type DockerState,
  stopSignalOf,
  stopTimeoutOf,
  queuedNotice,
  exitCodeOf,
  imageOf,
  labelsOf,
  userExtraHosts,
  madeByDocker,
  matchesFilters,
  networkId,
  networkNames,
  DEFAULT_NETWORK,
  NO_NETWORK,
  onNoNetwork,
} from './containers';
import { COMPOSE_RECREATE_NAME, portsOf, resourcesOf, unhonouredOption, updateOf } from './create-options';
import { OneAtATime } from './one-at-a-time';
import { EventLog, type DockerEvent } from './events';
import { AttachedInput, detachKeysOf, type AttachedInputOptions } from './input';
import { execInspect, newExec, type ExecCreateBody, type ExecInstance } from './exec';
import { ArchiveOutput, PATH_STAT_HEADER, archiveFailure, archiveRequest, pathStatHeader, tarOfFile } from './archive';
import { IMAGE_FILTERS, filterImages, filterNetworks, labelMatches, prunable, refuseUnknownFilters, untilSeconds, type NetworkRow } from './listing-filters';
import { checkRegistryLogin } from './registry-login';
import { SIGKILL, signalNumber } from './signals';
import { dockerStats } from './stats';
import { DockerVolumes, mountEvents, parseBinds, uncoveredImageVolumes, type MountSpec } from './volumes';
import { DockerNetworks, NETWORK_LABEL, dockerNetworksOf, networksFile, withDockerNetworks, type NetworkCreateBody } from './networks';
import { HEALTHCHECK_LABEL, HealthMonitor, effectiveHealthcheck, healthFile, parseHealthcheck, type HealthStatus } from './health';
import { changesBetween, parseListing } from './changes';
import { applyChanges, commitBase } from './commit-changes';
import { COMPOSE_SERVICE_LABEL, NAME_LABELS, addressOf, bootHostEntries, hostsFile, linksOf, parseLinks, peersAwaitingAddress, peersOf } from './peer-names';

export interface EndpointOptions {
  /** The engine whose vSphere session the endpoint uses; each request gets `forCommand()` of it, looking objects up one by one. */
  readonly engine: Engine;
  /** The VCH: its name or its pool MOID. */
  readonly vch: string;
  /** Registries (`host:port`) reached over plain HTTP or without verifying TLS, as dockerd's --insecure-registry. */
  readonly insecureRegistries?: readonly string[];
  /** The server's version, for `docker version`. */
  readonly version: string;
  /** How often a wait, a follow or --rm looks at vSphere again. */
  readonly pollMs?: number;
  /**
   * How long the lookups kept across requests (the VCH's marker, its networks, its images) are
   * trusted before they are looked up again, whatever vSphere says: a VCH changed in place by its
   * IaC state (its bridge network, its bootstrap ISO) refuses nothing, so its creates see the
   * change within this time. Default 60 s.
   */
  readonly keptLookupsMs?: number;
  /**
   * How long the VM a create made stands for itself in the start that follows (`docker run` sends
   * the two requests one after the other): that start powers it on without reading it, and reads
   * it when vSphere refuses the power-on. Default 5 s.
   */
  readonly handedOnMs?: number;
  /** The endpoint's directory (`vic endpoint serve --dir`): where it keeps the networks docker made. None: kept in memory. */
  readonly stateDir?: string;
  /**
   * How long a start (and a restart) waits for the container's process to report that it runs, as
   * dockerd's start returns once the process runs and VIC's waited for its tether: then `inspect`
   * has its address and StartedAt. A start whose guest has not reported by then still succeeds (the
   * VM is on). 0: return at the power-on (a simulator without guests, where nothing reports).
   * Default START_WAIT_MS.
   */
  readonly startWaitMs?: number;
  readonly log?: (line: string) => void;
}

/** EndpointOptions.startWaitMs's default: a boot under software emulation takes 5–10 s, one on a busy host more. */
export const START_WAIT_MS = 120_000;

interface Vch {
  readonly id: string;
  readonly name: string;
  readonly datacenter: string;
  readonly bridgeNetwork: string | null;
}

/** Docker's flags for the container_vm attributes, so a refused input names what the user typed. */
const FLAG_OF: Record<string, string> = {
  name: '--name',
  env: '-e/--env',
  working_dir: '-w/--workdir',
  user: '-u/--user',
  entrypoint: '--entrypoint',
  command: 'the command',
  memory_mb: '-m/--memory (in MB, a multiple of 4)',
  cpus: '--cpus',
  labels: '-l/--label',
  restart: '--restart',
  max_restarts: '--restart on-failure:N',
  networks: '--network',
  hostname: '-h/--hostname',
  volumes: '-v/--volume',
  image_id: 'the image',
};

function problemsText(problems: readonly Problem[]): string {
  return problems
    .filter((p) => (p.severity ?? 'error') === 'error')
    .map((p) => {
      const attr = String(p.path[0] ?? '');
      const flag = FLAG_OF[attr];
      if (!flag) return `${formatPath(p.path)}: ${inDockerWords(attr, p.detail)}`;
      // Named by the flag the user typed: the IaC attribute's name and its "name = value" are left out.
      const where = p.path.length > 1 ? ` (${formatPath(p.path)})` : '';
      return `${flag}${where}: ${inDockerWords(attr, p.detail).replace(new RegExp(`\\b${attr} = `, 'g'), '')}`;
    })
    .join('; ');
}

/**
 * A problem's detail for a docker user: the engine's words name the IaC attribute to fix (`Check
 * networks = "x".`), which a docker user does not write. For a network, the port groups offered
 * leave out the uplink ones, which no VM can be on.
 */
function inDockerWords(attr: string, detail: string): string {
  if (attr !== 'networks') return detail.replace(/ Check [a-z_]+ = .*$/s, '');
  const known = /^(.*\(known: )(.*?)(\).*)$/s.exec(detail);
  const listed = known
    ? `${known[1]}${known[2]
        .split(', ')
        .filter((n) => !isUplinkPortGroup(n))
        .join(', ')}${known[3]}`
    : detail;
  return `${listed.replace(/ Check networks = .*$/s, '')} Use --network with the name of a port group of the VCH's datacenter (docker network ls lists those its containers use), or --network none`;
}

/**
 * The uplink port group vSphere makes with each distributed switch (`<switch>-DVUplinks-<n>`): it
 * carries the switch's physical uplinks, and vSphere puts no VM on it. Told by its name, which is
 * what the endpoint sees of a port group (the listing has no `config.uplink`).
 */
function isUplinkPortGroup(name: string): boolean {
  return /-DVUplinks-\d+$/.test(name);
}

/** The inputs of a container_vm state: what a plan takes as config to change one attribute. */
function inputsOf(vm: Attrs): Attrs {
  const out: Attrs = {};
  for (const [name, attr] of Object.entries(containerVm.schema)) {
    if ('computed' in attr && attr.computed && !('optional' in attr && attr.optional)) continue;
    if (vm[name] !== null && vm[name] !== undefined) out[name] = vm[name];
  }
  return out;
}

/** What follows a container's name or id in a path: `/containers/{name}/{action}`. */
const CONTAINER_ACTIONS = new Set([
  'json',
  'start',
  'stop',
  'kill',
  'restart',
  'wait',
  'rename',
  'update',
  'logs',
  'stats',
  'attach',
  'resize',
  'exec',
  'archive',
  'top',
  'changes',
  'export',
]);

const UNSUPPORTED: ReadonlyArray<[RegExp, string, string]> = [
  [/^\/build/, 'docker build', 'build the image elsewhere, push it to a registry and pull it here'],
  [/^\/images\/search$/, 'docker search', "search the registry's own web interface or API"],
  [/^\/containers\/[^/]+\/(pause|unpause)$/, 'docker pause and unpause', 'stop and start the container'],
  [
    /^\/containers\/[^/]+\/checkpoints/,
    'docker checkpoint',
    "stop the container and start it again (a container VM's memory is not saved); its volumes keep its data",
  ],
  [
    /^\/networks\/[^/]+$/,
    'removing a port group',
    'port groups are made and removed in vSphere; docker network rm removes the docker networks (docker network create)',
  ],
  [/^\/(swarm|nodes|services|tasks|secrets|configs)/, 'swarm', 'a VCH is one Docker host; use Terraform or Pulumi to run many'],
  [/^\/plugins/, 'docker plugin', 'there is nothing to install, as vSphere is the runtime'],
  [/^\/session|^\/grpc/, 'BuildKit sessions', 'build the image elsewhere and pull it'],
  [/^\/distribution/, 'docker manifest inspection through the daemon', 'ask the registry directly (docker manifest inspect <image>)'],
];

/**
 * A create's settings with what the image gives where the create gives nothing, as dockerd fills
 * in a container's Config, by the rules the guest config follows (processOf): its entrypoint, cmd
 * (not with an --entrypoint of the create's own), working directory, user and env; and its labels
 * under the create's. The process runs the same either way; docker ps and inspect then show what it
 * runs, as dockerd's do.
 */
function withImageDefaults(config: Attrs, image: Attrs): Attrs {
  const p = processOf(config, image as ImageProcessConfig);
  const labels = image.labels && typeof image.labels === 'object' ? (image.labels as Record<string, string>) : {};
  return {
    ...config,
    ...(p.entrypoint.length > 0 ? { entrypoint: p.entrypoint } : {}),
    ...(p.cmd.length > 0 ? { command: p.cmd } : {}),
    ...(p.env.size > 0 ? { env: Object.fromEntries(p.env) } : {}),
    ...(p.working_dir ? { working_dir: p.working_dir } : {}),
    ...(p.user ? { user: p.user } : {}),
    labels: { ...labels, ...((config.labels as Record<string, string> | undefined) ?? {}) },
  };
}

/** An image's SIZE as docker shows it: what its files take (not the disk made for them, which has room to spare). */
function imageSize(image: Attrs): number {
  return Number(image.content_bytes ?? image.size_bytes ?? 0);
}

/** docker push's words for a layer, as the CLI shows them. */
const PUSH_WORDS: Partial<Record<PushEvent['kind'], string>> = { preparing: 'Preparing', pushed: 'Pushed', exists: 'Layer already exists' };

/** A container name as dockerd takes them (a leading slash is dropped), or docker's 400. */
function dockerContainerName(given: string): string {
  if (!/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(given)) throw badRequest(`Invalid container name (${given}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return given.replace(/^\//, '');
}

/**
 * How long after their start the containers beside a container that is starting are waited for to
 * have an address, so that its guest names them at boot (bootHosts): a boot under software
 * emulation takes 5–10 s.
 */
const BOOT_PEERS_WAIT_MS = 30_000;

/** How long a removed container's state mark (stateSetAt) is kept: longer than any look takes. */
const STATE_MARK_MS = 60_000;

/** A container's name as docker makes them when none is given. */
function generatedName(): string {
  return `vic_${randomBytes(5).toString('hex')}`;
}

/**
 * How long a start waits for its container's process and address, and then for those of the
 * containers started beside it, before its peers learn its name: boots under software emulation,
 * several at once on a busy host, can take minutes.
 */
const NAMES_WATCH_MS = 600_000;
/** How long a write of a container's /etc/hosts may take before it is given up (and tried again). */
const NAMES_WRITE_MS = 60_000;
/** Writes of one boot's /etc/hosts tried before the endpoint stops trying (vSphere's tether takes none yet). */
const NAMES_WRITE_TRIES = 3;

/** compose's label of a container's project. */
const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';

export class DockerEndpoint {
  private vchInfo?: Vch;
  readonly events = new EventLog();
  /** Containers started with --rm, removed once they exit (by whichever endpoint sees that first). */
  private readonly autoRemove = new Set<string>();
  /** What the endpoint last wrote to each running container's /etc/hosts, after its boot time. */
  private readonly hostsWritten = new Map<string, string>();
  /** Writes of /etc/hosts that failed, by container: in which boot, and how many. */
  private readonly namesFailed = new Map<string, { boot: string; tries: number }>();
  private namesRun: Promise<void> | undefined;
  private namesAgain = false;
  /** The health checks of the running containers that have one (health.ts). */
  private readonly health = new HealthMonitor({
    current: async (id) =>
      (await this.command().findIn('container_vm', this.vch.id, { id: this.known.get(id)?.uuid ?? '', moid: this.known.get(id)?.moid ?? '' })) ?? undefined,
    processRuns: (vm) => this.processRuns(vm, () => this.closed),
    probe: (vm, argv, timeoutMs) => this.probe(vm, argv, timeoutMs),
    changed: (vm, status) => void this.emitHealth(vm, status),
    closed: () => this.closed,
    log: (text) => this.log(text),
  });
  /** Terminal sizes waiting for their container's process to run, by container id (resizeTerminal). */
  private readonly pendingSizes = new Map<string, { rows: number; cols: number }>();
  /** docker exec instances, by id. */
  private readonly execs = new Map<string, ExecInstance>();
  /** The connections attach and exec start took over, ended at close. */
  private readonly hijacked = new Set<Duplex>();
  /**
   * The start each container this endpoint started (or restarted) had reported before: while the
   * guest boots, its report is still that one, the last run's, which docker does not show.
   */
  private readonly startedBefore = new Map<string, string>();
  /** Who waits for the next look, whether its client left (then it needs none), and the container it waits on. */
  private readonly waiters = new Map<(vms: readonly Attrs[]) => void, { readonly gone: () => boolean; readonly id: string }>();
  /**
   * Attached output streams, each with what it does with a look: read the console file once more,
   * and whether its container ended. A look runs these before it tells anyone the container ended
   * (die, wait), as dockerd drains a container's streams before it reports the exit: docker compose
   * stops reading an attach at the `die`, and would lose the last lines.
   */
  private readonly outputStreams = new Set<{ readonly id: string; readonly onLook: (vms: readonly Attrs[]) => Promise<void> }>();
  private polling = false;
  /** A look asked for by a change (a stop, a kill), for its `die` event, whoever waits. */
  private lookWanted = false;
  private lastTickAt = 0;
  private closed = false;
  /** Last state seen of each container (shownState), to tell `die` events when a guest ends by itself. */
  private readonly lastState = new Map<string, string>();
  /**
   * When a request of this endpoint last set a container's state (setState): a look that began
   * before then read older news, which must neither undo it nor tell its `die` twice.
   */
  private readonly stateSetAt = new Map<string, number>();
  /** The container events asked for and not sent yet (emitContainer), in order. */
  private emitting: Promise<void> = Promise.resolve();
  /**
   * Container ids seen (made, listed or looked up) → the BIOS UUID they hash from and the VM's last
   * MOID. An id cannot be turned back into its UUID, and the UUID is what vSphere finds a VM by:
   * this only spares a listing to learn it. It is never the answer: every request reads the VM
   * again, and a UUID no VM of the VCH holds is a container gone.
   */
  private readonly known = new Map<string, { readonly uuid: string; readonly moid: string }>();
  /**
   * Containers this endpoint has just made and nobody has started yet, as their create left them.
   * `docker run` opens a wait on the new container before it starts it: that wait takes its first
   * state from here instead of reading the VM (its looks read the VM, as every wait's do).
   */
  private readonly justCreated = new Map<string, { readonly vm: Attrs; readonly at: number }>();
  /**
   * Lookups kept across requests (CommandOptions.lasting: the VCH's marker, its networks, its
   * images' metadata), so a create costs little more than the calls that make the VM. Dropped when
   * vSphere refuses a create made with them (which then tries once more), and when they are older
   * than keptLookupsMs.
   */
  private readonly lasting = new Map<string, Promise<unknown>>();
  /** When the kept lookups were started afresh (see KEPT_LOOKUPS_MS). */
  private keptSince = 0;
  /** The VCH's images as last listed: a create looks its image up here, and lists again when it is not there. */
  private imageList?: Promise<Attrs[]>;
  /** Image id → the layers its config names (diffIds). */
  private readonly imageLayers = new Map<string, Promise<string[]>>();
  private readonly volumes = new DockerVolumes(
    () => this.vch.id,
    (engine) => this.containers(engine),
    this.events,
  );

  /** Creates by container name, one after another (see oneCreatePerName). */
  private readonly creating = new OneAtATime();
  /** Maintenance boots of stopped containers under way (docker cp), by container id (withMaintenance). */
  private readonly maintenanceBoots = new Map<string, MaintenanceBoot>();
  /** The VMs creates just made, for the starts that follow (CommandOptions.handedOn). */
  private readonly handedOn: HandedOn;

  /** The networks docker made, over the VCH's bridge port group (networks.ts). */
  private readonly dockerNetworks: DockerNetworks;

  constructor(private readonly options: EndpointOptions) {
    this.handedOn = new HandedOn(options.handedOnMs);
    this.dockerNetworks = new DockerNetworks(options.stateDir ? networksFile(options.stateDir) : undefined);
    if (options.stateDir) this.health.keepIn(healthFile(options.stateDir));
  }

  private get pollMs(): number {
    return this.options.pollMs ?? 1000;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  /** Finds the VCH, and removes --rm containers that exited while no endpoint ran. */
  async start(): Promise<Vch> {
    const { hosts } = await this.options.engine.inventory();
    const host = hosts.find((h) => h.marker.name === this.options.vch || h.id === this.options.vch);
    if (!host) {
      const known = hosts.map((h) => `${h.marker.name} (${h.id})`).join(', ') || 'none';
      throw new Error(
        `virtual container host "${this.options.vch}" not found in vSphere; known: ${known}. Pass --vch <name> of one that vic apply, Terraform or Pulumi made.`,
      );
    }
    this.vchInfo = { id: host.id, name: host.marker.name, datacenter: host.marker.datacenter, bridgeNetwork: host.marker.bridge_network };
    this.dockerNetworks.serve(host.id);
    const vms = await this.containers();
    for (const vm of vms) {
      this.lastState.set(containerId(vm), shownState(vm));
      if (labelsOf(vm)[LABEL.autoRemove] === 'true') this.autoRemove.add(containerId(vm));
      // Found running: the health an earlier endpoint kept goes on, for the same run.
      if (dockerState(vm) === 'running') this.health.watch(containerId(vm), vm, true);
    }
    if (this.autoRemove.size > 0) this.ensurePolling();
    return this.vchInfo;
  }

  close(): void {
    this.closed = true;
    // A maintenance boot left on would hold the stopped container's VM on: ended (its VM reads as stopped meanwhile).
    for (const id of [...this.maintenanceBoots.keys()]) void this.finishMaintenance(id);
    this.events.close();
    // Hijacked connections (attach, exec) are the HTTP server's no more: its close would wait for
    // them, and a client that keeps its side open (a terminal) would hold the endpoint's end.
    for (const socket of this.hijacked) socket.destroy();
  }

  private get vch(): Vch {
    if (!this.vchInfo) throw new Error('the endpoint is not started');
    return this.vchInfo;
  }

  /** The VCH's bridge port group, as the container views take it (undefined for a VCH without one). */
  private get bridgePortGroup(): string | undefined {
    return this.vch.bridgeNetwork ?? undefined;
  }

  /**
   * An engine for one request: its plans and lookups ask vSphere per object, never for the whole
   * VCH. `takesHandedOn`: its lookup of a container the previous request created answers from
   * that create (a start).
   */
  private command(takesHandedOn = false): Engine {
    if (Date.now() - this.keptSince > (this.options.keptLookupsMs ?? KEPT_LOOKUPS_MS)) {
      this.forgetLookups();
      this.keptSince = Date.now();
    }
    return this.options.engine.forCommand({ lookups: 'each', lasting: this.lasting, handedOn: this.handedOn, takesHandedOn, holder: 'docker' });
  }

  private remember(vm: Attrs): Attrs {
    if (typeof vm.id === 'string' && typeof vm.moid === 'string') this.known.set(containerId(vm), { uuid: vm.id, moid: vm.moid });
    return vm;
  }

  /** The VCH's container VMs as vSphere has them now: one batched read of its pool. */
  private async containers(engine: Engine = this.command()): Promise<Attrs[]> {
    const vms = await engine.listIn('container_vm', this.vch.id).catch(async (err: unknown) => {
      if (!(err instanceof VchGoneError) || err.vchId !== this.vch.id) throw err;
      await this.followVch(err.vchId);
      return engine.listIn('container_vm', this.vch.id);
    });
    for (const vm of vms) this.remember(vm);
    return vms;
  }

  /**
   * The VCH this endpoint serves was destroyed (its pool `goneId` is no more). Made again under the
   * same name (a vic destroy and apply), it has a new pool: serve that one from now on. Gone for
   * good, every request fails saying so, rather than listing nothing or naming an id to fix.
   */
  private async followVch(goneId: string): Promise<void> {
    if (this.vch.id !== goneId) return;
    const { hosts } = await this.options.engine.inventory();
    const host = hosts.find((h) => h.marker.name === this.vch.name);
    if (!host) {
      throw new Error(
        `the virtual container host "${this.vch.name}" (${goneId}) this endpoint serves no longer exists in vSphere: it was destroyed. ` +
          `Make it again (vic apply, Terraform or Pulumi) and the endpoint serves the new one, or restart the endpoint with --vch <name> of another VCH.`,
      );
    }
    this.log(`VCH "${this.vch.name}" was made again: serving ${host.id} (was ${goneId})`);
    this.vchInfo = { id: host.id, name: host.marker.name, datacenter: host.marker.datacenter, bridgeNetwork: host.marker.bridge_network };
    // The destroyed VCH's docker networks went with its containers: the new one starts with none.
    this.dockerNetworks.forget(goneId);
    this.dockerNetworks.serve(host.id);
    this.forgetLookups();
    this.imageList = undefined;
    this.known.clear();
    this.lastState.clear();
    this.stateSetAt.clear();
  }

  /**
   * A container by full id, name or id prefix, in dockerd's order. A full id this endpoint has seen
   * and a name are looked up (a few calls, whatever the VCH holds); a prefix, or an id not seen
   * yet (made elsewhere, or before a restart), takes one listing.
   */
  private async findContainer(ref: string, engine: Engine = this.command()): Promise<Attrs> {
    const seen = this.known.get(ref);
    if (seen) {
      const vm = await engine.findIn('container_vm', this.vch.id, { id: seen.uuid, moid: seen.moid });
      if (vm) return this.remember(vm);
      this.known.delete(ref);
    }
    const name = ref.replace(/^\//, '');
    if (name !== '') {
      const vm = await engine.findIn('container_vm', this.vch.id, { name });
      if (vm) return this.remember(vm);
    }
    if (!/^[0-9a-f]+$/.test(ref)) throw notFound(`No such container: ${ref}`);
    const byId = (await this.containers(engine)).filter((vm) => containerId(vm).startsWith(ref));
    if (byId.length === 1) return byId[0];
    if (byId.length > 1) throw badRequest(`multiple containers found with provided prefix: ${ref}`);
    throw notFound(`No such container: ${ref}`);
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP

  /** The `request` listener of the http(s) server. */
  readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    this.route(req, res).catch(async (err: unknown) => {
      const api = toApiError(await this.whenVchGone(err));
      if (api.status >= 500) this.log(`${req.method} ${req.url}: ${api.message}`);
      sendError(res, api);
    });
  };

  /**
   * A request that failed because the VCH's pool is gone (a lookup named its id as not found): the
   * endpoint follows the VCH if it was made again, and the user runs the command again; else the
   * error says the VCH was destroyed. Any other error is the answer as it is.
   */
  private async whenVchGone(err: unknown): Promise<unknown> {
    const id = this.vchInfo?.id;
    if (!id || !(err instanceof Error) || !(err instanceof VchGoneError || err.message.includes(`virtual container host ${id} not found`))) return err;
    try {
      await this.followVch(id);
    } catch (gone) {
      return gone;
    }
    return new Error(`the virtual container host "${this.vch.name}" was made again (now ${this.vch.id}) while this request ran: run the command again`);
  }

  /** The `upgrade` listener: attach is a hijacked connection. */
  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer = Buffer.alloc(0)): void => {
    socket.on('error', () => undefined);
    this.hijacked.add(socket);
    socket.on('close', () => this.hijacked.delete(socket));
    // The CLI half-closes its side (a TLS close_notify) when it has no stdin to send; the output
    // still flows the other way until the container stops.
    (socket as Duplex & { allowHalfOpen: boolean }).allowHalfOpen = true;
    this.upgrade(req, socket, head).catch((err: unknown) => {
      const api = toApiError(err);
      if (!socket.writableEnded) {
        const body = JSON.stringify({ message: api.message });
        socket.end(
          `HTTP/1.1 ${api.status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
    });
  };

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { path, query } = parseApiPath(req.url ?? '/');
    // The request's own body (exec start's {"Detach":false,...}) comes before the client's stdin.
    const body = await upgradeBody(req, socket, head);
    const attach = /^\/containers\/([^/]+)\/attach$/.exec(path);
    if (req.method === 'POST' && attach) return this.attach(decodeURIComponent(attach[1]), query, upgradedStream(socket));
    const exec = /^\/exec\/([^/]+)\/start$/.exec(path);
    if (req.method === 'POST' && exec) {
      if (parseJsonObject(body).Detach !== true) return this.startExec(decodeURIComponent(exec[1]), upgradedStream(socket));
      await this.startExec(decodeURIComponent(exec[1]), undefined);
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    throw notSupported(`${req.method} ${path} as an upgraded connection`, 'only attach and exec start upgrade');
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const { version, path, query } = parseApiPath(req.url ?? '/');
    const seg = path
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const is = (m: string, pattern: RegExp) => method === m && pattern.test(path);

    if ((method === 'GET' || method === 'HEAD') && path === '/_ping') return this.ping(method, res);
    if (is('GET', /^\/version$/)) return sendJson(res, 200, this.versionDoc());
    if (is('GET', /^\/info$/)) return sendJson(res, 200, await this.info());
    if (is('POST', /^\/auth$/)) return this.auth(req, res);
    if (is('GET', /^\/events$/)) return this.streamEvents(query, req, res);

    if (is('GET', /^\/containers\/json$/)) return sendJson(res, 200, await this.listContainers(query));
    if (is('POST', /^\/containers\/create$/)) return this.oneCreatePerName(query.get('name'), () => this.createContainer(req, res, query));
    if (seg[0] === 'containers' && seg.length >= 2 && seg[1] !== 'prune') {
      // A name or id is one segment; more before a known action (an image reference asked as a
      // container, `docker inspect --type=container busybox:1`) is still a container that is not there.
      const deep = seg.length > 3 && CONTAINER_ACTIONS.has(seg[seg.length - 1]);
      const id = deep ? seg.slice(1, -1).join('/') : seg[1];
      const action = deep ? seg[seg.length - 1] : seg.slice(2).join('/');
      if (method === 'GET' && action === 'json') {
        const engine = this.command();
        const vm = await this.findContainer(id, engine);
        const execIds = [...this.execs.values()].filter((e) => e.containerId === containerId(vm) && e.state !== 'exited').map((e) => e.id);
        const sizes = queryFlag(query, 'size') ? (await this.containerSizes(engine))(vm) : undefined;
        return sendJson(res, 200, {
          ...containerInspect(this.asStarted(vm), await this.imageReferences(engine, [vm]), execIds, this.bridgePortGroup),
          ...sizes,
        });
      }
      if (method === 'DELETE' && action === '') return this.removeContainer(id, query, res);
      if (method === 'POST' && action === 'start') return this.startContainer(id, res);
      if (method === 'POST' && action === 'stop') return this.stopContainer(id, query, res);
      if (method === 'POST' && action === 'kill') return this.killContainer(id, query, res);
      if (method === 'POST' && action === 'restart') return this.restartContainer(id, query, res);
      if (method === 'POST' && action === 'wait') return this.waitContainer(id, query, req, res);
      if (method === 'POST' && action === 'rename') return this.renameContainer(id, query, res);
      if (method === 'POST' && action === 'update') return this.updateContainer(id, req, res);
      if (method === 'GET' && action === 'logs') return this.logs(id, query, req, res);
      if (method === 'GET' && action === 'stats') return this.stats(id, query, req, res);
      // A client that does not upgrade (dockerode's attach and exec start without hijack) reads the
      // stream as the response body, as dockerd serves it; it sends no input.
      if (method === 'POST' && action === 'attach') return this.attach(id, query, responseStream(res));
      if (method === 'POST' && action === 'exec') return this.createExec(id, req, res);
      if (['HEAD', 'GET', 'PUT'].includes(method) && action === 'archive') return this.archive(method, id, query, req, res);
      if (method === 'GET' && action === 'top') return this.top(id, query, res);
      if (method === 'GET' && action === 'changes') return this.changes(id, res);
      if (method === 'GET' && action === 'export') return this.exportContainer(id, res);
      if (method === 'POST' && action === 'resize') {
        // The CLI sizes the terminal of a -t container to its own, right after the start and at
        // each change of its own.
        const vm = await this.findContainer(id);
        if (vm.tty !== true) throw badRequest(`container ${String(vm.name)} has no terminal: it was created without -t`);
        const size = terminalSize(query);
        if (dockerState(vm) !== 'running') throw conflict(`Container ${containerId(vm)} is not running`);
        if (size) this.resizeTerminal(vm, size);
        res.writeHead(200).end();
        return;
      }
    }

    if (seg[0] === 'exec' && seg.length === 3) return this.routeExec(method, seg[1], seg[2], query, req, res);

    if (is('POST', /^\/images\/create$/)) return this.pull(req, res, query);
    if (is('POST', /^\/commit$/)) return this.commit(req, res, query);
    if (is('POST', /^\/images\/load$/)) return this.loadImages(req, res);
    if (is('GET', /^\/images\/.+\/history$/))
      return sendJson(res, 200, await this.imageHistory(decodeURIComponent(path.slice('/images/'.length, -'/history'.length))));
    if (is('GET', /^\/images\/get$/)) return this.saveImages(query.getAll('names'), res);
    if (is('GET', /^\/images\/.+\/get$/)) return this.saveImages([decodeURIComponent(path.slice('/images/'.length, -'/get'.length))], res);
    if (is('GET', /^\/images\/json$/)) return sendJson(res, 200, await this.listImages(query));
    if (is('GET', /^\/system\/df$/)) return sendJson(res, 200, await this.systemDf());
    if (method === 'GET' && /^\/images\/.+\/json$/.test(path)) return sendJson(res, 200, await this.inspectImage(decodeURIComponent(path.slice(8, -5))));
    if (method === 'DELETE' && /^\/images\/.+$/.test(path)) return this.removeImage(decodeURIComponent(path.slice(8)), query, res);
    if (method === 'POST' && /^\/images\/.+\/tag$/.test(path)) return this.tagImage(decodeURIComponent(path.slice(8, -4)), query, res);
    if (method === 'POST' && /^\/images\/.+\/push$/.test(path)) return this.push(decodeURIComponent(path.slice(8, -5)), query, req, res);

    if (seg[0] === 'volumes') return this.volumes.route(this.command(), method, seg, query, req, res, version);

    // The prunes of docker system prune, and each on its own.
    if (is('POST', /^\/containers\/prune$/)) return sendJson(res, 200, await this.pruneContainers(query));
    if (is('POST', /^\/images\/prune$/)) return sendJson(res, 200, await this.pruneImages(query));
    // The networks docker made that no container is on (port groups are not docker's to remove).
    if (is('POST', /^\/networks\/prune$/)) return sendJson(res, 200, await this.pruneNetworks(query));
    if (is('POST', /^\/networks\/create$/)) return this.createNetwork(req, res);
    if (is('POST', /^\/networks\/[^/]+\/(connect|disconnect)$/)) {
      return this.connectNetwork(decodeURIComponent(seg[1]), seg[2] === 'connect', req, res);
    }
    if (method === 'DELETE' && seg[0] === 'networks' && seg.length === 2 && this.dockerNetworks.find(seg[1])) return this.removeNetwork(seg[1], res);
    // Nothing is built here (docker build is not served), so there is no build cache.
    if (is('POST', /^\/build\/prune$/)) return sendJson(res, 200, { CachesDeleted: [], SpaceReclaimed: 0 });

    if (is('GET', /^\/networks$/)) {
      return sendJson(res, 200, filterNetworks(await this.networks(), parseFilters(query.get('filters'))).map(withoutBuiltin));
    }
    if (method === 'GET' && seg[0] === 'networks' && seg.length === 2) {
      const found = await this.findNetwork(seg[1]);
      if (!found) throw notFound(`network ${seg[1]} not found`);
      return sendJson(res, 200, withoutBuiltin(found));
    }
    // A network that is not there is dockerd's 404 before anything else (docker network rm foo).
    if (
      (method === 'DELETE' && seg[0] === 'networks' && seg.length === 2) ||
      (is('POST', /^\/networks\/[^/]+\/(connect|disconnect)$/) && seg[1] !== 'create')
    ) {
      if (!(await this.findNetwork(seg[1]))) throw notFound(`network ${seg[1]} not found`);
    }

    // A container that is not there is dockerd's 404 before anything else (docker checkpoint foo).
    const about = /^\/containers\/([^/]+)\/[^/]+/.exec(path)?.[1];
    if (about && UNSUPPORTED.some(([pattern]) => pattern.test(path))) await this.findContainer(decodeURIComponent(about));
    for (const [pattern, what, instead] of UNSUPPORTED) if (pattern.test(path)) throw notSupported(what, instead);
    throw notSupported(`${method} ${path}`, 'this endpoint serves containers, images, networks, volumes, events, info and version');
  }

  private ping(method: string, res: ServerResponse): void {
    res.writeHead(200, {
      'API-Version': API_VERSION,
      OSType: 'linux',
      'Docker-Experimental': 'false',
      'Builder-Version': '1',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': method === 'HEAD' ? '0' : '2',
    });
    res.end(method === 'HEAD' ? undefined : 'OK');
  }

  private versionDoc(): Record<string, unknown> {
    const common = {
      Version: this.options.version,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: 'vic-iac',
      GoVersion: `node ${process.version}`,
      Os: 'linux',
      Arch: 'amd64',
      KernelVersion: 'VMware vSphere',
      BuildTime: '',
    };
    return { Platform: { Name: 'vic-iac (VMware vSphere)' }, Components: [{ Name: 'Engine', Version: this.options.version, Details: common }], ...common };
  }

  private async info(): Promise<Record<string, unknown>> {
    const engine = this.command();
    const [vms, vchState, images, capacity] = await Promise.all([
      this.containers(engine),
      engine.importState('virtual_container_host', this.vch.id),
      engine.listIn('image', this.vch.id),
      engine.readPoolCapacity(this.vch.id),
    ]);
    const running = vms.filter((vm) => dockerState(vm) === 'running').length;
    const limit = (v: unknown, unit: string) => (typeof v === 'number' && v >= 0 ? `${v} ${unit}` : 'unlimited');
    return {
      ID: this.vch.id,
      Containers: vms.length,
      ContainersRunning: running,
      ContainersPaused: 0,
      ContainersStopped: vms.length - running,
      Images: images.length,
      Driver: 'vSphere',
      DriverStatus: [
        ['VCH', this.vch.name],
        ['VCH resource pool', this.vch.id],
        ['VCH CPU limit', limit(vchState.cpu_limit_mhz, 'MHz')],
        ['VCH CPU reservation', limit(vchState.cpu_reservation_mhz, 'MHz')],
        ['VCH memory limit', limit(vchState.memory_limit_mb, 'MB')],
        ['VCH memory reservation', limit(vchState.memory_reservation_mb, 'MB')],
        ['Datacenter', this.vch.datacenter],
        ['Image store', String(vchState.image_store ?? '')],
      ],
      Plugins: { Volume: ['vsphere'], Network: ['bridge', 'vsphere-portgroup'], Authorization: null, Log: ['vsphere-console'] },
      MemoryLimit: true,
      SwapLimit: false,
      CpuCfsPeriod: false,
      CpuCfsQuota: false,
      CPUShares: false,
      CPUSet: false,
      PidsLimit: false,
      IPv4Forwarding: false,
      Debug: false,
      NFd: 0,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'vsphere-console',
      CgroupDriver: 'none',
      NEventsListener: this.events.listeners,
      KernelVersion: 'VMware vSphere',
      OperatingSystem: 'VMware vSphere (vic-iac virtual container host)',
      OSType: 'linux',
      Architecture: 'x86_64',
      NCPU: capacity?.cpus ?? 0,
      // What the pool can give, as vSphere says: its limits, or what its parents give it.
      MemTotal: capacity?.memoryBytes ?? 0,
      IndexServerAddress: 'https://index.docker.io/v1/',
      // As dockerd: each --insecure-registry host is an index config that is not secure (docker info lists them).
      RegistryConfig: {
        InsecureRegistryCIDRs: [],
        IndexConfigs: Object.fromEntries(
          (this.options.insecureRegistries ?? []).map((name) => [name, { Name: name, Mirrors: [], Secure: false, Official: false }]),
        ),
        Mirrors: [],
      },
      Name: this.vch.name,
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: this.options.version,
      Runtimes: {},
      DefaultRuntime: 'vsphere',
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: '',
      SecurityOptions: [],
      Warnings: [],
    };
  }

  private async auth(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readJsonBody<{ username?: string; password?: string; serveraddress?: string }>(req)) ?? {};
    if (!body.serveraddress) throw badRequest('docker login: name the registry (docker login <registry>); Docker Hub is not the default here');
    const host = body.serveraddress.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    await checkRegistryLogin(this.command(), host, { username: body.username ?? '', password: body.password ?? '' }, this.insecure(host));
    sendJson(res, 200, { Status: 'Login Succeeded', IdentityToken: '' });
  }

  private insecure(registryHost: string): boolean {
    return (this.options.insecureRegistries ?? []).includes(registryHost);
  }

  // ---------------------------------------------------------------------------------------------
  // Containers

  private async listContainers(query: URLSearchParams): Promise<unknown[]> {
    const filters = parseFilters(query.get('filters'));
    for (const key of filters.keys()) {
      if (!SUPPORTED_PS_FILTERS.includes(key)) throw badRequest(`invalid filter '${key}': vic-iac filters containers by ${SUPPORTED_PS_FILTERS.join(', ')}`);
    }
    // As dockerd: a status no container can have is a mistake, not an empty list.
    for (const v of filters.get('status') ?? []) {
      if (!DOCKER_STATUSES.includes(v)) throw badRequest(`invalid filter 'status=${v}': a container's status is one of ${DOCKER_STATUSES.join(', ')}`);
    }
    const all = queryFlag(query, 'all');
    const engine = this.command();
    const vms = (await this.containers(engine)).map((vm) => this.withHealth(vm));
    const now = Date.now();
    // As dockerd: -n/--last (and -l) count stopped containers too.
    const limit = Number(query.get('limit') ?? -1);
    const [before, since] = ['before', 'since'].map((key) =>
      (filters.get(key) ?? []).map((ref) => {
        const named = vms.find((vm) => vm.name === ref.replace(/^\//, '') || containerId(vm).startsWith(ref));
        if (!named) throw notFound(`No such container: ${ref} (in --filter ${key}=${ref})`);
        return createdMs(named);
      }),
    );
    const listed = vms.filter((vm) => all || filters.has('status') || limit > 0 || dockerState(vm) === 'running');
    // --filter ancestor= takes an image as docker ps shows it: the references come first then.
    const forAncestor = filters.has('ancestor') ? await this.imageReferences(engine, listed) : undefined;
    // An ancestor the store does not have matches nothing, as with dockerd.
    const ancestors = new Map<string, string>();
    for (const v of filters.get('ancestor') ?? []) {
      const image = await this.findImage(v, engine, 'kept').catch(() => undefined);
      if (image) ancestors.set(v, String(image.id));
    }
    const resolved = { ancestors, bridgeNetwork: this.bridgePortGroup };
    let shown = listed.filter(
      (vm) => matchesFilters(vm, filters, forAncestor, resolved) && before.every((t) => createdMs(vm) < t) && since.every((t) => createdMs(vm) > t),
    );
    shown = shown.sort((a, b) => createdMs(b) - createdMs(a) || String(a.name).localeCompare(String(b.name)));
    if (limit > 0) shown = shown.slice(0, limit);
    const references = forAncestor ?? (await this.imageReferences(engine, shown));
    const sizes = queryFlag(query, 'size') ? await this.containerSizes(engine) : undefined;
    return shown.map((vm) => ({ ...containerSummary(this.asStarted(vm), now, references, this.bridgePortGroup), ...sizes?.(vm) }));
  }

  /**
   * `ps -s` and `inspect --size`: a container's root filesystem is its image's disk (SizeRootFs,
   * the image's size); what it wrote on its own disk is not read from the datastore (SizeRw 0), as
   * `system df` says.
   */
  private async containerSizes(engine: Engine): Promise<(vm: Attrs) => { SizeRw: number; SizeRootFs: number }> {
    const sizeOf = new Map((await this.storedImages(engine)).map((i) => [String(i.id), imageSize(i)]));
    return (vm) => ({ SizeRw: 0, SizeRootFs: sizeOf.get(String(vm.image_id)) ?? 0 });
  }

  /**
   * Image id → the reference it was pulled as (docker's form), for containers made by IaC, which
   * carry no label with the name typed: the kept listing of the image store when it has every image
   * asked for (an image id names one content, so a kept answer is never wrong, only incomplete), else
   * one listing, and only when such a container is shown.
   */
  private async imageReferences(engine: Engine, vms: readonly Attrs[]): Promise<ReadonlyMap<string, string> | undefined> {
    const wanted = new Set(vms.filter((vm) => labelsOf(vm)[LABEL.image] === undefined && typeof vm.image_id === 'string').map((vm) => String(vm.image_id)));
    if (wanted.size === 0) return undefined;
    const referencesOf = (images: readonly Attrs[]) => new Map(images.map((i) => [String(i.id), displayReference(String(i.reference))]));
    if (this.imageList) {
      const kept = referencesOf(await this.imageList.catch(() => [] as Attrs[]));
      if ([...wanted].every((id) => kept.has(id))) return kept;
    }
    return referencesOf(await this.storedImages(engine).catch(() => [] as Attrs[]));
  }

  private async createContainer(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const body = (await readJsonBody<CreateBody>(req)) ?? {};
    const engine = this.command();
    const host = body.HostConfig ?? {};
    const unhonoured = unhonouredOption(body as Record<string, unknown>);
    if (unhonoured) throw unhonoured;
    const binds = parseBinds(host.Binds, body.Volumes, host.Mounts);
    if (host.VolumesFrom?.length) throw badRequest('--volumes-from is not supported by vic-iac; name the volumes with -v <volume name>:<path>');
    const ports = portsOf(host.PortBindings);
    const image = body.Image;
    if (!image) throw badRequest('no image given: docker create <image>');
    const name = query.get('name') ? dockerContainerName(String(query.get('name'))) : generatedName();
    // Looked up while the create is planned: a name in use is still the answer, before any other.
    const taken = engine.findIn('container_vm', this.vch.id, { name });
    taken.catch(() => undefined);
    const nameFree = async () => {
      const holder = await taken;
      if (holder) throw nameInUse(name, holder);
    };
    const config: Attrs = {
      vch_id: this.vch.id,
      name,
      power_state: 'stopped',
      labels: {
        ...(body.Labels ?? {}),
        [LABEL.origin]: 'docker',
        [LABEL.image]: image,
        [LABEL.created]: new Date().toISOString(),
        ...(host.AutoRemove ? { [LABEL.autoRemove]: 'true' } : {}),
      },
    };
    if (body.Cmd && body.Cmd.length > 0) config.command = body.Cmd;
    // --entrypoint '' (sent as [""]) clears the image's entrypoint, as with dockerd.
    if (body.Entrypoint && body.Entrypoint.length > 0) config.entrypoint = body.Entrypoint.every((a) => a === '') ? [] : body.Entrypoint;
    if (body.Env && body.Env.length > 0) config.env = envMap(body.Env);
    if (body.WorkingDir) config.working_dir = body.WorkingDir;
    if (body.User) config.user = body.User;
    // As dockerd: the host name is the first 12 hex digits of the container's id unless -h gives one
    // (what $HOSTNAME a process looks itself up by through the API). The id derives from the BIOS
    // UUID the create takes, which the engine tells from the lookups of the name the create makes.
    const hostname = body.Hostname ? Promise.resolve(body.Hostname) : engine.idFor('container_vm', this.vch.id, name).then(defaultHostname);
    hostname.catch(() => undefined);
    if (ports.length > 0) config.ports = ports;
    // -t and -i: a terminal, and a stdin held open, to which an attach with stdin sends its input
    // (attachInput); docker run -i closes it when its own input ends (StdinOnce).
    if (body.Tty) config.tty = true;
    if (body.OpenStdin) config.stdin_open = true;
    const labels = config.labels as Record<string, string>;
    if (body.OpenStdin && body.StdinOnce) labels[LABEL.stdinOnce] = 'true';
    // --add-host (compose's extra_hosts): NAME:ADDRESS, or NAME=ADDRESS as the CLI also takes it.
    const extraHosts = host.ExtraHosts ?? [];
    if (extraHosts.length > 0) {
      config.extra_hosts = extraHosts.map((e) => e.replace(/^([^:=]+)=/, '$1:'));
      labels[LABEL.extraHosts] = JSON.stringify(extraHosts);
    }
    // --stop-timeout and --stop-signal: kept with the container, the defaults of its stop and restart.
    if (body.StopTimeout !== undefined && body.StopTimeout !== null) {
      if (!Number.isInteger(body.StopTimeout)) throw badRequest(`--stop-timeout ${String(body.StopTimeout)}: expected a whole number of seconds`);
      labels[LABEL.stopTimeout] = String(body.StopTimeout);
    }
    if (body.StopSignal) {
      signalNumber(body.StopSignal);
      labels[LABEL.stopSignal] = body.StopSignal;
    }
    // --health-cmd and the other --health-* flags (compose's healthcheck:), run while it runs (health.ts).
    // Checked now; labelled with the image's at plan (effectiveHealthcheck).
    parseHealthcheck((body as Record<string, unknown>).Healthcheck);
    // --network-alias and --link: the names other containers reach it by, and it reaches them by (peer-names.ts).
    const endpoints = Object.values(body.NetworkingConfig?.EndpointsConfig ?? {});
    // compose sends the container's own names (its name, its service's; the name a recreated one is
    // renamed to) as aliases, unasked: they name it already.
    const own = new Set([name, String(body.Labels?.[COMPOSE_SERVICE_LABEL] ?? ''), COMPOSE_RECREATE_NAME.exec(name)?.[1]]);
    const aliases = [...new Set(endpoints.flatMap((e) => e?.Aliases ?? []))].filter((a) => !own.has(a));
    if (aliases.length > 0) labels[NAME_LABELS.aliases] = JSON.stringify(aliases);
    const links = parseLinks([...(host.Links ?? []), ...endpoints.flatMap((e) => e?.Links ?? [])]);
    if (links.length > 0) {
      for (const [linked] of links) {
        if (!(await engine.findIn('container_vm', this.vch.id, { name: linked }))) {
          throw badRequest(`--link ${linked}: no container named ${linked} in this VCH; start it first (docker run --name ${linked} …), or leave out --link`);
        }
      }
      labels[NAME_LABELS.links] = JSON.stringify(links);
    }
    // -m, --cpus, --restart; a container made without -m has a container VM's default memory.
    const { restart, max_restarts, ...resources } = resourcesOf(host);
    Object.assign(config, resources);
    if (!('memory_mb' in resources)) labels[LABEL.defaultMemory] = 'true';
    if (!('cpus' in resources)) labels[LABEL.defaultCpus] = 'true';
    if (restart !== undefined && restart !== 'no') config.restart = restart;
    if (max_restarts) config.max_restarts = max_restarts;
    // --network (several with API 1.44 and later, and compose's networks:): NetworkMode, then the others of EndpointsConfig.
    const placed = this.placeOnNetworks([host.NetworkMode, ...Object.keys(body.NetworkingConfig?.EndpointsConfig ?? {})]);
    labels[LABEL.networkMode] = !host.NetworkMode || host.NetworkMode === 'default' ? 'bridge' : host.NetworkMode;
    if ((host.Binds?.length ?? 0) > 0 || (host.Mounts?.length ?? 0) > 0) {
      labels[LABEL.hostMounts] = JSON.stringify({ Binds: host.Binds?.length ? host.Binds : null, Mounts: host.Mounts?.length ? host.Mounts : null });
    }
    if (placed.dockerNetworks.length > 0) Object.assign(labels, withDockerNetworks({}, placed.dockerNetworks));
    if (placed.portGroups) config.networks = placed.portGroups;

    // Volumes are made only for a create that can happen.
    if (binds.length > 0) await nameFree();
    const mounts = await this.volumes.mountsFor(engine, binds);
    if (mounts.volumes.length > 0) config.volumes = mounts.volumes;
    // The anonymous volumes of the image's VOLUMEs that no mount covers, as dockerd makes them:
    // made once, whichever attempt finds the image first.
    let forImage: Promise<void> | undefined;
    const imageVolumesMounted = (stored: Attrs): Promise<void> =>
      (forImage ??= (async () => {
        const anonymous = uncoveredImageVolumes(stringsOf(stored.image_volumes), binds);
        if (anonymous.length === 0) return;
        await nameFree();
        const more = await this.volumes.mountsFor(engine, anonymous);
        mounts.made.push(...more.made);
        config.volumes = [...((config.volumes as Attrs[] | undefined) ?? []), ...more.volumes];
      })());
    config.hostname = await hostname;
    const attempt = async (command: Engine, listed: 'now' | 'kept'): Promise<Attrs> => {
      const planned = this.findImage(image, command, listed).then(async (stored) => {
        refuseOtherPlatform(query.get('platform'), image, stored);
        // As dockerd: neither the create nor the image gives a process to run.
        const runs = withImageDefaults(config, stored);
        if (!('command' in runs) && !('entrypoint' in runs)) throw badRequest('no command specified');
        await imageVolumesMounted(stored);
        const withImage = withImageDefaults(config, stored);
        // The image's STOPSIGNAL, as dockerd copies it into the container's config: its stop's default.
        const stopSignal: Record<string, string> =
          typeof stored.image_stop_signal === 'string' && !labels[LABEL.stopSignal] ? { [LABEL.stopSignal]: stored.image_stop_signal } : {};
        // The image's HEALTHCHECK, unless the create gives its own test or --no-healthcheck.
        const check = effectiveHealthcheck((body as Record<string, unknown>).Healthcheck, stored.image_healthcheck);
        const health: Record<string, string> = check ? { [HEALTHCHECK_LABEL]: JSON.stringify(check) } : {};
        // Config.Volumes as dockerd merges it: the create's (-v /path) and the image's VOLUMEs.
        const declared = [...new Set([...Object.keys(body.Volumes ?? {}), ...stringsOf(stored.image_volumes)])].sort();
        const volumes: Record<string, string> = declared.length > 0 ? { [LABEL.volumes]: JSON.stringify(declared) } : {};
        // Config.ExposedPorts as dockerd merges it: the create's (--expose, compose's expose:, -p) and
        // the image's EXPOSE. Nothing to carry out: every port of a container VM is open at its address.
        const exposing = [...Object.keys(body.ExposedPorts ?? {}), ...Object.keys(host.PortBindings ?? {}), ...stringsOf(stored.exposed_ports)];
        const ports = [...new Set(exposing.map(exposedPortKey))].sort();
        const exposed: Record<string, string> = ports.length > 0 ? { [LABEL.exposedPorts]: JSON.stringify(ports) } : {};
        // -P: every exposed port that -p does not publish, on a free port of every address, as dockerd.
        const asked = new Set(Object.keys(host.PortBindings ?? {}).map(exposedPortKey));
        const all = host.PublishAllPorts === true ? ports.filter((p) => !asked.has(p)) : [];
        const publishAll: Record<string, string> = host.PublishAllPorts === true ? { [LABEL.publishAll]: JSON.stringify(all) } : {};
        return command.plan('container_vm', null, {
          ...withImage,
          ...(all.length > 0
            ? { ports: [...((withImage.ports as Attrs[] | undefined) ?? []), ...portsOf(Object.fromEntries(all.map((p) => [p, [{}]])))] }
            : {}),
          labels: { ...(withImage.labels as Attrs), ...stopSignal, ...health, ...volumes, ...exposed, ...publishAll },
          image_id: String(stored.id),
        });
      });
      planned.catch(() => undefined);
      await nameFree();
      const plan = await planned;
      // Another creator took the name since the lookup: docker's answer for a name in use.
      if (heldByAnother(plan)) await this.refuseHeldName(name);
      const text = problemsText(plan.problems);
      // An image of the kept listing the store no longer has: deleted since, look again.
      if (text && listed === 'kept' && plan.problems.some((p) => p.path[0] === 'image_id')) throw new Error(text);
      if (text) throw badRequest(text);
      return (await command.apply(plan)) as Attrs;
    };
    let made: Attrs;
    try {
      const keptLookups = this.lasting.size > 0 || this.imageList !== undefined;
      try {
        made = await attempt(engine, 'kept');
      } catch (err) {
        // What the endpoint kept may be what vSphere refused (an image, a network or the VCH's
        // folder changed since): once more with everything looked up again. A create that got as
        // far as making the VM finds it again by its BIOS UUID and adopts it.
        if (err instanceof ApiError || !keptLookups || heldByAnother(err)) throw err;
        this.forgetLookups();
        made = await attempt(this.command(), 'now');
      }
    } catch (err) {
      await this.volumes.undo(engine, mounts.made);
      // Another creator took the name since the plan (the create's FindByUuid found its VM).
      if (heldByAnother(err)) await this.refuseHeldName(name);
      throw err;
    }
    const id = containerId(this.remember(made));
    this.setState(id, 'created');
    for (const [other, { at }] of this.justCreated) if (Date.now() - at > JUST_CREATED_MS) this.justCreated.delete(other);
    this.justCreated.set(id, { vm: made, at: Date.now() });
    await this.emitContainer('create', made);
    sendJson(res, 201, { Id: id, Warnings: [] });
  }

  /**
   * Runs a create of container `name` once no other create of that name is under way in this
   * endpoint. A second create of a name, sent while the first one's VM was not marked done yet,
   * found that VM and adopted it as a killed create's: both were answered 201, with the same id.
   * After the first, it finds the name in use (docker's 409). A create without a name gets a new one.
   */
  private oneCreatePerName(name: string | null, create: () => Promise<void>): Promise<void> {
    return name ? this.creating.run(name, create) : create();
  }

  /** Docker's conflict for a name whose container VM another creator made, when a fresh lookup finds it. */
  private async refuseHeldName(name: string): Promise<void> {
    const holder = await this.command().findIn('container_vm', this.vch.id, { name });
    if (holder) throw nameInUse(name, holder);
  }

  /** Applies the container's inputs with one attribute changed (power, labels) through the engine. */
  private async changeContainer(engine: Engine, vm: Attrs, change: Attrs): Promise<Attrs> {
    const plan = await engine.plan('container_vm', vm, { ...inputsOf(vm), ...change });
    const text = problemsText(plan.problems);
    if (text) throw badRequest(text);
    return (await engine.apply(plan)) as Attrs;
  }

  private async startContainer(ref: string, res: ServerResponse): Promise<void> {
    const engine = this.command(true);
    const vm = await this.findContainer(ref, engine);
    this.justCreated.delete(containerId(vm));
    if (dockerState(vm) === 'running') throw new ApiError(304, 'container already started');
    this.refuseStartOffNetworks(vm);
    // A docker cp of the stopped container may hold its VM on (withMaintenance): the copies end first.
    await this.finishMaintenance(containerId(vm));
    const now = await this.changeContainer(engine, vm, { power_state: 'running', ...(await this.bootHosts(vm)) }).catch(async (err: unknown) => {
      // A container just made is not read before its start: removed since, it is docker's 404.
      const still = await this.findContainer(ref);
      // As dockerd does, a --rm container whose start failed is removed: `docker run --rm` waits
      // for that removal before it tells the start's error.
      if (labelsOf(vm)[LABEL.autoRemove] === 'true' && dockerState(still) !== 'running') {
        await this.remove(this.command(), still, false, String(still.name), true).catch((e: unknown) =>
          this.log(`--rm of container ${String(still.name)} after its start failed: ${(e as Error).message}`),
        );
      }
      throw err;
    });
    this.setState(containerId(vm), 'running');
    this.startedBefore.set(containerId(vm), String(vm.started_at ?? ''));
    if (labelsOf(vm)[LABEL.autoRemove] === 'true') {
      this.autoRemove.add(containerId(vm));
      this.ensurePolling();
    }
    if (this.mayHavePeers(now)) void this.namesAfterStart(now);
    this.health.watch(containerId(now), now);
    await this.emitContainer('start', now);
    await this.processReported(now);
    res.writeHead(204);
    res.end();
  }

  /**
   * Waits until the container's process reports that it started in this start (running, or ended
   * already, or waiting out its restart policy's back-off), at most startWaitMs; not for a guest
   * that waits for a free slot of the simulator (`docker ps` says it is queued: that may last),
   * nor when startWaitMs is 0.
   */
  private async processReported(vm: Attrs): Promise<void> {
    const limit = this.options.startWaitMs ?? START_WAIT_MS;
    if (limit <= 0) return;
    const deadline = Date.now() + limit;
    const started = (now: Attrs) => now.guest_queued === true || restarting(now) || this.asStarted(now).started_at != null;
    const reported = await this.processRuns(vm, () => Date.now() > deadline, started);
    if (!reported && Date.now() > deadline) {
      this.log(
        `container ${String(vm.name)}: its process has not reported running ${Math.round(limit / 1000)} s after the power-on; the start returns (the VM is on)`,
      );
    }
  }

  /**
   * stop: the stop signal (SIGTERM, or --signal) to the process, then, when the VM is still on after
   * -t seconds (default 10), a power-off, which ends the process as SIGKILL does (exit code 137). A
   * container whose process never reported running (no tether, or still booting) is powered off at once.
   */
  private async stopContainer(ref: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
    const engine = this.command();
    const vm = await this.findContainer(ref, engine);
    if (dockerState(vm) !== 'running') throw new ApiError(304, 'container already stopped');
    const id = containerId(vm);
    const now = await this.stopRunning(engine, vm, stopTimeout(query, vm), stopSignal(query, vm));
    // The shared poll that saw the process end told its die already (observe): once only.
    const dieTold = this.lastState.has(id) && this.lastState.get(id) !== 'running';
    this.setState(id, dockerState(now));
    await this.settleOutput([now]);
    if (!dieTold) await this.emitContainer('die', now, { exitCode: String(exitCodeOf(now)) });
    await this.emitContainer('stop', now);
    this.namesChanged();
    res.writeHead(204);
    res.end();
    this.ensurePolling();
  }

  /**
   * The stop signal to a running container's process, then a power-off when its VM is still on
   * after `timeout` seconds (negative: no limit; 0, SIGKILL, or a process not reported running: at once).
   */
  private async stopRunning(engine: Engine, vm: Attrs, timeout: number, signal: number): Promise<Attrs> {
    // Between two runs of a restart policy too: the stop's signal ends the guest's wait (it powers
    // off, the last exit code kept), or reaches the process a restart began meanwhile.
    if (timeout !== 0 && signal !== SIGKILL && (vm.status === 'running' || restarting(vm))) {
      // A stop's: the restart policy does not run the process again (dockerd's stopped container).
      await engine.signal('container_vm', vm, signal, true);
      // As dockerd: the signal stop sends is a kill event of its own.
      await this.emitContainer('kill', vm, { signal: String(signal) });
      const now = await this.offWithin(containerId(vm), timeout < 0 ? Infinity : timeout * 1000);
      if (now) return now;
    }
    return this.changeContainer(engine, vm, { power_state: 'stopped' });
  }

  /** The container once its VM is off, looked at with the shared poll; undefined if still on after `ms`. */
  private async offWithin(id: string, ms: number): Promise<Attrs | undefined> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline && !this.closed) {
      const now = (await this.nextLook(id)).find((v) => containerId(v) === id);
      if (now && dockerState(now) !== 'running') return now;
    }
    return undefined;
  }

  /** kill: SIGKILL powers the VM off (exit code 137); any other signal goes to the process, which keeps running unless it ends on it. */
  private async killContainer(ref: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
    const engine = this.command();
    const vm = await this.findContainer(ref, engine);
    if (dockerState(vm) !== 'running') throw conflict(`Cannot kill container: ${ref}: container ${containerId(vm)} is not running`);
    const signal = signalNumber(query.get('signal') || 'KILL');
    if (signal !== SIGKILL) {
      // As dockerd: no process to signal between two runs of a restart policy.
      if (restarting(vm)) throw conflict(`Cannot kill container: ${ref}: Container ${containerId(vm)} is restarting, wait until the container is running`);
      if (vm.status !== 'running') {
        throw conflict(`Cannot kill container: ${ref}: its process has not reported running yet (the guest is booting); try again, or kill it with SIGKILL`);
      }
      await engine.signal('container_vm', vm, signal);
      await this.emitContainer('kill', vm, { signal: String(signal) });
      res.writeHead(204);
      res.end();
      // A process that ends on the signal powers its VM off: the watch tells the die.
      this.ensurePolling();
      return;
    }
    const now = await this.changeContainer(engine, vm, { power_state: 'stopped' });
    this.setState(containerId(vm), dockerState(now));
    await this.settleOutput([now]);
    await this.emitContainer('kill', now, { signal: 'SIGKILL' });
    await this.emitContainer('die', now, { exitCode: String(exitCodeOf(now)) });
    this.namesChanged();
    res.writeHead(204);
    res.end();
    this.ensurePolling();
  }

  /** restart: a stop as docker stop's (SIGTERM, then a power-off after -t seconds, default 10), then a start. */
  private async restartContainer(ref: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
    const engine = this.command();
    let vm = await this.findContainer(ref, engine);
    if (dockerState(vm) === 'running') {
      vm = await this.stopRunning(engine, vm, stopTimeout(query, vm), stopSignal(query, vm));
      await this.settleOutput([vm]);
      await this.emitContainer('die', vm, { exitCode: String(exitCodeOf(vm)) });
    } else await this.finishMaintenance(containerId(vm));
    this.refuseStartOffNetworks(vm);
    const now = await this.changeContainer(engine, vm, { power_state: 'running', ...(await this.bootHosts(vm)) });
    this.setState(containerId(vm), 'running');
    this.startedBefore.set(containerId(vm), String(vm.started_at ?? ''));
    if (this.mayHavePeers(now)) void this.namesAfterStart(now);
    this.health.watch(containerId(now), now);
    await this.emitContainer('start', now);
    await this.emitContainer('restart', now);
    await this.processReported(now);
    res.writeHead(204);
    res.end();
  }

  private async removeContainer(ref: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
    const engine = this.command();
    const vm = await this.findContainer(ref, engine);
    const flag = (key: string) => queryFlag(query, key);
    await this.remove(engine, vm, flag('force'), ref, flag('v'));
    res.writeHead(204);
    res.end();
  }

  /** docker may not remove or rename what an IaC state holds: the state would lose it, or replace it. */
  private refuseManaged(vm: Attrs, what: string): void {
    if (madeByDocker(vm)) return;
    throw conflict(
      `container "${String(vm.name)}" is managed by infrastructure as code (a Terraform, Pulumi or vic state made it, not docker): ${what} docker may stop and start it; the next plan shows that as drift.`,
    );
  }

  /**
   * Removes a container VM docker made; with `volumes` (`rm -v`, and a `--rm` container's removal)
   * its anonymous volumes too, as dockerd does.
   */
  private async remove(engine: Engine, vm: Attrs, force: boolean, ref: string, volumes: boolean): Promise<void> {
    this.refuseManaged(vm, 'remove it from that configuration and apply.');
    await this.finishMaintenance(containerId(vm));
    if (dockerState(vm) === 'running' && !force) {
      throw conflict(`You cannot remove a running container ${containerId(vm)}. Stop the container before attempting removal or force remove`);
    }
    const plan = await engine.plan('container_vm', vm, null);
    const text = problemsText(plan.problems);
    if (text) throw badRequest(`cannot remove ${ref}: ${text}`);
    await engine.apply(plan);
    if (volumes) await this.volumes.removeAnonymous(engine, vm, (text) => this.log(text));
    const id = containerId(vm);
    this.autoRemove.delete(id);
    this.startedBefore.delete(id);
    this.known.delete(id);
    this.justCreated.delete(id);
    if (this.lastState.get(id) === 'running') await this.emitContainer('die', vm, { exitCode: '137' });
    this.setState(id, undefined);
    this.health.forget(id);
    this.namesChanged();
    await this.emitContainer('destroy', vm);
  }

  /**
   * `docker container prune` (and the first step of `docker system prune`): the stopped containers
   * docker made (exited, or created and never started), with dockerd's `until` and `label`
   * filters. Those an IaC state made are left, as `docker rm` leaves them; their volumes stay, as
   * with dockerd. A container that cannot be removed is left and logged. SpaceReclaimed is 0:
   * vic-iac does not read how much of a container's disk is used.
   */
  private async pruneContainers(query: URLSearchParams): Promise<Record<string, unknown>> {
    const filters = parseFilters(query.get('filters'));
    refuseUnknownFilters(filters, ['until', 'label', 'label!'], 'containers to prune');
    const until = (filters.get('until') ?? []).map((v) => untilSeconds(v, Date.now()));
    const engine = this.command();
    const deleted: string[] = [];
    for (const vm of await this.containers(engine)) {
      if (!madeByDocker(vm) || dockerState(vm) === 'running' || !prunable(labelsOf(vm), filters)) continue;
      if (!until.every((t) => createdMs(vm) / 1000 <= t)) continue;
      const gone = await this.remove(engine, vm, false, String(vm.name), false).then(
        () => true,
        (err: unknown) => (this.log(`container prune left ${String(vm.name)}: ${(err as Error).message}`), false),
      );
      if (gone) deleted.push(containerId(vm));
    }
    return { ContainersDeleted: deleted, SpaceReclaimed: 0 };
  }

  /**
   * `docker image prune`: dangling images only, unless `-a` (`dangling=false`); no image of the
   * VCH's store is dangling (each keeps a name, by tag or by digest), so only `-a` removes any: the
   * images no container uses whose names are all docker's (pulled or tagged with docker), each name
   * untagged and then the disk deleted. An image an IaC state holds is never pruned.
   */
  private async pruneImages(query: URLSearchParams): Promise<Record<string, unknown>> {
    const filters = parseFilters(query.get('filters'));
    refuseUnknownFilters(filters, ['dangling', 'until', 'label', 'label!'], 'images to prune');
    const dangling = (filters.get('dangling') ?? ['true']).every((v) => v === 'true' || v === '1');
    if (dangling) return { ImagesDeleted: [], SpaceReclaimed: 0 };
    const until = (filters.get('until') ?? []).map((v) => untilSeconds(v, Date.now()));
    const engine = this.command();
    const [images, vms] = await Promise.all([this.storedImages(engine), this.containers(engine)]);
    const used = new Set(vms.map((vm) => String(vm.image_id)));
    const deleted: Array<Record<string, string>> = [];
    for (const image of images) {
      const holders = { managed: stringsOf(image.managed_references) };
      if (used.has(String(image.id)) || tagsOf(image).some((t) => heldByState(holders, t))) continue;
      if (!prunable((image.labels ?? {}) as Record<string, string>, filters) || !until.every((t) => unixSeconds(image.image_created ?? image.created) <= t))
        continue;
      try {
        const names = tagsOf(image);
        for (const tag of names.slice(0, -1)) await this.untagImage(engine, image, tag);
        const plan = await engine.plan('image', { ...image, reference: names[names.length - 1] }, null);
        const text = problemsText(plan.problems);
        if (text) throw new Error(text);
        await engine.apply(plan);
        this.events.emit({ Type: 'image', Action: 'delete', Actor: { ID: String(image.id), Attributes: { name: names[names.length - 1] } } });
        deleted.push(...names.map((t) => ({ Untagged: displayReference(t) })), { Deleted: String(image.id) });
      } catch (err) {
        this.log(`image prune left ${tagsOf(image).map(displayReference).join(', ')}: ${(err as Error).message}`);
      } finally {
        this.imageList = undefined;
      }
    }
    return { ImagesDeleted: deleted, SpaceReclaimed: 0 };
  }

  /**
   * docker update: `--restart` in place (a running container's guest follows it from its next
   * start), `-m` and `--cpus` on a container that does not run (vSphere changes a VM's CPUs and
   * memory while it is off); another flag is a 400 naming it (updateOf).
   */
  private async updateContainer(ref: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const change = updateOf((await readJsonBody<Record<string, unknown>>(req)) ?? {});
    const engine = this.command();
    const vm = await this.findContainer(ref, engine);
    const name = String(vm.name);
    this.refuseManaged(vm, 'change it in that configuration and apply.');
    const running = dockerState(vm) === 'running';
    const hardware = ('cpus' in change && change.cpus !== vm.cpus) || ('memory_mb' in change && change.memory_mb !== vm.memory_mb);
    if (hardware && running) {
      throw conflict(
        `docker update ${name}: a container VM's CPUs and memory change while it is powered off (vSphere adds neither to it running): docker stop ${name}, docker update, then docker start ${name}`,
      );
    }
    // Its memory and CPUs are now those asked for, no longer a container VM's defaults.
    const asked = new Set<string>([...('memory_mb' in change ? [LABEL.defaultMemory] : []), ...('cpus' in change ? [LABEL.defaultCpus] : [])]);
    const labels = Object.fromEntries(Object.entries(labelsOf(vm)).filter(([k]) => !asked.has(k)));
    await this.changeContainer(engine, vm, { ...change, labels });
    const restartChanged = 'restart' in change && (change.restart !== (vm.restart ?? 'no') || (change.max_restarts ?? null) !== (vm.max_restarts ?? null));
    await this.emitContainer('update', vm);
    sendJson(res, 200, {
      Warnings: running && restartChanged ? [`container ${name} runs: its guest follows the new restart policy from its next start`] : [],
    });
  }

  /** rename: the VM and its name marker get the new name; its BIOS UUID, and so its id, stay. */
  private async renameContainer(ref: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
    if (!query.get('name')) throw badRequest('docker rename: give the new name (docker rename CONTAINER NEW_NAME)');
    const engine = this.command();
    // The container first, as dockerd: a missing one is the error, whatever the new name.
    const vm = await this.findContainer(ref, engine);
    const newName = dockerContainerName(String(query.get('name')));
    const oldName = String(vm.name);
    if (newName === oldName) throw conflict(`Renaming a container with the same name as its current name: "${oldName}"`);
    this.refuseManaged(vm, 'change its name in that configuration and apply (which replaces the container VM).');
    const taken = await engine.findIn('container_vm', this.vch.id, { name: newName });
    if (taken) {
      throw conflict(
        `Error when allocating new name: Conflict. The container name "/${newName}" is already in use by container "${containerId(taken)}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    let now: Attrs;
    try {
      now = await engine.rename('container_vm', vm, newName);
    } catch (err) {
      const problems = (err as { problems?: readonly Problem[] }).problems;
      if (problems?.some((p) => p.summary === 'Name in use')) throw conflict((err as Error).message);
      if (problems && problems.length > 0) throw badRequest(`docker rename ${oldName} ${newName}: ${(err as Error).message}`);
      throw err;
    }
    await this.emitContainer('rename', now, { oldName: `/${oldName}` });
    this.namesChanged();
    res.writeHead(204);
    res.end();
  }

  /** wait: the headers go out at once (the CLI waits for them before it starts the container), the body when the condition holds. */
  private async waitContainer(ref: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const condition = query.get('condition') || 'not-running';
    if (!['not-running', 'next-exit', 'removed'].includes(condition))
      throw badRequest(`invalid condition: "${condition}": use not-running, next-exit or removed`);
    const vm = this.createdJustNow(ref) ?? (await this.findContainer(ref));
    const id = containerId(vm);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    let gone = false;
    req.on('close', () => (gone = true));
    res.on('close', () => (gone = true));
    const firstFinish = vm.finished_at;
    let seenRunning = dockerState(vm) === 'running';
    let last = vm;
    const done = (now: Attrs | undefined): boolean => {
      if (!now) return true;
      last = now;
      const running = dockerState(now) === 'running';
      if (running) seenRunning = true;
      if (condition === 'not-running') return !running;
      // A new exit: seen running and now not, or an end newer than when the wait began.
      const exited = !running && (seenRunning || (now.finished_at !== firstFinish && now.finished_at !== null));
      return condition === 'next-exit' && exited;
    };
    const settled = await this.until(
      id,
      (vms) => {
        if (gone) return true;
        const now = vms.find((v) => containerId(v) === id);
        if (condition === 'removed') {
          if (now) done(now);
          return now === undefined;
        }
        return done(now);
      },
      () => gone,
    );
    if (gone || !settled) return;
    res.end(JSON.stringify({ StatusCode: exitCodeOf(last), Error: null }));
  }

  /** The container of id `ref` as its create left it, while it is new (see justCreated); else undefined. */
  private createdJustNow(ref: string): Attrs | undefined {
    const entry = this.justCreated.get(ref);
    this.justCreated.delete(ref);
    return entry && Date.now() - entry.at <= JUST_CREATED_MS ? entry.vm : undefined;
  }

  /**
   * Resolves once `check` says so over the containers a look read, container `id` among them unless
   * it is gone (one shared poll for every waiter); false when the endpoint closes. A waiter whose
   * client left (`gone`) is let go without a look.
   */
  private until(id: string, check: (vms: readonly Attrs[]) => boolean, gone: () => boolean = () => false): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter = (vms: readonly Attrs[]) => {
        if (this.closed) {
          this.waiters.delete(waiter);
          resolve(false);
        } else if (check(vms)) {
          this.waiters.delete(waiter);
          resolve(true);
        }
      };
      this.waiters.set(waiter, { gone, id });
      this.ensurePolling('waiter');
    });
  }

  private ensurePolling(why: 'waiter' | 'look' = 'look'): void {
    if (why === 'look') this.lookWanted = true;
    if (this.polling || this.closed) return;
    this.polling = true;
    const tick = async () => {
      this.lastTickAt = Date.now();
      const wanted = this.lookWanted;
      this.lookWanted = false;
      // docker run -d opens a wait before the start and drops it once the container started: a
      // look for waiters that all left would read the whole VCH after every run, for no one.
      for (const [w, { gone }] of [...this.waiters]) if (gone()) w([]);
      if (!wanted && !this.closed && this.waiters.size === 0 && this.autoRemove.size === 0 && this.events.listeners === 0) {
        this.polling = false;
        return;
      }
      // Who waits now: each is handed this look, which reads its container. One who comes while it
      // reads waits for the next one (this look may not have read its container).
      const waiting = [...this.waiters];
      try {
        const lookedAt = Date.now();
        const vms = await this.look(wanted);
        await this.settleOutput(vms, new Set(waiting.map(([, { id }]) => id)));
        this.observe(vms, lookedAt);
        for (const [w] of waiting) if (this.waiters.has(w)) w(vms);
        await this.removeExited(vms);
      } catch (err) {
        this.log(`watching containers: ${(err as Error).message}`);
      }
      // Someone reading `docker events` also keeps it going: containers that end by themselves are `die` events.
      if (!this.closed && (this.waiters.size > 0 || this.autoRemove.size > 0 || this.events.listeners > 0)) setTimeout(() => void tick(), this.pollMs).unref();
      else {
        this.polling = false;
        for (const w of [...this.waiters.keys()]) w([]);
      }
    };
    // Looks stay pollMs apart even when the poll stopped and starts again. A new waiter has just
    // read its container itself: its first look is pollMs later, by when the client may have left.
    const wait = why === 'waiter' ? this.pollMs : Math.max(0, this.lastTickAt + this.pollMs - Date.now());
    setTimeout(() => void tick(), wait).unref();
  }

  /**
   * What a tick of the poll reads: the containers its waiters and --rm wait on, each by its id (a
   * read per container, whatever the VCH holds), or the whole VCH in one listing when someone
   * watches every container (`docker events`, the `die` of a stop or kill) or many are waited on.
   */
  private async look(everyone: boolean): Promise<Attrs[]> {
    const engine = this.command();
    const ids = new Set([...this.autoRemove, ...[...this.waiters.values()].map((w) => w.id)]);
    const seen = [...ids].map((id) => this.known.get(id));
    if (everyone || this.events.listeners > 0 || ids.size > FEW || seen.some((k) => k === undefined)) return this.containers(engine);
    const found = await Promise.all(seen.map((k) => engine.findIn('container_vm', this.vch.id, { id: k!.uuid, moid: k!.moid })));
    return found.filter((vm): vm is Attrs => vm !== null).map((vm) => this.remember(vm));
  }

  /**
   * Containers that ended on their own (the guest powered off) since the last look: `die` events. A
   * container whose state a request set after the look began (`lookedAt`) is left as that request
   * set it: a start that ended while the look read must not read as not running (its peers would
   * not learn its name), nor a stop's `die` be told again.
   */
  private observe(vms: readonly Attrs[], lookedAt: number): void {
    for (const vm of vms) {
      const id = containerId(vm);
      if ((this.stateSetAt.get(id) ?? -Infinity) >= lookedAt) continue;
      // A restart policy's end and new run inside the VM are a die and a start, as dockerd tells them.
      const state = shownState(vm);
      const last = this.lastState.get(id);
      if (last === 'running' && state !== 'running') void this.emitContainer('die', vm, { exitCode: String(exitCodeOf(vm)) });
      if (last === 'restarting' && state === 'running') void this.emitContainer('start', vm);
      this.lastState.set(id, state);
    }
    // A removed container's mark outlives it for a while, against looks that were under way.
    for (const [id, at] of this.stateSetAt) if (!this.lastState.has(id) && lookedAt - at > STATE_MARK_MS) this.stateSetAt.delete(id);
  }

  /** A container's state as a request of this endpoint set it (undefined: removed), and when. */
  private setState(id: string, state: DockerState | undefined): void {
    if (state === undefined) this.lastState.delete(id);
    else this.lastState.set(id, state);
    this.stateSetAt.set(id, Date.now());
  }

  private async removeExited(vms: readonly Attrs[]): Promise<void> {
    for (const id of [...this.autoRemove]) {
      const vm = vms.find((v) => containerId(v) === id);
      if (!vm) {
        this.autoRemove.delete(id);
        continue;
      }
      if (dockerState(vm) !== 'exited') continue;
      this.autoRemove.delete(id);
      await this.remove(this.command(), vm, false, String(vm.name), true).catch((err: unknown) =>
        this.log(`--rm of container ${String(vm.name)}: ${(err as Error).message}`),
      );
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Output: logs and attach, from the VM's console file

  /**
   * `docker stats`: one sample (stream=false) or one a second until the client leaves (the
   * default), each a read of the VM's quick stats (src/endpoint/stats.ts).
   */
  private async stats(ref: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const engine = this.command();
    const vm = await this.findContainer(ref, engine);
    const subject = { id: containerId(vm), name: String(vm.name ?? '') };
    const moid = String(vm.moid ?? '');
    const sample = async () => {
      const usage = await engine.readContainerUsage(moid);
      return usage ? dockerStats(subject, usage, new Date()) : undefined;
    };
    // As dockerd: a stream unless told otherwise (absent is true here).
    const stream = !query.has('stream') || queryFlag(query, 'stream');
    if (!stream) {
      const one = await sample();
      if (!one) throw notFound(`No such container: ${ref}`);
      return sendJson(res, 200, one);
    }
    let gone = false;
    req.on('close', () => (gone = true));
    res.on('close', () => (gone = true));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    while (!gone && !this.closed) {
      const next = await sample();
      // The container VM went away (docker rm from another client): the stream ends, as docker's does.
      if (!next || gone) break;
      res.write(`${JSON.stringify(next)}\n`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    res.end();
  }

  private async logs(ref: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const flag = (k: string) => queryFlag(query, k);
    const vm = await this.findContainer(ref);
    const tailText = query.get('tail') ?? 'all';
    // As dockerd: a negative number is all of them too (dockerode sends -1).
    const tail = tailText === 'all' || tailText === '' || /^-\d+$/.test(tailText) ? undefined : Number(tailText);
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw badRequest(`--tail ${tailText}: expected a whole number of lines or "all"`);
    const since = Number(query.get('since') ?? 0);
    const until = Number(query.get('until') ?? 0);
    const want = { stdout: flag('stdout'), stderr: flag('stderr') };
    const tty = vm.tty === true;
    res.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
    res.flushHeaders();
    let gone = false;
    res.on('close', () => (gone = true));
    const keep = (l: OutputLine) => {
      const t = Date.parse(l.time) / 1000;
      return want[l.stream] && (since <= 0 || t >= since) && (until <= 0 || t <= until);
    };
    const write = (lines: readonly OutputLine[]) => {
      for (const l of lines) res.write(outputChunk(tty, l, flag('timestamps')));
    };
    await this.streamOutput(vm, {
      from: 'start',
      follow: flag('follow'),
      untilExit: false,
      gone: () => gone,
      first: (lines) => {
        const kept = lines.filter(keep);
        write(tail === undefined ? kept : kept.slice(Math.max(0, kept.length - tail)));
      },
      next: (lines) => write(lines.filter(keep)),
    });
    res.end();
  }

  private async attach(ref: string, query: URLSearchParams, stream: OutputStream): Promise<void> {
    const flag = (k: string) => queryFlag(query, k);
    const vm = await this.findContainer(ref);
    const tty = vm.tty === true;
    const detachKeys = detachKeysOf(query.get('detachKeys'));
    const socket = stream.begin('application/vnd.docker.raw-stream');
    let gone = false;
    // The CLI half-closes its side when it has no stdin to send (or its stdin ended): only a full
    // close means it left.
    socket.on('close', () => (gone = true));
    const tell = (line: OutputLine) => {
      if (!gone) socket.write(outputChunk(tty, line, false));
    };
    // Without an open stdin (no -i), input is read and dropped, as dockerd does. On a terminal the
    // detach keys end this attach, and the container runs on.
    const detached = () => {
      gone = true;
      socket.end();
    };
    const soon = readSoon();
    if (flag('stdin') && vm.stdin_open === true && stream.input)
      this.attachInput(vm, socket, () => gone, tell, tty ? { keys: detachKeys, detached } : undefined, soon.after);
    else socket.resume();
    const want = { stdout: flag('stdout'), stderr: flag('stderr') };
    const write = (lines: readonly OutputLine[]) => {
      for (const l of lines) if (want[l.stream]) tell(l);
    };
    // A run that waits for a free guest slot of the simulator says so once, rather than nothing at all.
    let queuedTold = false;
    const seen = (now: Attrs) => {
      if (now.guest_queued !== true || queuedTold || !want.stderr) return;
      queuedTold = true;
      const message = `vic-iac: ${queuedNotice(now, 'it starts when one frees')}`;
      tell({ stream: 'stderr', time: new Date().toISOString(), data: Buffer.from(`${message}\n`), text: message });
    };
    await this.streamOutput(vm, { from: 'end', follow: flag('stream'), untilExit: true, gone: () => gone, first: write, next: write, reads: soon.set, seen });
    if (!gone) socket.end();
  }

  /**
   * Resolves true once the container's process runs and has reported so in this start (a guest
   * still booting has not; a container started again shows the last run's report until then), false
   * when it never will: it ended, was removed, or the client left (`gone`), or when `stop` says so of
   * the container as now read.
   */
  private processRuns(vm: Attrs, gone: () => boolean = () => false, stop: (now: Attrs) => boolean = () => false): Promise<boolean> {
    const id = containerId(vm);
    let seenRunning = false;
    const readiness = (now: Attrs | undefined): boolean | undefined => {
      if (!now || gone() || stop(now)) return false;
      if (dockerState(now) !== 'running') return seenRunning ? false : undefined;
      seenRunning = true;
      return now.status === 'running' && this.asStarted(now).started_at != null ? true : undefined;
    };
    const first = readiness(vm);
    if (first !== undefined) return Promise.resolve(first);
    return new Promise<boolean>((resolve) => {
      void this.until(
        id,
        (vms) => {
          const answer = readiness(vms.find((v) => containerId(v) === id));
          if (answer !== undefined) resolve(answer);
          return answer !== undefined;
        },
        gone,
      );
    });
  }

  /**
   * The attach's input, to the container's process once it reports that it runs (this start's
   * process: a container started again shows the last run's report until its guest's comes).
   * Refused input is said on the attach's stderr; input after the process ended goes nowhere.
   */
  private attachInput(
    vm: Attrs,
    socket: Duplex,
    gone: () => boolean,
    tell: (line: OutputLine) => void,
    detach: AttachedInputOptions['detach'],
    sent: () => void,
  ): void {
    const ready = this.processRuns(vm, gone);
    new AttachedInput({
      socket,
      ready,
      detach,
      sent,
      closeOnEnd: labelsOf(vm)[LABEL.stdinOnce] === 'true' && vm.tty !== true,
      send: (data, eof) => this.command().input('container_vm', vm, data, eof),
      refused: (err) => {
        // A process that ended takes no more input, which needs no word; anything else is said.
        if (err instanceof NotRunningError) return;
        const message = err instanceof InputUnreachableError ? err.message : `input for container ${String(vm.name)} stopped: ${(err as Error).message}`;
        tell({ stream: 'stderr', time: new Date().toISOString(), data: Buffer.from(`${message}\n`), text: message });
        if (!(err instanceof ResourceError)) this.log(message);
      },
    });
  }

  // ---------------------------------------------------------------------------------------------
  // docker exec

  private async createExec(ref: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readJsonBody<ExecCreateBody>(req)) ?? {};
    const vm = await this.findContainer(ref);
    if (vm.guest_queued === true) throw new ApiError(409, queuedNotice(vm, 'docker exec cannot reach it yet'));
    // A container whose guest still boots (just started, restarted) is waited for: docker exec
    // right after docker start or restart runs once the process does.
    if (dockerState(vm) !== 'running' || !(await this.processRuns(vm, () => res.destroyed)))
      throw new ApiError(409, `Container ${containerId(vm)} is not running`);
    const e = newExec(containerId(vm), body);
    // Kept for docker exec's inspect after its end; the oldest ended ones go beyond a bound.
    this.execs.set(e.id, e);
    for (const [id, old] of this.execs) {
      if (this.execs.size <= MAX_EXECS) break;
      if (old.state !== 'running') this.execs.delete(id);
    }
    await this.emitContainer(`exec_create: ${e.request.argv.join(' ')}`, vm, { execID: e.id });
    sendJson(res, 201, { Id: e.id });
  }

  private async routeExec(method: string, id: string, action: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const e = this.execs.get(id);
    if (!e) throw notFound(`No such exec instance: ${id}`);
    if (method === 'GET' && action === 'json') return sendJson(res, 200, execInspect(e));
    if (method === 'POST' && action === 'resize') {
      const size = terminalSize(query);
      // Its process started before the CLI sizes its terminal (the request goes ahead of the size).
      if (size && e.request.tty === true && e.state === 'running') {
        const vm = await this.findContainer(e.containerId);
        await this.command()
          .resize('container_vm', vm, size.rows, size.cols, e.guestId)
          .catch((err: unknown) => this.sizeRefused(err, `exec ${id}`));
      }
      res.writeHead(201).end();
      return;
    }
    if (method === 'POST' && action === 'start') {
      const body = (await readJsonBody<{ Detach?: boolean }>(req)) ?? {};
      if (!body.Detach) return this.startExec(id, responseStream(res));
      await this.startExec(id, undefined);
      res.writeHead(200).end();
      return;
    }
    throw notFound(`${method} /exec/${id}/${action}`);
  }

  /**
   * The size of a running container's terminal: sent once its process runs (the CLI sizes it right
   * after the start, while the guest boots), only the latest of the sizes asked for meanwhile.
   */
  private resizeTerminal(vm: Attrs, size: { rows: number; cols: number }): void {
    const id = containerId(vm);
    const waiting = this.pendingSizes.has(id);
    this.pendingSizes.set(id, size);
    if (waiting) return;
    void this.processRuns(vm)
      .then(async (runs) => {
        const latest = this.pendingSizes.get(id) ?? size;
        this.pendingSizes.delete(id);
        if (runs) await this.command().resize('container_vm', vm, latest.rows, latest.cols);
      })
      .catch((err: unknown) => this.sizeRefused(err, `container ${String(vm.name)}`));
  }

  /** A size that did not reach the guest: its process ended meanwhile (nothing to say), or its guest takes no input (vSphere's). */
  private sizeRefused(err: unknown, whose: string): void {
    if (err instanceof NotRunningError || err instanceof InputUnreachableError) return;
    this.log(`the terminal size of ${whose}: ${(err as Error).message}`);
  }

  /**
   * Starts the exec's process in the guest and, attached (`stream`), streams its output from the
   * console (its own frames, from where the file ended before the request) and sends it the
   * client's stdin (an upgraded connection's), until its exit code comes; detached, follows it for
   * its exit code alone. A container that stops first ends it with 137, as a killed process.
   */
  private async startExec(id: string, stream: OutputStream | undefined): Promise<void> {
    const e = this.execs.get(id);
    if (!e) throw notFound(`No such exec instance: ${id}`);
    if (e.state !== 'created') throw new ApiError(409, `exec ${id} has been started already`);
    // Taken before any wait: a second start of it meanwhile is the 409 above.
    e.state = 'running';
    const engine = this.command();
    let vm: Attrs;
    let from: number;
    try {
      vm = await this.findContainer(e.containerId, engine);
      from = await this.sendExec(vm, e.guestId, e.request, 'docker exec');
    } catch (err) {
      e.state = 'created';
      throw err;
    }
    await this.emitContainer(`exec_start: ${e.request.argv.join(' ')}`, vm, { execID: e.id });
    const tty = e.request.tty === true;
    let gone = false;
    let input: AttachedInput | undefined;
    const soon = readSoon();
    const socket = stream?.begin(`application/vnd.docker.${tty ? 'raw' : 'multiplexed'}-stream`);
    if (socket) {
      socket.on('close', () => (gone = true));
      if (e.attach.stdin && stream?.input) {
        const detached = () => {
          gone = true;
          socket.end();
        };
        input = new AttachedInput({
          socket,
          ready: Promise.resolve(true),
          sent: soon.after,
          detach: tty ? { keys: e.detachKeys, detached } : undefined,
          // The end of the client's input (or the client gone) is the end of the exec's, as
          // dockerd closes an exec's stdin; a terminal gets the byte Ctrl-D sends. A detach does not.
          closeOnEnd: true,
          send: (data, eof) => this.command().input('container_vm', vm, data, eof, e.guestId),
          refused: (err) => {
            if (!(err instanceof ResourceError)) this.log(`input for exec ${id}: ${(err as Error).message}`);
          },
        });
      } else socket.resume();
    }
    const write = (lines: readonly OutputLine[]) => {
      if (!socket || gone) return;
      for (const l of lines) if (e.attach[l.stream]) socket.write(outputChunk(tty, l, false));
    };
    const follow = this.followExec(vm, e.guestId, from, write, soon.set, `exec ${id}`).then(async (exitCode) => {
      input?.stop();
      e.state = 'exited';
      e.exitCode = exitCode;
      await this.emitContainer('exec_die', vm, { execID: e.id, exitCode: String(e.exitCode) }).catch(() => undefined);
      if (socket && !gone) socket.end();
    });
    if (socket) await follow;
  }

  // ---------------------------------------------------------------------------------------------
  // docker top

  /**
   * The container's processes, as the guest's tether reads them from its /proc: `ps -ef`'s columns,
   * the tether (PID 1) and the kernel's threads left out. Only `ps -ef`'s own view is served.
   */
  private async top(ref: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
    const args = (query.get('ps_args') ?? '').trim();
    if (args !== '' && args !== '-ef')
      throw badRequest(
        `docker top with ps options (${args}) is not supported by vic-iac: the guest lists its processes as ps -ef does; run docker top CONTAINER without them, or docker exec CONTAINER ps ${args} where the image has ps`,
      );
    const vm = await this.findContainer(ref);
    const out = new KeptOutput();
    const exitCode = await this.guestCall(vm, { argv: [], processes: true }, 'docker top', res, `Container ${containerId(vm)} is not running`, out.write);
    if (exitCode !== 0) throw guestFailure('docker top', String(vm.name), exitCode, out.stderr);
    sendJson(res, 200, JSON.parse(out.stdout.toString('utf8')));
  }

  // ---------------------------------------------------------------------------------------------
  // docker diff

  /**
   * What the container changed in its root filesystem (changes.ts): its guest lists its files (a
   * stopped container's through a maintenance boot, as docker cp), and the listing is compared with
   * the one kept beside its image's disk since the pull.
   */
  private async changes(ref: string, res: ServerResponse): Promise<void> {
    const engine = this.command();
    const vm = await this.findContainer(ref, engine);
    const name = String(vm.name);
    const image = (await this.storedImages(engine)).find((i) => i.id === vm.image_id);
    if (!image) throw new ApiError(500, `docker diff of ${name}: its image ${String(vm.image_id)} is not in the VCH's image store`);
    const kept = await engine.keptFile('image', image, 'listing');
    if (!kept) {
      throw new ApiError(
        409,
        `docker diff of ${name}: its image ${displayReference(String(image.reference))} was stored by an older vic-iac, which kept no listing of its files to compare with. Remove the containers of that image and the image, then pull it again`,
      );
    }
    const out = new KeptOutput();
    const exitCode = await this.guestCallAnyState(vm, { argv: [], files: true }, 'docker diff', res, out.write);
    if (exitCode !== 0) throw guestFailure('docker diff', name, exitCode, out.stderr);
    const before = parseListing(kept, `the file listing of image ${String(image.id)}`);
    const now = parseListing(out.stdout, `the file listing container ${name}'s guest sent`);
    sendJson(res, 200, changesBetween(before, now));
  }

  // ---------------------------------------------------------------------------------------------
  // docker cp

  /**
   * `HEAD` (the path's stat), `GET` (a tar of it) and `PUT` (a tar extracted into it) of a path in a
   * running container, carried out by its guest (archive.ts). A container that does not run is
   * refused: its files are on a disk only its guest reads.
   */
  // ---------------------------------------------------------------------------------------------
  // Names: the peers on a container's port groups in its /etc/hosts (peer-names.ts)

  /** Once a container's process runs and its address is known, its peers and it learn each other's names. */
  private async namesAfterStart(vm: Attrs): Promise<void> {
    const id = containerId(vm);
    // Bounded: a guest that never reports its process (vSphere's tether, which takes no file either) ends the watch.
    const until = Date.now() + NAMES_WATCH_MS;
    if (!(await this.processRuns(vm, () => this.closed || Date.now() > until))) return;
    const bridge = this.bridgePortGroup;
    // Whether a container on its port groups ran without an address yet when its own was known.
    let awaiting = false;
    const addressed = await this.until(
      id,
      (vms) => {
        const now = vms.find((v) => containerId(v) === id);
        if (!now || dockerState(now) !== 'running') return true;
        if (addressOf(now) === undefined) return false;
        awaiting = peersAwaitingAddress(now, vms, bridge).length > 0;
        return true;
      },
      () => Date.now() > until,
    );
    if (!addressed) return;
    this.scheduleNames();
    if (!awaiting) return;
    // Containers started side by side (compose up): the one whose start ended first may have found
    // no peer running and opened no watch of its own, so this one waits for its address too.
    const peersUntil = Date.now() + NAMES_WATCH_MS;
    const settled = await this.until(
      id,
      (vms) => {
        const now = vms.find((v) => containerId(v) === id);
        return !now || dockerState(now) !== 'running' || peersAwaitingAddress(now, vms, bridge).length === 0;
      },
      () => Date.now() > peersUntil,
    );
    if (settled) this.scheduleNames();
  }

  /**
   * The extra_hosts a docker-made container is started with: its own (--add-host), then the
   * containers beside it that run with an address now, which its guest writes into /etc/hosts at
   * boot, so that its process finds them by name from its first moment, as with dockerd's DNS
   * (those that come later reach the file through the endpoint's writes). Nothing when they are
   * what it has; an IaC-made container's are its configuration's, never changed here.
   */
  private async bootHosts(vm: Attrs): Promise<Attrs> {
    if (!madeByDocker(vm)) return {};
    const wanted = this.mayHavePeers(vm) ? bootHostEntries(vm, await this.peersAtBoot(vm)) : userExtraHosts(vm);
    const has = Array.isArray(vm.extra_hosts) ? vm.extra_hosts.map(String) : [];
    if (JSON.stringify(wanted) === JSON.stringify(has)) return {};
    return { extra_hosts: wanted.length > 0 ? wanted : null };
  }

  /**
   * The containers beside `vm` that run with an address, once those that boot without one yet
   * (a service compose started a moment before, as its depends_on asks) have it: its process then
   * finds them by name from its start, as with dockerd. Only a peer this endpoint started less than
   * BOOT_PEERS_WAIT_MS ago is waited for, until then at most: not one waiting for a guest slot, nor
   * one on since before (a guest that never reports an address would hold every start up).
   */
  private async peersAtBoot(vm: Attrs): Promise<Attrs[]> {
    const bridge = this.bridgePortGroup;
    const look = async () => (await this.containers(this.command())).map((v) => this.asStarted(v));
    const justStarted = (p: Attrs) =>
      this.lastState.get(containerId(p)) === 'running' && Date.now() - (this.stateSetAt.get(containerId(p)) ?? -Infinity) < BOOT_PEERS_WAIT_MS;
    const booting = (vms: readonly Attrs[]) => peersAwaitingAddress(vm, vms, bridge).filter((p) => p.guest_queued !== true && justStarted(p));
    const deadline = Date.now() + BOOT_PEERS_WAIT_MS;
    let vms = await look();
    while (booting(vms).length > 0 && !this.closed) {
      if (Date.now() > deadline) {
        this.log(
          `container names: ${String(vm.name)} starts before ${booting(vms)
            .map((p) => String(p.name))
            .join(', ')} had an address; their names reach it once they do`,
        );
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
      vms = await look();
    }
    return peersOf(vm, vms, bridge);
  }

  /**
   * Whether a container just started may have peers to name: another container this endpoint saw
   * running, a file it wrote names into, or a link. Else no watch is opened (a lone `docker run -d`
   * reads nothing more after its start).
   */
  private mayHavePeers(vm: Attrs): boolean {
    // As dockerd, which names containers on its user networks (and links), not on its default bridge:
    // a plain docker run -d opens no watch and reads nothing more after its start.
    const labels = labelsOf(vm);
    const named = NETWORK_LABEL in labels || COMPOSE_PROJECT_LABEL in labels || NAME_LABELS.aliases in labels || linksOf(vm).length > 0;
    const id = containerId(vm);
    return named && (this.hostsWritten.size > 0 || linksOf(vm).length > 0 || [...this.lastState].some(([other, state]) => other !== id && state === 'running'));
  }

  /** A container stopped, went or was renamed: the files that name it are written again (none written: nothing to do). */
  private namesChanged(): void {
    if (this.hostsWritten.size > 0) this.scheduleNames();
  }

  /** One refresh of the names at a time; a change meanwhile asks for one more after it. */
  private scheduleNames(): void {
    if (this.namesRun) {
      this.namesAgain = true;
      return;
    }
    this.namesRun = (async () => {
      do {
        this.namesAgain = false;
        await this.refreshNames().catch((err: unknown) => this.log(`container names: ${(err as Error).message}`));
      } while (this.namesAgain && !this.closed);
    })().finally(() => (this.namesRun = undefined));
  }

  /**
   * Writes each running container's /etc/hosts where its peers changed since its last write (in
   * this boot: a boot writes the file afresh). A container with no peer that was never written is
   * left as its tether wrote it. A write that fails or hangs is logged and tried again a few
   * seconds later, up to NAMES_WRITE_TRIES times a boot (vSphere's tether does not read exec
   * requests yet), so one lost write neither leaves a name out nor holds up the others.
   */
  private async refreshNames(): Promise<void> {
    const vms = (await this.containers(this.command())).map((vm) => this.asStarted(vm));
    const bridge = this.bridgePortGroup;
    for (const vm of vms) {
      if (this.closed) return;
      if (dockerState(vm) !== 'running' || vm.status !== 'running' || vm.guest_queued === true || addressOf(vm) === undefined) continue;
      const id = containerId(vm);
      const boot = `${String(vm.started_at ?? '')}\n`;
      const before = this.hostsWritten.get(id);
      const peers = peersOf(vm, vms, bridge);
      // Peers it booted with (bootHosts), which its guest wrote one name a line: the file is written
      // once after the boot too, in this form, and again when they change.
      const bootPeers = (Array.isArray(vm.extra_hosts) ? vm.extra_hosts.length : 0) > userExtraHosts(vm).length;
      if (peers.length === 0 && !bootPeers && !before?.startsWith(boot)) continue;
      const content = hostsFile(vm, peers);
      if (before === boot + content) continue;
      this.hostsWritten.set(id, boot + content);
      this.log(`container names: ${String(vm.name)}'s /etc/hosts names ${peers.map((p) => String(p.name)).join(', ') || 'no peer'}`);
      await this.writeGuestFile(vm, '/etc', 'hosts', content, NAMES_WRITE_MS).catch((err: unknown) => {
        const failed = this.namesFailed.get(id);
        const tries = failed?.boot === boot ? failed.tries + 1 : 1;
        this.namesFailed.set(id, { boot, tries });
        const again = tries < NAMES_WRITE_TRIES && !this.closed;
        this.log(
          `the names of container ${String(vm.name)}'s peers were not written to its /etc/hosts (try ${tries} of ${NAMES_WRITE_TRIES}${again ? '; trying again' : ''}): ${(err as Error).message}`,
        );
        if (!again) return;
        // Forgotten, so that the next refresh writes it again.
        this.hostsWritten.delete(id);
        setTimeout(() => this.scheduleNames(), 2000).unref();
      });
    }
    for (const id of [...this.namesFailed.keys()]) if (!vms.some((vm) => containerId(vm) === id)) this.namesFailed.delete(id);
    for (const id of [...this.hostsWritten.keys()]) if (!vms.some((vm) => containerId(vm) === id)) this.hostsWritten.delete(id);
  }

  /**
   * Runs a health check's process in the container's guest, as docker exec does, for up to
   * `timeoutMs`: its exit code and what it wrote (stdout and stderr together, as dockerd keeps it).
   */
  private async probe(vm: Attrs, argv: readonly string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const guestId = randomBytes(8).toString('hex');
    const soon = readSoon();
    const from = await this.sendExec(vm, guestId, { argv }, 'the health check');
    soon.after();
    let output = '';
    const exited = this.followExec(
      vm,
      guestId,
      from,
      (lines) => (output += lines.map((l) => l.data.toString('utf8')).join('')),
      soon.set,
      `health check of ${String(vm.name)}`,
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs).unref()));
    const exitCode = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (exitCode === undefined) return { exitCode: -1, output: `Health check exceeded timeout (${timeoutMs / 1000}s)` };
    return { exitCode, output };
  }

  /** dockerd's event of a health change: `health_status: healthy`. */
  private async emitHealth(vm: Attrs, status: HealthStatus): Promise<void> {
    await this.emitContainer(`health_status: ${status}`, vm);
  }

  /** Writes one file into a running container, as docker cp does (the tether's archive channel). */
  private async writeGuestFile(vm: Attrs, dir: string, name: string, content: string, timeoutMs: number): Promise<void> {
    const tar = await tarOfFile(name, content);
    const request = archiveRequest('PUT', new URLSearchParams({ path: dir }));
    const guestId = randomBytes(8).toString('hex');
    const soon = readSoon();
    const from = await this.sendExec(vm, guestId, { argv: [], archive: request }, 'the names of its peers');
    soon.after();
    const out = new ArchiveOutput({});
    let abandoned = false;
    const exited = this.followExec(
      vm,
      guestId,
      from,
      (lines) => out.write(lines),
      soon.set,
      `names of ${String(vm.name)}'s peers`,
      () => abandoned,
    );
    await this.command().input('container_vm', vm, tar, true, guestId);
    soon.after();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs).unref()));
    const exitCode = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (exitCode === undefined) {
      // Its reading of the console ends too.
      abandoned = true;
      throw new Error(`the guest did not answer within ${timeoutMs / 1000} s`);
    }
    if (exitCode !== 0) throw archiveFailure(exitCode, out.stderr, `${dir}/${name}`, String(vm.name));
  }

  /**
   * docker export: the container's root filesystem as one tar (the guest's tether writes it; a
   * stopped container's through a maintenance boot). The entries are named `./bin/…`; what is
   * mounted in the container (volumes, /proc, /sys, /dev, the tmpfs on /tmp) comes as its empty
   * mount point, as dockerd's export of the container's own filesystem leaves it out.
   */
  private async exportContainer(ref: string, res: ServerResponse): Promise<void> {
    const vm = await this.findContainer(ref);
    const name = String(vm.name);
    let started = false;
    const { exitCode, stderr } = await this.readRootFilesystem(vm, 'docker export', res, {
      head: () => {
        started = true;
        res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      },
      body: (data: Buffer) => void res.write(data),
    });
    if (exitCode !== 0) {
      const failure = guestFailure('docker export', name, exitCode, stderr);
      if (!started) throw failure;
      // The tar was under way: the client sees it cut short, as with dockerd.
      this.log(failure.message);
      res.destroy();
      return;
    }
    await this.emitContainer('export', vm);
    res.end();
  }

  /**
   * The container's root filesystem as one tar, written by its guest (a stopped container's in a
   * maintenance boot): what is mounted in it comes as its empty mount point (docker export, commit).
   */
  private async readRootFilesystem(
    vm: Attrs,
    what: string,
    res: ServerResponse,
    sink: ConstructorParameters<typeof ArchiveOutput>[0],
  ): Promise<{ exitCode: number; stderr: string }> {
    // A get: its first line is the path's stat, then the tar (the head is what tells ArchiveOutput so).
    const out = new ArchiveOutput({ head: () => undefined, ...sink });
    const request = { argv: [], archive: { op: 'get' as const, path: '/', one_filesystem: true } };
    const exitCode = await this.guestCallAnyState(vm, request, what, res, (lines) => out.write(lines));
    return { exitCode, stderr: out.stderr };
  }

  /**
   * docker commit: a new image of the container's files, its root filesystem as docker export writes
   * it (read by its guest; a stopped container's through a maintenance boot), with the container's
   * config, the changes (`-c`) over it, and its author and comment (`-a`, `-m`). The image is stored
   * as a pulled one is (the image pipeline's flatten, ext4 and upload: src/images/commit.ts), under
   * `repo:tag`; without one, untagged. A running container is read as it runs: a container VM cannot
   * be paused, so `--pause` changes nothing. Bad changes are refused before anything is read.
   */
  private async commit(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const ref = query.get('container') ?? '';
    if (!ref) throw badRequest('container is required: docker commit CONTAINER [REPOSITORY[:TAG]]');
    const engine = this.command();
    const vm = await this.findContainer(ref, engine);
    const name = imageNameOf(query);
    const body = (await readJsonBody<Record<string, unknown>>(req)) ?? {};
    const image = (await this.storedImages(engine)).find((i) => i.id === vm.image_id);
    const inspected = containerInspect(vm).Config as Record<string, unknown>;
    const config = applyChanges(commitBase(inspected, stringsOf(image?.exposed_ports), body), query.getAll('changes'));
    const container = String(vm.name);
    const dir = await mkdtemp(join(tmpdir(), 'vic-commit-'));
    try {
      const tarPath = join(dir, 'rootfs.tar');
      const file = createWriteStream(tarPath);
      const written = new Promise<void>((resolve, reject) => file.on('finish', resolve).on('error', reject));
      const { exitCode, stderr } = await this.readRootFilesystem(vm, 'docker commit', res, { body: (data: Buffer) => void file.write(data) });
      file.end();
      await written;
      if (exitCode !== 0) throw guestFailure('docker commit', container, exitCode, stderr);
      const id = await this.storeImageFiles(engine, {
        tarPath,
        ...(name ? { name } : {}),
        unnamedRepository: untaggedRepository(container),
        config,
        author: query.get('author') ?? '',
        comment: query.get('comment') ?? '',
        createdBy: [...stringsOf(inspected.Entrypoint), ...stringsOf(inspected.Cmd)].join(' '),
        workDir: dir,
      });
      await this.emitContainer('commit', vm);
      sendJson(res, 201, { Id: id });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** A root filesystem's tar stored as an image (docker commit, import): its id, once the VCH's images list it. */
  private async storeImageFiles(engine: Engine, options: CommitImageOptions): Promise<string> {
    const { author, comment, ...rest } = options;
    const made = await engine.commitImage(this.vch.id, { ...rest, ...(author ? { author } : {}), ...(comment ? { comment } : {}) });
    this.imageList = undefined;
    if (options.name) this.events.emit({ Type: 'image', Action: 'tag', Actor: { ID: String(made.id), Attributes: { name: displayReference(options.name) } } });
    return String(made.id);
  }

  /**
   * docker load: the images of an archive docker save wrote (plain or gzip-compressed), each stored
   * as a pull stores it, under the names the archive gives it (src/images/load.ts). An archive that
   * is not one, or an image for another platform, is refused (400) before anything is stored.
   */
  private async loadImages(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const engine = this.command();
    const dir = await mkdtemp(join(tmpdir(), 'vic-load-'));
    try {
      const archive = await receiveTar(req, dir, 'loads');
      let loaded: LoadedImage[];
      try {
        loaded = await engine.loadImages(this.vch.id, { archive, workDir: dir });
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === 'LayerFormat' || code === 'PlatformNotFound' || code === 'LayerLimit' || code === 'UnsafeLayerPath')
          throw badRequest(`docker load: ${(err as Error).message}`);
        throw err;
      }
      this.imageList = undefined;
      const lines: string[] = [];
      for (const { image, names } of loaded) {
        const tags = names.map(displayReference);
        lines.push(...(tags.length > 0 ? tags.map((t) => `Loaded image: ${t}`) : [`Loaded image ID: ${String(image.id)}`]));
        this.events.emit({ Type: 'image', Action: 'load', Actor: { ID: String(image.id), Attributes: { name: tags[0] ?? String(image.id) } } });
      }
      // As dockerd: --quiet drops progress, which there is none of here; the names loaded are told either way.
      res.writeHead(200, { 'Content-Type': 'application/json' });
      for (const line of lines) res.write(`${JSON.stringify({ stream: `${line}\n` })}\n`);
      res.end();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * docker history: the steps of the image's config (`history`), newest first, as dockerd lists
   * them: the image's id and names on the newest, `<missing>` below it (the image store keeps no
   * layer as an image of its own), and each layer's size on the step that made it. Read from the
   * config kept beside the image's disk; an image stored by an older vic-iac kept none (409).
   */
  private async imageHistory(ref: string): Promise<Array<Record<string, unknown>>> {
    const engine = this.command();
    const image = await this.findImage(ref, engine);
    const kept = await engine.keptFile('image', image, 'config');
    if (!kept) {
      throw new ApiError(
        409,
        `docker history of ${ref}: the image was stored by an older vic-iac, which kept no copy of its config. Remove the containers of that image and the image, then pull it again`,
      );
    }
    type Step = { created?: string; created_by?: string; comment?: string; empty_layer?: boolean };
    const doc = JSON.parse(kept.toString('utf8')) as { history?: Step[]; created?: string };
    const sizes = Array.isArray(image.image_layer_sizes) ? image.image_layer_sizes.map(Number) : [];
    let layer = 0;
    const steps: Step[] = Array.isArray(doc.history) && doc.history.length > 0 ? doc.history : [{ created: doc.created }];
    const rows = steps.map((step) => ({
      Id: '<missing>',
      Created: unixSeconds(step.created),
      CreatedBy: step.created_by ?? '',
      Tags: null as string[] | null,
      Size: step.empty_layer === true ? 0 : (sizes[layer++] ?? 0),
      Comment: step.comment ?? '',
    }));
    rows.reverse();
    rows[0] = { ...rows[0], Id: String(image.id), Tags: repoTagsOf(image) };
    return rows;
  }

  /**
   * docker save: the images as one archive, as docker 25 and later write it (src/images/save.ts),
   * which any docker load reads: each image's manifest, config and layers byte for byte (from beside
   * its disk when it was made here, else from a registry that serves it, as docker push reads them),
   * named as it was asked for (by id: unnamed, as dockerd). An image that cannot be read fails the
   * save before the archive starts.
   */
  private async saveImages(refs: readonly string[], res: ServerResponse): Promise<void> {
    if (refs.length === 0) throw badRequest('docker save needs an image: docker save IMAGE [IMAGE...]');
    const engine = this.command();
    const wanted = new Map<string, { image: Attrs; names: string[]; sources: string[] }>();
    for (const ref of refs) {
      const image = await this.findImage(ref, engine);
      const entry = wanted.get(String(image.id)) ?? { image, names: [], sources: tagsOf(image) };
      if (image.named && !entry.names.includes(String(image.reference))) entry.names.push(String(image.reference));
      wanted.set(String(image.id), entry);
    }
    try {
      await engine.saveImages([...wanted.values()], res, { insecure: (registry) => this.insecure(registry) }, () =>
        res.writeHead(200, { 'Content-Type': 'application/x-tar' }),
      );
    } catch (err) {
      if (!res.headersSent) throw err;
      // The archive was under way: the client sees it cut short.
      this.log(`docker save: ${(err as Error).message}`);
      res.destroy();
      return;
    }
    for (const { image } of wanted.values())
      this.events.emit({ Type: 'image', Action: 'save', Actor: { ID: String(image.id), Attributes: { name: String(image.reference) } } });
  }

  /**
   * docker import: an image of the root filesystem the client sends as a tar (plain or
   * gzip-compressed), its config the changes (`-c`) over an empty one and its comment the message
   * (`-m`), stored as a committed image is (storeImageFiles). From a URL it is refused: the endpoint
   * fetches nothing from the web.
   */
  private async importImage(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const from = query.get('fromSrc') ?? '';
    if (from !== '-')
      throw notSupported(`docker import from a URL (${from})`, 'download the file where the docker CLI runs and import it from there: docker import FILE');
    const platform = query.get('platform');
    if (platform && platform !== 'linux/amd64' && platform !== 'linux') throw badRequest(`--platform ${platform}: a container VM runs linux/amd64 only`);
    const name = imageNameOf(query);
    const empty: CommitImageOptions['config'] = { entrypoint: [], cmd: [], env: [], working_dir: '', user: '', exposed_ports: [], labels: {} };
    const config = applyChanges(empty, query.getAll('changes'));
    const engine = this.command();
    const dir = await mkdtemp(join(tmpdir(), 'vic-import-'));
    try {
      const tarPath = await receiveTar(req, dir, 'imports');
      const message = query.get('message') ?? '';
      const id = await this.storeImageFiles(engine, {
        tarPath,
        ...(name ? { name } : {}),
        unnamedRepository: 'imported',
        config,
        comment: message || 'Imported from -',
        workDir: dir,
      });
      this.events.emit({ Type: 'image', Action: 'import', Actor: { ID: id, Attributes: { name: id } } });
      sendJson(res, 200, { status: id });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async archive(method: string, ref: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = archiveRequest(method, query);
    const vm = await this.findContainer(ref);
    const name = String(vm.name);
    let headSent = false;
    // Told as the archive starts, as dockerd does: a client may have read all of it and gone before the exec's end comes.
    let archived: Promise<void> | undefined;
    const out = new ArchiveOutput({
      ...(request.op === 'get'
        ? {
            head: (stat: string) => {
              headSent = true;
              archived = this.emitContainer('archive-path', vm);
              res.writeHead(200, { 'Content-Type': 'application/x-tar', [PATH_STAT_HEADER]: pathStatHeader(stat) });
            },
            body: (data: Buffer) => void res.write(data),
          }
        : {}),
    });
    const exitCode = await this.guestCallAnyState(
      vm,
      { argv: [], archive: request },
      'docker cp',
      res,
      (lines) => out.write(lines),
      request.op === 'put'
        ? (route) => (guestId, exited, sent) => this.sendArchiveInput(vm, guestId, req, exited, sent, route?.engine ?? this.command())
        : undefined,
    );
    if (exitCode !== 0) {
      const failure = archiveFailure(exitCode, out.stderr, request.path, name);
      if (!headSent) throw failure;
      // The tar was under way: the client sees it cut short, as with dockerd.
      this.log(failure.message);
      res.destroy();
      return;
    }
    if (request.op === 'get') {
      await archived;
      res.end();
      return;
    }
    if (request.op === 'put') {
      await this.emitContainer('extract-to-dir', vm);
      res.writeHead(200).end();
      return;
    }
    const stat = out.statJson() ?? '';
    res.writeHead(200, { [PATH_STAT_HEADER]: pathStatHeader(stat), 'Content-Type': 'application/json' }).end();
  }

  /**
   * An exec request the guest's tether answers itself (docker cp's archive, docker top's list), on a
   * container that runs: refused at once while it waits for a free guest slot, or (409, `notRunning`)
   * when it does not run. Its frames go to `write` until its exit code, which it returns; `input`
   * sends the request's input meanwhile.
   */
  private async guestCall(
    vm: Attrs,
    request: ExecRequest,
    what: string,
    res: ServerResponse,
    notRunning: string,
    write: (lines: readonly OutputLine[]) => void,
    input?: GuestInput,
    maintenance?: GuestRoute,
  ): Promise<number> {
    if (!maintenance) {
      if (vm.guest_queued === true) throw new ApiError(409, queuedNotice(vm, `${what} cannot reach it yet`));
      if (dockerState(vm) !== 'running' || !(await this.processRuns(vm, () => res.destroyed))) throw new ApiError(409, notRunning);
    }
    const route = maintenance ?? { engine: this.command(), gone: () => false };
    const guestId = randomBytes(8).toString('hex');
    const soon = readSoon();
    const from = await this.sendExec(vm, guestId, request, what, route.engine);
    soon.after();
    const exited = this.followExec(vm, guestId, from, write, soon.set, `${what} ${String(vm.name)}`, route.gone);
    if (input) await input(guestId, exited, soon.after);
    return exited;
  }

  /**
   * A guestCall that reaches a container whatever its state: a stopped one's disk is read (and
   * written) by a maintenance boot of its guest, which runs no process (docker cp, diff, export).
   * `input`, given the route, is the request's input sender.
   */
  private guestCallAnyState(
    vm: Attrs,
    request: ExecRequest,
    what: string,
    res: ServerResponse,
    write: (lines: readonly OutputLine[]) => void,
    input?: (route?: GuestRoute) => GuestInput,
  ): Promise<number> {
    const call = (route?: GuestRoute) => this.guestCall(vm, request, what, res, `container ${String(vm.name)} is not running`, write, input?.(route), route);
    const stopped = dockerState(vm) !== 'running' && vm.guest_queued !== true;
    return stopped ? this.withMaintenance(vm, call) : call();
  }

  /**
   * Runs `work` with the guest of a maintenance boot of stopped container `vm` (docker cp of a
   * stopped container; guest-config.md, "Maintenance boot"): its guest mounts the container's disk
   * and volumes and runs no process. One boot serves the copies that come while it is up; it ends
   * MAINTENANCE_IDLE_MS after the last, or at once when the container is started or removed
   * (finishMaintenance). The container reads as stopped throughout.
   */
  private async withMaintenance<T>(vm: Attrs, work: (route: GuestRoute) => Promise<T>): Promise<T> {
    const id = containerId(vm);
    let boot = this.maintenanceBoots.get(id);
    while (boot?.ending) {
      await boot.ending;
      boot = this.maintenanceBoots.get(id);
    }
    if (!boot) {
      const token = randomBytes(8).toString('hex');
      const engine = this.maintenanceEngine(token);
      const begun: MaintenanceBoot = { token, vm, users: 0, dead: false, ready: engine.maintenance('container_vm', vm, token, 'begin').then(() => undefined) };
      this.maintenanceBoots.set(id, begun);
      begun.ready.catch(() => {
        if (this.maintenanceBoots.get(id) === begun) this.maintenanceBoots.delete(id);
      });
      // Its guest may end under it (powered off, its QEMU gone): copies under way then end as a stopped container's.
      void begun.ready.then(
        () => {
          if (begun.ending) return;
          begun.watch = setInterval(() => {
            void engine.maintenance('container_vm', vm, token, 'alive').then(
              (alive) => (begun.dead ||= !alive),
              () => undefined,
            );
          }, MAINTENANCE_WATCH_MS);
          begun.watch.unref();
        },
        () => undefined,
      );
      boot = begun;
    }
    const held = boot;
    held.users++;
    clearTimeout(held.idle);
    try {
      await held.ready.catch((err: unknown) => {
        if (err instanceof InputUnreachableError) {
          throw notSupported(
            'docker cp of a stopped container here',
            `its guest serves no maintenance boot (on vSphere the tether does not read exec requests yet): start the container, copy, and stop it again`,
          );
        }
        throw err;
      });
      return await work({ engine: this.maintenanceEngine(held.token), gone: () => held.dead });
    } finally {
      held.users--;
      if (held.users === 0 && !held.ending) held.idle = setTimeout(() => void this.finishMaintenance(id, held), held.endNow ? 0 : MAINTENANCE_IDLE_MS);
    }
  }

  /** An engine whose exec and input go to the guest of the maintenance boot `token`. */
  private maintenanceEngine(token: string): Engine {
    return this.options.engine.forCommand({ lookups: 'each', lasting: this.lasting, holder: 'docker', maintenance: token });
  }

  /** Ends the maintenance boot of container `id`, if one is up (`only` that one), once its copies under way are done. */
  private async finishMaintenance(id: string, only?: MaintenanceBoot): Promise<void> {
    const boot = this.maintenanceBoots.get(id);
    if (!boot || (only && boot !== only)) return;
    if (boot.users > 0 && !boot.ending) {
      boot.endNow = true;
      while (this.maintenanceBoots.get(id) === boot && !boot.ending) await new Promise((r) => setTimeout(r, 100));
    }
    if (!boot.ending) {
      clearTimeout(boot.idle);
      clearInterval(boot.watch);
      boot.ending = (async () => {
        await boot.ready.catch(() => undefined);
        await this.command()
          .maintenance('container_vm', boot.vm, boot.token, 'end')
          .catch((err: unknown) => this.log(`the maintenance boot of container ${String(boot.vm.name)} did not end cleanly: ${(err as Error).message}`));
        if (this.maintenanceBoots.get(id) === boot) this.maintenanceBoots.delete(id);
      })();
    }
    await boot.ending;
  }

  /**
   * A PUT's body to the guest as its exec's input, in batches the size an attach's are (the engine
   * waits while the guest has many to read), then its end. Once the guest ended (it refused the
   * path, the tar was bad), what is left of the body is read and dropped.
   */
  private async sendArchiveInput(vm: Attrs, guestId: string, req: IncomingMessage, exited: Promise<number>, sent: () => void, engine: Engine): Promise<void> {
    let ended = false;
    void exited.then(() => (ended = true));
    let batch: Buffer[] = [];
    let size = 0;
    const flush = async (eof: boolean) => {
      if (ended) return;
      const data = Buffer.concat(batch);
      batch = [];
      size = 0;
      await engine.input('container_vm', vm, data, eof, guestId);
      sent();
    };
    for await (const chunk of req as AsyncIterable<Buffer>) {
      if (ended) continue;
      batch.push(chunk);
      size += chunk.length;
      if (size >= ARCHIVE_INPUT_BATCH_BYTES) await flush(false);
    }
    await flush(true);
  }

  /**
   * Sends an exec request to the container's guest (`what` names it in a refusal); its frames are
   * read from the console offset it gives back, where the file ended before the request.
   */
  private async sendExec(vm: Attrs, guestId: string, request: ExecRequest, what: string, engine: Engine = this.command()): Promise<number> {
    const vmPath = String(vm.vm_path ?? '');
    const from = vmPath ? (await engine.readContainerConsole(this.vch.datacenter, vmPath, Number.MAX_SAFE_INTEGER)).size : 0;
    try {
      await engine.exec('container_vm', vm, guestId, request);
    } catch (err) {
      if (err instanceof NotRunningError) throw new ApiError(409, `Container ${containerId(vm)} is not running`);
      if (err instanceof InputUnreachableError) throw notSupported(`${what} here`, err.message);
      throw err;
    }
    return from;
  }

  /**
   * Follows an exec's frames from `from` until its exit code comes, whether or not a client still
   * reads them (detached, a client that left); 137 when the container stopped first, as a killed
   * process.
   */
  private followExec(
    vm: Attrs,
    guestId: string,
    from: number,
    write: (lines: readonly OutputLine[]) => void,
    reads: (readNow: () => void) => void,
    what: string,
    gone: () => boolean = () => false,
  ): Promise<number> {
    const reader = new OutputLineReader(guestId);
    return this.streamOutput(vm, {
      from,
      follow: true,
      untilExit: true,
      gone,
      first: write,
      next: write,
      reader,
      done: () => reader.exitCode !== undefined,
      reads,
    }).then(
      () => reader.exitCode ?? 137,
      (err: unknown) => {
        this.log(`${what}: ${(err as Error).message}`);
        return reader.exitCode ?? 137;
      },
    );
  }

  /**
   * A container as docker shows it: one started again whose guest still boots has not reported this
   * run, and its report is the last run's (ended, or not seen to end: a VM powered off under its
   * process), so it shows no start yet, as at its first start (docker ps: "Up Less than a second"),
   * never the last run's. Told by the report alone, not by clocks, which a guest's may not share.
   */
  private asStarted(given: Attrs): Attrs {
    const vm = this.withHealth(given);
    if (dockerState(vm) !== 'running') return vm;
    const before = this.startedBefore.get(containerId(vm));
    const stale = vm.status === 'exited' || (before !== undefined && before !== '' && vm.started_at === before);
    return stale ? { ...vm, started_at: null } : vm;
  }

  /** The container with the health its check gave (`docker_health`, which containers.ts reads), if it has a check. */
  private withHealth(vm: Attrs): Attrs {
    const health = this.health.stateOf(containerId(vm), vm);
    return health ? { ...vm, docker_health: health as unknown as Attrs } : vm;
  }

  /**
   * The container's output lines from its console file: what is there (from its start, or only
   * what comes after now), then, when following, what comes until it stops. `untilExit`: a
   * container not started yet is waited for (attach comes before start). After it stops, the file
   * is read once more, so the last lines of a short-lived container are never lost.
   */
  private async streamOutput(
    vm: Attrs,
    o: {
      /** From the file's start, from its end now, or from a byte offset (an exec's output: `reader` for its id). */
      from: 'start' | 'end' | number;
      follow: boolean;
      untilExit: boolean;
      gone: () => boolean;
      first: (lines: readonly OutputLine[]) => void;
      next: (lines: readonly OutputLine[]) => void;
      reader?: OutputLineReader;
      /** Ends the stream before the container stops (an exec that ended). */
      done?: () => boolean;
      /** Hands the caller a function that reads what is new now, between the looks. */
      reads?: (readNow: () => void) => void;
      /** The container as each look found it. */
      seen?: (vm: Attrs) => void;
    },
  ): Promise<void> {
    const engine = this.command();
    const vmPath = String(vm.vm_path ?? '');
    if (!vmPath) return;
    const id = containerId(vm);
    const reader = o.reader ?? new OutputLineReader();
    const first = await engine.readContainerConsole(this.vch.datacenter, vmPath, typeof o.from === 'number' ? o.from : 0);
    let offset = first.size;
    const existing = reader.push(first.data);
    if (o.from !== 'end') o.first(existing);
    if (!o.follow || o.done?.()) {
      if (o.from !== 'end') o.first(reader.end());
      return;
    }
    let seenRunning = dockerState(vm) === 'running';
    // A container that started and ended between two looks was never seen running: its newer end tells it.
    const firstFinish = vm.finished_at;
    let reading: Promise<void> = Promise.resolve();
    let failed: Error | undefined;
    let ended = false;
    // One read at a time, each from where the last one stopped.
    const readMore = () =>
      (reading = reading.then(async () => {
        const more = await engine.readContainerConsole(this.vch.datacenter, vmPath, offset);
        offset = Math.max(offset, more.size);
        if (!o.gone()) o.next(reader.push(more.data));
      }));
    // Between looks, on the caller's word (input just sent: its echo and answer come soon).
    o.reads?.(() => {
      if (!ended && !failed && !o.gone()) readMore().catch(() => undefined);
    });
    const stream = {
      id,
      onLook: async (vms: readonly Attrs[]) => {
        if (o.gone() || ended || failed) return;
        // Asked first whether it still runs, then read: output written before it stopped is not missed.
        const now = vms.find((v) => containerId(v) === id);
        if (now) o.seen?.(now);
        const running = now !== undefined && dockerState(now) === 'running';
        if (running) seenRunning = true;
        const endedAgain = now !== undefined && !running && now.finished_at != null && now.finished_at !== firstFinish;
        try {
          await readMore();
        } catch (err) {
          failed = err as Error;
        }
        if (!running && (seenRunning || endedAgain || !o.untilExit || now === undefined)) ended = true;
      },
    };
    this.outputStreams.add(stream);
    try {
      for (;;) {
        // The look runs stream.onLook before it hands its containers to the waiters.
        await this.nextLook(id, o.gone);
        if (o.gone() || this.closed) return;
        await reading.catch(() => undefined);
        if (failed) throw failed;
        if (ended || o.done?.()) break;
      }
    } finally {
      this.outputStreams.delete(stream);
    }
    o.next(reader.end());
  }

  /**
   * The attached streams' reads for a look, before anyone is told what it found, so a container's
   * last lines go out before its end is told. Bounded (as dockerd's drain is): a slow datastore
   * read does not hold back every other waiter; the stream's own loop still waits for it.
   */
  private async settleOutput(vms: readonly Attrs[], ids: ReadonlySet<string> = new Set(vms.map(containerId))): Promise<void> {
    const reads = [...this.outputStreams].filter((s) => ids.has(s.id)).map((s) => s.onLook(vms));
    if (reads.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(reads), new Promise((r) => (timer = setTimeout(r, OUTPUT_DRAIN_MS)))]);
    clearTimeout(timer);
  }

  /** The containers of the next look the shared poll takes, `id` among them unless it is gone (none when the client left first). */
  private nextLook(id: string, gone?: () => boolean): Promise<readonly Attrs[]> {
    return new Promise((resolve) => {
      void this.until(
        id,
        (vms) => {
          resolve(vms);
          return true;
        },
        gone,
      );
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Images

  /** The VCH's images as its store holds them now (and kept for the next create's lookup). */
  private storedImages(engine: Engine): Promise<Attrs[]> {
    // An image shows under the first reference that still holds it (the one it was pulled as may be untagged).
    const listed = engine.listIn('image', this.vch.id).then((images) => images.map((i) => ({ ...i, reference: tagsOf(i)[0] })));
    this.imageList = listed;
    listed.catch(() => {
      if (this.imageList === listed) this.imageList = undefined;
    });
    return listed;
  }

  /** Drops what the endpoint keeps of vSphere's lookups: the next request looks again. */
  private forgetLookups(): void {
    this.lasting.clear();
    this.imageList = undefined;
  }

  /**
   * An image of the VCH's store by name (as pulled), by id or by an id prefix. `listed: 'kept'`
   * takes the last listing when it has the image (a create: a stale answer fails the create, which
   * then looks again); otherwise, and when it is not there, the store is listed.
   */
  private async findImage(ref: string, engine: Engine = this.command(), listed: 'now' | 'kept' = 'now'): Promise<Attrs> {
    const canonical = canonicalReference(ref);
    const hex = ref.replace(/^sha256:/, '');
    // By name: the image as that reference (a tag of it) names it; else by id or id prefix.
    const byName = (images: readonly Attrs[]) => {
      for (const i of images) {
        const tag = tagsOf(i).find((t) => canonical !== undefined && canonicalReference(t) === canonical);
        if (tag) return { ...i, reference: tag, named: true };
      }
      return undefined;
    };
    const pick = (images: readonly Attrs[]) => byName(images) ?? images.find((i) => /^[0-9a-f]{4,64}$/.test(hex) && String(i.id).slice(7).startsWith(hex));
    const kept = listed === 'kept' && this.imageList ? pick(await this.imageList.catch(() => [])) : undefined;
    const found = kept ?? pick(await this.storedImages(engine));
    if (!found) throw notFound(`No such image: ${ref}`);
    return found;
  }

  private async listImages(query: URLSearchParams): Promise<unknown[]> {
    const filters = parseFilters(query.get('filters'));
    // Clients older than API 1.25 send `docker images NAME` as ?filter=NAME.
    const legacy = query.get('filter');
    if (legacy) filters.set('reference', [...(filters.get('reference') ?? []), legacy]);
    refuseUnknownFilters(filters, IMAGE_FILTERS, 'images');
    const engine = this.command();
    const [images, vms] = await Promise.all([this.storedImages(engine), this.containers(engine)]);
    const rows = images.map((i) => ({
      Id: String(i.id),
      ParentId: '',
      RepoTags: repoTagsOf(i),
      RepoDigests: repoDigestsOf(i),
      Created: unixSeconds(i.image_created ?? i.created),
      Size: imageSize(i),
      SharedSize: -1,
      VirtualSize: imageSize(i),
      Labels: (i.labels ?? {}) as Record<string, string>,
      Containers: vms.filter((vm) => vm.image_id === i.id).length,
    }));
    // As dockerd: newest first; the store's own order changes from one read to the next.
    rows.sort((a, b) => b.Created - a.Created || a.Id.localeCompare(b.Id) || String(a.RepoTags[0] ?? '').localeCompare(String(b.RepoTags[0] ?? '')));
    return filterImages(rows, filters);
  }

  /**
   * `docker system df`: the images with their sizes and users, the containers, and the volumes with
   * their users and capacities. A container's own writes (its delta disk) and a volume's files are
   * not read from the datastore: SizeRw 0, a volume's size its capacity; nothing is built here, so
   * there is no build cache.
   */
  private async systemDf(): Promise<Record<string, unknown>> {
    const [images, containers, volumes] = await Promise.all([
      this.listImages(new URLSearchParams()) as Promise<Array<{ Id: string; Size: number }>>,
      this.listContainers(new URLSearchParams({ all: '1', size: '1' })),
      this.volumes.usage(this.command()),
    ]);
    return {
      LayersSize: images.reduce((sum, i) => sum + i.Size, 0),
      // An image is one disk, sharing nothing with another: what one in use takes is its whole size.
      Images: images.map((i) => ({ ...i, SharedSize: 0 })),
      Containers: containers,
      Volumes: volumes,
      BuildCache: [],
    };
  }

  /**
   * The layers an image's config names (`rootfs.diff_ids`), from the copy kept beside its disk: an
   * image id names one content, so each is read once. Empty for an image stored before that copy
   * was kept, and when the read fails (inspect still answers).
   */
  private async diffIds(engine: Engine, image: Attrs): Promise<string[]> {
    const id = String(image.id);
    let known = this.imageLayers.get(id);
    if (!known) {
      known = engine.keptFile('image', image, 'config').then((kept) => {
        const doc = kept ? (JSON.parse(kept.toString('utf8')) as { rootfs?: { diff_ids?: unknown } }) : {};
        return stringsOf(doc.rootfs?.diff_ids);
      });
      this.imageLayers.set(id, known);
    }
    // A read that failed leaves the list empty, and is tried again by the next inspect.
    return known.catch(() => {
      this.imageLayers.delete(id);
      return [];
    });
  }

  private async inspectImage(ref: string): Promise<Record<string, unknown>> {
    const engine = this.command();
    const i = await this.findImage(ref, engine);
    const layers = await this.diffIds(engine, i);
    return {
      Id: i.id,
      RepoTags: repoTagsOf(i),
      RepoDigests: repoDigestsOf(i),
      Parent: '',
      Comment: typeof i.image_comment === 'string' ? i.image_comment : '',
      Created: i.image_created ?? i.created ?? '',
      Author: typeof i.image_author === 'string' ? i.image_author : '',
      Architecture: String(i.platform ?? 'linux/amd64').split('/')[1] ?? 'amd64',
      Os: String(i.platform ?? 'linux/amd64').split('/')[0] ?? 'linux',
      Size: imageSize(i),
      Config: {
        // As dockerd: null where the image has none.
        Entrypoint: stringsOf(i.entrypoint).length > 0 ? i.entrypoint : null,
        Cmd: stringsOf(i.cmd).length > 0 ? i.cmd : null,
        Env: i.env ?? [],
        WorkingDir: i.working_dir ?? '',
        User: i.user ?? '',
        Labels: i.labels ?? {},
        ExposedPorts: Object.fromEntries(((i.exposed_ports as string[] | null) ?? []).map((p) => [p, {}])),
        // As dockerd: null without volumes; StopSignal only when the image names one.
        Volumes: stringsOf(i.image_volumes).length > 0 ? Object.fromEntries(stringsOf(i.image_volumes).map((v) => [v, {}])) : null,
        ...(typeof i.image_stop_signal === 'string' ? { StopSignal: i.image_stop_signal } : {}),
        ...(i.image_healthcheck && typeof i.image_healthcheck === 'object' ? { Healthcheck: i.image_healthcheck } : {}),
      },
      RootFS: { Type: 'layers', Layers: layers },
      Metadata: { LastTagTime: ZERO },
      VSphere: { DiskPath: i.disk_path ?? null },
    };
  }

  private async removeImage(ref: string, query: URLSearchParams, res: ServerResponse, untagged: readonly string[] = []): Promise<void> {
    refuseInvalidReference(ref);
    const engine = this.command();
    const image = await this.findImage(ref, engine);
    const forced = queryFlag(query, 'force');
    const tags = tagsOf(image);
    this.refuseStateImage(image, image.named && tags.length > 1 ? [String(image.reference)] : tags);
    if (tags.length > 1) {
      // As dockerd: a name only untags while another name holds the image; an id must be forced.
      if (!image.named && !forced) {
        throw conflict(
          `conflict: unable to delete ${String(image.id).slice(7, 19)} (must be forced) - image is referenced in multiple repositories; remove it by name (docker rmi ${displayReference(tags[0])}), or with -f to untag every name`,
        );
      }
      // Forced by id, every name goes and then the disk, which containers may still need: refused
      // before the first name goes, so that a refusal changes nothing.
      if (!image.named) await this.refuseImageInUse(engine, image);
      const untag = image.named ? [String(image.reference)] : tags.slice(0, -1);
      for (const tag of untag) await this.untagImage(engine, image, tag);
      this.imageList = undefined;
      if (image.named) return sendJson(res, 200, [{ Untagged: displayReference(String(image.reference)) }]);
      return this.removeImage(String(image.id), query, res, untag);
    }
    await this.refuseImageInUse(engine, image);
    const plan = await engine.plan('image', image, null);
    const text = problemsText(plan.problems);
    if (text) throw badRequest(text);
    await engine.apply(plan);
    this.imageList = undefined;
    this.events.emit({ Type: 'image', Action: 'delete', Actor: { ID: String(image.id), Attributes: { name: String(image.reference) } } });
    const names = [...untagged, String(image.reference)].map((t): Record<string, string> => ({ Untagged: displayReference(t) }));
    sendJson(res, 200, [...names, { Deleted: String(image.id) }]);
  }

  /**
   * docker may not remove an image name an IaC state holds (an image resource pulled it): the
   * state would lose its image, as it would its containers and volumes. -f does not lift it.
   */
  private refuseStateImage(image: Attrs, names: readonly string[]): void {
    const holders = { managed: stringsOf(image.managed_references) };
    const held = names.filter((n) => heldByState(holders, n));
    if (held.length === 0) return;
    const what = image.named ? `remove repository reference "${displayReference(held[0])}"` : `delete ${String(image.id).slice(7, 19)}`;
    const others = tagsOf(image).filter((t) => !heldByState(holders, t));
    throw conflict(
      `conflict: unable to ${what} (cannot be forced) - ${held.map(displayReference).join(', ')} ${held.length > 1 ? 'are' : 'is'} managed by infrastructure as code (a Terraform, Pulumi or vic state pulled it, not docker): remove the image from that configuration and apply` +
        (others.length > 0 ? `; docker may untag the names it added itself (docker rmi ${others.map(displayReference).join(', ')})` : ''),
    );
  }

  /** The delete of an image's disk while container VMs use it: docker's 409, which -f does not lift here. */
  private async refuseImageInUse(engine: Engine, image: Attrs): Promise<void> {
    const users = (await this.containers(engine)).filter((vm) => vm.image_id === image.id);
    if (users.length === 0) return;
    // -f does not help here, unlike with dockerd: a container VM's disk is a child of the image's disk.
    throw conflict(
      `conflict: unable to delete ${String(image.id).slice(7, 19)} (cannot be forced: the disks of its containers are children of its disk) - image is being used by container ${containerId(users[0])} (${users.map((u) => String(u.name)).join(', ')}); remove those containers first, or untag its names one by one (docker rmi NAME)`,
    );
  }

  /**
   * docker tag: another name for a stored image, which holds it as a second pull of its digest
   * would (docker rmi of either name then untags it; the image goes with its last name).
   */
  private async tagImage(ref: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
    const repo = query.get('repo');
    if (!repo) throw badRequest('repo is required: docker tag SOURCE_IMAGE TARGET_IMAGE[:TAG]');
    const target = `${repo}:${query.get('tag') || 'latest'}`;
    try {
      parseImageReference(target);
    } catch (err) {
      throw badRequest(`invalid reference format: ${target}: ${(err as Error).message}`);
    }
    const engine = this.command();
    const image = await this.findImage(ref, engine);
    if (!tagsOf(image).some((t) => canonicalReference(t) === canonicalReference(target))) {
      // A name another image holds: the engine's InUseError, docker's 409.
      await engine.addName('image', image, target);
      this.imageList = undefined;
    }
    this.events.emit({ Type: 'image', Action: 'tag', Actor: { ID: String(image.id), Attributes: { name: displayReference(target) } } });
    res.writeHead(201).end();
  }

  /** Takes one name off an image another name still holds: the image delete only drops that reference. */
  private async untagImage(engine: Engine, image: Attrs, tag: string): Promise<void> {
    const plan = await engine.plan('image', { ...image, reference: tag }, null);
    const text = problemsText(plan.problems);
    if (text) throw badRequest(text);
    await engine.apply(plan);
    this.events.emit({ Type: 'image', Action: 'untag', Actor: { ID: String(image.id), Attributes: { name: tag } } });
  }

  /**
   * docker push: the image's manifest and layers copied from a registry it was pulled from to the
   * repository its name gives (engine.pushImage), with Docker's JSON progress. `tag` empty is every
   * tag of the repository the VCH holds (docker push --all-tags).
   */
  private async push(name: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const tag = query.get('tag') ?? '';
    const engine = this.command();
    const images = await this.storedImages(engine);
    let wanted: Array<{ target: string; image: Attrs }>;
    if (tag === '') {
      const repository = canonicalReference(`${name}:latest`)?.replace(/:latest$/, '');
      wanted = images.flatMap((image) =>
        tagsOf(image)
          .filter((t) => !t.includes('@') && canonicalReference(t)?.replace(/:[^:/]+$/, '') === repository)
          .map((t) => ({ target: canonicalReference(t) ?? t, image })),
      );
    } else {
      const target = canonicalReference(`${name}:${tag}`);
      const image = images.find((i) => tagsOf(i).some((t) => target !== undefined && canonicalReference(t) === target));
      wanted = image && target ? [{ target, image }] : [];
    }
    if (wanted.length === 0)
      throw new ApiError(404, `An image does not exist locally with the tag: ${tag === '' || tag === 'latest' ? name : `${name}:${tag}`}`);
    const credentials = registryAuth(req.headers['x-registry-auth']);
    const parsed = parseImageReference(wanted[0].target);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const line = (o: unknown) => res.write(`${JSON.stringify(o)}\n`);
    line({ status: `The push refers to repository [${parsed.registry}/${parsed.repository}]` });
    for (const { target, image } of wanted) {
      const targetTag = parseImageReference(target).tag ?? 'latest';
      try {
        const pushed = await engine.pushImage(
          {
            digest: String(image.id),
            sources: tagsOf(image),
            target,
            ...(credentials ? { credentials } : {}),
            insecure: (registry) => this.insecure(registry),
            onEvent: (e) => {
              const id = e.digest.slice(7, 19);
              if (e.kind === 'pushing') line({ status: 'Pushing', progressDetail: { current: e.current, total: e.total }, id });
              else line({ status: PUSH_WORDS[e.kind] ?? (e.kind === 'mounted' ? `Mounted from ${e.from}` : e.kind), progressDetail: {}, id });
            },
          },
          image,
        );
        line({ status: `${targetTag}: digest: ${pushed.digest} size: ${pushed.size}` });
        line({ progressDetail: {}, aux: { Tag: targetTag, Digest: pushed.digest, Size: pushed.size } });
        this.events.emit({ Type: 'image', Action: 'push', Actor: { ID: displayReference(target), Attributes: { name: displayReference(target) } } });
      } catch (err) {
        const message = (err as Error).message;
        line({ errorDetail: { message }, error: message });
        break;
      }
    }
    res.end();
  }

  /** docker pull: the image pipeline through an image plan, its progress as Docker's JSON stream. */
  private async pull(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const from = query.get('fromImage');
    if (query.get('fromSrc')) return this.importImage(req, res, query);
    if (!from) throw badRequest('fromImage is required');
    const tag = query.get('tag') ?? '';
    // As dockerd: a repository without a tag (docker pull --all-tags) means every tag of it.
    if (tag === '' && !/[:@][^/]*$/.test(from)) {
      throw notSupported(`docker pull --all-tags (${from})`, `pull each tag by name: docker pull ${from}:<tag>`);
    }
    const reference = tag === '' ? from : tag.startsWith('sha256:') ? `${from}@${tag}` : `${from}:${tag}`;
    const platform = query.get('platform') || undefined;
    let parsed;
    try {
      parsed = parseImageReference(reference);
    } catch (err) {
      throw badRequest((err as Error).message);
    }
    const auth = registryAuth(req.headers['x-registry-auth']);
    const engine = this.command();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const line = (o: unknown) => res.write(`${JSON.stringify(o)}\n`);
    const byDigest = tag.startsWith('sha256:');
    // As dockerd: the tag, or the whole digest of a pull by digest.
    const short = byDigest ? tag : tag || 'latest';
    const shown = displayReference(reference);
    line({ status: `Pulling from ${parsed.repository}`, id: short });
    // Which image the reference names now, if any: a pull that finds it unchanged is "up to date"
    // (by digest: that image stored already, under whatever name).
    const before = this.storedImages(engine).then(
      (images) => images.find((i) => (byDigest ? i.id === tag : tagsOf(i).some((t) => displayReference(t) === shown)))?.id,
      () => undefined,
    );
    try {
      const plan = await engine.plan('image', null, {
        vch_id: this.vch.id,
        reference,
        insecure_registry: this.insecure(parsed.registry),
        ...(platform ? { platform } : {}),
        ...(auth ? { registry_auth: auth } : {}),
      });
      const refused = plan.problems.filter((p) => (p.severity ?? 'error') === 'error');
      if (refused.length > 0) throw new Error(refused.map((p) => pullFailure(shown, parsed.registry, p.detail, String(p.path[0] ?? ''), platform)).join('; '));
      const digest = typeof plan.planned?.digest === 'string' ? plan.planned.digest : '';
      const layer = digest ? digest.slice(7, 19) : short;
      const made = (await engine.apply(plan, {
        onProgress: (e: ProgressEvent) =>
          line({
            status: phaseText(e.phase),
            ...(e.total ? { progressDetail: { current: e.current ?? 0, total: e.total } } : { progressDetail: {} }),
            id: layer,
          }),
      })) as Attrs;
      this.imageList = undefined;
      line({ status: 'Pull complete', progressDetail: {}, id: layer });
      line({ status: `Digest: ${String(made.id)}` });
      line({ status: (await before) === made.id ? `Status: Image is up to date for ${reference}` : `Status: Downloaded newer image for ${reference}` });
      this.events.emit({ Type: 'image', Action: 'pull', Actor: { ID: reference, Attributes: { name: reference } } });
    } catch (err) {
      const text = (err as Error).message;
      // Problems were put in docker's words above; what apply throws is the registry's or vSphere's.
      const message =
        text.startsWith(`cannot pull ${shown}`) || text.startsWith(`manifest for ${shown}`) || text.startsWith(`pull access denied for ${shown}`)
          ? text
          : pullFailure(shown, parsed.registry, text, 'reference');
      line({ errorDetail: { message }, error: message });
    }
    res.end();
  }

  // ---------------------------------------------------------------------------------------------
  // Networks and events

  /**
   * Where a create's networks put a container VM: the docker networks it is on (NETWORK_LABEL) and
   * its port groups, one NIC each (undefined: the VCH's bridge network alone, the resource's
   * default). A docker network is a name over the bridge port group (networks.ts), which is then
   * the first NIC; `none` is a VM without a NIC, and stands alone.
   */
  private placeOnNetworks(refs: readonly (string | undefined)[]): { dockerNetworks: string[]; portGroups?: string[] } {
    const wanted = [...new Set(refs.filter((r): r is string => !!r && r !== 'default'))];
    for (const ref of wanted) {
      refuseNetworkMode(ref);
      if (isUplinkPortGroup(ref)) {
        throw badRequest(
          `--network ${ref}: that is the uplink port group of a distributed switch, which carries its physical uplinks; vSphere puts no VM on it. Use --network with another port group of the VCH's datacenter, or --network none`,
        );
      }
    }
    // none: a container VM without a NIC (its loopback only), as dockerd's none network.
    if (wanted.includes(NO_NETWORK)) {
      if (wanted.length > 1)
        throw badRequest(
          `--network none cannot be combined with other networks (${wanted.filter((w) => w !== NO_NETWORK).join(', ')}): a container on none has no network card`,
        );
      return { dockerNetworks: [], portGroups: [] };
    }
    const bridge = this.vch.bridgeNetwork;
    const dockerNetworks: string[] = [];
    const portGroups: string[] = [];
    for (const ref of wanted) {
      const made = this.dockerNetworks.find(ref);
      if (made) {
        dockerNetworks.push(made.Name);
        if (!portGroups.includes(made.PortGroup)) portGroups.unshift(made.PortGroup);
      } else {
        const portGroup = ref === 'bridge' && bridge ? bridge : ref;
        if (!portGroups.includes(portGroup)) portGroups.push(portGroup);
      }
    }
    // The bridge network alone is the resource's default: left unset, as before docker networks.
    const byDefault = portGroups.length === 0 || (portGroups.length === 1 && portGroups[0] === bridge);
    return { dockerNetworks, ...(byDefault ? {} : { portGroups }) };
  }

  /** `docker network create` (and compose's `<project>_default`): a docker network over the VCH's bridge port group. */
  private async createNetwork(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readJsonBody<NetworkCreateBody>(req)) ?? {};
    const bridge = this.vch.bridgeNetwork;
    if (!bridge) {
      throw badRequest(
        `network create ${String(body.Name ?? '')}: the VCH has no bridge network for docker networks to stand on; give the VCH a bridge_network, or run containers with --network <port group>`,
      );
    }
    const taken = new Set((await this.networks()).flatMap((n) => [n.Name, ...(n.aliases ?? [])]));
    const made = this.dockerNetworks.create(body, bridge, (name) => taken.has(name) || name === 'bridge' || name === 'host');
    this.events.emit({ Type: 'network', Action: 'create', Actor: { ID: made.Id, Attributes: { name: made.Name, type: 'bridge' } } });
    sendJson(res, 201, { Id: made.Id, Warning: '' });
  }

  /**
   * `docker network connect` and `disconnect`. A docker network stands on the VCH's bridge port
   * group: a container whose first NIC is on it joins it or leaves it (its label; its names follow),
   * running or not. A port group is a NIC of the VM, made with it: connecting one the container is
   * not on, or disconnecting one it is on, is refused, saying how to recreate it instead.
   */
  private async connectNetwork(ref: string, connect: boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
    type Body = { Container?: string; EndpointConfig?: { Aliases?: string[] | null } | null; Force?: boolean };
    const body = (await readJsonBody<Body>(req)) ?? {};
    const verb = connect ? 'connect' : 'disconnect';
    const network = await this.findNetwork(ref);
    if (!network) throw notFound(`network ${ref} not found`);
    if (!body.Container) throw badRequest(`network ${verb}: give the container (docker network ${verb} NETWORK CONTAINER)`);
    const engine = this.command(true);
    const vm = await this.findContainer(body.Container, engine);
    const name = String(vm.name);
    const made = this.dockerNetworks.find(network.Id);
    const on = dockerNetworksOf(labelsOf(vm));
    const ports = Array.isArray(vm.networks) ? vm.networks.map(String) : [];
    // The port group a network that docker did not make is (bridge: the VCH's bridge port group).
    const portGroup = made ? made.PortGroup : (network.portGroup ?? network.Name);
    // bridge on the container's first NIC, which no docker network has.
    const bridgeNic = !made && on.length === 0 && portGroup === this.vch.bridgeNetwork && ports[0] === portGroup;
    // On docker networks, its first NIC is theirs (containers.ts shows it so); off bridge, nobody's.
    const joined = made
      ? on.includes(made.Name)
      : bridgeNic
        ? labelsOf(vm)[LABEL.bridgeDetached] !== 'true'
        : (on.length > 0 ? ports.slice(1) : ports).includes(portGroup);
    if (connect && joined) throw new ApiError(403, `endpoint with name ${name} already exists in network ${network.Name}`);
    if (!connect && !joined) throw new ApiError(403, `container ${name} is not connected to network ${network.Name}`);
    if (bridgeNic) return this.detachFromBridge(engine, vm, network, connect, res);
    if (!made || ports[0] !== made.PortGroup) {
      throw badRequest(
        `docker network ${verb} ${ref} ${name}: that ${connect ? 'adds a network card on' : 'removes the network card of'} port group ${portGroup} ${connect ? 'to' : 'from'} container VM ${name}, ` +
          `and vic-iac makes a container VM's network cards with it, never after; recreate the container with the networks it needs (docker run --network ${ref}, once for each network)` +
          (made ? '' : `, or ${verb} a docker network (docker network create), which stands on the VCH's bridge port group`),
      );
    }
    this.refuseManaged(vm, `give it its networks in that configuration (labels["${NETWORK_LABEL}"]) and apply.`);
    // A container off bridge that joins a docker network is on it through the bridge NIC it kept.
    const kept = Object.fromEntries(Object.entries(labelsOf(vm)).filter(([k]) => k !== LABEL.bridgeDetached));
    let labels = withDockerNetworks(kept, connect ? [...on, made.Name] : on.filter((n) => n !== made.Name));
    const own = new Set([name, labels[COMPOSE_SERVICE_LABEL]]);
    const aliases = (body.EndpointConfig?.Aliases ?? []).filter((a) => !own.has(a));
    if (connect && aliases.length > 0) {
      const before = JSON.parse(labels[NAME_LABELS.aliases] ?? '[]') as string[];
      labels = { ...labels, [NAME_LABELS.aliases]: JSON.stringify([...new Set([...before, ...aliases])]) };
    }
    const now = await this.changeContainer(engine, vm, { labels });
    this.remember(now);
    this.events.emit({ Type: 'network', Action: verb, Actor: { ID: made.Id, Attributes: { container: containerId(now), name: made.Name, type: 'bridge' } } });
    if (dockerState(now) === 'running') this.scheduleNames();
    res.writeHead(200).end();
  }

  /**
   * `docker network disconnect bridge` of a container that does not run, and `connect bridge` of
   * one disconnected so: it is on no network meanwhile (LABEL.bridgeDetached), as the Terraform
   * docker provider expects before it connects its `networks_advanced`. Its NIC on the bridge port
   * group stays, for the docker networks it may join; a running one keeps its NIC on, so its
   * disconnect is refused, saying what to do.
   */
  private async detachFromBridge(engine: Engine, vm: Attrs, network: NetworkRow, connect: boolean, res: ServerResponse): Promise<void> {
    const name = String(vm.name);
    this.refuseManaged(vm, `give it its networks in that configuration and apply.`);
    if (!connect && dockerState(vm) === 'running') {
      throw conflict(
        `docker network disconnect ${network.Name} ${name}: ${name} runs, and its VM's network card on port group ${network.portGroup ?? network.Name} stays on while it runs (vic-iac makes a container VM's network cards with it, never after); ` +
          `stop it first (docker stop ${name}), or recreate it with the networks it needs (docker run --network NETWORK, or --network none)`,
      );
    }
    const rest = Object.fromEntries(Object.entries(labelsOf(vm)).filter(([k]) => k !== LABEL.bridgeDetached));
    const now = await this.changeContainer(engine, vm, { labels: connect ? rest : { ...rest, [LABEL.bridgeDetached]: 'true' } });
    this.remember(now);
    this.events.emit({
      Type: 'network',
      Action: connect ? 'connect' : 'disconnect',
      Actor: { ID: network.Id, Attributes: { container: containerId(now), name: network.Name, type: 'bridge' } },
    });
    res.writeHead(200).end();
  }

  /**
   * As dockerd: a docker network in use by a running container stays; one only stopped containers
   * are on goes, and those containers' next start is refused (refuseStartOffNetworks) until it is
   * made again.
   */
  private async removeNetwork(ref: string, res: ServerResponse): Promise<void> {
    const network = this.dockerNetworks.find(ref);
    const users = (await this.containers(this.command())).filter(
      (vm) => network && dockerState(vm) === 'running' && dockerNetworksOf(labelsOf(vm)).includes(network.Name),
    );
    const gone = this.dockerNetworks.remove(
      ref,
      users.map((vm) => String(vm.name)),
    );
    this.events.emit({ Type: 'network', Action: 'destroy', Actor: { ID: gone.Id, Attributes: { name: gone.Name, type: 'bridge' } } });
    res.writeHead(204).end();
  }

  /**
   * dockerd's refusal to start a container on a docker network removed while it was stopped; and the
   * start of one disconnected from bridge and on no network since, whose VM would come up on its NIC.
   */
  private refuseStartOffNetworks(vm: Attrs): void {
    if (onNoNetwork(vm) && Array.isArray(vm.networks) && vm.networks.length > 0) {
      const name = String(vm.name);
      throw conflict(
        `container ${name} is on no network since it was disconnected from ${vm.networks[0] === this.vch.bridgeNetwork ? `${DEFAULT_NETWORK} (port group ${this.vch.bridgeNetwork})` : String(vm.networks[0])}, and its VM keeps its network card on that port group: ` +
          `connect it to a network before it starts (docker network connect NETWORK ${name}, or bridge), or recreate it with --network none to run it without one`,
      );
    }
    const missing = dockerNetworksOf(labelsOf(vm)).find((n) => !this.dockerNetworks.find(n));
    if (missing === undefined) return;
    throw notFound(
      `network ${missing} not found: it was removed while container ${String(vm.name)} was stopped. Create it again (docker network create ${missing}) and start the container, or remove the container and run it on another network`,
    );
  }

  /** `docker network prune`: the networks docker made that no running container is on, with dockerd's label and until filters. */
  private async pruneNetworks(query: URLSearchParams): Promise<Record<string, unknown>> {
    const filters = parseFilters(query.get('filters'));
    refuseUnknownFilters(filters, ['until', 'label', 'label!'], 'networks to prune');
    const until = (filters.get('until') ?? []).map((v) => untilSeconds(v, Date.now()));
    // As dockerd: a network only stopped containers are on is unused.
    const running = (await this.containers(this.command())).filter((vm) => dockerState(vm) === 'running');
    const used = new Set(running.flatMap((vm) => dockerNetworksOf(labelsOf(vm))));
    const deleted: string[] = [];
    for (const n of [...this.dockerNetworks.list()]) {
      if (used.has(n.Name) || !prunable(n.Labels, filters) || !until.every((t) => Date.parse(n.Created) / 1000 <= t)) continue;
      this.dockerNetworks.remove(n.Name, []);
      this.events.emit({ Type: 'network', Action: 'destroy', Actor: { ID: n.Id, Attributes: { name: n.Name, type: 'bridge' } } });
      deleted.push(n.Name);
    }
    return { NetworksDeleted: deleted };
  }

  /** By name, its port group's name (the bridge network's), id or id prefix, as dockerd finds networks. */
  private async findNetwork(ref: string): Promise<(Record<string, unknown> & NetworkRow) | undefined> {
    const networks = await this.networks();
    return (
      networks.find((n) => n.Name === ref) ??
      networks.find((n) => n.aliases?.includes(ref)) ??
      networks.find((n) => n.Id === ref) ??
      networks.find((n) => ref.length >= 3 && n.Id.startsWith(ref))
    );
  }

  /** The VCH's port groups: its bridge network and those its containers use; and none, docker's network of no NIC. */
  private async networks(): Promise<Array<Record<string, unknown> & NetworkRow>> {
    const vms = await this.containers(this.command());
    const names = new Set<string>();
    if (this.vch.bridgeNetwork) names.add(this.vch.bridgeNetwork);
    for (const vm of vms) for (const n of Array.isArray(vm.networks) ? vm.networks : []) names.add(String(n));
    const on = (test: (networks: unknown[]) => boolean) => vms.filter((vm) => Array.isArray(vm.networks) && test(vm.networks));
    const bridge = this.bridgePortGroup;
    // The containers docker shows on a port group's network (on the bridge: not those on docker networks over it).
    const shownOn = (network: string) => vms.filter((vm) => networkNames(vm, bridge).includes(network));
    const portGroups = [...names].map((name) =>
      name === bridge
        ? {
            // The VCH's bridge port group is docker's bridge network, by dockerd's name and driver, as
            // VIC showed it; its own name finds it too (--network, network inspect, -f name=).
            ...networkRow(DEFAULT_NETWORK, 'bridge', shownOn(DEFAULT_NETWORK), { 'vsphere.portgroup': name, 'vic-iac.bridge': 'true' }, bridge),
            Id: networkId(name),
            aliases: [name],
            portGroup: name,
            // dockerd's predefined network: type builtin, never dangling.
            builtin: true,
          }
        : {
            ...networkRow(name, 'vsphere-portgroup', shownOn(name), { 'vsphere.portgroup': name }, bridge),
            portGroup: name,
          },
    );
    const none = {
      ...networkRow(
        NO_NETWORK,
        'null',
        on((n) => n.length === 0),
        {},
        bridge,
      ),
      builtin: true,
    };
    const made = this.dockerNetworks.list().map((n) => ({
      ...networkRow(
        n.Name,
        'bridge',
        vms.filter((vm) => dockerNetworksOf(labelsOf(vm)).includes(n.Name)),
        { 'vsphere.portgroup': n.PortGroup },
        bridge,
      ),
      Id: n.Id,
      Created: n.Created,
      Labels: n.Labels,
    }));
    return [none, ...portGroups, ...made].sort((a, b) => a.Name.localeCompare(b.Name));
  }

  /**
   * A container event, its image named as `docker ps` names it (for a container made by IaC, the
   * reference its image was pulled as: imageReferences). Events go out in the order they are asked
   * for, each once its image is named.
   */
  private emitContainer(action: string, vm: Attrs, extra: Record<string, string> = {}): Promise<void> {
    const references = this.imageReferences(this.command(), [vm]).catch(() => undefined);
    this.emitting = this.emitting.then(async () => {
      const image = imageOf(vm, await references);
      // As dockerd: a start mounts the container's volumes first, and they are unmounted after its die.
      if (action === 'start') for (const e of mountEvents('mount', vm)) this.events.emit(e);
      this.events.emit({
        Type: 'container',
        Action: action,
        Actor: { ID: containerId(vm), Attributes: { ...labelsOf(vm), image, name: String(vm.name), ...extra } },
      });
      if (action === 'die') for (const e of mountEvents('unmount', vm)) this.events.emit(e);
    });
    return this.emitting;
  }

  private streamEvents(query: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
    const filters = parseFilters(query.get('filters'));
    refuseUnknownFilters(filters, EVENT_FILTERS, 'events');
    const since = query.get('since') ? Number(query.get('since')) : undefined;
    const until = query.get('until') ? Number(query.get('until')) : undefined;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const matches = (e: DockerEvent) =>
      [...filters].every(([k, values]) => {
        if (values.length === 0) return true;
        if (k === 'type') return values.includes(e.Type);
        // exec_create and exec_start carry their command after a colon; the filter names the event alone, as dockerd's.
        if (k === 'event') return values.includes(e.Action) || values.includes(e.Action.split(':')[0]);
        if (k === 'container') return e.Type === 'container' && values.some((v) => e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v);
        if (k === 'image') return values.includes(e.Actor.Attributes.image ?? e.Actor.Attributes.name ?? '');
        // Every label given must hold, as in the listings.
        if (k === 'label') return values.every((v) => labelMatches(e.Actor.Attributes, [v]));
        // Every event here is the local engine's; none is a swarm's.
        if (k === 'scope') return values.includes('local');
        // The objects of other types, by id or name, as dockerd matches them.
        if (k === 'volume' || k === 'network' || k === 'daemon') return e.Type === k && values.some((v) => e.Actor.ID === v || e.Actor.Attributes.name === v);
        return false;
      });
    const write = (e: DockerEvent) => {
      if (matches(e)) res.write(`${JSON.stringify(e)}\n`);
    };
    const stop = this.events.subscribe({ since, until }, write, () => res.end());
    this.ensurePolling();
    req.on('close', stop);
    res.on('close', stop);
  }
}

const ZERO = '0001-01-01T00:00:00Z';

/** `docker events --filter` keys this endpoint knows (dockerd's, less swarm's config, node, plugin, secret and service). */
const EVENT_FILTERS = ['type', 'event', 'container', 'image', 'label', 'scope', 'volume', 'network', 'daemon'];

/**
 * How long a container just made stands for itself in the wait `docker run` opens before its start
 * (the CLI sends the three requests one after the other).
 */
const JUST_CREATED_MS = 5_000;
/** How long a look waits for the attached streams' last reads before it tells a container's end (dockerd waits 2 s too). */
const OUTPUT_DRAIN_MS = 2_000;
/** The most an upgraded request's own body may take (exec start's is a few dozen bytes). */
const MAX_UPGRADE_BODY = 64 * 1024;
/** When an attached stream is read again after its input went (ms). */
const READ_SOON_MS = [100, 250, 500];
/** Exec instances kept for inspect: beyond it, the oldest ended ones go. */
const MAX_EXECS = 1000;

/**
 * The body of an upgraded request (its Content-Length bytes, from `head` and then the socket):
 * what follows it on the socket is the client's stdin, put back for its reader.
 */
async function upgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<Buffer> {
  if (req.headers['transfer-encoding']) throw badRequest('an attach or exec start request with a chunked body: send its body with a Content-Length');
  const length = Number(req.headers['content-length'] ?? 0);
  if (!Number.isInteger(length) || length < 0 || length > MAX_UPGRADE_BODY)
    throw badRequest(`a request body of ${String(req.headers['content-length'])} bytes: at most ${MAX_UPGRADE_BODY} here`);
  const parts = [head];
  let got = head.length;
  while (got < length) {
    const more = await new Promise<Buffer | null>((resolve) => {
      const done = (d: Buffer | null) => {
        socket.off('data', onData).off('end', onEnd).off('close', onEnd).off('error', onEnd);
        socket.pause();
        resolve(d);
      };
      const onData = (d: Buffer) => done(d);
      const onEnd = () => done(null);
      socket.on('data', onData).on('end', onEnd).on('close', onEnd).on('error', onEnd);
      socket.resume();
    });
    if (!more) break;
    parts.push(more);
    got += more.length;
  }
  const all = Buffer.concat(parts);
  if (all.length > length) socket.unshift(all.subarray(length));
  return all.subarray(0, length);
}

/**
 * The `h` and `w` of a resize: undefined when either is 0 or missing (nothing to size), a 400
 * naming the one that is not a number of rows or columns.
 */
function terminalSize(query: URLSearchParams): { rows: number; cols: number } | undefined {
  const read = (key: string, what: string): number => {
    const text = query.get(key) ?? '0';
    const n = Number(text);
    if (!/^\d+$/.test(text) || n > 65535) throw badRequest(`resize: ${key}=${text}: expected the terminal's ${what}, a whole number from 0 to 65535`);
    return n;
  };
  const rows = read('h', 'rows');
  const cols = read('w', 'columns');
  return rows > 0 && cols > 0 ? { rows, cols } : undefined;
}

/**
 * Where attach and an attached exec start send their stream: `begin` sends the headers with the
 * stream's content type and gives the duplex that carries it (its reads: the client's input).
 */
interface OutputStream {
  begin(contentType: string): Duplex;
  /** Whether the client's input comes on it. */
  readonly input: boolean;
}

/** An upgraded connection (the docker CLI's): dockerd's 101, then the stream both ways on the socket. */
function upgradedStream(socket: Duplex): OutputStream {
  return {
    input: true,
    begin: (contentType) => {
      socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
      return socket;
    },
  };
}

/**
 * A request that did not upgrade (dockerode's attach and exec start without hijack): a 200 whose
 * body is the stream, as dockerd answers it, and no input (the request's body was all it sent).
 * The duplex closes when the response does, so a client that leaves is seen as gone.
 */
function responseStream(res: ServerResponse): OutputStream {
  return {
    input: false,
    begin: (contentType) => {
      res.writeHead(200, { 'Content-Type': contentType });
      res.flushHeaders();
      const body = new Duplex({
        read: () => undefined,
        write: (chunk: Buffer, _encoding, done) => void res.write(chunk, () => done()),
        final: (done) => void res.end(() => done()),
      });
      body.push(null);
      res.on('close', () => body.destroy());
      return body;
    },
  };
}

/**
 * Reads of an attached stream soon after its input went (the echo of what was typed, the answer
 * to it), rather than at the next look a second later: a few, spread over the guest's usual
 * answer times. `set` takes the stream's read function, `after` is told of each input sent.
 */
function readSoon(): { set: (read: () => void) => void; after: () => void } {
  let read: (() => void) | undefined;
  return {
    set: (r) => (read = r),
    after: () => {
      for (const ms of READ_SOON_MS) setTimeout(() => read?.(), ms).unref();
    },
  };
}

/** A JSON object from a request body; anything else is none. */
function parseJsonObject(body: Buffer): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(body.toString('utf8') || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A docker cp PUT's body goes to the guest this much at a time (an attach's input: input.ts). */
const ARCHIVE_INPUT_BATCH_BYTES = 512 * 1024;

/** EndpointOptions.keptLookupsMs's default. */
const KEPT_LOOKUPS_MS = 60_000;

/**
 * Up to this many containers waited on, a look reads each of them (a round trip each, in
 * parallel); beyond, one listing of the VCH costs less.
 */
const FEW = 8;

function nameInUse(name: string, holder: Attrs): ApiError {
  return conflict(
    `Conflict. The container name "/${name}" is already in use by container "${containerId(holder)}". You have to remove (or rename) that container to be able to reuse that name.`,
  );
}

/**
 * `--platform` at create (the CLI sends it as ?platform=): the image stored has one platform, and a
 * container of another would silently run that one instead; dockerd refuses the mismatch too.
 */
function refuseOtherPlatform(wanted: string | null, image: string, stored: Attrs): void {
  if (!wanted) return;
  const have = String(stored.platform ?? 'linux/amd64');
  const osArch = (p: string) => p.split('/').slice(0, 2).join('/');
  if (osArch(wanted) === osArch(have)) return;
  throw badRequest(
    `--platform ${wanted}: image ${image} in the VCH's store is ${have}, not ${wanted}, and a container runs its image's own platform; run without --platform, or with --platform ${have}`,
  );
}

/**
 * docker's --network host and container:<name|id>: a container VM shares no network stack, neither
 * the host's nor another container's. Each is a VM with its own NIC on a port group.
 */
function refuseNetworkMode(mode: string | undefined): void {
  if (mode !== 'host' && !mode?.startsWith('container:')) return;
  const what = mode === 'host' ? '--network host' : `--network ${mode}`;
  throw badRequest(
    `${what} is not supported by vic-iac: each container is its own VM with its own network card on a vSphere port group, so there is no host's (or other container's) network to share; use --network <port group> (docker network ls lists them), --network none, or publish ports with -p`,
  );
}

/** A plan or a create refused because a finished container VM of that name holds its identity. */
function heldByAnother(refusal: unknown): boolean {
  const problems = (refusal as { problems?: readonly Problem[] } | undefined)?.problems;
  return problems?.some((p) => p.summary === 'Container VM held by another resource') ?? false;
}

/** Where a guest call's exec and input go, and when its guest is gone (a maintenance boot's). */
interface GuestRoute {
  readonly engine: Engine;
  readonly gone: () => boolean;
}

/** Sends an exec request's input to the guest while it runs (docker cp's tar into a container). */
type GuestInput = (guestId: string, exited: Promise<number>, sent: () => void) => Promise<void>;

/** An exec's frames kept whole: stdout's bytes and stderr's text (docker top's and docker diff's answers). */
class KeptOutput {
  private readonly chunks: Buffer[] = [];
  stderr = '';
  readonly write = (lines: readonly OutputLine[]): void => {
    for (const l of lines) {
      if (l.stream === 'stdout') this.chunks.push(l.data);
      else this.stderr += l.data.toString('utf8');
    }
  };
  get stdout(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** The API error of a request the guest's tether ended with a non-zero exit: what, of which container, and the reason it wrote. */
function guestFailure(what: string, container: string, exitCode: number, stderr: string): ApiError {
  const why = stderr.trim();
  return new ApiError(500, `${what} of ${container} failed in the container VM (exit ${exitCode})${why ? `: ${why}` : ''}`);
}

/** A maintenance boot of a stopped container (withMaintenance). */
interface MaintenanceBoot {
  readonly token: string;
  readonly vm: Attrs;
  readonly ready: Promise<void>;
  /** Copies under way. */
  users: number;
  /** Its guest no longer serves it (powered off). */
  dead: boolean;
  /** Ends as soon as the copies under way are done (a start or rm waits for it). */
  endNow?: boolean;
  idle?: NodeJS.Timeout;
  watch?: NodeJS.Timeout;
  ending?: Promise<void>;
}

/** How long a maintenance boot stays up after its last copy, for the next (docker cp in a loop, a script's few copies). */
const MAINTENANCE_IDLE_MS = 3_000;
/** How often a maintenance boot's guest is looked at while copies use it. */
const MAINTENANCE_WATCH_MS = 2_000;

interface CreateBody {
  Image?: string;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Hostname?: string;
  Labels?: Record<string, string> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  AttachStdin?: boolean;
  StdinOnce?: boolean;
  Volumes?: Record<string, unknown> | null;
  ExposedPorts?: Record<string, unknown> | null;
  StopSignal?: string;
  StopTimeout?: number | null;
  HostConfig?: {
    AutoRemove?: boolean;
    Memory?: number;
    NanoCpus?: number;
    RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
    NetworkMode?: string;
    Binds?: string[] | null;
    Mounts?: MountSpec[] | null;
    VolumesFrom?: string[] | null;
    PortBindings?: Record<string, unknown> | null;
    PublishAllPorts?: boolean;
    Links?: string[] | null;
    ExtraHosts?: string[] | null;
  };
  NetworkingConfig?: { EndpointsConfig?: Record<string, { Aliases?: string[] | null; Links?: string[] | null } | null> | null } | null;
}

function envMap(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    // `-e NAME` of a variable the client does not have arrives without "=": as with dockerd, the
    // container does not get it (not an empty value).
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/**
 * docker stop's and restart's -t: seconds before the power-off (negative: no limit); without it,
 * the container's own (--stop-timeout, compose's stop_grace_period), else 10, as dockerd.
 */
function stopTimeout(query: URLSearchParams, vm: Attrs): number {
  const text = query.get('t') ?? query.get('timeout');
  const timeout = text === null || text === '' ? (stopTimeoutOf(vm) ?? DEFAULT_STOP_TIMEOUT) : Number(text);
  if (!Number.isInteger(timeout)) throw badRequest(`-t/--time ${text}: expected a whole number of seconds`);
  return timeout;
}

/**
 * docker stop's and restart's -s: the signal the process is sent first; without it, the
 * container's own (--stop-signal, compose's stop_signal), else SIGTERM, as dockerd.
 */
function stopSignal(query: URLSearchParams, vm: Attrs): number {
  return signalNumber(query.get('signal') || stopSignalOf(vm) || 'TERM');
}

/** dockerd's stop timeout of a container that has none of its own (seconds). */
const DEFAULT_STOP_TIMEOUT = 10;

/** The references that hold a stored image (ImageLifecycle listIn), first the one it shows under. */
/**
 * dockerd's 400 for a name that is no image reference (`docker rmi fakeImage`), before any lookup:
 * an upper-case repository in its words, anything else with what is wrong. An id or id prefix passes.
 */
function isImageReference(text: string): boolean {
  try {
    parseImageReference(text);
    return true;
  } catch {
    return false;
  }
}

function refuseInvalidReference(ref: string): void {
  if (/^(sha256:)?[0-9a-f]{1,64}$/.test(ref)) return;
  try {
    parseImageReference(ref);
  } catch (err) {
    if (isImageReference(ref.toLowerCase())) {
      const name = ref.split('@')[0];
      const repository = name.lastIndexOf(':') > name.lastIndexOf('/') ? name.slice(0, name.lastIndexOf(':')) : name;
      throw badRequest(`invalid reference format: repository name (${repository.includes('/') ? repository : `library/${repository}`}) must be lowercase`);
    }
    throw badRequest(`invalid reference format: ${(err as Error).message}`);
  }
}

function tagsOf(image: Attrs): string[] {
  const listed = stringsOf(image.references);
  return listed.length > 0 ? listed : [String(image.reference)];
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((r): r is string => typeof r === 'string') : [];
}

/**
 * The image's names as tags, as dockerd lists them: a name by digest (`repo@sha256:…`) is a
 * RepoDigest, not a tag; in lexical order, as dockerd's reference store gives them (the store's own
 * order changes from one read to the next).
 */
function repoTagsOf(image: Attrs): string[] {
  return tagsOf(image)
    .filter((t) => !t.includes('@'))
    .map(displayReference)
    .sort();
}

/** `repository@digest` once per repository that names the image. */
function repoDigestsOf(image: Attrs): string[] {
  return [...new Set(tagsOf(image).map((t) => `${repositoryOf(t)}@${String(image.id)}`))];
}

/** The repository of a reference, as docker shows it (`127.0.0.1:5000/app`, `busybox`). */
function repositoryOf(text: string): string {
  try {
    const r = parseImageReference(text);
    return displayReference(`${r.registry}/${r.repository}`);
  } catch {
    return text;
  }
}

/**
 * The name docker commit and import give an image: `repo` (which carries its tag as docker import
 * sends it, not as docker commit does) with `tag`, else `latest`; none without a repo.
 */
function imageNameOf(query: URLSearchParams): string | undefined {
  const repo = query.get('repo') ?? '';
  if (!repo) return undefined;
  const tag = query.get('tag') ?? '';
  const tagged = repo.lastIndexOf(':') > repo.lastIndexOf('/');
  const name = tag ? `${repo}:${tag}` : tagged ? repo : `${repo}:latest`;
  refuseInvalidReference(name);
  if (name.includes('@')) throw badRequest(`invalid reference format: ${name}: name the new image by repository and tag, not by digest`);
  return name;
}

/**
 * A request's body, a tar (plain or gzip-compressed), as a plain tar file in `dir`: the image's
 * layer is hashed uncompressed (its diff id). Other compressions are refused, saying so.
 */
async function receiveTar(req: IncomingMessage, dir: string, verb: 'imports' | 'loads'): Promise<string> {
  const received = join(dir, 'received');
  await pipeline(req, createWriteStream(received));
  const head = Buffer.alloc(6);
  const handle = await open(received, 'r');
  try {
    await handle.read(head, 0, 6, 0);
  } finally {
    await handle.close();
  }
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const plain = join(dir, 'rootfs.tar');
    await pipeline(createReadStream(received), createGunzip(), createWriteStream(plain));
    await rm(received);
    return plain;
  }
  const other =
    head.subarray(0, 3).toString('latin1') === 'BZh'
      ? 'bzip2'
      : head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))
        ? 'xz'
        : head.readUInt32LE(0) === 0xfd2fb528
          ? 'zstd'
          : undefined;
  if (other)
    throw badRequest(`the file is ${other}-compressed; vic-iac ${verb} a tar, plain or gzip-compressed: decompress it first (or recompress it with gzip)`);
  return received;
}

/** The repository an untagged commit's image is named by (`<repository>@sha256:…`): its container's name, as a repository may spell it. */
function untaggedRepository(container: string): string {
  // Letters and digits, each other run a single dash: a container name may hold `_`, `.` and `-`
  // in orders a repository's name may not.
  const spelled = container
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return spelled || 'committed';
}

/** A reference as docker shows it: Docker Hub's without its registry and library/ prefix. */
function displayReference(text: string): string {
  return text.replace(/^docker\.io\/(library\/)?/, '');
}

/**
 * Why a pull failed, in docker's words and without the IaC attribute names the image plan's problems
 * carry: the image as typed, the registry, the cause and what to do. `attr` is the attribute the
 * problem is on (reference, registry_auth, platform).
 */
function pullFailure(reference: string, registry: string, detail: string, attr: string, platform?: string): string {
  const noBuild = /has no manifest for platform (\S+) \(it offers: ([^)]*)\)/.exec(detail);
  if (noBuild) {
    return `cannot pull ${reference}: this image has no ${noBuild[1]} build, which a container VM needs (it offers: ${noBuild[2]}); use an image, or another tag of it, that has a ${noBuild[1]} build`;
  }
  if (attr === 'platform') {
    const what = /cannot run in a container VM/.test(detail)
      ? 'a container VM boots an x86-64 Linux kernel, so it runs linux/amd64 images only'
      : 'expected os/architecture[/variant], e.g. linux/amd64';
    return `cannot pull ${reference}: --platform ${platform ?? ''}: ${what}; pull without --platform (linux/amd64 is the default)`;
  }
  const unreachable = /^cannot reach registry (\S+) at \S+: (.*)$/s.exec(detail);
  if (unreachable) {
    return `cannot pull ${reference}: registry ${unreachable[1]} cannot be reached from the VCH (${unreachable[2]}); check the image name; the VCH needs network access to ${unreachable[1]}, or push the image to a registry it reaches and run it by that name`;
  }
  if (/not found in repository|MANIFEST_UNKNOWN|NAME_UNKNOWN/.test(detail)) {
    return `manifest for ${reference} not found: manifest unknown: registry ${registry} has no such tag or repository; check the name and tag (docker pull ${reference}), or push the image there`;
  }
  if (attr === 'registry_auth') {
    return `pull access denied for ${reference}: ${detail.replace(/; (set|check) registry_auth.*$/s, '')}; log in with docker login ${registry}`;
  }
  return `cannot pull ${reference}: ${detail}`;
}

function phaseText(phase: string): string {
  if (phase === 'pull') return 'Downloading';
  if (phase === 'build') return 'Extracting';
  if (phase === 'upload') return 'Uploading to the image store';
  return phase;
}

/** X-Registry-Auth: base64url JSON `{username, password, serveraddress}`; an empty object means none. */
function registryAuth(header: string | string[] | undefined): { username: string; password: string } | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as { username?: string; password?: string };
    return parsed.username ? { username: parsed.username, password: parsed.password ?? '' } : undefined;
  } catch {
    throw badRequest('X-Registry-Auth is not base64-encoded JSON');
  }
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  // A delete vSphere's users refused (a container VM the endpoint's listing does not show, moved out of the pool): docker's 409.
  if (err instanceof InUseError) return new ApiError(409, err.message);
  return new ApiError(500, err instanceof Error ? err.message : String(err));
}

/** A network as `docker network inspect` shows it, with the containers on it. */
function networkRow(
  name: string,
  driver: string,
  containers: readonly Attrs[],
  options: Record<string, string>,
  bridge: string | undefined,
): Record<string, unknown> & NetworkRow {
  return {
    Name: name,
    Id: networkId(name),
    Created: ZERO,
    Scope: 'local',
    Driver: driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: Object.fromEntries(
      containers.map((vm) => {
        const { address, mac } = endpointOn(vm, name, bridge);
        return [containerId(vm), { Name: String(vm.name), EndpointID: '', MacAddress: mac, IPv4Address: address, IPv6Address: '' }];
      }),
    ),
    Options: options,
    Labels: {},
  };
}

/** A network row as sent: without the flag the filters read. */
function withoutBuiltin<T extends NetworkRow>(row: T): Omit<T, 'builtin' | 'aliases' | 'portGroup'> {
  const { builtin: _builtin, aliases: _aliases, portGroup: _portGroup, ...sent } = row;
  return sent;
}

/**
 * Output of a container as logs and attach send it: the bytes it wrote, as a multiplexed frame, or
 * with a terminal (-t) raw, as dockerd sends them; `docker logs --timestamps` puts the time first.
 */
function outputChunk(tty: boolean, line: OutputLine, timestamps: boolean): Buffer {
  const data = timestamps ? Buffer.concat([Buffer.from(`${line.time} `), line.data]) : line.data;
  return tty ? data : frame(STREAM[line.stream], data);
}
