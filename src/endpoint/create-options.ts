/**
 * The fields of a create body the endpoint does not carry out. dockerd applies every field it is
 * sent; a container VM cannot take most of the host-kernel ones, so a flag given for them is
 * refused by name rather than dropped, and the user does not believe a --privileged or --dns took.
 * The CLI sends every field, most at their zero value: only a value other than zero is refused.
 */
import { badRequest, type ApiError } from './protocol';
import type { Attrs } from '../resources';

const KERNEL =
  'a container VM runs its own kernel, which the endpoint does not configure per container (no namespaces, cgroups or capabilities to set); run without it, or build what the process needs into the image';
const NETWORK =
  "a container VM takes its address and DNS from its vSphere port group (DHCP), not from the container's flags; run without it and configure the port group's network, or set it up in the image";
const RESOURCES =
  "a container VM has whole virtual CPUs (--cpus) and its memory (-m); run without it, and set shares, reservations and limits on the VCH's resource pool";

/** Field → [the docker flag that sets it, why it is not carried out and what to do]. */
const HOST_CONFIG: Record<string, readonly [string, string]> = {
  Privileged: ['--privileged', KERNEL],
  CapAdd: ['--cap-add', KERNEL],
  CapDrop: ['--cap-drop', KERNEL],
  SecurityOpt: ['--security-opt', KERNEL],
  MaskedPaths: ['--security-opt systempaths', KERNEL],
  ReadonlyPaths: ['--security-opt systempaths', KERNEL],
  Devices: ['--device', "a container VM has only its own virtual devices; add hardware to the VM's template in vSphere instead"],
  DeviceRequests: ['--gpus', "a container VM has only its own virtual devices; add hardware to the VM's template in vSphere instead"],
  DeviceCgroupRules: ['--device-cgroup-rule', KERNEL],
  GroupAdd: ['--group-add', `${KERNEL} (or choose the user with -u)`],
  IpcMode: ['--ipc', KERNEL],
  PidMode: ['--pid', KERNEL],
  UTSMode: ['--uts', KERNEL],
  UsernsMode: ['--userns', KERNEL],
  CgroupnsMode: ['--cgroupns', KERNEL],
  Cgroup: ['--cgroup', KERNEL],
  CgroupParent: ['--cgroup-parent', KERNEL],
  Sysctls: ['--sysctl', KERNEL],
  Ulimits: ['--ulimit', KERNEL],
  OomScoreAdj: ['--oom-score-adj', KERNEL],
  OomKillDisable: ['--oom-kill-disable', KERNEL],
  PidsLimit: ['--pids-limit', KERNEL],
  ShmSize: ['--shm-size', KERNEL],
  Tmpfs: ['--tmpfs', `${KERNEL}; for scratch space use a named volume (-v <name>:<path>)`],
  ReadonlyRootfs: ['--read-only', `${KERNEL}; mount what must not change from a volume with -v <name>:<path>:ro`],
  Runtime: ['--runtime', 'vSphere is the only runtime; run without it'],
  Isolation: ['--isolation', 'each container is its own VM already; run without it'],
  Annotations: ['--annotation', 'run without it; labels (-l) are kept with the container VM'],
  Dns: ['--dns', NETWORK],
  DnsOptions: ['--dns-option', NETWORK],
  DnsSearch: ['--dns-search', NETWORK],
  CpuShares: ['-c/--cpu-shares', RESOURCES],
  CpuPeriod: ['--cpu-period', RESOURCES],
  CpuQuota: ['--cpu-quota', RESOURCES],
  CpuRealtimePeriod: ['--cpu-rt-period', RESOURCES],
  CpuRealtimeRuntime: ['--cpu-rt-runtime', RESOURCES],
  CpusetCpus: ['--cpuset-cpus', RESOURCES],
  CpusetMems: ['--cpuset-mems', RESOURCES],
  CpuCount: ['--cpu-count', RESOURCES],
  CpuPercent: ['--cpu-percent', RESOURCES],
  MemoryReservation: ['--memory-reservation', RESOURCES],
  MemorySwap: ['--memory-swap', `${RESOURCES}; a container VM does not swap`],
  KernelMemory: ['--kernel-memory', RESOURCES],
  BlkioWeight: ['--blkio-weight', RESOURCES],
  BlkioWeightDevice: ['--blkio-weight-device', RESOURCES],
  BlkioDeviceReadBps: ['--device-read-bps', RESOURCES],
  BlkioDeviceWriteBps: ['--device-write-bps', RESOURCES],
  BlkioDeviceReadIOps: ['--device-read-iops', RESOURCES],
  BlkioDeviceWriteIOps: ['--device-write-iops', RESOURCES],
  IOMaximumIOps: ['--io-maxiops', RESOURCES],
  IOMaximumBandwidth: ['--io-maxbandwidth', RESOURCES],
  LogConfig: ['--log-driver/--log-opt', "the output goes to the container VM's serial console, which docker logs reads; run without it"],
  VolumeDriver: ['--volume-driver', "volumes are VMDKs of the VCH's volume store; run without it and use -v <name>:<path>"],
  StorageOpt: ['--storage-opt', "the container's disk follows its image; run without it, and keep data on a named volume (-v <name>:<path>)"],
};

/** Field → [the docker flag that sets it, why it is not carried out and what to do, and "are" when the flag names several]. */
const CONFIG: Record<string, readonly [string, string, 'are'?]> = {
  Domainname: ['--domainname', NETWORK],
  MacAddress: ['--mac-address', `${NETWORK}; vSphere assigns the MAC address`],
  Shell: ['SHELL', 'run without it'],
  OnBuild: ['ONBUILD', 'run without it'],
  NetworkDisabled: ['--network none', 'a container VM is always on a port group; run without it'],
};

/** Fields per network of NetworkingConfig.EndpointsConfig that flags set; the others are the daemon's. */
const ENDPOINT_CONFIG: Record<string, readonly [string, string]> = {
  IPAMConfig: ['--ip/--ip6', `${NETWORK}; vSphere's DHCP on the port group gives the address`],
  MacAddress: ['--mac-address', `${NETWORK}; vSphere assigns the MAC address`],
  DriverOpts: ['--network <name>,driver-opt=…', NETWORK],
};

/** Fields the endpoint carries out (server.ts), checks itself, or that only concern the client. */
const HANDLED_HOST = new Set([
  'AutoRemove',
  // --link: the linked container's name under its alias in this one's /etc/hosts (peer-names.ts).
  'Links',
  'Memory',
  'NanoCpus',
  'RestartPolicy',
  'NetworkMode',
  'Binds',
  'Mounts',
  'VolumesFrom',
  'PortBindings',
  // --init (compose's init: true): the tether is the container VM's init already, as PID 1 it reaps
  // orphans and forwards signals to the process, which is what --init asks for.
  'Init',
  // The CLI writes the id to --cidfile itself, and sends its terminal's size whether or not -t is given.
  'ContainerIDFile',
  'ConsoleSize',
]);
const HANDLED_CONFIG = new Set([
  'Image',
  // Run by the endpoint in the guest while the container runs (health.ts).
  'Healthcheck',
  'Cmd',
  'Entrypoint',
  'Env',
  'WorkingDir',
  'User',
  'Hostname',
  'Labels',
  'Tty',
  'OpenStdin',
  'Volumes',
  // --expose (compose's expose:): shown by inspect with the image's; a container VM's ports are all
  // open at its address already.
  'ExposedPorts',
  // Kept with the container (labels): the defaults of its docker stop and restart.
  'StopSignal',
  'StopTimeout',
  // Which streams attach carries: the CLI's business (-a); stdin itself is refused with -i.
  'AttachStdin',
  'AttachStdout',
  'AttachStderr',
  'StdinOnce',
  // Set by the Windows builder only.
  'ArgsEscaped',
  'HostConfig',
  'NetworkingConfig',
]);

/** Fields that are maps of the user's own keys (--tmpfs /t, --sysctl k=v): a key given is the flag given, whatever its value. */
const KEYED_MAPS = new Set(['Tmpfs', 'Sysctls', 'StorageOpt', 'Annotations']);

/** What the CLI sends for a flag not given: false, 0, "", null, and lists or objects of those. */
function isZero(value: unknown, key?: string): boolean {
  if (key !== undefined && KEYED_MAPS.has(key) && value && typeof value === 'object') return Object.keys(value).length === 0;
  if (value === null || value === undefined || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.every((v) => isZero(v));
  if (typeof value === 'object') return Object.values(value as object).every((v) => isZero(v));
  return false;
}

/**
 * The name compose creates a service's container under when it recreates it (its config changed):
 * `<the old container's id, 12 hex>_<name>`; it removes the old one, then renames the new one to `<name>`.
 */
export const COMPOSE_RECREATE_NAME = /^[0-9a-f]{12}_(.+)$/;

function refusal(flag: string, why: string, verb: 'is' | 'are' = 'is'): ApiError {
  return badRequest(`${flag} ${verb} not supported by vic-iac: ${why}`);
}

/**
 * The first flag of a create body the endpoint would otherwise ignore, as a 400 naming it. Only the
 * fields listed here are refused: a field this table does not know (one a newer CLI, an SDK or
 * compose adds, often with a default of its own) passes, so that no client is turned away for a
 * field that may mean nothing to a container VM.
 */
export function unhonouredOption(body: Record<string, unknown>): ApiError | undefined {
  for (const [key, value] of Object.entries(body)) {
    if (HANDLED_CONFIG.has(key) || isZero(value)) continue;
    const known = CONFIG[key];
    if (known) return refusal(known[0], known[1], known[2]);
  }
  const host = body.HostConfig;
  if (host && typeof host === 'object') {
    for (const [key, value] of Object.entries(host as Record<string, unknown>)) {
      if (HANDLED_HOST.has(key) || isZero(value, key)) continue;
      // Old clients send -1 for "not set".
      if (key === 'MemorySwappiness' && value === -1) continue;
      // json-file without options is what a container VM's output is kept as (inspect says so):
      // asked for by name (--log-driver json-file, the Terraform docker provider's log_driver), it is no change.
      if (key === 'LogConfig' && (value as { Type?: unknown }).Type === 'json-file' && isZero((value as { Config?: unknown }).Config)) continue;
      const known =
        HOST_CONFIG[key] ?? (key === 'MemorySwappiness' ? (['--memory-swappiness', `${RESOURCES}; a container VM does not swap`] as const) : undefined);
      if (known) return refusal(known[0], known[1]);
    }
  }
  const endpoints = (body.NetworkingConfig as { EndpointsConfig?: Record<string, unknown> } | undefined)?.EndpointsConfig;
  for (const settings of Object.values(endpoints ?? {})) {
    if (!settings || typeof settings !== 'object') continue;
    for (const [key, value] of Object.entries(settings as Record<string, unknown>)) {
      const known = ENDPOINT_CONFIG[key];
      if (known && !isZero(value)) return refusal(known[0], known[1]);
    }
  }
  return undefined;
}

/** What `-m`, `--cpus` and `--restart` ask for, in create's HostConfig and in docker update's body. */
export interface ResourceFlags {
  readonly Memory?: number;
  readonly NanoCpus?: number;
  readonly RestartPolicy?: { readonly Name?: string; readonly MaximumRetryCount?: number } | null;
}

/**
 * `-m`, `--cpus` and `--restart` as container_vm inputs (memory_mb, cpus, restart, max_restarts),
 * those given only: memory in whole MB, whole CPUs, else a 400 naming the flag. A restart policy
 * "no" is given too (docker update --restart no); its zero value (no --restart) is not.
 */
export function resourcesOf(flags: ResourceFlags): Attrs {
  const out: Attrs = {};
  if (flags.Memory) {
    const mb = flags.Memory / (1024 * 1024);
    if (!Number.isInteger(mb)) throw badRequest(`-m/--memory ${flags.Memory} bytes: a container VM's memory is whole MB, a multiple of 4 (e.g. -m 256m)`);
    out.memory_mb = mb;
  }
  if (flags.NanoCpus) {
    const cpus = flags.NanoCpus / 1e9;
    if (!Number.isInteger(cpus)) throw badRequest(`--cpus ${cpus}: a container VM has whole virtual CPUs; use --cpus ${Math.max(1, Math.round(cpus))}`);
    out.cpus = cpus;
  }
  const policy = flags.RestartPolicy?.Name ?? '';
  if (policy !== '') {
    out.restart = policy;
    out.max_restarts = flags.RestartPolicy?.MaximumRetryCount ? flags.RestartPolicy.MaximumRetryCount : null;
  }
  return out;
}

/** The fields of docker update's body (Resources and RestartPolicy) the endpoint carries out. */
const HANDLED_UPDATE = new Set(['Memory', 'NanoCpus', 'RestartPolicy']);

/**
 * docker update's body (POST /containers/{id}/update) as container_vm inputs: `-m`, `--cpus` and
 * `--restart` (resourcesOf); any other flag given is a 400 naming it, as a create's is.
 */
export function updateOf(body: Record<string, unknown>): Attrs {
  for (const [key, value] of Object.entries(body)) {
    if (HANDLED_UPDATE.has(key) || isZero(value, key) || (key === 'MemorySwappiness' && value === -1)) continue;
    const known = HOST_CONFIG[key];
    if (known) throw refusal(known[0], known[1]);
    throw badRequest(`docker update: ${key} is not supported by vic-iac: a container VM takes -m/--memory, --cpus and --restart`);
  }
  return resourcesOf(body as ResourceFlags);
}

/**
 * docker's -p (HostConfig.PortBindings: `{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`) as the
 * container VM's `ports`: an empty host port is a free one, an empty address every address
 * (0.0.0.0), as with dockerd. A range of host ports or SCTP is a 400 naming it; the rest of the
 * rules (an IPv4 address, a port published once) are the resource's, checked by the plan.
 */
export function portsOf(bindings: Record<string, unknown> | null | undefined): Attrs[] {
  const out: Attrs[] = [];
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(key);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw badRequest(`-p: container port "${key}" is not a port number (1 to 65535) with /tcp or /udp`);
    if (m[2] === 'sctp') throw badRequest(`-p ${key}: SCTP is not supported by vic-iac: publish tcp or udp ports`);
    for (const b of (Array.isArray(list) ? list : [{}]) as { HostIp?: string; HostPort?: string }[]) {
      const hostPort = b.HostPort ?? '';
      if (!/^\d{0,5}$/.test(hostPort) || Number(hostPort) > 65535)
        throw badRequest(
          `-p ${hostPort}:${key}: the host port "${hostPort}" is not a port number; host port ranges are not supported for port bindings by vic-iac: give one port, or none for a free one`,
        );
      // The address is the container_vm's `ports[].ip`, whose rule (IPv4) the plan applies.
      out.push({
        internal: Number(m[1]),
        protocol: m[2] ?? 'tcp',
        ip: b.HostIp || '0.0.0.0',
        ...(hostPort !== '' && Number(hostPort) !== 0 ? { external: Number(hostPort) } : {}),
      });
    }
  }
  return out;
}
