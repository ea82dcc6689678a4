/**
 * `npm run bench`: every benchmark, each as a ratio against a baseline measured in the same run.
 *
 *   npm run bench                      # N = 10, 100, 1000, 3000; 200 and 1000 VMs; 50 starts; images; about an hour
 *   npm run bench -- --quick           # small N, a smoke run (the jest test runs this)
 *   npm run bench -- --sizes 10,1000 --apply-vms 200 --repeats 1 --goal-repeats 5 --rounds 1   # the goal rows, a few minutes
 *   npm run bench -- --only refresh,startup --out /tmp/figures
 *   npm run bench -- --summary         # the table again from the JSON files, nothing measured
 *
 * Writes <out>/{refresh,memory,apply,upload,startup,docker}.json (each with the machine and the date) and
 * <out>/summary.md; a run into bench/results also rewrites the README's benchmark table. With
 * --only, the summary takes the other figures from the JSON files an earlier run left in <out>.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { applyBench, type ApplyResult } from './apply-throughput';
import { dockerBench, type DockerResult } from './docker-endpoint';
import { progress } from './figures';
import { machineInfo, type MachineInfo } from './machine';
import { startupBench, type StartupResult } from './provider-startup';
import { refreshBench, type MemoryResult, type RefreshResult } from './refresh';
import { summaryMarkdown, summaryTable, updateReadme, type BenchFigures, type BootFigure, type ImagesFigure } from './summary';
import { uploadSizeBench, type UploadResult } from './upload-size';
import { startBenchRegistry, startBenchSimulator } from './vic-stack';
import { vsphereBench, type VsphereResult } from './vsphere-peer';
import { requireTerraform } from '../test/provider/terraform-cli';

const REPO = resolve(__dirname, '..');
const DEFAULT_OUT = join(REPO, 'bench/results');
const BENCHMARKS = ['refresh', 'vsphere', 'apply', 'upload', 'startup', 'images', 'docker'] as const;
type BenchName = (typeof BENCHMARKS)[number];

export interface BenchPlan {
  readonly quick: boolean;
  readonly out: string;
  readonly only: ReadonlySet<BenchName>;
  readonly sizes: readonly number[];
  readonly repeats: number;
  /** Plans of vic and of the stub at the sizes with a goal over the stub (1000 VMs and more): enough for an interval around their ratio. */
  readonly goalRepeats: number;
  /** One apply benchmark per count, ascending; the first is `apply.json`, the others `apply-<n>.json`. */
  readonly applyVms: readonly number[];
  readonly applyRounds: number;
  readonly startupRuns: number;
  readonly planTimeoutMs: number;
  /** Container counts `docker ps -a` is timed at (round trips compared between the smallest and largest). */
  readonly dockerVms: readonly number[];
  readonly dockerRuns: number;
}

function counts(flag: string, value: string | undefined): number[] {
  const list = (value ?? '').split(',').map((v) => Number(v.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`${flag} "${value ?? ''}": expected positive whole numbers separated by commas, e.g. ${flag} 10,1000`);
  return [...new Set(list)].sort((a, b) => a - b);
}

export function parseArgs(argv: readonly string[]): BenchPlan {
  let quick = false;
  const given: {
    sizes?: number[];
    applyVms?: number[];
    repeats?: number;
    goalRepeats?: number;
    applyRounds?: number;
    startupRuns?: number;
    dockerVms?: number[];
    dockerRuns?: number;
  } = {};
  let out = DEFAULT_OUT;
  let only = new Set<BenchName>(BENCHMARKS);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--out' && argv[i + 1]) out = resolve(argv[++i]);
    else if (arg === '--summary') only = new Set();
    else if (arg === '--sizes') given.sizes = counts(arg, argv[++i]);
    else if (arg === '--apply-vms') given.applyVms = counts(arg, argv[++i]);
    else if (arg === '--repeats') given.repeats = counts(arg, argv[++i])[0];
    else if (arg === '--goal-repeats') given.goalRepeats = counts(arg, argv[++i])[0];
    else if (arg === '--rounds') given.applyRounds = counts(arg, argv[++i])[0];
    else if (arg === '--startup-runs') given.startupRuns = counts(arg, argv[++i])[0];
    else if (arg === '--docker-vms') given.dockerVms = counts(arg, argv[++i]);
    else if (arg === '--docker-runs') given.dockerRuns = counts(arg, argv[++i])[0];
    else if (arg === '--only' && argv[i + 1]) {
      const names = argv[++i].split(',').map((n) => n.trim());
      const unknown = names.filter((n) => !(BENCHMARKS as readonly string[]).includes(n));
      if (unknown.length > 0) throw new Error(`--only ${unknown.join(',')}: unknown benchmark; known: ${BENCHMARKS.join(', ')}`);
      only = new Set(names as BenchName[]);
    } else
      throw new Error(
        `unknown argument "${arg}"; use --quick, --out DIR, --only ${BENCHMARKS.join(',')}, --summary, --sizes N,N, --apply-vms N,N, --repeats N, --goal-repeats N, --rounds N, --startup-runs N, --docker-vms N,N, --docker-runs N`,
      );
  }
  const defaults = quick
    ? { sizes: [2, 4], repeats: 1, goalRepeats: 1, applyVms: [4], applyRounds: 1, startupRuns: 5, planTimeoutMs: 120_000, dockerVms: [2, 8], dockerRuns: 3 }
    : // A plan that has not finished in 10 minutes fails the goal by far; waiting longer measures nothing more.
      {
        sizes: [10, 100, 1000, 3000],
        repeats: 3,
        // 9 pairs: the 2nd and 8th of their ratios hold the median with 96 % confidence.
        goalRepeats: 9,
        applyVms: [200, 1000],
        applyRounds: 3,
        startupRuns: 50,
        planTimeoutMs: 600_000,
        dockerVms: [10, 1000],
        dockerRuns: 10,
      };
  return { quick, out, only, ...defaults, ...given };
}

function writeResult(out: string, name: string, result: object, machine: MachineInfo): void {
  writeFileSync(join(out, `${name}.json`), `${JSON.stringify({ ...result, machine }, null, 2)}\n`);
}

function readFigure<T>(path: string): T | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
}

/** Figures of benchmarks left out by --only, from an earlier run into the same directory. */
function earlierFigures(plan: BenchPlan): Partial<BenchFigures> {
  const earlier = <T>(name: string) => readFigure<T>(join(plan.out, `${name}.json`));
  return {
    ...(plan.only.has('refresh') ? {} : { refresh: earlier<RefreshResult>('refresh'), memory: earlier<MemoryResult>('memory') }),
    ...(plan.only.has('vsphere') ? {} : { vsphere: earlier<VsphereResult>('vsphere') }),
    ...(plan.only.has('apply') ? {} : { apply: earlier<ApplyResult>('apply'), applyMore: earlierLargerApplies(plan.out) }),
    ...(plan.only.has('startup') ? {} : { startup: earlier<StartupResult>('startup') }),
    ...(plan.only.has('upload') ? {} : { upload: earlier<UploadResult>('upload') }),
    ...(plan.only.has('docker') ? {} : { docker: earlier<DockerResult>('docker') }),
  };
}

/** `apply-<n>.json` of an earlier run, ascending n. */
function earlierLargerApplies(out: string): ApplyResult[] {
  if (!existsSync(out)) return [];
  return readdirSync(out)
    .map((f) => /^apply-(\d+)\.json$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((m) => readFigure<ApplyResult>(join(out, m[0])))
    .filter((a): a is ApplyResult => a !== undefined);
}

export async function runBenchmarks(plan: BenchPlan): Promise<BenchFigures> {
  mkdirSync(plan.out, { recursive: true });
  const earlier = earlierFigures(plan);
  // --summary measures nothing: the table keeps the machine and date of the run it shows.
  const measuredBefore = (earlier.refresh as { machine?: MachineInfo } | undefined)?.machine;
  const machine = plan.only.size === 0 && measuredBefore ? measuredBefore : machineInfo(requireTerraform());
  let figures: BenchFigures = { machine, quick: plan.quick, ...earlier };

  if (plan.only.has('refresh') || plan.only.has('apply') || plan.only.has('upload') || plan.only.has('docker')) {
    const registry = await startBenchRegistry();
    try {
      if (plan.only.has('refresh')) {
        const sim = await startBenchSimulator();
        try {
          const { refresh, memory } = await refreshBench({
            sim,
            image: registry.image,
            sizes: plan.sizes,
            repeats: plan.repeats,
            goalRepeats: plan.goalRepeats,
            planTimeoutMs: plan.planTimeoutMs,
          });
          writeResult(plan.out, 'refresh', refresh, machine);
          writeResult(plan.out, 'memory', memory, machine);
          figures = { ...figures, refresh, memory };
        } finally {
          await sim.stop();
        }
      }
      if (plan.only.has('apply')) {
        const results: ApplyResult[] = [];
        for (const vms of plan.applyVms) {
          const apply = await applyBench({ image: registry.image, vms, rounds: plan.applyRounds, startSimulator: startBenchSimulator });
          writeResult(plan.out, results.length === 0 ? 'apply' : `apply-${vms}`, apply, machine);
          results.push(apply);
        }
        // Larger counts of an earlier run would otherwise sit in the table next to this run's figures.
        for (const stale of earlierLargerApplies(plan.out).filter((a) => !plan.applyVms.slice(1).includes(a.vms)))
          rmSync(join(plan.out, `apply-${stale.vms}.json`));
        figures = { ...figures, apply: results[0], applyMore: results.slice(1) };
      }
      if (plan.only.has('upload')) {
        const sim = await startBenchSimulator();
        try {
          const upload = await uploadSizeBench({ sim, registry: registry.registry });
          writeResult(plan.out, 'upload', upload, machine);
          figures = { ...figures, upload };
        } finally {
          await sim.stop();
        }
      }
      if (plan.only.has('docker')) {
        const sim = await startBenchSimulator();
        try {
          const docker = await dockerBench({
            sim,
            image: registry.image,
            registryHost: registry.registry.host,
            sizes: plan.dockerVms,
            psRepeats: plan.quick ? 3 : 5,
            runs: plan.dockerRuns,
          });
          writeResult(plan.out, 'docker', docker, machine);
          figures = { ...figures, docker };
        } finally {
          await sim.stop();
        }
      }
    } finally {
      await registry.stop();
    }
  }
  if (plan.only.has('vsphere')) {
    const sim = await startBenchSimulator();
    try {
      const vsphere = await vsphereBench({ sim, sizes: plan.sizes, repeats: plan.repeats, planTimeoutMs: plan.planTimeoutMs });
      writeResult(plan.out, 'vsphere', vsphere, machine);
      figures = { ...figures, vsphere };
    } finally {
      await sim.stop();
    }
  }
  if (plan.only.has('startup')) {
    const startup = await startupBench(plan.startupRuns);
    writeResult(plan.out, 'startup', startup, machine);
    figures = { ...figures, startup };
  }

  // The image benchmark belongs to the image pipeline (bench/images.ts, which writes its own
  // bench/results/images.json); a quick run reuses its last figure instead of a minutes-long run.
  const imagesJson = join(REPO, 'bench/results/images.json');
  if (plan.only.has('images') && !plan.quick) {
    progress('images: running bench/images.ts');
    execFileSync(process.execPath, [join(REPO, 'node_modules/tsx/dist/cli.mjs'), join(REPO, 'bench/images.ts')], { cwd: REPO, stdio: 'inherit' });
  }
  const images = readFigure<ImagesFigure>(imagesJson);
  if (images)
    figures = {
      ...figures,
      images: {
        figure: images,
        source: plan.quick || !plan.only.has('images') ? `bench/images.ts, ${images.measured_at?.slice(0, 10) ?? 'earlier'}` : 'this run',
      },
    };
  const boot = readFigure<BootFigure>(join(REPO, 'bench/results/boot.json'));
  if (boot) figures = { ...figures, boot: { figure: boot, source: `boot test, ${boot.measured_at?.slice(0, 10) ?? 'earlier'}` } };

  writeFileSync(join(plan.out, 'summary.md'), summaryMarkdown(figures));
  return figures;
}

async function main(): Promise<void> {
  const plan = parseArgs(process.argv.slice(2));
  const figures = await runBenchmarks(plan);
  const table = summaryTable(figures);
  process.stdout.write(`${table}\n`);
  if (!plan.quick && plan.out === DEFAULT_OUT) {
    const readme = join(REPO, 'README.md');
    if (updateReadme(readme, table)) progress('README.md benchmark table updated');
    else progress(`README.md has no "<!-- bench:start -->" / "<!-- bench:end -->" markers yet; the table is in ${join(plan.out, 'summary.md')}`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
