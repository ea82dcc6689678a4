/**
 * Benchmark 1 (refresh at scale) and 4 (memory): `terraform plan` over N container VMs already
 * applied, against two baselines in the same run:
 *  - `terraform plan` over N `terraform_data` resources: Terraform's own floor, no plugin at all;
 *  - `terraform plan` over the same stack through the stub provider (bench/stub-provider): the same
 *    HCL and schema through a Go provider that does no work, i.e. what Terraform spends on ANY
 *    external provider with this schema (gRPC, msgpack, cty per attribute). vic over stub is the
 *    share that is ours.
 * Round trips are counted at the simulator (GET /vcsim-control/stats), so they include every call
 * the provider makes as Terraform's child process.
 */
import type { RunningSimulator } from '../src/sim/simulator';
import { endedChildrenCpuMs, median, medianInterval, progress, ratio, round, type MedianInterval } from './figures';
import type { BenchWorkspace, TerraformResult } from './terraform-runner';
import { floorWorkspace, stubWorkspace, vicWorkspace } from './vic-stack';

export interface RefreshPoint {
  readonly n: number;
  /** `terraform apply` that brought the workspaces to N (informational: apply cost per step). */
  readonly apply_s: { readonly vic: number; readonly floor: number; readonly stub: number };
  readonly plan_ms: {
    readonly vic: readonly number[];
    readonly floor: readonly number[];
    /** The same stack through the zero-work Go provider with vic's schema. */
    readonly stub: readonly number[];
    readonly vic_median: number;
    readonly floor_median: number;
    readonly stub_median: number;
  };
  readonly ratio_vic_over_floor: number;
  /** vic-iac's plan over the stub's (their medians): 1 would mean our provider costs nothing beyond Terraform's per-provider work. */
  readonly ratio_vic_over_stub: number;
  /**
   * vic's plan over the stub's plan of the same round, one ratio per round, and their median with a
   * distribution-free interval: the machine's drift between rounds (the stub's own plan of 1000 VMs
   * moved 40 % within a day) touches both sides of a pair alike. The goal's verdict comes from it.
   */
  readonly paired_over_stub: MedianInterval & { readonly ratios: readonly number[] };
  /** CPU of each whole plan command (Terraform and every provider process it started), ms: it moves less than wall time. */
  readonly cpu_ms: { readonly vic: readonly number[]; readonly stub: readonly number[]; readonly vic_median: number; readonly stub_median: number };
  readonly cpu_ratio_vic_over_stub: number;
  /** The stub's plan over terraform_data's: what an external provider with this schema costs Terraform itself. */
  readonly ratio_stub_over_floor: number;
  /** The vic plan ran past the time budget and was stopped: its time and ratio are lower bounds, its round trips those made so far. */
  readonly vic_timed_out: boolean;
  /** SOAP calls the simulator answered during one vic plan (median over the repeats). */
  readonly round_trips: number;
  readonly round_trips_by_method: Readonly<Record<string, number>>;
  /** Server time summed over every call of one plan, in ms. */
  readonly server_ms: number;
  readonly provider_peak_rss_mib: number | null;
  /**
   * From N = 1000 on: vic over the stub at most 1.2×, judged on the paired ratios' interval: met when
   * all of it is at or below the limit, not met when all of it is above, else within the noise
   * (more rounds, `--goal-repeats`, narrow it).
   */
  readonly goal_over_stub?: { readonly met: boolean; readonly limit: number; readonly verdict: GoalVerdict };
}

export type GoalVerdict = 'met' | 'not met' | 'within the noise';

/** Where a ratio's interval lies against a limit that it must not pass. */
export function verdictAgainst(interval: MedianInterval, limit: number): GoalVerdict {
  if (interval.high <= limit) return 'met';
  return interval.low > limit ? 'not met' : 'within the noise';
}

/** Plans of at least this many VMs have a goal over the stub; below it Node's start dominates. */
export const STUB_GOAL_FROM_N = 1000;
export const STUB_GOAL_LIMIT = 1.2;
export const RSS_GOAL_MIB = 250;

export interface RefreshResult {
  readonly benchmark: 'refresh-at-scale';
  readonly description: string;
  readonly repeats: number;
  readonly points: readonly RefreshPoint[];
  readonly goals: {
    /** With a stopped plan at the largest N, trips_largest counts only the calls made before it was stopped. */
    readonly round_trips_constant: {
      readonly met: boolean;
      readonly smallest_n: number;
      readonly largest_n: number;
      readonly trips_smallest: number;
      readonly trips_largest: number;
    };
    readonly time_ratio_at_largest_n: { readonly met: boolean; readonly limit: 1.5; readonly ratio: number; readonly n: number };
    /** No limit set: the vic/stub ratio at the largest N, the part of the plan time that is vic-iac's. */
    readonly time_ratio_over_stub_at_largest_n: { readonly ratio: number; readonly n: number; readonly stub_over_floor: number };
  };
}

export interface MemoryResult {
  readonly benchmark: 'provider-memory';
  readonly description: string;
  readonly n: number;
  readonly provider_peak_rss_mib: number | null;
  /** The plan was stopped at its time budget: the peak is the one reached until then. */
  readonly plan_timed_out: boolean;
  readonly goal: { readonly met: boolean; readonly limit_mib: number };
}

export interface RefreshOptions {
  readonly sim: RunningSimulator;
  readonly image: string;
  /** Ascending resource counts, e.g. [10, 100, 1000]. */
  readonly sizes: readonly number[];
  readonly repeats: number;
  /**
   * Plans of vic and of the stub at the sizes with a goal over the stub (N ≥ STUB_GOAL_FROM_N), when
   * more than `repeats`: the rounds past `repeats` leave out `terraform_data`, whose goal is looser.
   */
  readonly goalRepeats?: number;
  /** Time budget of one vic plan; a plan that runs longer is stopped and reported as such. */
  readonly planTimeoutMs: number;
}

function goalOverStub(timedOut: boolean, paired: MedianInterval): NonNullable<RefreshPoint['goal_over_stub']> {
  const verdict = timedOut ? 'not met' : verdictAgainst(paired, STUB_GOAL_LIMIT);
  return { met: verdict === 'met', limit: STUB_GOAL_LIMIT, verdict };
}

// A round trip or two may move between coalesced batches; growth with N is what the goal forbids.
const ROUND_TRIP_TOLERANCE = 2;

export async function refreshBench(opts: RefreshOptions): Promise<{ refresh: RefreshResult; memory: MemoryResult }> {
  const sizes = [...opts.sizes].sort((a, b) => a - b);
  const workspaces: BenchWorkspace[] = [];
  try {
    const vic = await vicWorkspace('refresh', opts.sim, opts.image);
    workspaces.push(vic);
    const floor = await floorWorkspace('refresh-floor');
    workspaces.push(floor);
    const stub = await stubWorkspace('refresh-stub', opts.image);
    workspaces.push(stub);
    return await measureSizes(opts, sizes, vic, floor, stub);
  } finally {
    for (const ws of workspaces) ws.remove();
  }
}

async function measureSizes(
  opts: RefreshOptions,
  sizes: readonly number[],
  vic: BenchWorkspace,
  floor: BenchWorkspace,
  stub: BenchWorkspace,
): Promise<{ refresh: RefreshResult; memory: MemoryResult }> {
  const points: RefreshPoint[] = [];
  for (const n of sizes) {
    const vars = ['-var', `n=${n}`];
    progress(`refresh: applying ${n} terraform_data resources (floor)`);
    const floorApply = await floor.terraform(['apply', '-auto-approve', '-input=false', ...vars]);
    progress(`refresh: applying ${n} container VMs through the stub provider (${Math.round(floorApply.wallMs / 1000)} s for the floor)`);
    const stubApply = await stub.terraform(['apply', '-auto-approve', '-input=false', ...vars]);
    progress(`refresh: applying ${n} container VMs through terraform (${Math.round(stubApply.wallMs / 1000)} s through the stub)`);
    const vicApply = await vic.terraform(['apply', '-auto-approve', '-input=false', ...vars]);
    const rounds = n >= STUB_GOAL_FROM_N ? Math.max(opts.repeats, opts.goalRepeats ?? 0) : opts.repeats;
    progress(
      `refresh: ${n} container VMs applied in ${Math.round(vicApply.wallMs / 1000)} s; planning ${rounds}× each${rounds > opts.repeats ? ` (terraform_data ${opts.repeats}×)` : ''}`,
    );

    const plan = ['plan', '-input=false', '-lock=false', '-detailed-exitcode', ...vars];
    const vicRuns: { result: TerraformResult; cpuMs: number; trips: number; byMethod: Record<string, number>; serverMs: number }[] = [];
    const floorRuns: TerraformResult[] = [];
    const stubRuns: { result: TerraformResult; cpuMs: number }[] = [];
    // The whole command's CPU, Terraform's and its providers': each command runs alone, so the
    // children's times that grew meanwhile are its own.
    const withCpu = async (run: () => Promise<TerraformResult>) => {
      const before = endedChildrenCpuMs();
      const result = await run();
      return { result, cpuMs: endedChildrenCpuMs() - before };
    };
    for (let i = 0; i < rounds; i++) {
      // Rotate the order so no side always runs on the warmer (or busier) machine.
      const runVic = async () => {
        await opts.sim.control.resetStats();
        const { result, cpuMs } = await withCpu(() => vic.terraform(plan, { sampleProviderRss: true, timeoutMs: opts.planTimeoutMs }));
        const stats = await opts.sim.control.stats();
        vicRuns.push({ result, cpuMs, trips: stats.total, byMethod: stats.calls, serverMs: Object.values(stats.serverMs).reduce((a, b) => a + b, 0) });
      };
      const runFloor = async () => {
        floorRuns.push(await floor.terraform(plan));
      };
      // -detailed-exitcode makes a plan that finds changes fail the run: the stub must round-trip its state.
      const runStub = async () => {
        stubRuns.push(await withCpu(() => stub.terraform(plan)));
      };
      const order = i < opts.repeats ? [runFloor, runStub, runVic] : [runStub, runVic];
      for (let k = 0; k < order.length; k++) await order[(k + i) % order.length]();
      if (vicRuns.some((r) => r.result.timedOut)) {
        progress(`refresh N=${n}: the vic plan passed its ${Math.round(opts.planTimeoutMs / 1000)} s budget and was stopped; no further repeats`);
        break;
      }
    }
    const timedOut = vicRuns.some((r) => r.result.timedOut);
    const vicMs = vicRuns.map((r) => r.result.wallMs);
    const floorMs = floorRuns.map((r) => r.wallMs);
    const stubMs = stubRuns.map((r) => r.result.wallMs);
    // A plan stopped at its budget ends the rounds, perhaps before its round's stub plan (round 0 runs the stub first).
    const paired = vicMs.slice(0, stubMs.length).map((v, i) => ratio(v, stubMs[i], 3));
    const pairedInterval = medianInterval(paired);
    const cpu = { vic: vicRuns.map((r) => r.cpuMs), stub: stubRuns.map((r) => r.cpuMs) };
    const trips = median(vicRuns.map((r) => r.trips));
    const typical = vicRuns.find((r) => r.trips === trips) ?? vicRuns[0];
    const rss = vicRuns.map((r) => r.result.providerPeakRssMib).filter((v): v is number => v !== undefined);
    const point: RefreshPoint = {
      n,
      apply_s: { vic: round(vicApply.wallMs / 1000, 2), floor: round(floorApply.wallMs / 1000, 2), stub: round(stubApply.wallMs / 1000, 2) },
      plan_ms: {
        vic: vicMs.map((v) => round(v)),
        floor: floorMs.map((v) => round(v)),
        stub: stubMs.map((v) => round(v)),
        vic_median: round(median(vicMs)),
        floor_median: round(median(floorMs)),
        stub_median: round(median(stubMs)),
      },
      ratio_vic_over_floor: ratio(median(vicMs), median(floorMs)),
      ratio_vic_over_stub: ratio(median(vicMs), median(stubMs)),
      paired_over_stub: { ...pairedInterval, ratios: paired },
      cpu_ms: { ...cpu, vic_median: round(median(cpu.vic)), stub_median: round(median(cpu.stub)) },
      cpu_ratio_vic_over_stub: ratio(median(cpu.vic), median(cpu.stub)),
      ratio_stub_over_floor: ratio(median(stubMs), median(floorMs)),
      vic_timed_out: timedOut,
      round_trips: trips,
      round_trips_by_method: typical.byMethod,
      server_ms: round(typical.serverMs),
      provider_peak_rss_mib: rss.length > 0 ? round(Math.max(...rss)) : null,
      ...(n >= STUB_GOAL_FROM_N ? { goal_over_stub: goalOverStub(timedOut, pairedInterval) } : {}),
    };
    points.push(point);
    progress(
      `refresh N=${n}: plan ${timedOut ? '> ' : ''}${point.plan_ms.vic_median} ms vs floor ${point.plan_ms.floor_median} ms (×${point.ratio_vic_over_floor}) vs stub ${point.plan_ms.stub_median} ms (×${point.ratio_vic_over_stub}; ` +
        `paired ×${pairedInterval.median}, ${pairedInterval.low}–${pairedInterval.high} at ${Math.round(pairedInterval.confidence * 100)} %; CPU ×${point.cpu_ratio_vic_over_stub}), ` +
        `${trips} round trips, provider peak RSS ${point.provider_peak_rss_mib} MiB`,
    );
  }
  const first = points[0];
  const last = points[points.length - 1];
  const refresh: RefreshResult = {
    benchmark: 'refresh-at-scale',
    description:
      'terraform plan over N applied vic_container_vm (plus their VCH and image) vs terraform plan over N terraform_data, and vs the same stack through a zero-work Go provider with the same schema (stub), same run, medians; round trips counted at the simulator',
    repeats: opts.repeats,
    points,
    goals: {
      round_trips_constant: {
        met: !last.vic_timed_out && last.round_trips <= first.round_trips + ROUND_TRIP_TOLERANCE,
        smallest_n: first.n,
        largest_n: last.n,
        trips_smallest: first.round_trips,
        trips_largest: last.round_trips,
      },
      time_ratio_at_largest_n: { met: !last.vic_timed_out && last.ratio_vic_over_floor <= 1.5, limit: 1.5, ratio: last.ratio_vic_over_floor, n: last.n },
      time_ratio_over_stub_at_largest_n: { ratio: last.ratio_vic_over_stub, n: last.n, stub_over_floor: last.ratio_stub_over_floor },
    },
  };
  const memory: MemoryResult = {
    benchmark: 'provider-memory',
    description: `peak RSS (VmHWM) of the terraform-provider-vic process during terraform plan over ${last.n} container VMs`,
    n: last.n,
    provider_peak_rss_mib: last.provider_peak_rss_mib,
    plan_timed_out: last.vic_timed_out,
    goal: { met: !last.vic_timed_out && last.provider_peak_rss_mib !== null && last.provider_peak_rss_mib <= RSS_GOAL_MIB, limit_mib: RSS_GOAL_MIB },
  };
  return { refresh, memory };
}
