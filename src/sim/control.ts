import { Agent, request } from 'undici';

/**
 * How an injected fault answers a matching SOAP call (see src/sim/launcher/control.go). `drop` closes the
 * connection before the simulator sees the call; `lose-reply` lets the simulator act, then closes
 * it: the reply to a create is lost although the object exists.
 */
export type FaultKind = 'soap' | 'task' | 'http' | 'drop' | 'lose-reply' | 'delay' | 'async';

export interface FaultRule {
  id?: number;
  /**
   * SOAP method name, e.g. "PowerOnVM_Task"; default "*" (every SOAP method). "HTTP PUT" (GET,
   * HEAD...) matches datastore file transfers instead, with `this` the path inside the datastore.
   */
  method?: string;
  /** The `_this` managed object id to match, e.g. "vm-57"; default any. */
  this?: string;
  kind?: FaultKind;
  /** vim25 fault type without the "Fault" suffix, e.g. "InvalidState"; default "SystemError". */
  fault?: string;
  message?: string;
  /** Fault fields as vim25 XML, e.g. `<name>x</name>`; decoded into the real fault type. */
  detailXml?: string;
  httpStatus?: number;
  delayMs?: number;
  /** How many calls the rule answers; default 1, -1 for every call. */
  times?: number;
  /** How many calls the rule has answered so far (returned by the simulator). */
  hits?: number;
  /** Answer only this share of the matching calls, in (0, 1]; default every one. */
  probability?: number;
  /** Seed of the rule's own random draws (with `probability`), so a run can be repeated. */
  seed?: number;
  /** Matching calls the draw let through (returned by the simulator). */
  passed?: number;
}

export interface SimulatorDelays {
  delay?: number;
  methodDelay?: Record<string, number>;
  jitter?: number;
  asyncTaskMs?: number;
}

export interface SimulatorInfo {
  /** Datastore name (prefixed with "<datacenter>/" when the name repeats) -> its local directory. */
  datastores: Record<string, string>;
  /** Inventory counts: datacenters, clusters, hosts, vms, datastores, portgroups, pools, folders, ... */
  model: Record<string, number>;
}

/** SOAP calls the simulator answered since it started or since the last reset. */
export interface SimulatorStats {
  /** When this count started (ISO 8601). */
  since: string;
  /** All SOAP calls: the sum of `calls`. */
  total: number;
  /** Calls per SOAP method, e.g. `{ RetrievePropertiesEx: 3 }`. */
  calls: Record<string, number>;
  /** Milliseconds the server spent per method; a long poll counts its whole wait. */
  serverMs: Record<string, number>;
  /** HTTP requests that are not SOAP calls (datastore file transfers). */
  otherHttp: number;
}

const CONTROL_PATH = '/vcsim-control';

/**
 * Client of the launcher's control API: inject faults and delays, read the model, drop sessions.
 * Over TLS it trusts exactly the simulator's own certificate.
 */
/** One powered-on VM's guest: queued (waiting for a slot), starting, running or stopping. */
export interface GuestProcess {
  readonly vm: string;
  readonly name: string;
  readonly state: 'queued' | 'starting' | 'running' | 'stopping';
  readonly pid?: number;
  readonly startedAt?: string;
  /** Published ports: "80/tcp" → "127.0.0.1:41234", where the host reaches the guest. */
  readonly ports?: Readonly<Record<string, string>>;
}

/** The network of one port group: the QEMU that answers DHCP on it and lets the host in. */
export interface PortGroupNetwork {
  readonly portGroup: string;
  readonly subnet: string;
  readonly multicast: string;
  readonly pid: number;
  readonly guests: number;
}

export interface GuestRunnerState {
  readonly enabled: boolean;
  readonly accel?: 'kvm' | 'tcg';
  readonly maxRunning?: number;
  readonly guests: readonly GuestProcess[];
  /** The port groups that have running guests. */
  readonly networks?: readonly PortGroupNetwork[];
}

export class SimulatorControl {
  private readonly origin: string;
  private readonly dispatcher: Agent;

  /** @param sdkUrl the simulator's `/sdk` URL; @param certPem its certificate when it serves https */
  constructor(sdkUrl: string, certPem?: string) {
    this.origin = new URL(sdkUrl).origin;
    this.dispatcher = new Agent({ connect: certPem ? { ca: certPem } : {} });
  }

  async addFault(rule: FaultRule | FaultRule[]): Promise<FaultRule[]> {
    return (await this.call('POST', '/faults', rule)) as FaultRule[];
  }

  async faults(): Promise<FaultRule[]> {
    return (await this.call('GET', '/faults')) as FaultRule[];
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/faults');
  }

  /** Changes only the given values (`methodDelay` replaces the whole map); returns all current ones. */
  async setDelay(delays: SimulatorDelays): Promise<SimulatorDelays> {
    return (await this.call('POST', '/delay', delays)) as SimulatorDelays;
  }

  async info(): Promise<SimulatorInfo> {
    return (await this.call('GET', '/info')) as SimulatorInfo;
  }

  /** The SOAP round trips counted at the simulator, whoever made them (e.g. a Terraform provider). */
  async stats(): Promise<SimulatorStats> {
    return (await this.call('GET', '/stats')) as SimulatorStats;
  }

  /** Starts a new count; returns the count it ends, so no call falls between a read and a reset. */
  async resetStats(): Promise<SimulatorStats> {
    return (await this.call('POST', '/stats/reset')) as SimulatorStats;
  }

  /** Invalidates every session, so the next call with an old cookie gets NotAuthenticated. */
  async expireSessions(): Promise<void> {
    await this.call('POST', '/sessions/expire');
  }

  /** Sets a VM's runtime.question (vcsim never asks one itself), as vSphere does for a VM blocked on one. */
  async setQuestion(vm: string, text: string, choices?: string[]): Promise<void> {
    await this.call('POST', '/question', { vm, text, choices });
  }

  /** Clears the VM's question, as an answer would. */
  async clearQuestion(vm: string): Promise<void> {
    await this.call('DELETE', `/question?vm=${encodeURIComponent(vm)}`);
  }

  /** Moves a VM's config.createDate `ageMs` back from the simulator's clock: a VM made that long ago, as a create killed long ago leaves it. */
  async setCreateAge(vm: string, ageMs: number): Promise<void> {
    await this.call('POST', '/create-date', { vm, ageMs });
  }

  /** The guest runner (src/sim/runner): whether it runs guests, and the QEMU process of each. */
  async guests(): Promise<GuestRunnerState> {
    return (await this.call('GET', '/guests')) as GuestRunnerState;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const url = `${this.origin}${CONTROL_PATH}${path}`;
    const response = await request(url, {
      method,
      dispatcher: this.dispatcher,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) {
      throw new Error(`vcsim control ${method} ${url} failed with HTTP ${response.statusCode}: ${errorText(text)}`);
    }
    return text === '' ? undefined : JSON.parse(text);
  }
}

// The control API reports problems as {"error": "..."}; anything else is shown as it came.
function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: fall through
  }
  return body.trim();
}
