/**
 * The benchmark code cannot rot: `npm run bench -- --quick` runs end to end against the real peers
 * (terraform, the provider from its mirror, the zero-work stub provider from its mirror, vcsim,
 * docker-registry), and every ratio it reports is the quotient of the two numbers it measured in
 * that run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { medianInterval, ratio } from '../../bench/figures';
import { parseArgs, runBenchmarks } from '../../bench/run';
import type { ApplyResult } from '../../bench/apply-throughput';
import { verdictAgainst, type RefreshPoint, type RefreshResult } from '../../bench/refresh';
import { README_END, README_START, summaryTable, updateReadme, type BenchFigures } from '../../bench/summary';

const out = mkdtempSync(join(tmpdir(), 'vic-bench-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function readJson(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8')) as Record<string, unknown>;
}

/** What src/vsphere/tasks.ts calls to wait for a task: how many depends on the task's speed, not on N. */
const TASK_WAIT_METHODS = new Set(['RetrieveProperties', 'CreatePropertyCollector', 'CreateFilter', 'WaitForUpdatesEx', 'DestroyPropertyCollector']);

// The inputs in the JSON are rounded to 0.1 ms, so the quotient is checked to 3 %.
const close = (reported: number, a: number, b: number) => expect(Math.abs(reported - a / b)).toBeLessThanOrEqual(0.03 * (a / b) + 0.01);

describe('npm run bench -- --quick', () => {
  let table = '';

  beforeAll(async () => {
    // GIVEN the quick plan (small N), the results written to a scratch dir, not bench/results.
    // About 50 s on an idle 2-core machine; the timeout leaves room for a loaded one.
    const plan = parseArgs(['--quick', '--out', out, '--only', 'refresh,apply,upload,startup,docker']);
    // WHEN every benchmark runs end to end
    const figures = await runBenchmarks(plan);
    table = summaryTable(figures);
  }, 240_000);

  it('THEN refresh.json has a point per N with measured times, round trips counted at the simulator, and ratios from them', () => {
    const refresh = readJson('refresh') as unknown as {
      points: {
        n: number;
        apply_s: { stub: number };
        plan_ms: { vic_median: number; floor_median: number; stub_median: number; vic: number[]; stub: number[] };
        ratio_vic_over_floor: number;
        ratio_vic_over_stub: number;
        ratio_stub_over_floor: number;
        paired_over_stub: { ratios: number[]; median: number; low: number; high: number };
        cpu_ms: { vic: number[]; stub: number[]; vic_median: number; stub_median: number };
        cpu_ratio_vic_over_stub: number;
        round_trips: number;
        round_trips_by_method: Record<string, number>;
      }[];
      goals: {
        round_trips_constant: { met: boolean; trips_largest: number };
        time_ratio_at_largest_n: { ratio: number };
        time_ratio_over_stub_at_largest_n: { ratio: number; n: number; stub_over_floor: number };
      };
      machine: { nproc: number; memory_gib: number; cpu_model: string; node: string; terraform: string; measured_at: string };
    };
    expect(refresh.points.map((p) => p.n)).toEqual([2, 4]);
    for (const p of refresh.points) {
      expect(p.plan_ms.vic_median).toBeGreaterThan(0);
      expect(p.plan_ms.floor_median).toBeGreaterThan(0);
      close(p.ratio_vic_over_floor, p.plan_ms.vic_median, p.plan_ms.floor_median);
      // the stub baseline: the same stack applied and planned (no changes, or the plan would have failed) through the Go stub
      expect(p.apply_s.stub).toBeGreaterThan(0);
      expect(p.plan_ms.stub).toHaveLength(p.plan_ms.vic.length);
      expect(p.plan_ms.stub_median).toBeGreaterThan(0);
      close(p.ratio_vic_over_stub, p.plan_ms.vic_median, p.plan_ms.stub_median);
      close(p.ratio_stub_over_floor, p.plan_ms.stub_median, p.plan_ms.floor_median);
      // each round's vic plan over the same round's stub plan, and the whole commands' CPU (Terraform + providers)
      expect(p.paired_over_stub.ratios).toHaveLength(p.plan_ms.vic.length);
      p.paired_over_stub.ratios.forEach((r, i) => close(r, p.plan_ms.vic[i], p.plan_ms.stub[i]));
      expect(p.paired_over_stub.median).toBe(medianInterval(p.paired_over_stub.ratios).median);
      expect(p.cpu_ms.vic).toHaveLength(p.plan_ms.vic.length);
      // a plan of a Node provider and Terraform takes far more than one 10 ms tick of CPU
      expect(p.cpu_ms.vic_median).toBeGreaterThan(100);
      expect(p.cpu_ms.stub_median).toBeGreaterThan(100);
      close(p.cpu_ratio_vic_over_stub, p.cpu_ms.vic_median, p.cpu_ms.stub_median);
      // the plan logs in and reads its VMs: those calls were counted at the simulator
      expect(p.round_trips_by_method.Login).toBeGreaterThanOrEqual(1);
      expect(p.round_trips_by_method.RetrievePropertiesEx).toBeGreaterThanOrEqual(1);
      expect(Object.values(p.round_trips_by_method).reduce((a, b) => a + b, 0)).toBe(p.round_trips);
    }
    expect(refresh.goals.time_ratio_at_largest_n.ratio).toBe(refresh.points[1].ratio_vic_over_floor);
    expect(refresh.goals.round_trips_constant.trips_largest).toBe(refresh.points[1].round_trips);
    expect(refresh.goals.time_ratio_over_stub_at_largest_n).toEqual({
      ratio: refresh.points[1].ratio_vic_over_stub,
      n: 4,
      stub_over_floor: refresh.points[1].ratio_stub_over_floor,
    });
    expect(refresh.machine.nproc).toBeGreaterThan(0);
    expect(refresh.machine.terraform).toMatch(/^\d+\.\d+\.\d+/);
    expect(Date.parse(refresh.machine.measured_at)).not.toBeNaN();
  });

  it('THEN memory.json holds the provider peak RSS of the largest plan, as its processes report it at exit', () => {
    const memory = readJson('memory') as { n: number; provider_peak_rss_mib: number };
    expect(memory.n).toBe(4);
    // a Node process with the engine loaded: tens of MiB at least, far from a stray number
    expect(memory.provider_peak_rss_mib).toBeGreaterThan(20);
    expect(memory.provider_peak_rss_mib).toBeLessThan(2048);
  });

  it('THEN apply.json compares terraform apply with the raw SOAP script on measured times and counted calls', () => {
    const apply = readJson('apply') as {
      vms: number;
      wall_ms: { terraform_apply: number; raw_soap: number; stub_apply: number; stub_with_work: number };
      vms_per_s: { stub_apply: number };
      ratio_terraform_over_raw: number;
      ratio_terraform_over_stub: number;
      ratio_stub_with_work_over_stub: number;
      ratio_terraform_over_stub_with_work: number;
      goal: { met: boolean };
      round_trips_by_method: { terraform_apply: Record<string, number>; raw_soap: Record<string, number>; stub_with_work: Record<string, number> };
      powered_on: { terraform_apply: number; raw_soap: number };
    };
    expect(apply.vms).toBe(4);
    close(apply.ratio_terraform_over_raw, apply.wall_ms.terraform_apply, apply.wall_ms.raw_soap);
    expect(apply.goal.met).toBe(apply.ratio_terraform_over_raw <= 1.3);
    expect(apply.wall_ms.stub_apply).toBeGreaterThan(0);
    expect(apply.vms_per_s.stub_apply).toBeGreaterThan(0);
    close(apply.ratio_terraform_over_stub, apply.wall_ms.terraform_apply, apply.wall_ms.stub_apply);
    // The floor with the work: the stub's creates each waited for one VM's CreateVM and PowerOn.
    close(apply.ratio_stub_with_work_over_stub, apply.wall_ms.stub_with_work, apply.wall_ms.stub_apply);
    close(apply.ratio_terraform_over_stub_with_work, apply.wall_ms.terraform_apply, apply.wall_ms.stub_with_work);
    for (const side of [apply.round_trips_by_method.terraform_apply, apply.round_trips_by_method.raw_soap, apply.round_trips_by_method.stub_with_work]) {
      expect(side.CreateVM_Task).toBe(4);
      expect(side.PowerOnVM_Task).toBe(4);
    }
    expect(apply.powered_on).toEqual({ terraform_apply: 4, raw_soap: 4 });
  });

  it('THEN upload.json counts the bytes sent for a small image against the used blocks of its filesystem', () => {
    const upload = readJson('upload') as {
      content_bytes: number;
      filesystem_bytes: number;
      used_bytes: number;
      uploaded_bytes: { total: number; by_file: Record<string, number> };
      ratio_uploaded_over_used: number;
      route: { kind: string };
      data_bytes_by_grain: Record<string, number>;
      goal: { met: boolean; limit_bytes: number };
    };
    // the filesystem holds the content, so it uses at least that many bytes, and at most the filesystem's size
    expect(upload.used_bytes).toBeGreaterThanOrEqual(upload.content_bytes);
    expect(upload.used_bytes).toBeLessThanOrEqual(upload.filesystem_bytes);
    // every stored file was counted (the descriptor, the disk, metadata.json), and the total is their sum
    expect(Object.keys(upload.uploaded_bytes.by_file).sort()).toEqual(expect.arrayContaining(['metadata.json']));
    expect(Object.values(upload.uploaded_bytes.by_file).reduce((a, b) => a + b, 0)).toBe(upload.uploaded_bytes.total);
    close(upload.ratio_uploaded_over_used, upload.uploaded_bytes.total, upload.used_bytes);
    expect(upload.goal.met).toBe(upload.uploaded_bytes.total <= upload.goal.limit_bytes);
    // the launcher converts: the disk went up as one sparse file, and no flat extent was sent
    expect(upload.route).toEqual({ kind: 'sparse' });
    const sent = Object.keys(upload.uploaded_bytes.by_file);
    expect(sent.filter((f) => f.endsWith('-upload-sparse.vmdk'))).toHaveLength(1);
    expect(sent.filter((f) => f.endsWith('-flat.vmdk'))).toEqual([]);
    // coarser grains never carry less of the same filesystem
    const byGrain = Object.entries(upload.data_bytes_by_grain)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, n]) => n);
    expect(byGrain).toHaveLength(5);
    expect([...byGrain].sort((a, b) => a - b)).toEqual(byGrain);
  });

  it('THEN startup.json has p50 and p95 for the provider and for node -e 0, and their ratios, and the CPU time of both', () => {
    const startup = readJson('startup') as {
      runs: number;
      provider_ms: { p50: number; p95: number };
      node_floor_ms: { p50: number; p95: number };
      ratio_provider_over_node: { p50: number; p95: number };
      cpu_ms: { provider_p50: number; node_p50: number; ratio_p50: number };
      goal: { met: boolean; limit: number };
    };
    // A Node process cannot start on no CPU; the provider does all node does and more.
    expect(startup.cpu_ms.node_p50).toBeGreaterThan(0);
    expect(startup.cpu_ms.provider_p50).toBeGreaterThan(startup.cpu_ms.node_p50);
    close(startup.cpu_ms.ratio_p50, startup.cpu_ms.provider_p50, startup.cpu_ms.node_p50);
    expect(startup.runs).toBe(5);
    expect(startup.goal).toEqual({ met: startup.ratio_provider_over_node.p50 <= 1.1, limit: 1.1 });
    expect(startup.provider_ms.p95).toBeGreaterThanOrEqual(startup.provider_ms.p50);
    close(startup.ratio_provider_over_node.p50, startup.provider_ms.p50, startup.node_floor_ms.p50);
    close(startup.ratio_provider_over_node.p95, startup.provider_ms.p95, startup.node_floor_ms.p95);
  });

  it('THEN docker.json times docker ps -a and docker run -d against raw vSphere work measured in the same run, with round trips equal at both sizes', () => {
    const docker = readJson('docker') as unknown as {
      ps: {
        points: {
          n: number;
          ps_ms: number[];
          ps_p50: number;
          node_start_p50: number;
          raw_read_p50: number;
          baseline_p50: number;
          ratio_ps_over_baseline: number;
          round_trips: number;
          round_trips_by_method: Record<string, number>;
        }[];
        goal: { met: boolean; limit: number; ratio: number; n: number };
        round_trips_constant: { met: boolean; trips_smallest: number; trips_largest: number };
      };
      run: {
        runs: number;
        docker_run_ms: number[];
        raw_ms: number[];
        docker_run_p50: number;
        raw_p50: number;
        ratio_run_over_raw: number;
        endpoint_ms: number[];
        endpoint_p50: number;
        endpoint_cpu_ms: number[];
        endpoint_cpu_p50: number;
        raw_cpu_p50: number;
        ratio_endpoint_over_raw: number;
        ratio_run_over_raw_plus_cli: number;
        round_trips_docker_run: number;
        round_trips_endpoint: number;
        round_trips_raw: number;
        round_trips_by_method: { docker_run: Record<string, number>; endpoint: Record<string, number>; raw: Record<string, number> };
        docker_cli_floor_p50: number;
        containers_present: number;
        goal: { met: boolean; limit: number; ratio: number };
      };
      run_at_largest_n: {
        containers_present: number;
        docker_run_p50: number;
        endpoint_p50: number;
        raw_p50: number;
        round_trips_by_method: { endpoint: Record<string, number> };
      };
    };
    const finitePositive = (v: number) => {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThan(0);
    };
    expect(docker.ps.points.map((p) => p.n)).toEqual([2, 8]);
    for (const p of docker.ps.points) {
      expect(p.ps_ms).toHaveLength(3);
      for (const v of [p.ps_p50, p.node_start_p50, p.raw_read_p50, p.baseline_p50, p.ratio_ps_over_baseline]) finitePositive(v);
      close(p.baseline_p50, p.node_start_p50 + p.raw_read_p50, 1);
      close(p.ratio_ps_over_baseline, p.ps_p50, p.baseline_p50);
      // the endpoint read vSphere for the listing: counted at the simulator
      expect(p.round_trips_by_method.RetrievePropertiesEx).toBeGreaterThanOrEqual(1);
      expect(Object.values(p.round_trips_by_method).reduce((a, b) => a + b, 0)).toBe(p.round_trips);
    }
    const [small, large] = docker.ps.points;
    expect(large.round_trips).toBe(small.round_trips);
    expect(docker.ps.round_trips_constant).toMatchObject({ met: true, trips_smallest: small.round_trips, trips_largest: large.round_trips });
    expect(docker.ps.goal).toEqual({ met: large.ratio_ps_over_baseline <= 1.5, limit: 1.5, ratio: large.ratio_ps_over_baseline, n: 8 });

    const run = docker.run;
    expect(run.runs).toBe(3);
    expect(run.containers_present).toBe(2);
    expect(run.docker_run_ms).toHaveLength(3);
    expect(run.raw_ms).toHaveLength(3);
    expect(run.endpoint_ms).toHaveLength(3);
    // the endpoint's thread's CPU, the client's requests sent from a worker thread
    expect(run.endpoint_cpu_ms).toHaveLength(3);
    for (const v of [
      run.docker_run_p50,
      run.raw_p50,
      run.endpoint_p50,
      run.endpoint_cpu_p50,
      run.raw_cpu_p50,
      run.ratio_run_over_raw,
      run.ratio_endpoint_over_raw,
      run.docker_cli_floor_p50,
    ])
      finitePositive(v);
    close(run.ratio_run_over_raw, run.docker_run_p50, run.raw_p50);
    close(run.ratio_endpoint_over_raw, run.endpoint_p50, run.raw_p50);
    close(run.ratio_run_over_raw_plus_cli, run.docker_run_p50, run.raw_p50 + run.docker_cli_floor_p50);
    // the goal is the endpoint's own latency: the docker CLI alone costs more than the raw work
    expect(run.goal).toEqual({ met: run.ratio_endpoint_over_raw <= 1.3, limit: 1.3, ratio: run.ratio_endpoint_over_raw });
    // every side created and powered on one VM each, counted at the simulator
    for (const side of [run.round_trips_by_method.docker_run, run.round_trips_by_method.endpoint, run.round_trips_by_method.raw]) {
      expect(side.CreateVM_Task).toBe(1);
      expect(side.PowerOnVM_Task).toBe(1);
    }
    expect(Object.values(run.round_trips_by_method.docker_run).reduce((a, b) => a + b, 0)).toBe(run.round_trips_docker_run);
    expect(Object.values(run.round_trips_by_method.endpoint).reduce((a, b) => a + b, 0)).toBe(run.round_trips_endpoint);
    expect(docker.run_at_largest_n.containers_present).toBe(8);
    for (const v of [docker.run_at_largest_n.docker_run_p50, docker.run_at_largest_n.endpoint_p50, docker.run_at_largest_n.raw_p50]) finitePositive(v);
    // create + start look things up as often with 8 containers present as with 2 (the task waits'
    // reads vary with how fast the simulator finishes a task, and are left out)
    const lookups = (calls: Record<string, number>) => Object.entries(calls).filter(([method]) => !TASK_WAIT_METHODS.has(method));
    expect(lookups(docker.run_at_largest_n.round_trips_by_method.endpoint)).toEqual(lookups(run.round_trips_by_method.endpoint));
  });

  it('THEN summary.md carries the table, and the README section between the markers takes it', () => {
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain(table);
    expect(table).toMatch(/\| Refresh: `terraform plan`, 4 container VMs \|/);
    expect(table).toMatch(
      /\| Refresh vs zero-work Go provider, same schema: `terraform plan`, 4 container VMs \| [\d.]+ s \| [\d.]+ s \(stub provider; itself [\d.]+× `terraform_data`\) \| [\d.]+× \|/,
    );
    expect(table).toMatch(/\| Apply vs zero-work Go provider, same schema: 4 container VMs, 10 in flight \| [\d.]+ s \| [\d.]+ s \(stub provider/);
    expect(table).toMatch(/\| Docker endpoint: `docker ps -a`, 8 container VMs, p50 of 3 \| [\d.]+ ms, \d+ SOAP round trips \| [\d.]+ ms \(`node -e 0` /);
    expect(table).toMatch(/\| Docker endpoint: `docker ps -a` round trips, N = 2 → 8 \| (\d+) → \1 \| constant in N \|/);
    expect(table).toMatch(
      /\| Docker endpoint: `docker run -d`'s requests \(create \+ start, guests off\), the endpoint alone, 2 containers present, p50 of 3 \| [\d.]+ ms, \d+ SOAP round trips, CPU [\d.]+ ms \| [\d.]+ ms raw CreateVM_Task \+ PowerOnVM_Task, \d+ round trips, client CPU [\d.]+ ms \|/,
    );
    expect(table).toMatch(
      /\| Docker endpoint: `docker run -d` \(create \+ power on, guests off\), 2 containers present, p50 of 3 \| [\d.]+ ms, \d+ SOAP round trips \| [\d.]+ ms \(raw CreateVM_Task/,
    );
    expect(table).toMatch(/Measured \d{4}-\d{2}-\d{2} on \d+ × /);
    const readme = join(out, 'README.md');
    writeFileSync(readme, `# x\n\n## Benchmarks\n\n${README_START}\nold\n${README_END}\n\nafter\n`);
    expect(updateReadme(readme, table)).toBe(true);
    const text = readFileSync(readme, 'utf8');
    expect(text).toContain(`${README_START}\n${table}\n${README_END}\n\nafter`);
    expect(text).not.toContain('old');
  });
});

describe('ratio', () => {
  it.each([
    [3, 2, 1.5],
    [1, 3, 0.33],
  ])('GIVEN %d over %d THEN %d', (a, b, want) => expect(ratio(a, b)).toBe(want));

  it('GIVEN a zero baseline THEN it refuses instead of printing Infinity', () => {
    expect(() => ratio(1, 0)).toThrow(/baseline 0/);
  });
});

describe('summaryTable and the stub baseline', () => {
  const machine = {
    nproc: 2,
    memory_gib: 24,
    cpu_model: 'cpu',
    node: 'v20',
    terraform: '1.11.4',
    load_average_1m: 1,
    commit: 'abc',
    measured_at: '2026-01-01T00:00:00Z',
  };
  const point = {
    n: 1000,
    apply_s: { vic: 1, floor: 1 },
    plan_ms: { vic: [9000], floor: [2000], vic_median: 9000, floor_median: 2000 },
    ratio_vic_over_floor: 4.5,
    vic_timed_out: false,
    round_trips: 10,
    round_trips_by_method: {},
    server_ms: 5,
    provider_peak_rss_mib: 100,
  };
  const refreshOf = (p: object) =>
    ({
      benchmark: 'refresh-at-scale',
      description: '',
      repeats: 1,
      points: [p],
      goals: {
        round_trips_constant: { met: true, smallest_n: 1000, largest_n: 1000, trips_smallest: 10, trips_largest: 10 },
        time_ratio_at_largest_n: { met: false, limit: 1.5, ratio: 4.5, n: 1000 },
      },
    }) as unknown as RefreshResult;
  const apply = {
    vms: 200,
    concurrency: 10,
    wall_ms: { terraform_apply: 20000, raw_soap: 4000, terraform_data_floor: 700 },
    vms_per_s: { terraform_apply: 10, raw_soap: 50 },
    ratio_terraform_over_raw: 5,
    goal: { met: false, limit: 1.3 },
    round_trips: { per_vm_terraform: 7, per_vm_raw: 5 },
  };

  it('GIVEN figures from a run before the stub existed (an earlier JSON) THEN the stub rows are left out, not printed as undefined', () => {
    const table = summaryTable({ machine, quick: false, refresh: refreshOf(point), apply: apply as unknown as ApplyResult } as BenchFigures);
    expect(table).toContain('| Refresh: `terraform plan`, 1000 container VMs |');
    expect(table).not.toMatch(/zero-work|undefined|NaN/);
  });

  it('GIVEN figures with the stub THEN each N and the apply get a row with the vic/stub ratio, the stub/terraform_data ratio and the goal over the stub', () => {
    // An earlier refresh.json, from before the paired rounds: judged on the ratio of medians, as then.
    const withStub = {
      ...point,
      apply_s: { ...point.apply_s, stub: 1 },
      plan_ms: { ...point.plan_ms, stub: [3000], stub_median: 3000 },
      ratio_vic_over_stub: 3,
      ratio_stub_over_floor: 1.5,
    } as unknown as RefreshPoint;
    const applyWithStub = {
      ...apply,
      wall_ms: { ...apply.wall_ms, stub_apply: 2500 },
      vms_per_s: { ...apply.vms_per_s, stub_apply: 80 },
      ratio_terraform_over_stub: 8,
    };
    const table = summaryTable({ machine, quick: false, refresh: refreshOf(withStub), apply: applyWithStub as unknown as ApplyResult } as BenchFigures);
    expect(table).toContain(
      '| Refresh vs zero-work Go provider, same schema: `terraform plan`, 1000 container VMs | 9.00 s | 3.00 s (stub provider; itself 1.5× `terraform_data`) | 3× | ≤ 1.2× | **no** |',
    );
    expect(table).toContain(
      '| Apply vs zero-work Go provider, same schema: 200 container VMs, 10 in flight | 20.00 s | 2.50 s (stub provider: Terraform + gRPC, no vSphere work) | 8× | ≤ 1.5× | **no** |',
    );
    expect(table).toContain('| Apply: SOAP round trips per created VM, 200 VMs | 7 | 5 (raw SOAP script) | 1.4× | ≤ 1.0× | **no** |');
    // A larger apply of the same run gets its own rows, with the tighter goal over the stub.
    const large = { ...applyWithStub, vms: 1000, ratio_terraform_over_stub: 1.1 };
    const both = summaryTable({
      machine,
      quick: false,
      apply: applyWithStub as unknown as ApplyResult,
      applyMore: [large as unknown as ApplyResult],
    } as BenchFigures);
    expect(both).toContain(
      '| Apply vs zero-work Go provider, same schema: 1000 container VMs, 10 in flight | 20.00 s | 2.50 s (stub provider: Terraform + gRPC, no vSphere work) | 1.1× | ≤ 1.2× | yes |',
    );
  });

  it.each([
    ['every pair at or below the limit', [1.1, 1.12, 1.15, 1.18, 1.19], 'met', 'yes'],
    ['every pair above it', [1.21, 1.25, 1.3, 1.31, 1.4], 'not met', '**no**'],
    ['pairs on both sides of it', [1.1, 1.15, 1.19, 1.25, 1.3], 'within the noise', '**within the noise**'],
  ] as const)('GIVEN paired rounds with %s THEN the goal over the stub is judged on their interval, which the row shows', (_, ratios, verdict, shown) => {
    const interval = medianInterval(ratios);
    const paired: RefreshPoint = {
      ...point,
      apply_s: { ...point.apply_s, stub: 1 },
      plan_ms: { ...point.plan_ms, stub: [3000], stub_median: 3000 },
      ratio_vic_over_stub: 1.19,
      ratio_stub_over_floor: 1.5,
      paired_over_stub: { ...interval, ratios },
      cpu_ms: { vic: [12000], stub: [10000], vic_median: 12000, stub_median: 10000 },
      cpu_ratio_vic_over_stub: 1.2,
      goal_over_stub: { met: verdict === 'met', limit: 1.2, verdict },
    };
    expect(verdictAgainst(interval, 1.2)).toBe(verdict);
    expect(summaryTable({ machine, quick: false, refresh: refreshOf(paired) } as BenchFigures)).toContain(
      `| 1.19× (paired by round: ${interval.median}×, ${interval.low}–${interval.high}× at 94 % over 5 pairs; CPU 1.2×) | ≤ 1.2× | ${shown} |`,
    );
  });

  it('GIVEN plans below 1000 VMs THEN their rows over the stub carry no goal', () => {
    const small = {
      ...point,
      n: 100,
      apply_s: { ...point.apply_s, stub: 1 },
      plan_ms: { ...point.plan_ms, stub: [3000], stub_median: 3000 },
      ratio_vic_over_stub: 3,
      ratio_stub_over_floor: 1.5,
    } as unknown as RefreshPoint;
    expect(summaryTable({ machine, quick: false, refresh: refreshOf(small) } as BenchFigures)).toMatch(
      /`terraform plan`, 100 container VMs \| 9\.00 s \| [^|]+\| 3× \|  \|  \|/,
    );
  });
});

describe('parseArgs: sizes a run can be cut to', () => {
  it('GIVEN no option THEN the full run plans 10 to 3000 VMs and applies 200 and 1000', () => {
    const plan = parseArgs([]);
    expect(plan.sizes).toEqual([10, 100, 1000, 3000]);
    expect(plan.applyVms).toEqual([200, 1000]);
  });

  it('GIVEN no option THEN the docker benchmark lists 10 and 1000 containers and times 10 docker runs; --docker-vms and --docker-runs replace them', () => {
    expect(parseArgs([])).toMatchObject({ dockerVms: [10, 1000], dockerRuns: 10 });
    expect(parseArgs(['--only', 'docker', '--docker-vms', '300,10', '--docker-runs', '5'])).toMatchObject({
      only: new Set(['docker']),
      dockerVms: [10, 300],
      dockerRuns: 5,
    });
    expect(() => parseArgs(['--docker-vms', '0'])).toThrow(/--docker-vms "0": expected positive whole numbers/);
  });

  it('GIVEN --sizes, --apply-vms, --repeats, --rounds and --startup-runs THEN they replace the defaults, counts ascending and once each', () => {
    const plan = parseArgs(['--sizes', '3000,1000,1000', '--apply-vms', '200', '--repeats', '1', '--rounds', '2', '--startup-runs', '20']);
    expect(plan).toMatchObject({ sizes: [1000, 3000], applyVms: [200], repeats: 1, applyRounds: 2, startupRuns: 20, quick: false });
    expect(parseArgs([]).goalRepeats).toBe(9);
    expect(parseArgs(['--goal-repeats', '5']).goalRepeats).toBe(5);
  });

  it.each([
    ['--sizes', '10,x'],
    ['--apply-vms', '0'],
    ['--repeats', ''],
  ])('GIVEN %s "%s" THEN it names the option and what it takes', (flag, value) => {
    expect(() => parseArgs([flag, value])).toThrow(`${flag} "${value}": expected positive whole numbers separated by commas, e.g. ${flag} 10,1000`);
  });
});
