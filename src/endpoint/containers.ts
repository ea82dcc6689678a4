/**
 * Container VMs as Docker sees them: ids, names, states, `docker ps` rows and `docker inspect`
 * documents, all derived from what vSphere holds (the container_vm state a listing reads), so an
 * endpoint restarted shows the same.
 */
import { createHash } from 'node:crypto';
import { DOCKER_ORIGIN_LABEL, hostnameOf, type Attrs } from '../resources';
import { ZERO_TIME, humanDuration, unixSeconds } from './protocol';
import { healthSuffix, healthcheckOf, type HealthState } from './health';
import { dockerNetworksOf, networkId } from './networks';
import { linksOf } from './peer-names';
import { mountsOf } from './volumes';

/**
 * Labels the endpoint adds to the containers it makes: where a container came from and what only
 * Docker has (the image name as typed, --rm, the creation time). They are labels because labels
 * are what a container VM keeps in vSphere for its users; IaC-made containers carry none of them.
 */
export const LABEL = {
  origin: DOCKER_ORIGIN_LABEL,
  image: 'vic-iac.docker.image',
  autoRemove: 'vic-iac.docker.auto-remove',
  created: 'vic-iac.docker.created',
  // docker run -i: the end of the attach's input is the end of the process's (StdinOnce).
  stdinOnce: 'vic-iac.docker.stdin-once',
  // --stop-timeout and --stop-signal (compose's stop_grace_period and stop_signal): the defaults of
  // docker stop and restart for this container, as dockerd keeps them in its Config.
  stopTimeout: 'vic-iac.docker.stop-timeout',
  stopSignal: 'vic-iac.docker.stop-signal',
  // No -m at create: the container VM has the default memory, which inspect shows as dockerd shows
  // no limit (HostConfig.Memory 0), not as a limit its user set.
  defaultMemory: 'vic-iac.docker.default-memory',
  // No --cpus at create: the container VM has the default vCPU count, which inspect shows as dockerd
  // shows no limit (HostConfig.NanoCpus 0). The Terraform docker provider reads a NanoCpus above 0
  // back as its `cpus`, which a change of replaces the container: a default shown as 1 CPU would
  // replace it at every plan.
  defaultCpus: 'vic-iac.docker.default-cpus',
  // docker volume create -o: the options as given, which inspect shows as dockerd does (Options).
  volumeOptions: 'vic-iac.docker.volume-options',
  // HostConfig.NetworkMode as the create gave it (bridge for none given), which dockerd shows
  // whatever connects and disconnects follow; the Terraform docker provider reads it back as its
  // `network_mode` (default bridge), which a change of replaces the container.
  networkMode: 'vic-iac.docker.network-mode',
  // HostConfig.Binds and HostConfig.Mounts as the create gave them (JSON), which inspect shows as
  // dockerd does; the Terraform docker provider reads Mounts back as its `mounts`, which a change of
  // replaces the container.
  hostMounts: 'vic-iac.docker.host-mounts',
  // docker network disconnect bridge of a container that does not run (the Terraform docker
  // provider's first step towards its networks_advanced): on no network until it is connected to
  // one. Its NIC on the bridge port group stays, for the docker networks it may be connected to.
  bridgeDetached: 'vic-iac.docker.bridge-detached',
  // Config.Volumes of inspect: the paths the create (-v /path) and the image (VOLUME) declared.
  volumes: 'vic-iac.docker.volumes',
  // --add-host (HostConfig.ExtraHosts) as the create gave it (JSON): the container VM's extra_hosts
  // also holds the containers beside it at its last start, which its guest names at boot.
  extraHosts: 'vic-iac.docker.extra-hosts',
  // Config.ExposedPorts of inspect: the ports the create (--expose, -p) and the image (EXPOSE) declared.
  exposedPorts: 'vic-iac.docker.exposed-ports',
  // -P (HostConfig.PublishAllPorts): the exposed ports it published (JSON), which its `ports` hold
  // beside -p's and which HostConfig.PortBindings leaves out, as dockerd's.
  publishAll: 'vic-iac.docker.publish-all',
} as const;

/** The prefix of the labels the endpoint and the resources keep for themselves (LABEL, the markers). */
export const OWN_LABEL_PREFIX = 'vic-iac.';

/** HostConfig.Binds and HostConfig.Mounts as the create gave them (LABEL.hostMounts); null where none. */
function hostMountsOf(vm: Attrs): { Binds: unknown[] | null; Mounts: unknown[] | null } {
  try {
    const given = JSON.parse(labelsOf(vm)[LABEL.hostMounts] ?? '{}') as { Binds?: unknown; Mounts?: unknown };
    return { Binds: Array.isArray(given.Binds) ? given.Binds : null, Mounts: Array.isArray(given.Mounts) ? given.Mounts : null };
  } catch {
    return { Binds: null, Mounts: null };
  }
}

/** The container's own stop timeout (--stop-timeout), in seconds, if it has one. */
export function stopTimeoutOf(vm: Attrs): number | undefined {
  const text = labelsOf(vm)[LABEL.stopTimeout];
  return text !== undefined && /^-?\d+$/.test(text) ? Number(text) : undefined;
}

/** The container's own stop signal (--stop-signal, as given: SIGINT, 2), if it has one. */
export function stopSignalOf(vm: Attrs): string | undefined {
  const text = labelsOf(vm)[LABEL.stopSignal];
  return text ? text : undefined;
}

/** A container made with docker (not by a Terraform, Pulumi or vic state). */
export function madeByDocker(vm: Attrs): boolean {
  return labelsOf(vm)[LABEL.origin] === 'docker';
}

/**
 * The container's own /etc/hosts entries ("NAME:ADDRESS", HostConfig.ExtraHosts): a docker-made
 * one's as its create gave them (LABEL.extraHosts), an IaC-made one's extra_hosts.
 */
export function userExtraHosts(vm: Attrs): string[] {
  const own = vm.extra_hosts;
  if (!madeByDocker(vm)) return Array.isArray(own) ? own.map(String) : [];
  try {
    const given: unknown = JSON.parse(labelsOf(vm)[LABEL.extraHosts] ?? '[]');
    return Array.isArray(given) ? given.map(String) : [];
  } catch {
    return [];
  }
}

export function labelsOf(vm: Attrs): Record<string, string> {
  const l = vm.labels;
  return l && typeof l === 'object' && !Array.isArray(l) ? (l as Record<string, string>) : {};
}

/** The container id: 64 hex digits from the VM's BIOS UUID, so it survives endpoint restarts. */
export function containerId(vm: Attrs): string {
  return containerIdOf(String(vm.id));
}

/** The container id of the container VM with BIOS UUID `uuid`. */
export function containerIdOf(uuid: string): string {
  return createHash('sha256').update(`vic-iac container ${uuid}`).digest('hex');
}

/** A container's host name when its create gives none: the first 12 hex digits of its id, as dockerd's. */
export function defaultHostname(uuid: string): string {
  return containerIdOf(uuid).slice(0, 12);
}

export type DockerState = 'created' | 'running' | 'exited';

export function dockerState(vm: Attrs): DockerState {
  if (vm.power_state === 'running') return 'running';
  return vm.status === 'exited' ? 'exited' : 'created';
}

/**
 * Whether the guest is about to run the container's ended process again (the back-off of its restart
 * policy, between two runs in one boot of its VM): dockerd's "restarting". Its VM is on, its guest
 * reported the end, and the policy runs it again, as the tether decides (RestartPolicy.ShouldRestart).
 * The container still counts as running: it can be stopped, killed or exec'd into once it runs.
 */
export function restarting(vm: Attrs): boolean {
  if (vm.power_state !== 'running' || vm.status !== 'exited') return false;
  const max = typeof vm.max_restarts === 'number' ? vm.max_restarts : 0;
  const count = typeof vm.restart_count === 'number' ? vm.restart_count : 0;
  if (max > 0 && count >= max) return false;
  return vm.restart === 'always' || vm.restart === 'unless-stopped' || (vm.restart === 'on-failure' && exitCodeOf(vm) !== 0);
}

/** The state docker shows: dockerState, or "restarting" between two runs of a restart policy. */
export function shownState(vm: Attrs): DockerState | 'restarting' {
  return restarting(vm) ? 'restarting' : dockerState(vm);
}

export function exitCodeOf(vm: Attrs): number {
  return typeof vm.exit_code === 'number' ? vm.exit_code : 0;
}

/** `docker ps` STATUS: "Up 3 seconds", "Exited (0) 2 minutes ago", "Created". */
/**
 * The health the endpoint's monitor gave a container with a check (health.ts), which the endpoint
 * adds to the container's attributes as `docker_health` before it lists or inspects it.
 */
export function healthOf(vm: Attrs): HealthState | undefined {
  return vm.docker_health && typeof vm.docker_health === 'object' ? (vm.docker_health as unknown as HealthState) : undefined;
}

/** inspect's Config.Volumes: `{"/path": {}}` for each path declared at create, or null. */
function declaredVolumes(vm: Attrs): Record<string, object> | null {
  return declared(vm, LABEL.volumes);
}

/**
 * Config.ExposedPorts: what the create and the image declared (docker-made), else the ports asked
 * for (`ports`); absent when none, as dockerd leaves it out.
 */
function exposedPortsOf(vm: Attrs): Record<string, object> | undefined {
  const ports =
    labelsOf(vm)[LABEL.exposedPorts] !== undefined ? declared(vm, LABEL.exposedPorts) : Object.fromEntries(Object.keys(portBindingsOf(vm)).map((p) => [p, {}]));
  return ports && Object.keys(ports).length > 0 ? ports : undefined;
}

/** A label's JSON list as the keys of a map of empty objects (Config.Volumes, Config.ExposedPorts); null when empty. */
function declared(vm: Attrs, label: string): Record<string, object> | null {
  try {
    const keys: unknown = JSON.parse(labelsOf(vm)[label] ?? '[]');
    return Array.isArray(keys) && keys.length > 0 ? Object.fromEntries(keys.map((k) => [String(k), {}])) : null;
  } catch {
    return null;
  }
}

/** A port as Config.ExposedPorts names it: "80" is "80/tcp". */
export function exposedPortKey(port: string): string {
  return port.includes('/') ? port.toLowerCase() : `${port}/tcp`;
}

export function statusText(vm: Attrs, now = Date.now()): string {
  const state = shownState(vm);
  if (state === 'restarting') {
    const finished = Date.parse(String(vm.finished_at ?? ''));
    return `Restarting (${exitCodeOf(vm)}) ${Number.isNaN(finished) ? 'Less than a second' : humanDuration(now - finished)} ago`;
  }
  if (state === 'running') {
    const started = Date.parse(String(vm.started_at ?? ''));
    const up = `Up ${humanDuration(Number.isNaN(started) ? 0 : now - started)}${healthSuffix(healthOf(vm))}`;
    return vm.guest_queued === true ? `${up} (queued: waits for a free guest slot of the simulator)` : up;
  }
  if (state === 'exited') {
    const finished = Date.parse(String(vm.finished_at ?? ''));
    return `Exited (${exitCodeOf(vm)}) ${Number.isNaN(finished) ? 'Less than a second' : humanDuration(now - finished)} ago`;
  }
  return 'Created';
}

/**
 * The image as docker shows it: the name it was run with; for a container made by IaC (no such
 * label), the reference its image was pulled as (`references`: image id → reference), else the id.
 */
export function imageOf(vm: Attrs, references?: ReadonlyMap<string, string>): string {
  return labelsOf(vm)[LABEL.image] ?? references?.get(String(vm.image_id)) ?? String(vm.image_id ?? '');
}

/**
 * When the container was made: the label a docker create sets; for a container made by IaC, when
 * vSphere made its VM (the listing's `vm_created`; not its started_at, which changes at each start,
 * and which docker ps's order and --filter before/since must not follow); docker's zero time where
 * vSphere does not say (before 6.7).
 */
export function createdOf(vm: Attrs): string {
  const label = labelsOf(vm)[LABEL.created];
  if (label !== undefined && !Number.isNaN(Date.parse(label))) return label;
  return typeof vm.vm_created === 'string' && !Number.isNaN(Date.parse(vm.vm_created)) ? vm.vm_created : ZERO_TIME;
}

/** createdOf to the millisecond: --filter before/since compare containers made within one second. */
export function createdMs(vm: Attrs): number {
  const ms = Date.parse(createdOf(vm));
  return Number.isNaN(ms) ? 0 : ms;
}

function commandOf(vm: Attrs): string[] {
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  return [...list(vm.entrypoint), ...list(vm.command)];
}

function envList(vm: Attrs): string[] {
  const env = vm.env && typeof vm.env === 'object' ? (vm.env as Record<string, string>) : {};
  return Object.keys(env)
    .sort()
    .map((k) => `${k}=${env[k]}`);
}

/** published_ports as the host's address and port of each container port ("80/tcp" → 127.0.0.1, 41234). */
function publishedOf(vm: Attrs): { port: string; hostIp: string; hostPort: string }[] {
  const ports = vm.published_ports && typeof vm.published_ports === 'object' ? (vm.published_ports as Record<string, string>) : {};
  return Object.entries(ports).map(([port, host]) => {
    const at = host.lastIndexOf(':');
    return { port, hostIp: host.slice(0, at), hostPort: host.slice(at + 1) };
  });
}

/** The container VM's `ports` as docker's HostConfig.PortBindings ("80/tcp" → [{HostIp, HostPort}]). */
function portBindingsOf(vm: Attrs): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  const byAll = new Set(Object.keys(declared(vm, LABEL.publishAll) ?? {}));
  for (const p of (Array.isArray(vm.ports) ? vm.ports : []) as Attrs[]) {
    const key = `${String(p.internal)}/${String(p.protocol ?? 'tcp')}`;
    if (byAll.has(key)) continue;
    (out[key] ??= []).push({ HostIp: String(p.ip ?? '0.0.0.0'), HostPort: p.external ? String(p.external) : '' });
  }
  return out;
}

/**
 * The ports a running container declares (Config.ExposedPorts: --expose, the image's EXPOSE) that
 * nothing publishes, which dockerd lists too: `docker ps` as "9000/tcp", inspect with no binding.
 */
function exposedOnly(vm: Attrs, listed: ReadonlySet<string>): string[] {
  if (dockerState(vm) !== 'running') return [];
  return Object.keys(exposedPortsOf(vm) ?? {}).filter((port) => !listed.has(port));
}

/** `docker ps`'s PORTS: one entry per published port, then the exposed ones nothing publishes. */
function portsSummary(vm: Attrs): Record<string, unknown>[] {
  const published = publishedOf(vm);
  const split = (port: string) => {
    const [number, type] = port.split('/');
    return { PrivatePort: Number(number), Type: type };
  };
  return [
    ...published.map(({ port, hostIp, hostPort }) => ({ IP: hostIp, ...split(port), PublicPort: Number(hostPort) })),
    ...exposedOnly(vm, new Set(published.map((p) => p.port))).map(split),
  ];
}

/**
 * `NetworkSettings.Ports` of inspect (what `docker port` prints): where each port is published. A
 * running container's ports asked for (-p) that are not published yet (the simulator publishes them
 * once its guest runs the process; vSphere keeps them unpublished) show as asked, a host port of ""
 * meaning a free one, as dockerd shows them from the start: the Terraform docker provider reads
 * them once, right after the start, as its `ports`, which a change of replaces the container.
 */
function portsInspect(vm: Attrs): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = Object.fromEntries(
    publishedOf(vm).map(({ port, hostIp, hostPort }) => [port, [{ HostIp: hostIp, HostPort: hostPort }]]),
  );
  if (dockerState(vm) !== 'running') return out;
  for (const [port, asked] of Object.entries(portBindingsOf(vm))) out[port] ??= asked;
  // Exposed and not published: listed without a binding, as dockerd lists them.
  for (const port of exposedOnly(vm, new Set(Object.keys(out)))) out[port] = null;
  return out;
}

/** docker's `--network none`: a container VM with no NIC (`networks = []`). */
export const NO_NETWORK = 'none';

/**
 * The networks docker shows a container on, each with the index of its NIC and the network it is
 * (a docker network's name, or a port group's): the docker networks it is on (networks.ts), all over
 * its first NIC (the VCH's bridge port group), then its other port groups; else its port groups.
 * The VCH's bridge port group (`bridge`, when known) shows under the name `bridge`, as VIC showed
 * it and as dockerd keys its default network (`.NetworkSettings.Networks.bridge`, the key its
 * HostConfig.NetworkMode names); so does the first NIC of a container made on docker's default
 * network (`--network bridge`, or none given).
 */
function networkNics(vm: Attrs, bridge?: string): { name: string; nic: number; network: string }[] {
  const ports = Array.isArray(vm.networks) ? vm.networks.map(String) : [];
  const made = dockerNetworksOf(labelsOf(vm));
  const detached = labelsOf(vm)[LABEL.bridgeDetached] === 'true';
  const onBridge = labelsOf(vm)[LABEL.networkMode] === DEFAULT_NETWORK;
  const first =
    made.length > 0
      ? made.map((name) => ({ name, nic: 0, network: name }))
      : detached
        ? []
        : ports.slice(0, 1).map((network) => ({ name: onBridge || network === bridge ? DEFAULT_NETWORK : network, nic: 0, network }));
  const bridgeShown = first.some((n) => n.name === DEFAULT_NETWORK);
  return [...first, ...ports.slice(1).map((network, i) => ({ name: network === bridge && !bridgeShown ? DEFAULT_NETWORK : network, nic: i + 1, network }))];
}

/** docker's default network: the VCH's bridge port group (`docker network inspect bridge`). */
export const DEFAULT_NETWORK = 'bridge';

/**
 * NIC `nic` as the guest reported it (`network_interfaces`), its address from `ip_addresses` when the
 * guest said nothing more of it; empty fields where nothing is known (a stopped container's).
 */
function nicOf(vm: Attrs, nic: number): { ip: string; prefixLength: number; gateway: string; mac: string } {
  const reported = (Array.isArray(vm.network_interfaces) ? vm.network_interfaces[nic] : undefined) as Attrs | undefined;
  const ips = Array.isArray(vm.ip_addresses) ? vm.ip_addresses.map(String) : [];
  const field = (key: string): string => (typeof reported?.[key] === 'string' ? String(reported[key]) : '');
  return {
    ip: field('ip_address') || (ips[nic] ?? ''),
    prefixLength: typeof reported?.prefix_length === 'number' ? reported.prefix_length : 0,
    gateway: field('gateway'),
    mac: field('mac_address'),
  };
}

/**
 * The container's endpoint on `network` (a name networkNics gives, or one of its port groups), as
 * `network inspect` lists it: its address with the prefix length (the static `ip_address` on the
 * first NIC, else what the guest reports for that NIC) and its MAC address; empty when it has none (yet).
 */
export function endpointOn(vm: Attrs, network: string, bridge?: string): { address: string; mac: string } {
  const nic =
    networkNics(vm, bridge).find((n) => n.name === network || n.network === network)?.nic ??
    (Array.isArray(vm.networks) ? vm.networks.map(String).indexOf(network) : -1);
  if (nic < 0) return { address: '', mac: '' };
  const { ip, prefixLength, mac } = nicOf(vm, nic);
  if (nic === 0 && typeof vm.ip_address === 'string' && vm.ip_address !== '') return { address: vm.ip_address, mac };
  return { address: ip !== '' && prefixLength > 0 ? `${ip}/${prefixLength}` : ip, mac };
}

/** The names of networkNics: the networks `docker inspect` shows a container on. */
export function networkNames(vm: Attrs, bridge?: string): string[] {
  return networkNics(vm, bridge).map((n) => n.name);
}

/**
 * `HostConfig.NetworkMode`: as the create gave it (LABEL.networkMode); for a container made
 * otherwise, its first network, or none for a VM without a NIC.
 */
function networkMode(vm: Attrs, bridge?: string): string {
  return labelsOf(vm)[LABEL.networkMode] ?? networkNames(vm, bridge)[0] ?? NO_NETWORK;
}

/** Whether a container was disconnected from bridge and is on no network since (LABEL.bridgeDetached). */
export function onNoNetwork(vm: Attrs): boolean {
  return labelsOf(vm)[LABEL.bridgeDetached] === 'true' && dockerNetworksOf(labelsOf(vm)).length === 0;
}

export { networkId };

function networksOf(vm: Attrs, bridge?: string): Record<string, unknown> {
  return Object.fromEntries(
    networkNics(vm, bridge).map(({ name: n, nic, network }) => [
      n,
      {
        NetworkID: networkId(network),
        EndpointID: '',
        ...addressFields(vm, nic),
        Aliases: null,
        Links: null,
        DriverOpts: null,
      },
    ]),
  );
}

/** The address fields of NetworkSettings and of each of its Networks, for NIC `nic`. */
function addressFields(vm: Attrs, nic: number): { Gateway: string; IPAddress: string; IPPrefixLen: number; MacAddress: string } {
  const { ip, prefixLength, gateway, mac } = nicOf(vm, nic);
  return { Gateway: gateway, IPAddress: ip, IPPrefixLen: prefixLength, MacAddress: mac };
}

/**
 * One row of `GET /containers/json`. `bridge`: the VCH's bridge port group, which shows as `bridge`
 * (networkNics).
 */
export function containerSummary(vm: Attrs, now = Date.now(), references?: ReadonlyMap<string, string>, bridge?: string): Record<string, unknown> {
  const id = containerId(vm);
  return {
    Id: id,
    Names: [`/${String(vm.name)}`],
    Image: imageOf(vm, references),
    ImageID: String(vm.image_id ?? ''),
    Command: commandOf(vm).join(' '),
    // No known time (a container made by IaC): 0, the usual "unknown" of a Unix time.
    Created: createdOf(vm) === ZERO_TIME ? 0 : unixSeconds(createdOf(vm)),
    Ports: portsSummary(vm),
    Labels: labelsOf(vm),
    State: shownState(vm),
    Status: statusText(vm, now),
    HostConfig: { NetworkMode: networkNames(vm).length > 0 ? 'default' : NO_NETWORK },
    NetworkSettings: { Networks: networksOf(vm, bridge) },
    Mounts: mountsOf(vm),
  };
}

function restartPolicy(vm: Attrs): { Name: string; MaximumRetryCount: number } {
  const name = typeof vm.restart === 'string' && vm.restart !== '' ? vm.restart : 'no';
  return { Name: name, MaximumRetryCount: typeof vm.max_restarts === 'number' ? vm.max_restarts : 0 };
}

/**
 * `GET /containers/{id}/json`: Config, HostConfig, State and NetworkSettings are never null (the CLI
 * reads them), and every key dockerd always sends is there (docker inspect -f fails on a missing
 * one). `execIds`: the live exec instances of the container (null when none, as dockerd). `bridge`:
 * the VCH's bridge port group, which shows as `bridge` (networkNics).
 */
export function containerInspect(
  vm: Attrs,
  references?: ReadonlyMap<string, string>,
  execIds: readonly string[] = [],
  bridge?: string,
): Record<string, unknown> {
  const state = dockerState(vm);
  const labels = labelsOf(vm);
  const entrypoint = Array.isArray(vm.entrypoint) ? vm.entrypoint.map(String) : null;
  const cmd = Array.isArray(vm.command) ? vm.command.map(String) : null;
  const networks = networksOf(vm, bridge);
  // dockerd shows 0 for no limit: a container made without -m has the default memory of a container
  // VM, not a limit its user set. Any other shows the memory its VM has.
  const memoryBytes = labels[LABEL.defaultMemory] === 'true' ? 0 : Number(vm.memory_mb ?? 0) * 1024 * 1024;
  const stopTimeout = stopTimeoutOf(vm);
  const stopSignal = stopSignalOf(vm);
  const waiting = restarting(vm);
  const exposed = exposedPortsOf(vm);
  const extraHosts = userExtraHosts(vm);
  return {
    Id: containerId(vm),
    Created: createdOf(vm),
    Path: [...(entrypoint ?? []), ...(cmd ?? [])][0] ?? '',
    Args: [...(entrypoint ?? []), ...(cmd ?? [])].slice(1),
    State: {
      Status: shownState(vm),
      Running: state === 'running',
      Paused: false,
      Restarting: waiting,
      OOMKilled: false,
      Dead: false,
      Pid: 0,
      ExitCode: state === 'running' && !waiting ? 0 : exitCodeOf(vm),
      Error: '',
      StartedAt: typeof vm.started_at === 'string' ? vm.started_at : ZERO_TIME,
      FinishedAt: typeof vm.finished_at === 'string' ? vm.finished_at : ZERO_TIME,
      ...(healthOf(vm) ? { Health: healthOf(vm) } : {}),
    },
    Image: String(vm.image_id ?? ''),
    // The guest keeps these files itself (its DNS and hosts come from its port group): none on a host.
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    // docker logs reads the VM's console file (console.log in its datastore folder).
    LogPath: typeof vm.vm_path === 'string' ? vm.vm_path.replace(/[^/]*$/, 'console.log') : '',
    Name: `/${String(vm.name)}`,
    RestartCount: typeof vm.restart_count === 'number' ? vm.restart_count : 0,
    Driver: 'vsphere',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: execIds.length > 0 ? [...execIds] : null,
    // The container's disk is a child delta VMDK of its image's.
    GraphDriver: { Name: 'vsphere', Data: { VmPath: typeof vm.vm_path === 'string' ? vm.vm_path : '' } },
    HostConfig: {
      AutoRemove: labels[LABEL.autoRemove] === 'true',
      Memory: memoryBytes,
      NanoCpus: labels[LABEL.defaultCpus] === 'true' ? 0 : Number(vm.cpus ?? 1) * 1e9,
      RestartPolicy: restartPolicy(vm),
      NetworkMode: networkMode(vm, bridge),
      PortBindings: portBindingsOf(vm),
      Binds: hostMountsOf(vm).Binds,
      // As dockerd: present when the create gave some (--mount).
      ...(hostMountsOf(vm).Mounts ? { Mounts: hostMountsOf(vm).Mounts } : {}),
      // docker logs reads every container's output, as with dockerd's json-file; SDKs read this
      // type to decide whether there is output to read at all (docker-py's run returns None otherwise).
      LogConfig: { Type: 'json-file', Config: {} },
      Privileged: false,
      PublishAllPorts: labels[LABEL.publishAll] !== undefined,
      ReadonlyRootfs: false,
      // dockerd's zero values of what a container VM does not take (create-options.ts refuses them).
      ContainerIDFile: '',
      VolumeDriver: '',
      VolumesFrom: null,
      ConsoleSize: [0, 0],
      Annotations: null,
      CapAdd: null,
      CapDrop: null,
      CgroupnsMode: '',
      Dns: [],
      DnsOptions: [],
      DnsSearch: [],
      ExtraHosts: extraHosts.length > 0 ? extraHosts : null,
      GroupAdd: null,
      IpcMode: '',
      Cgroup: '',
      // --link NAME:ALIAS as dockerd shows it: /NAME:/CONTAINER/ALIAS.
      Links: linksOf(vm).length > 0 ? linksOf(vm).map(([linked, alias]) => `/${linked}:/${String(vm.name)}/${alias}`) : null,
      OomScoreAdj: 0,
      PidMode: '',
      SecurityOpt: null,
      UTSMode: '',
      UsernsMode: '',
      ShmSize: 0,
      Runtime: 'vsphere',
      Isolation: '',
      CpuShares: 0,
      CgroupParent: '',
      BlkioWeight: 0,
      BlkioWeightDevice: [],
      BlkioDeviceReadBps: [],
      BlkioDeviceWriteBps: [],
      BlkioDeviceReadIOps: [],
      BlkioDeviceWriteIOps: [],
      CpuPeriod: 0,
      CpuQuota: 0,
      CpuRealtimePeriod: 0,
      CpuRealtimeRuntime: 0,
      CpusetCpus: '',
      CpusetMems: '',
      Devices: [],
      DeviceCgroupRules: null,
      DeviceRequests: null,
      MemoryReservation: 0,
      MemorySwap: 0,
      MemorySwappiness: null,
      OomKillDisable: null,
      PidsLimit: null,
      Ulimits: null,
      CpuCount: 0,
      CpuPercent: 0,
      IOMaximumIOps: 0,
      IOMaximumBandwidth: 0,
      MaskedPaths: null,
      ReadonlyPaths: null,
      Init: null,
    },
    Config: {
      // What the guest has: -h, else (made by docker) its short id, or (made by IaC) its name as a host name (web_1 is web-1).
      Hostname: hostnameOf(vm),
      Domainname: '',
      User: typeof vm.user === 'string' ? vm.user : '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: vm.tty === true,
      OpenStdin: vm.stdin_open === true,
      StdinOnce: labels[LABEL.stdinOnce] === 'true',
      Env: envList(vm),
      Cmd: cmd,
      Image: imageOf(vm, references),
      ...(exposed ? { ExposedPorts: exposed } : {}),
      Volumes: declaredVolumes(vm),
      WorkingDir: typeof vm.working_dir === 'string' ? vm.working_dir : '',
      Entrypoint: entrypoint,
      OnBuild: null,
      Labels: labels,
      // As dockerd: present only when the container has its own (--stop-timeout, --stop-signal).
      ...(stopTimeout !== undefined ? { StopTimeout: stopTimeout } : {}),
      ...(stopSignal !== undefined ? { StopSignal: stopSignal } : {}),
      ...(healthcheckOf(vm) ? { Healthcheck: healthcheckOf(vm) } : {}),
    },
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      Ports: portsInspect(vm),
      // The first NIC's, as dockerd's deprecated fields are its default network's.
      ...addressFields(vm, 0),
      Networks: networks,
    },
    Mounts: mountsOf(vm),
    // Where vSphere has it: for users who go looking in the vSphere Client.
    VSphere: { Moid: vm.moid ?? null, BiosUuid: vm.id ?? null, VmPath: vm.vm_path ?? null, Vch: vm.vch_id ?? null },
  };
}

/**
 * Whether a container matches every `docker ps --filter` given (each key: any of its values).
 * `references` names the images of containers made by IaC, as imageOf takes them.
 */
export function matchesFilters(
  vm: Attrs,
  filters: ReadonlyMap<string, readonly string[]>,
  references?: ReadonlyMap<string, string>,
  resolved: {
    /** Each ancestor= value's image id, as the store resolves it (a name without tag is :latest, an id prefix). */
    readonly ancestors?: ReadonlyMap<string, string>;
    /** The VCH's bridge network: what network=bridge names, as --network bridge does. */
    readonly bridgeNetwork?: string;
  } = {},
): boolean {
  const id = containerId(vm);
  const labels = labelsOf(vm);
  for (const [key, values] of filters) {
    if (values.length === 0) continue;
    // Each label given must hold (dockerd's MatchKVList): compose lists its project's containers
    // with two labels, and a container of another project matches one of them.
    const matches = (v: string): boolean => {
      switch (key) {
        case 'name': {
          // As dockerd (since 18.09): a regular expression against the name with and without its
          // leading "/", so both `name=^/web$` and the common `name=^web$` find container web.
          const names = [`/${String(vm.name)}`, String(vm.name)];
          try {
            const pattern = new RegExp(v);
            return names.some((n) => pattern.test(n));
          } catch {
            return names.some((n) => n.includes(v));
          }
        }
        case 'id':
          return id.startsWith(v);
        case 'status':
          return shownState(vm) === v;
        case 'label': {
          const i = v.indexOf('=');
          return i < 0 ? v in labels : labels[v.slice(0, i)] === v.slice(i + 1);
        }
        case 'exited':
          return dockerState(vm) === 'exited' && String(exitCodeOf(vm)) === v;
        case 'ancestor': {
          // As dockerd: any name or id of the image, whichever name the container was made with.
          const image = resolved.ancestors?.get(v);
          return (image !== undefined && vm.image_id === image) || imageOf(vm, references) === v || String(vm.image_id ?? '').startsWith(v);
        }
        case 'volume':
          // As dockerd: the volume's name or where it is mounted.
          return mountsOf(vm).some((m) => m.Name === v || m.Destination === v);
        case 'network':
          if (v === NO_NETWORK) return networkNames(vm).length === 0;
          // As dockerd: the network's name, or its id or a prefix of it; and the bridge port group's own name.
          return networkNics(vm, resolved.bridgeNetwork).some((n) => n.name === v || n.network === v || networkId(n.network).startsWith(v));
        // No container VM is a swarm task.
        case 'is-task':
          return v === 'false';
        // none: no health check; else its status (starting, healthy, unhealthy).
        case 'health':
          return v === 'none' ? healthOf(vm) === undefined : healthOf(vm)?.Status === v;
        // Compared by the listing, which knows the container named (see beforeAndSince).
        case 'before':
        case 'since':
          return true;
        default:
          return false;
      }
    };
    const ok = key === 'label' ? values.every(matches) : values.some(matches);
    if (!ok) return false;
  }
  return true;
}

/** The statuses `docker ps --filter status=` takes (dockerd's list): those a container VM never has match nothing. */
export const DOCKER_STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

export const SUPPORTED_PS_FILTERS = ['name', 'id', 'status', 'label', 'exited', 'ancestor', 'volume', 'network', 'before', 'since', 'is-task', 'health'];

/**
 * What to say of a container VM whose guest waits for a free slot (the simulator's, `guest_queued`):
 * why nothing happens yet, `consequence`, and what frees one. Said at once rather than left waiting.
 */
export function queuedNotice(vm: Attrs, consequence: string): string {
  return `container ${String(vm.name)} waits for a free guest slot: the embedded simulator runs a limited number of guests at once and has not started its process yet; ${consequence}. Stop another container (docker stop), or start the simulator with more (vic sim start --max-guests N, or VIC_MAX_GUESTS=N npm run demo)`;
}
