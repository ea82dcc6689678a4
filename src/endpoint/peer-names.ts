/**
 * Container names on a port group, as dockerd's embedded DNS gives them on a user network: each
 * running container VM reaches the others on its port groups by name, by compose service, by the
 * network aliases it was given (`--network-alias`, compose `aliases:`) and by its links' aliases
 * (`--link NAME:ALIAS`). A container VM has no daemon beside it to ask, so the endpoint writes the
 * names into each running guest's `/etc/hosts` (through the tether's archive channel, the one
 * `docker cp` uses), as VIC's endpoint VM answered them over DNS. This module is the pure part:
 * which containers are peers, under which names, and the file each gets.
 */
import { hostnameOf, ownNamesOf, parseHostEntry, type Attrs } from '../resources';
import { labelsOf, userExtraHosts } from './containers';
import { dockerNetworksOf } from './networks';

/** compose's label of a container's service: the name other services reach it by. */
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';

/** Labels under which the endpoint keeps a container's own network aliases and its links. */
export const NAME_LABELS = {
  aliases: 'vic-iac.docker.aliases',
  links: 'vic-iac.docker.links',
} as const;

/**
 * The networks whose containers find each other by name: the docker networks it is on (its
 * project's, say: another project's containers on the same port group do not see its names) and its
 * port groups past the first, else its port groups (those given, else the VCH's bridge network);
 * none without a NIC.
 */
export function networksOf(vm: Attrs, bridge: string | undefined): string[] {
  const made = dockerNetworksOf(labelsOf(vm)).map((n) => `docker network ${n}`);
  const ports = Array.isArray(vm.networks) ? vm.networks.map(String) : bridge ? [bridge] : [];
  // On docker networks, its first NIC (the bridge port group) is theirs: its other port groups still name it.
  return made.length > 0 ? [...made, ...ports.slice(1)] : ports;
}

/** A container's first address, as vSphere reports it. */
export function addressOf(vm: Attrs): string | undefined {
  const ips = Array.isArray(vm.ip_addresses) ? vm.ip_addresses.map(String) : [];
  return ips.find((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip)) ?? ips[0];
}

/** A label that holds a JSON list of strings (aliases) or of [name, alias] pairs (links). */
function jsonLabel<T>(vm: Attrs, key: string): T[] {
  const text = labelsOf(vm)[key];
  if (!text) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? (value as T[]) : [];
  } catch {
    return [];
  }
}

/** The names a peer answers to: its name, its compose service and its network aliases. */
function namesOf(vm: Attrs): string[] {
  const service = labelsOf(vm)[COMPOSE_SERVICE_LABEL];
  return [String(vm.name), ...(service ? [service] : []), ...jsonLabel<string>(vm, NAME_LABELS.aliases)];
}

/** `--link NAME:ALIAS` as kept: the linked container's name and the alias it has in this one. */
export function linksOf(vm: Attrs): Array<[string, string]> {
  return jsonLabel<[string, string]>(vm, NAME_LABELS.links).filter((l) => Array.isArray(l) && l.length === 2);
}

/**
 * `docker run --link` as HostConfig.Links sends it (`/db:/web/alias`, or `db:alias`, or `db`):
 * [name, alias] pairs, an alias defaulting to the name.
 */
export function parseLinks(links: readonly string[]): Array<[string, string]> {
  return links.map((link) => {
    const [target, alias] = link.split(':');
    const name = target.replace(/^\//, '');
    return [name, alias ? alias.slice(alias.lastIndexOf('/') + 1) : name];
  });
}

/** The running containers that share a port group with `self` (itself left out). */
function runningBeside(self: Attrs, all: readonly Attrs[], bridge: string | undefined): Attrs[] {
  const mine = new Set(networksOf(self, bridge));
  return all.filter((vm) => vm.id !== self.id && vm.power_state === 'running' && networksOf(vm, bridge).some((n) => mine.has(n)));
}

/** The running containers with an address that share a port group with `self` (itself left out). */
export function peersOf(self: Attrs, all: readonly Attrs[], bridge: string | undefined): Attrs[] {
  return runningBeside(self, all, bridge).filter((vm) => addressOf(vm) !== undefined);
}

/**
 * The running containers on `self`'s port groups whose address is not known yet (their guests
 * still boot): not peers yet, so named once they have one.
 */
export function peersAwaitingAddress(self: Attrs, all: readonly Attrs[], bridge: string | undefined): Attrs[] {
  return runningBeside(self, all, bridge).filter((vm) => addressOf(vm) === undefined);
}

/**
 * Each peer's address with every name it answers to here (its links' aliases included), by name. A
 * name two peers claim goes to the first, as with a resolver's order; the container's own names are
 * its own.
 */
function peerLines(self: Attrs, peers: readonly Attrs[]): Array<{ address: string; names: string[] }> {
  const taken = new Set(['localhost', hostnameOf(self), String(self.name)]);
  const linked = linksOf(self);
  const sorted = [...peers].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  return sorted.flatMap((peer) => {
    const names = [...namesOf(peer), ...linked.filter(([name]) => name === peer.name).map(([, alias]) => alias)].filter((n) => {
      if (taken.has(n)) return false;
      taken.add(n);
      return true;
    });
    return names.length > 0 ? [{ address: String(addressOf(peer)), names }] : [];
  });
}

/**
 * The peers as `extra_hosts` entries ("NAME:ADDRESS"), after the container's own (--add-host): what
 * its guest writes into /etc/hosts at boot, so that its process finds them from its first moment.
 */
export function bootHostEntries(self: Attrs, peers: readonly Attrs[]): string[] {
  return [...userExtraHosts(self), ...peerLines(self, peers).flatMap(({ address, names }) => names.map((n) => `${n}:${address}`))];
}

/**
 * The `/etc/hosts` of a running container: what the tether writes at boot (localhost, its own
 * address under its host name and its name, and its --add-host entries), then one line per peer with every name
 * it answers to here.
 */
export function hostsFile(self: Attrs, peers: readonly Attrs[]): string {
  const own = addressOf(self);
  // Its host name (docker's: its short id), then its name, which its peers reach it by.
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${own ?? '127.0.1.1'}\t${ownNamesOf(self).join(' ')}`];
  for (const entry of userExtraHosts(self)) {
    const host = parseHostEntry(entry);
    if (host) lines.push(`${host.address}\t${host.name}`);
  }
  const named = peerLines(self, peers);
  if (named.length > 0) lines.push('# containers on the same port groups (vic-iac)');
  for (const { address, names } of named) lines.push(`${address}\t${names.join(' ')}`);
  return `${lines.join('\n')}\n`;
}
