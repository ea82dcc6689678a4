/**
 * Networks docker makes (`docker network create`, compose's `<project>_default`): a VCH cannot
 * make a port group, so a docker network is a name over the VCH's bridge port group, with its own
 * labels, the containers docker puts on it, and their names (peer-names.ts: the containers of one
 * docker network find each other by name, not those of another). What vSphere cannot give one (its
 * own subnet, an internal network, IPv6) is refused naming the option. The records are kept in the
 * endpoint's directory (`networks.json`), so an endpoint restarted lists them again; containers
 * carry their network's name in a label, so they show on it whatever the record.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { badRequest, conflict, notFound } from './protocol';

/**
 * The label a container on docker networks carries: their names, comma-separated (a network's name
 * has no comma), in the order it joined them.
 */
export const NETWORK_LABEL = 'vic-iac.docker.network';

/** The docker networks container `labels` say it is on (NETWORK_LABEL), none when it is on none. */
export function dockerNetworksOf(labels: Readonly<Record<string, string>>): string[] {
  return (labels[NETWORK_LABEL] ?? '').split(',').filter((n) => n !== '');
}

/** The labels with the container on `networks` (NETWORK_LABEL), without the label when it is on none. */
export function withDockerNetworks(labels: Readonly<Record<string, string>>, networks: readonly string[]): Record<string, string> {
  const rest = Object.fromEntries(Object.entries(labels).filter(([k]) => k !== NETWORK_LABEL));
  return networks.length > 0 ? { ...rest, [NETWORK_LABEL]: [...new Set(networks)].join(',') } : rest;
}

export interface DockerNetwork {
  readonly Name: string;
  readonly Id: string;
  readonly Created: string;
  readonly Labels: Readonly<Record<string, string>>;
  /** The port group it stands for: the VCH's bridge network. */
  readonly PortGroup: string;
  /**
   * The id of the VCH it is a network of (its resource pool): a VCH destroyed and made again, or
   * another VCH served from the same directory, does not list it. Absent in records kept before
   * it was: those are the first served VCH's.
   */
  readonly Vch?: string;
}

/** A create body of POST /networks/create, the fields that ask for something. */
export interface NetworkCreateBody {
  readonly Name?: string;
  readonly Driver?: string;
  readonly Internal?: boolean;
  readonly EnableIPv6?: boolean;
  readonly IPAM?: { readonly Driver?: string; readonly Config?: readonly unknown[] | null; readonly Options?: Record<string, string> | null } | null;
  readonly Labels?: Record<string, string> | null;
  readonly ConfigFrom?: { readonly Network?: string } | null;
  readonly ConfigOnly?: boolean;
  readonly Ingress?: boolean;
  readonly Scope?: string;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * A network's id as docker shows it: 64 hex digits, fixed by its name (a port group's, none, or a
 * docker network's, so that a container's NetworkSettings name the same id as the network's
 * inspect), as dockerd's ids are hex; a port group's name has spaces ("VM Network"), which `docker
 * network ls -q` and scripts that split on them would cut in two.
 */
export function networkId(name: string): string {
  return createHash('sha256').update(`vic-iac network\0${name}`).digest('hex');
}

/**
 * The docker networks of the VCH an endpoint serves (`serve`): created, listed, found and removed;
 * kept in `file` when given, with those of the other VCHs served from the same directory.
 */
export class DockerNetworks {
  private records: DockerNetwork[];
  private vch = '';

  constructor(private readonly file?: string) {
    this.records = file ? readRecords(file) : [];
  }

  /** From now on, the networks of VCH `vchId` (a resource pool's id); the records of no VCH yet become its. */
  serve(vchId: string): void {
    this.vch = vchId;
    if (this.records.some((n) => n.Vch === undefined)) this.save(this.records.map((n) => (n.Vch === undefined ? { ...n, Vch: vchId } : n)));
  }

  /** Forgets the networks of VCH `vchId`, which vSphere no longer has (destroyed: its containers went with it). */
  forget(vchId: string): void {
    if (this.records.some((n) => n.Vch === vchId)) this.save(this.records.filter((n) => n.Vch !== vchId));
  }

  list(): readonly DockerNetwork[] {
    return this.records.filter((n) => n.Vch === this.vch);
  }

  /** By name, id or id prefix (3 or more hex digits), as dockerd finds networks. */
  find(ref: string): DockerNetwork | undefined {
    const records = this.list();
    return records.find((n) => n.Name === ref) ?? records.find((n) => n.Id === ref) ?? records.find((n) => ref.length >= 3 && n.Id.startsWith(ref));
  }

  /**
   * A new docker network over `portGroup`. `taken` says whether a name is a network already (a port
   * group, `none`, `bridge`): dockerd's 409. Options a port group cannot carry out are refused.
   */
  create(body: NetworkCreateBody, portGroup: string, taken: (name: string) => boolean): DockerNetwork {
    const name = body.Name ?? '';
    if (!NAME.test(name)) {
      throw badRequest(`network name ${JSON.stringify(name)}: give a name of letters, digits, "_", "." and "-", starting with a letter or digit`);
    }
    if (taken(name) || this.find(name)) throw conflict(`network with name ${name} already exists`);
    const driver = body.Driver ?? '';
    if (driver !== '' && driver !== 'bridge') {
      throw badRequest(`--driver ${driver}: a VCH's docker networks are names over its bridge port group (driver bridge); run without --driver`);
    }
    const refused = (flag: string) =>
      badRequest(
        `${flag} is not supported by vic-iac: a docker network of a VCH is its bridge port group, whose addresses vSphere's DHCP gives; run without it`,
      );
    if (body.Internal) throw refused('--internal');
    if (body.EnableIPv6) throw refused('--ipv6');
    if ((body.IPAM?.Config ?? []).length > 0) throw refused('--subnet, --ip-range and --gateway');
    if (body.IPAM?.Driver && body.IPAM.Driver !== 'default') throw refused(`--ipam-driver ${body.IPAM.Driver}`);
    if (body.ConfigOnly || body.ConfigFrom?.Network) throw refused('--config-only and --config-from');
    if (body.Ingress || body.Scope === 'swarm') throw refused('a swarm network');
    const network: DockerNetwork = {
      Name: name,
      Id: networkId(name),
      Created: new Date().toISOString(),
      Labels: { ...(body.Labels ?? {}) },
      PortGroup: portGroup,
      Vch: this.vch,
    };
    this.save([...this.records, network]);
    return network;
  }

  /** Removes a network no container is on (`users`: the names of those on it: dockerd's 409). */
  remove(ref: string, users: readonly string[]): DockerNetwork {
    const network = this.find(ref);
    if (!network) throw notFound(`network ${ref} not found`);
    if (users.length > 0) {
      throw conflict(
        `error while removing network: network ${network.Name} id ${network.Id} has active endpoints (${users.join(', ')}): stop or remove those containers first`,
      );
    }
    this.save(this.records.filter((n) => n !== network));
    return network;
  }

  private save(records: DockerNetwork[]): void {
    if (this.file) {
      const temporary = `${this.file}.${process.pid}.tmp`;
      writeFileSync(temporary, `${JSON.stringify(records, null, 2)}\n`, { mode: 0o600 });
      renameSync(temporary, this.file);
    }
    this.records = records;
  }
}

/** The records of `file`; none when it is not there yet. One that cannot be read is an error: it is never overwritten unread. */
function readRecords(file: string): DockerNetwork[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value)) throw new Error(`${file}: not a list of docker networks; move it aside to start with none`);
  return value as DockerNetwork[];
}

/** The file an endpoint serving from `dir` keeps its docker networks in. */
export function networksFile(dir: string): string {
  return join(dir, 'networks.json');
}
