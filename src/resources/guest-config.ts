/**
 * The container config the tether reads at boot (docs/guest-config.md): one JSON document, written
 * by the container_vm resource to extraConfig `guestinfo.vic.config` (base64) and, under QEMU, given
 * over fw_cfg. Image defaults are merged here, Docker's way, so the guest needs no image metadata.
 */
import { Attrs } from './schema';
import { parseHostEntry } from './validators';
import { volumeFilesystemUuid } from './volume';

export const GUESTINFO_CONFIG_KEY = 'guestinfo.vic.config';
export const ROOTFS_LABEL = 'vic-rootfs';

/** The image config as the image pipeline records it in metadata.json. */
export interface ImageConfig {
  readonly entrypoint?: readonly string[] | null;
  readonly cmd?: readonly string[] | null;
  readonly env?: readonly string[] | null;
  readonly working_dir?: string | null;
  readonly user?: string | null;
  readonly rootfs_uuid?: string | null;
}

export interface GuestConfig {
  version: 1;
  name: string;
  hostname: string;
  entrypoint: string[];
  cmd: string[];
  env: string[];
  working_dir: string;
  user: string;
  rootfs: { uuid?: string; label: string };
  /** Volumes to mount before the process starts, found by their ext4 UUID; absent: none. */
  mounts?: GuestMount[];
  /** Absent: never restart (older tethers ignore the field). */
  restart?: { policy: 'on-failure' | 'always'; max_restarts?: number };
  /** One per NIC in order; absent (or an entry without `address`): DHCP. */
  networks?: { address?: string; gateway?: string }[];
  /**
   * How many NICs the VM has: the tether waits for that many to appear before it configures them,
   * and not at all for none. Absent (a writer before it): the first that appears.
   */
  nics?: number;
  /** A terminal for the process (docker's -t); absent: none. */
  tty?: true;
  /** The process's stdin held open, nobody writing to it (docker's -i); absent: /dev/null. */
  open_stdin?: true;
  /** /etc/hosts lines after the container's own (`extra_hosts`: docker's --add-host); absent: none. */
  hosts?: { address: string; names: string[] }[];
}

export interface GuestMount {
  path: string;
  read_only: boolean;
  uuid: string;
}

function mountsOf(attrs: Attrs): Pick<GuestConfig, 'mounts'> {
  const volumes = Array.isArray(attrs.volumes) ? (attrs.volumes as Attrs[]) : [];
  if (volumes.length === 0) return {};
  return {
    mounts: volumes.map((v) => ({ path: String(v.path), read_only: v.read_only === true, uuid: volumeFilesystemUuid(String(v.volume_id)) })),
  };
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.map(String) : undefined;
}

/** What the process runs, the container's settings over the image's (processOf). */
export interface ProcessSettings {
  readonly entrypoint: string[];
  readonly cmd: string[];
  /** By name, in order: the image's, then the container's. */
  readonly env: ReadonlyMap<string, string>;
  /** Undefined where neither sets one (an image's may be empty). */
  readonly working_dir?: string;
  readonly user?: string;
}

/**
 * Docker's rules: a container entrypoint discards the image CMD unless a command is given too; the
 * container env (env and secret_env) overrides the image env by name; working dir and user fall back
 * to the image's. The guest config is built on it, and the Docker endpoint shows it (dockerd's
 * Config of a container).
 */
export function processOf(attrs: Attrs, image: ImageConfig): ProcessSettings {
  const entrypoint = strings(attrs.entrypoint) ?? [...(image.entrypoint ?? [])];
  const cmd = strings(attrs.command) ?? (attrs.entrypoint ? [] : [...(image.cmd ?? [])]);
  const env = new Map<string, string>();
  for (const kv of image.env ?? []) {
    const i = kv.indexOf('=');
    env.set(i < 0 ? kv : kv.slice(0, i), i < 0 ? '' : kv.slice(i + 1));
  }
  // secret_env last: the guest needs the values in clear, and they override the image's like env.
  for (const given of [attrs.env, attrs.secret_env]) {
    const mine = (given ?? {}) as Record<string, string>;
    for (const k of Object.keys(mine).sort()) env.set(k, String(mine[k]));
  }
  const workingDir = (attrs.working_dir as string | null) ?? image.working_dir ?? undefined;
  const user = (attrs.user as string | null) ?? image.user ?? undefined;
  return { entrypoint, cmd, env, ...(workingDir !== undefined ? { working_dir: workingDir } : {}), ...(user !== undefined ? { user } : {}) };
}

/** The container's host name: `hostname`, else its name as a host name (lower case, `-` for anything else). */
export function hostnameOf(attrs: Attrs): string {
  return (
    (attrs.hostname as string | null | undefined) ??
    String(attrs.name)
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .slice(0, 63)
  );
}

/**
 * The names the container's own /etc/hosts line gives its address, as the tether writes it
 * (Config.OwnNames): its host name, then its name when that is another one it can carry.
 */
export function ownNamesOf(attrs: Attrs): string[] {
  const host = hostnameOf(attrs);
  const name = String(attrs.name);
  return name !== host && /^[A-Za-z0-9._-]{1,64}$/.test(name) ? [host, name] : [host];
}

export function guestConfig(attrs: Attrs, image: ImageConfig, nics?: number): GuestConfig {
  const { entrypoint, cmd, env, working_dir: workingDir, user } = processOf(attrs, image);
  const name = String(attrs.name);
  return {
    version: 1,
    name,
    hostname: hostnameOf(attrs),
    entrypoint,
    cmd,
    env: [...env].map(([k, v]) => `${k}=${v}`),
    working_dir: workingDir ?? '/',
    user: user ?? '0:0',
    rootfs: { ...(image.rootfs_uuid ? { uuid: image.rootfs_uuid } : {}), label: ROOTFS_LABEL },
    ...restartOf(attrs),
    ...mountsOf(attrs),
    ...networksOf(attrs),
    ...(nics !== undefined ? { nics } : {}),
    ...(attrs.tty === true ? { tty: true as const } : {}),
    ...(attrs.stdin_open === true ? { open_stdin: true as const } : {}),
    ...hostsOf(attrs),
  };
}

/** `extra_hosts` ("NAME:ADDRESS") as the /etc/hosts lines the tether adds, one per entry, in order. */
export function hostsOf(attrs: Attrs): Pick<GuestConfig, 'hosts'> {
  const entries = (Array.isArray(attrs.extra_hosts) ? attrs.extra_hosts : []).flatMap((e) => {
    const entry = typeof e === 'string' ? parseHostEntry(e) : undefined;
    return entry ? [{ address: entry.address, names: [entry.name] }] : [];
  });
  return entries.length > 0 ? { hosts: entries } : {};
}

/** A static address applies to the first NIC; the others keep DHCP. */
function networksOf(attrs: Attrs): Pick<GuestConfig, 'networks'> {
  if (typeof attrs.ip_address !== 'string') return {};
  return { networks: [{ address: attrs.ip_address, ...(typeof attrs.gateway === 'string' ? { gateway: attrs.gateway } : {}) }] };
}

/** The restart policy the tether follows for `restart` and `max_restarts` (none for "no"). */
export function restartOf(attrs: Attrs): Pick<GuestConfig, 'restart'> {
  // unless-stopped restarts as always does: what differs in Docker (a stopped container started again
  // at the daemon's restart) has no counterpart, since a stopped container VM is powered off.
  const policy = attrs.restart === 'unless-stopped' ? 'always' : attrs.restart;
  if (policy !== 'on-failure' && policy !== 'always') return {};
  const max = Number(attrs.max_restarts ?? 0);
  return { restart: { policy, ...(max > 0 ? { max_restarts: max } : {}) } };
}

export function encodeGuestConfig(c: GuestConfig): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64');
}

export function decodeGuestConfig(b64: string): GuestConfig {
  return JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as GuestConfig;
}
