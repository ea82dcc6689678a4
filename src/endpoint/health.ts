/**
 * Health checks, as dockerd runs them: `--health-cmd` and the other `--health-*` flags (compose's
 * `healthcheck:`) are kept with the container, and while it runs the endpoint runs the check in its
 * guest (through the tether's exec channel, as `docker exec`) every interval: healthy on the first
 * success, unhealthy after `retries` failures in a row (failures during the start period do not
 * count). `docker inspect` shows `State.Health`, `docker ps` "(healthy)", and compose's
 * `depends_on: condition: service_healthy` waits on it. The state is the endpoint's, kept in its
 * directory (`health.json`) with the run it is of: an endpoint restarted goes on from it for a
 * container still in that run, as dockerd keeps it across its restarts.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Attrs } from '../resources';
import { labelsOf } from './containers';
import { badRequest } from './protocol';

/** The label a container's health check is kept under (the create's Healthcheck, as JSON). */
export const HEALTHCHECK_LABEL = 'vic-iac.docker.healthcheck';

/** A create's Healthcheck (durations in nanoseconds, as the API sends them). */
export interface HealthConfig {
  readonly Test: readonly string[];
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  readonly StartInterval?: number;
  readonly Retries?: number;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthResult {
  readonly Start: string;
  readonly End: string;
  readonly ExitCode: number;
  readonly Output: string;
}

/** `State.Health` of docker inspect. */
export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthResult[];
}

const SECOND_NS = 1e9;
/** dockerd's defaults: a check every 30 s, each allowed 30 s, unhealthy after 3 failures. */
export const HEALTH_DEFAULTS = { interval: 30 * SECOND_NS, timeout: 30 * SECOND_NS, startInterval: 5 * SECOND_NS, retries: 3 } as const;
/** dockerd keeps the last five results. */
const KEPT_RESULTS = 5;
/** dockerd keeps at most this much of a check's output. */
const MAX_OUTPUT = 4096;

/**
 * The Healthcheck of a create body: undefined for none (absent, or `NONE`, which
 * `--no-healthcheck` sends); a check whose test is not `CMD …` or `CMD-SHELL …`, or with a
 * negative duration, is a 400 naming the flag.
 */
export function parseHealthcheck(value: unknown): HealthConfig | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const h = value as Record<string, unknown>;
  const test = Array.isArray(h.Test) ? h.Test.map(String) : [];
  if (test.length === 0 || test[0] === 'NONE') return undefined;
  if (!(test[0] === 'CMD' || test[0] === 'CMD-SHELL') || test.length < 2 || test.slice(1).every((a) => a === '')) {
    throw badRequest(`--health-cmd: the health check's test ${JSON.stringify(test)} is not one of ["CMD", program, args…] or ["CMD-SHELL", command]`);
  }
  const durations: Array<[string, string]> = [
    ['Interval', '--health-interval'],
    ['Timeout', '--health-timeout'],
    ['StartPeriod', '--health-start-period'],
    ['StartInterval', '--health-start-interval'],
  ];
  for (const [key, flag] of durations) {
    const v = h[key];
    if (v !== undefined && v !== null && (typeof v !== 'number' || v < 0 || (v > 0 && v < 1e6))) {
      throw badRequest(`${flag} ${String(v)}ns: give a duration of at least 1ms (e.g. ${flag} 5s), or 0 for the default`);
    }
  }
  if (h.Retries !== undefined && h.Retries !== null && (typeof h.Retries !== 'number' || !Number.isInteger(h.Retries) || h.Retries < 0)) {
    throw badRequest(`--health-retries ${String(h.Retries)}: give a whole number, 0 for the default (${HEALTH_DEFAULTS.retries})`);
  }
  const pick = (key: string): Record<string, number> => (typeof h[key] === 'number' && (h[key] as number) > 0 ? { [key]: h[key] as number } : {});
  return { Test: test, ...pick('Interval'), ...pick('Timeout'), ...pick('StartPeriod'), ...pick('StartInterval'), ...pick('Retries') };
}

/**
 * The check a container gets, as dockerd merges them: the create's; with no test of its own, the
 * image's HEALTHCHECK, the create's durations over it; none for `NONE` (--no-healthcheck) in either.
 */
export function effectiveHealthcheck(given: unknown, image: unknown): HealthConfig | undefined {
  const own = given && typeof given === 'object' ? (given as Record<string, unknown>) : {};
  if (Array.isArray(own.Test) && own.Test.length > 0) return parseHealthcheck(own);
  if (!image || typeof image !== 'object') return undefined;
  const durations = Object.entries(own).filter(([key, v]) => key !== 'Test' && typeof v === 'number' && v > 0);
  try {
    return parseHealthcheck({ ...(image as Record<string, unknown>), ...Object.fromEntries(durations) });
  } catch {
    return undefined;
  }
}

/** The health check a container was made with, if any. */
export function healthcheckOf(vm: Attrs): HealthConfig | undefined {
  const text = labelsOf(vm)[HEALTHCHECK_LABEL];
  if (!text) return undefined;
  try {
    return parseHealthcheck(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** The process a check runs: CMD's argv as given, CMD-SHELL's command through /bin/sh -c, as dockerd. */
export function probeArgv(test: readonly string[]): string[] {
  return test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test.slice(1).join(' ')] : test.slice(1);
}

/** docker ps's suffix of a running container's status: " (healthy)", " (health: starting)". */
export function healthSuffix(state: HealthState | undefined): string {
  if (!state) return '';
  return state.Status === 'starting' ? ' (health: starting)' : ` (${state.Status})`;
}

/** What the monitor needs from the endpoint. */
export interface HealthDeps {
  /** The container as vSphere has it now (undefined: removed). */
  current(id: string): Promise<Attrs | undefined>;
  /** Resolves once the container's process runs in this start; false if it never will. */
  processRuns(vm: Attrs): Promise<boolean>;
  /** Runs the check's process in the guest: its exit code and output, or throws. */
  probe(vm: Attrs, argv: readonly string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /** A change of status: docker's `health_status: <status>` event. */
  changed(vm: Attrs, status: HealthStatus): void;
  closed(): boolean;
  log(text: string): void;
}

/**
 * The health of the running containers that have a check: one loop per container start, ended by
 * its stop (the last state stays for inspect), its removal, or the endpoint's close.
 */
/** A container's health as kept in the endpoint's directory, with the start of the run it is of. */
interface KeptHealth {
  readonly startedAt: string;
  readonly state: HealthState;
}

/** The file an endpoint serving from `dir` keeps the health of its containers in. */
export function healthFile(dir: string): string {
  return join(dir, 'health.json');
}

export class HealthMonitor {
  private readonly states = new Map<string, HealthState>();
  /** The start (`started_at`) of the run each state is of, as its checks found it. */
  private readonly runs = new Map<string, string>();
  private file: string | undefined;
  /** What an earlier endpoint kept (keepIn), taken up by watch(…, resume). */
  private kept = new Map<string, KeptHealth>();

  constructor(private readonly deps: HealthDeps) {}

  /**
   * Keeps the states in `file` from now on, and takes what an earlier endpoint kept there. One that
   * cannot be read is said and started over: a health is found again by the next checks.
   */
  keepIn(file: string): void {
    this.file = file;
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, KeptHealth>;
      this.kept = new Map(Object.entries(doc).filter(([, k]) => typeof k?.startedAt === 'string' && typeof k.state?.Status === 'string'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.deps.log(`${file}: not read (${(err as Error).message}); health checks start over`);
    }
  }

  private save(): void {
    if (!this.file) return;
    const doc = Object.fromEntries([...this.states].filter(([id]) => this.runs.has(id)).map(([id, state]) => [id, { startedAt: this.runs.get(id), state }]));
    try {
      const temporary = `${this.file}.${process.pid}.tmp`;
      writeFileSync(temporary, `${JSON.stringify(doc)}\n`, { mode: 0o600 });
      renameSync(temporary, this.file);
    } catch (err) {
      this.deps.log(`${this.file}: not written (${(err as Error).message})`);
    }
  }

  /** The health of a container with a check (starting until its first result). */
  stateOf(id: string, vm: Attrs): HealthState | undefined {
    if (!healthcheckOf(vm)) return undefined;
    return this.states.get(id) ?? { Status: 'starting', FailingStreak: 0, Log: [] };
  }

  forget(id: string): void {
    this.states.delete(id);
    this.runs.delete(id);
    this.save();
  }

  /**
   * Starts checking a container just started (or found running) that has a check; a loop of an
   * earlier start ends. `resume` (a container found running by an endpoint that starts): the state
   * an earlier endpoint kept goes on, if it is of this run.
   */
  watch(id: string, vm: Attrs, resume = false): void {
    const config = healthcheckOf(vm);
    if (!config) return;
    const kept = resume ? this.kept.get(id) : undefined;
    const run = String(vm.started_at ?? '');
    const state: HealthState =
      kept && run !== '' && kept.startedAt === run
        ? { Status: kept.state.Status, FailingStreak: kept.state.FailingStreak, Log: [...kept.state.Log] }
        : { Status: 'starting', FailingStreak: 0, Log: [] };
    this.states.set(id, state);
    if (kept && state.Status !== 'starting') this.runs.set(id, run);
    else this.runs.delete(id);
    void this.run(id, vm, config, state).catch((err: unknown) => this.deps.log(`health check of ${String(vm.name)}: ${(err as Error).message}`));
  }

  private async run(id: string, vm: Attrs, config: HealthConfig, state: HealthState): Promise<void> {
    if (!(await this.deps.processRuns(vm))) return;
    const started = Date.now();
    const argv = probeArgv(config.Test);
    const timeoutMs = (config.Timeout ?? HEALTH_DEFAULTS.timeout) / 1e6;
    const retries = config.Retries ?? HEALTH_DEFAULTS.retries;
    const inStartPeriod = () => Date.now() - started < (config.StartPeriod ?? 0) / 1e6;
    for (;;) {
      // During the start period, the start interval (if given) spaces the checks, as dockerd's.
      const waitNs = inStartPeriod() && config.StartInterval ? config.StartInterval : (config.Interval ?? HEALTH_DEFAULTS.interval);
      await new Promise((resolve) => setTimeout(resolve, waitNs / 1e6).unref());
      if (this.deps.closed() || this.states.get(id) !== state) return;
      const now = await this.deps.current(id);
      if (!now || now.power_state !== 'running' || this.states.get(id) !== state) return;
      this.runs.set(id, String(now.started_at ?? ''));
      const start = new Date().toISOString();
      const result = await this.deps.probe(now, argv, timeoutMs).catch((err: unknown) => ({ exitCode: -1, output: (err as Error).message }));
      const before = state.Status;
      state.Log = [...state.Log, { Start: start, End: new Date().toISOString(), ExitCode: result.exitCode, Output: result.output.slice(0, MAX_OUTPUT) }].slice(
        -KEPT_RESULTS,
      );
      if (result.exitCode === 0) {
        state.FailingStreak = 0;
        state.Status = 'healthy';
      } else if (!(inStartPeriod() && state.Status === 'starting')) {
        state.FailingStreak += 1;
        if (state.FailingStreak >= retries) state.Status = 'unhealthy';
      }
      if (state.Status !== before) this.deps.changed(now, state.Status);
      this.save();
    }
  }
}
