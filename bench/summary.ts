/**
 * The latest figures as one markdown table (bench/results/summary.md), and the same table in the
 * README between <!-- bench:start --> and <!-- bench:end -->.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ratio, round } from './figures';
import { applyLimitOverStub, type ApplyResult } from './apply-throughput';
import type { DockerResult } from './docker-endpoint';
import type { MachineInfo } from './machine';
import { STARTUP_GOAL_LIMIT, type StartupResult } from './provider-startup';
import { RSS_GOAL_MIB, STUB_GOAL_FROM_N, STUB_GOAL_LIMIT, type MemoryResult, type RefreshPoint, type RefreshResult } from './refresh';
import type { UploadResult } from './upload-size';
import type { VsphereResult } from './vsphere-peer';

export const README_START = '<!-- bench:start -->';
export const README_END = '<!-- bench:end -->';

/** bench/results/images.json as bench/images.ts writes it (the fields we show). */
export interface ImagesFigure {
  readonly ratio_pipeline_over_raw: { readonly total: number };
  readonly pipeline_s: { readonly total: number };
  readonly raw_tools_s: { readonly total: number };
  readonly image?: { readonly content_mib?: number };
  readonly measured_at?: string;
}

/** bench/results/boot.json (the fields we show). */
export interface BootFigure {
  readonly boot_to_entrypoint_ms: number;
  readonly hypervisor?: string;
  readonly measured_at?: string;
}

export interface BenchFigures {
  readonly machine: MachineInfo;
  readonly quick: boolean;
  readonly refresh?: RefreshResult;
  readonly memory?: MemoryResult;
  readonly vsphere?: VsphereResult;
  /** The smallest apply count; `applyMore` the larger ones of the same run (e.g. 1000 VMs). */
  readonly apply?: ApplyResult;
  readonly applyMore?: readonly ApplyResult[];
  readonly startup?: StartupResult;
  readonly upload?: UploadResult;
  readonly docker?: DockerResult;
  /** Where the figure came from: this run, or an earlier file (then its date). */
  readonly images?: { readonly figure: ImagesFigure; readonly source: string };
  readonly boot?: { readonly figure: BootFigure; readonly source: string };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const met = (ok: boolean) => (ok ? 'yes' : '**no**');

// Figures measured before the stub provider existed (an earlier JSON read back by --only or
// --summary) have no stub fields: their rows are left out rather than shown as NaN.
const hasStub = (p: RefreshPoint) => typeof (p as Partial<RefreshPoint>).ratio_vic_over_stub === 'number';
// Figures from before the paired rounds (an earlier refresh.json) are judged on the ratio of medians, as they were then.
const hasPaired = (p: RefreshPoint) => typeof (p as Partial<RefreshPoint>).paired_over_stub === 'object';
function stubVerdict(p: RefreshPoint): string {
  if (!hasPaired(p) || !p.goal_over_stub) return met(!p.vic_timed_out && p.ratio_vic_over_stub <= STUB_GOAL_LIMIT);
  return p.goal_over_stub.verdict === 'met' ? 'yes' : p.goal_over_stub.verdict === 'not met' ? '**no**' : '**within the noise**';
}
const hasStubApply = (a: ApplyResult) => typeof (a as Partial<ApplyResult>).ratio_terraform_over_stub === 'number';
const STUB = 'zero-work Go provider, same schema';

export function summaryTable(f: BenchFigures): string {
  const rows: string[][] = [];
  if (f.refresh) {
    const goals = f.refresh.goals;
    const last = f.refresh.points[f.refresh.points.length - 1];
    for (const p of f.refresh.points) {
      const isLast = p === last;
      rows.push([
        `Refresh: \`terraform plan\`, ${p.n} container VMs`,
        p.vic_timed_out
          ? `stopped after ${s(p.plan_ms.vic_median)}, ${p.round_trips} SOAP round trips by then`
          : `${s(p.plan_ms.vic_median)}, ${p.round_trips} SOAP round trips`,
        `${s(p.plan_ms.floor_median)} (${p.n} \`terraform_data\`)`,
        `${p.vic_timed_out ? '> ' : ''}${p.ratio_vic_over_floor}×`,
        isLast ? `≤ 1.5×` : '',
        isLast ? met(goals.time_ratio_at_largest_n.met) : '',
      ]);
    }
    for (const p of f.refresh.points.filter(hasStub)) {
      const paired = hasPaired(p) ? p.paired_over_stub : undefined;
      rows.push([
        `Refresh vs ${STUB}: \`terraform plan\`, ${p.n} container VMs`,
        `${p.vic_timed_out ? 'stopped after ' : ''}${s(p.plan_ms.vic_median)}`,
        `${s(p.plan_ms.stub_median)} (stub provider; itself ${p.ratio_stub_over_floor}× \`terraform_data\`)`,
        `${p.vic_timed_out ? '> ' : ''}${p.ratio_vic_over_stub}×` +
          (paired && paired.ratios.length > 1
            ? ` (paired by round: ${paired.median}×, ${paired.low}–${paired.high}× at ${Math.round(paired.confidence * 100)} % over ${paired.ratios.length} pairs; CPU ${p.cpu_ratio_vic_over_stub}×)`
            : ''),
        p.n >= STUB_GOAL_FROM_N ? `≤ ${STUB_GOAL_LIMIT}×` : '',
        p.n >= STUB_GOAL_FROM_N ? stubVerdict(p) : '',
      ]);
    }
    const c = goals.round_trips_constant;
    rows.push([
      `Refresh: round trips, N = ${c.smallest_n} → ${c.largest_n}`,
      `${c.trips_smallest} → ${last.vic_timed_out ? '> ' : ''}${c.trips_largest}`,
      'constant in N',
      `${(c.trips_largest / Math.max(1, c.trips_smallest)).toFixed(1)}×`,
      'constant',
      met(c.met),
    ]);
  }
  if (f.vsphere) {
    for (const p of f.vsphere.points) {
      const vic = f.refresh?.points.find((r) => r.n === p.n);
      const versus =
        vic && !vic.vic_timed_out && !p.vsphere_timed_out
          ? ` (vic-iac's plan takes ${(vic.plan_ms.vic_median / p.plan_ms.vsphere_median).toFixed(2)}× this)`
          : '';
      rows.push([
        `Refresh, vSphere provider v${f.vsphere.provider_version}: \`terraform plan\`, ${p.n} \`vsphere_virtual_machine\``,
        `${p.vsphere_timed_out ? 'stopped after ' : ''}${s(p.plan_ms.vsphere_median)}, ${p.round_trips} SOAP round trips${versus}`,
        `${s(p.plan_ms.floor_median)} (${p.n} \`terraform_data\`)`,
        `${p.vsphere_timed_out ? '> ' : ''}${p.ratio_vsphere_over_floor}×`,
        '',
        '',
      ]);
    }
  }
  if (f.memory)
    rows.push([
      `Memory: provider peak RSS, plan of ${f.memory.n} VMs`,
      f.memory.provider_peak_rss_mib === null
        ? 'not sampled'
        : `${f.memory.plan_timed_out ? '≥ ' : ''}${f.memory.provider_peak_rss_mib} MiB${f.memory.plan_timed_out ? ' (plan stopped at its time budget)' : ''}`,
      '',
      '',
      `≤ ${RSS_GOAL_MIB} MiB`,
      met(!f.memory.plan_timed_out && f.memory.provider_peak_rss_mib !== null && f.memory.provider_peak_rss_mib <= RSS_GOAL_MIB),
    ]);
  for (const a of [...(f.apply ? [f.apply] : []), ...(f.applyMore ?? [])]) {
    rows.push([
      `Apply: ${a.vms} container VMs, ${a.concurrency} in flight${a.rounds && a.rounds.length > 1 ? `, median of ${a.rounds.length} rounds` : ''}`,
      `${s(a.wall_ms.terraform_apply)} (${a.vms_per_s.terraform_apply} VM/s), ${a.round_trips.per_vm_terraform} round trips/VM`,
      `${s(a.wall_ms.raw_soap)} raw SOAP (${a.vms_per_s.raw_soap} VM/s), ${a.round_trips.per_vm_raw} round trips/VM; Terraform alone (\`terraform_data\`) ${s(a.wall_ms.terraform_data_floor)}`,
      `${a.ratio_terraform_over_raw}×`,
      '≤ 1.3×',
      met(a.goal.met),
    ]);
    if (hasStubApply(a)) {
      rows.push([
        `Apply vs ${STUB}: ${a.vms} container VMs, ${a.concurrency} in flight`,
        s(a.wall_ms.terraform_apply),
        `${s(a.wall_ms.stub_apply)} (stub provider: Terraform + gRPC, no vSphere work)`,
        `${a.ratio_terraform_over_stub}×`,
        `≤ ${applyLimitOverStub(a.vms)}×`,
        met(a.ratio_terraform_over_stub <= applyLimitOverStub(a.vms)),
      ]);
    }
    // Results written before the floor with the work was measured lack it.
    if (a.wall_ms.stub_with_work !== undefined) {
      rows.push([
        `Apply: the floor of a provider that does the work, ${a.vms} VMs (${STUB}, each create waiting for the raw script's work of its VM)`,
        `${s(a.wall_ms.terraform_apply)} (vic: ${a.ratio_terraform_over_stub_with_work}× that floor)`,
        `${s(a.wall_ms.stub_with_work)}, ${a.round_trips.per_vm_stub_with_work} round trips/VM: ${a.ratio_stub_with_work_over_stub}× the stub alone`,
        `${a.ratio_terraform_over_stub_with_work}×`,
        '—',
        '—',
      ]);
    }
    rows.push([
      `Apply: SOAP round trips per created VM, ${a.vms} VMs`,
      `${a.round_trips.per_vm_terraform}`,
      `${a.round_trips.per_vm_raw} (raw SOAP script)`,
      `${ratio(a.round_trips.per_vm_terraform, a.round_trips.per_vm_raw)}×`,
      '≤ 1.0×',
      met(a.round_trips.per_vm_terraform <= a.round_trips.per_vm_raw),
    ]);
  }
  if (f.upload) {
    const u = f.upload;
    const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(2)} MiB`;
    rows.push([
      `Image upload: bytes sent to the datastore, busybox-sized image (${mib(u.content_bytes)} of files)`,
      `${mib(u.uploaded_bytes.total)} (${u.route ? (u.route.kind === 'sparse' ? 'a sparse VMDK the server converted; ' : 'the flat extent; ') : ''}filesystem ${mib(u.filesystem_bytes)})`,
      `${mib(u.used_bytes)} used by the ext4 filesystem (metadata and journal included)`,
      `${u.ratio_uploaded_over_used}×`,
      `≤ ${u.goal.ratio}× + ${mib(u.goal.fixed_allowance_bytes)}`,
      met(u.goal.met),
    ]);
  }
  if (f.startup) {
    const st = f.startup;
    rows.push([
      `Provider startup (exec → handshake), ${st.runs} runs`,
      `p50 ${st.provider_ms.p50} ms, p95 ${st.provider_ms.p95} ms${st.cpu_ms ? `; CPU p50 ${st.cpu_ms.provider_p50} ms` : ''}`,
      `\`node -e 0\`: p50 ${st.node_floor_ms.p50} ms, p95 ${st.node_floor_ms.p95} ms${st.cpu_ms ? `; CPU p50 ${st.cpu_ms.node_p50} ms (\`node -e 'console.log(0)'\`, ${st.cpu_ms.ratio_p50}×)` : ''}`,
      `${st.ratio_provider_over_node.p50}× / ${st.ratio_provider_over_node.p95}×`,
      `p50 ≤ ${STARTUP_GOAL_LIMIT}×`,
      met(st.ratio_provider_over_node.p50 <= STARTUP_GOAL_LIMIT),
    ]);
  }
  if (f.docker) {
    const { ps, run } = f.docker;
    for (const p of ps.points) {
      const isLast = p === ps.points[ps.points.length - 1];
      rows.push([
        `Docker endpoint: \`docker ps -a\`, ${p.n} container VMs, p50 of ${p.ps_ms.length}`,
        `${p.ps_p50} ms, ${p.round_trips} SOAP round trips`,
        `${p.baseline_p50} ms (\`node -e 0\` ${p.node_start_p50} ms + one raw property-collector read ${p.raw_read_p50} ms)`,
        `${p.ratio_ps_over_baseline}×`,
        isLast ? `≤ ${ps.goal.limit}×` : '',
        isLast ? met(ps.goal.met) : '',
      ]);
    }
    const c = ps.round_trips_constant;
    rows.push([
      `Docker endpoint: \`docker ps -a\` round trips, N = ${c.smallest_n} → ${c.largest_n}`,
      `${c.trips_smallest} → ${c.trips_largest}`,
      'constant in N',
      `${(c.trips_largest / Math.max(1, c.trips_smallest)).toFixed(1)}×`,
      'constant',
      met(c.met),
    ]);
    // Older results carry only the CLI's figure.
    const hasEndpoint = typeof run.endpoint_p50 === 'number';
    if (hasEndpoint)
      rows.push([
        `Docker endpoint: \`docker run -d\`'s requests (create + start, guests off), the endpoint alone, ${run.containers_present} containers present, p50 of ${run.runs}`,
        `${run.endpoint_p50} ms, ${run.round_trips_endpoint} SOAP round trips${typeof run.endpoint_cpu_p50 === 'number' ? `, CPU ${run.endpoint_cpu_p50} ms` : ''}`,
        `${run.raw_p50} ms raw CreateVM_Task + PowerOnVM_Task, ${run.round_trips_raw} round trips${typeof run.raw_cpu_p50 === 'number' ? `, client CPU ${run.raw_cpu_p50} ms` : ''}`,
        `${run.ratio_endpoint_over_raw}×`,
        `≤ ${run.goal.limit}×`,
        met(run.goal.met),
      ]);
    rows.push([
      `Docker endpoint: \`docker run -d\` (create + power on, guests off), ${run.containers_present} containers present, p50 of ${run.runs}`,
      `${run.docker_run_p50} ms, ${run.round_trips_docker_run} SOAP round trips`,
      hasEndpoint
        ? `${round(run.raw_p50 + run.docker_cli_floor_p50)} ms (raw CreateVM_Task + PowerOnVM_Task ${run.raw_p50} ms + the docker CLI alone, \`docker version\`, ${run.docker_cli_floor_p50} ms)`
        : `${run.raw_p50} ms raw CreateVM_Task + PowerOnVM_Task, ${run.round_trips_raw} round trips (the docker CLI alone, \`docker version\`: ${run.docker_cli_floor_p50} ms)`,
      hasEndpoint ? `${run.ratio_run_over_raw_plus_cli}×` : `${run.ratio_run_over_raw}×`,
      hasEndpoint ? '' : `≤ ${run.goal.limit}×`,
      hasEndpoint ? '' : met(run.goal.met),
    ]);
    const big = f.docker.run_at_largest_n;
    if (big)
      rows.push([
        `Docker endpoint: \`docker run -d\` with ${big.containers_present} containers present, p50 of ${big.runs}`,
        typeof big.endpoint_p50 === 'number'
          ? `${big.endpoint_p50} ms the endpoint alone, ${big.round_trips_endpoint} SOAP round trips; ${big.docker_run_p50} ms the CLI command`
          : `${big.docker_run_p50} ms, ${big.round_trips_docker_run} SOAP round trips`,
        `${big.raw_p50} ms raw CreateVM_Task + PowerOnVM_Task, ${big.round_trips_raw} round trips`,
        typeof big.endpoint_p50 === 'number' ? `${big.ratio_endpoint_over_raw}×` : `${big.ratio_run_over_raw}×`,
        '',
        '',
      ]);
  }
  if (f.images) {
    const i = f.images.figure;
    rows.push([
      `Image pipeline${i.image?.content_mib ? ` (${i.image.content_mib} MiB image)` : ''}`,
      `${i.pipeline_s.total} s`,
      `${i.raw_tools_s.total} s (skopeo + tar + mke2fs + curl); ${f.images.source}`,
      `${i.ratio_pipeline_over_raw.total}×`,
      '',
      '',
    ]);
  }
  if (f.boot)
    rows.push([
      'Boot to entrypoint',
      s(f.boot.figure.boot_to_entrypoint_ms),
      `no baseline; ${f.boot.figure.hypervisor ?? 'QEMU'}; ${f.boot.source}`,
      '',
      '',
      '',
    ]);

  const header = ['benchmark', 'vic-iac', 'baseline, same run', 'ratio', 'goal', 'met'];
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  const m = f.machine;
  return [
    line(header),
    line(header.map(() => '---')),
    ...rows.map(line),
    '',
    `Measured ${m.measured_at.slice(0, 10)} on ${m.nproc} × ${m.cpu_model}, ${m.memory_gib} GiB, load average ${m.load_average_1m} (shared machine), Node ${m.node}, Terraform ${m.terraform ?? 'unknown'}, vcsim (govmomi 0.46.3), code ${m.commit ?? 'unknown'}${f.quick ? ' — quick mode, small N: not figures to quote' : ''}. Ratios are vic-iac over the baseline; lower is better. \`npm run bench\` reproduces them.`,
  ].join('\n');
}

export function summaryMarkdown(f: BenchFigures): string {
  return `# Benchmark figures\n\n${summaryTable(f)}\n`;
}

/** Rewrites the README between the markers; `false` when the README has no markers yet. */
export function updateReadme(readmePath: string, table: string): boolean {
  const text = readFileSync(readmePath, 'utf8');
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start) return false;
  writeFileSync(readmePath, `${text.slice(0, start + README_START.length)}\n${table}\n${text.slice(end)}`);
  return true;
}
