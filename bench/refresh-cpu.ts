/**
 * Row 1's A/B harness: where a `terraform plan` of N applied container VMs spends its CPU, per build
 * of the provider. One simulator holds the applied stack; each round plans it once through every
 * build given (dev_overrides on that build's bundle), in rotated order, and records per plan:
 *  - the CPU of every provider process Terraform started (`process.cpuUsage()` at its exit, through
 *    a preload script), and their peak RSS;
 *  - Terraform's own CPU (the children's rusage of this process, less the providers');
 *  - the simulator's CPU (`/proc/<pid>/stat`), since it serves the plan's reads on the same cores;
 *  - the SOAP round trips by method, counted at the simulator; and the wall time.
 * CPU figures move less than wall time on a shared machine.
 *
 *   npx tsx bench/refresh-cpu.ts --n 1000 --rounds 4 base=/tmp/provider-before new=.cache/provider [--stub]
 *
 * `--node-options '<flags>'` adds Node flags to the providers' command line (e.g. `--cpu-prof --cpu-prof-dir=<dir>`).
 * `--trace <file>` writes each plan's TF_LOG=trace (provider debug lines included) to <file>.<build>.<k>.
 * Each build is a directory holding boot.js, `name=<dir>::<node flags>` for flags of that build alone (scripts/build-provider.sh <dir> makes one),
 * `name=<dir>::<node flags>::<node binary>` to run it on another Node than the one on PATH.
 * Each build keeps its code caches in a runtime directory of its own, written by one unrecorded plan
 * before the rounds (a cache written under other flags is rejected by V8).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CLOCK_TICK_MS, endedChildrenCpuMs, median, progress, round } from './figures';
import { STUB_SOURCE, startBenchRegistry, startBenchSimulator, stubProviderBinary, stubWorkspace, vicWorkspace } from './vic-stack';
import { requireTerraform } from '../test/provider/terraform-cli';
import { DEFER_EXTRA_CA_CERTS } from '../src/cli/provider-install';
import { DEFERRED_EXTRA_CA_CERTS } from '../src/extra-ca-certs';

interface Build {
  readonly name: string;
  readonly dir: string;
  /** Node flags of this build's launcher only (`name=dir::flags`). */
  readonly flags: string;
  /** The Node that runs it (`name=dir::flags::node`): `node` from PATH, as the launchers do, by default. */
  readonly node: string;
}

interface PlanFigures {
  readonly build: string;
  readonly wall_ms: number;
  readonly provider_cpu_ms: number;
  readonly provider_starts: number;
  /** Each provider process's CPU, in the order they exited: the validate-only starts, then the plan's. */
  readonly provider_cpu_by_start_ms: readonly number[];
  readonly provider_peak_rss_mib: number;
  /** CPU of the main thread and of the others, by thread name, over the plan's provider processes (10 ms ticks). */
  readonly provider_threads_ms: Record<string, number>;
  readonly terraform_cpu_ms: number;
  readonly vcsim_cpu_ms: number;
  readonly round_trips: number;
  readonly by_method: Record<string, number>;
}

function processTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function parseArgs(argv: readonly string[]): { n: number; rounds: number; stub: boolean; trace?: string; nodeOptions: string; builds: Build[] } {
  let trace: string | undefined;
  let nodeOptions = '';
  let n = 1000;
  let rounds = 3;
  let stub = false;
  const builds: Build[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--n') n = Number(argv[++i]);
    else if (a === '--rounds') rounds = Number(argv[++i]);
    else if (a === '--stub') stub = true;
    else if (a === '--trace') trace = resolve(argv[++i]);
    else if (a === '--node-options') nodeOptions = argv[++i];
    else if (/^[\w-]+=/.test(a)) {
      const [where, flags = '', node = 'node'] = a.slice(a.indexOf('=') + 1).split('::');
      const [name, dir] = [a.slice(0, a.indexOf('=')), resolve(where)];
      if (!existsSync(join(dir, 'boot.js'))) throw new Error(`build "${name}": ${dir} holds no boot.js; make one with scripts/build-provider.sh ${dir}`);
      builds.push({ name, dir, flags, node: node === 'node' ? node : resolve(node) });
    } else throw new Error(`unknown argument "${a}": expected --n N, --rounds R, --stub or name=<bundle dir>`);
  }
  if (builds.length === 0) throw new Error('name at least one build: name=<directory holding boot.js>');
  return { n, rounds, stub, trace, nodeOptions, builds };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const terraform = requireTerraform();
  const sim = await startBenchSimulator();
  const registry = await startBenchRegistry();
  const vic = await vicWorkspace('refresh-cpu', sim, registry.image);
  const stub = opts.stub ? await stubWorkspace('refresh-cpu-stub', registry.image) : undefined;
  const scratch = join(vic.dir, 'builds');
  const cpuLog = join(vic.dir, 'provider-cpu.log');
  const preload = join(vic.dir, 'cpu-at-exit.js');
  writeFileSync(
    preload,
    // The main thread apart from the others, by thread name (V8's GC and compiler threads, libuv's pool), which count in the process's CPU too.
    `process.on('exit', () => { const fs = require('fs'); const u = process.cpuUsage(); const r = process.resourceUsage(); const t = {};` +
      ` for (const id of fs.readdirSync('/proc/self/task')) { try { const s = fs.readFileSync('/proc/self/task/' + id + '/stat', 'utf8'); const name = id === String(process.pid) ? 'main' : fs.readFileSync('/proc/self/task/' + id + '/comm', 'utf8').trim();` +
      ` const f = s.slice(s.lastIndexOf(')') + 2).split(' '); t[name] = (t[name] || 0) + (Number(f[11]) + Number(f[12])) * 10; } catch {} }` +
      ` fs.appendFileSync(${JSON.stringify(cpuLog)}, process.pid + ' ' + (u.user + u.system) / 1000 + ' ' + r.maxRSS / 1024 + ' ' + JSON.stringify(t) + '\\n'); });\n`,
  );
  try {
    const vars = ['-var', `n=${opts.n}`];
    progress(`applying ${opts.n} container VMs`);
    await vic.terraform(['apply', '-auto-approve', '-input=false', ...vars]);
    if (stub) await stub.terraform(['apply', '-auto-approve', '-input=false', ...vars]);
    const configs = opts.builds.map((b) => {
      const bin = join(scratch, b.name);
      mkdirSync(bin, { recursive: true });
      // A build that knows VIC_EXTRA_CA_CERTS runs with its launchers' deferral of NODE_EXTRA_CA_CERTS, as installed.
      const defer = readFileSync(join(b.dir, 'main.js'), 'utf8').includes(DEFERRED_EXTRA_CA_CERTS) ? `${DEFER_EXTRA_CA_CERTS}\n` : '';
      // Each build keeps its V8 code caches (and handshake certificate) in a runtime directory of its
      // own: V8 rejects a cache written under other flags, so builds that share one bundle but not
      // their flags would otherwise compile from source at every start, each rewriting the other's.
      const runtime = join(scratch, `${b.name}.runtime`);
      mkdirSync(runtime, { recursive: true, mode: 0o700 });
      writeFileSync(
        join(bin, 'terraform-provider-vic'),
        `#!/bin/sh\n${defer}export XDG_RUNTIME_DIR=${JSON.stringify(runtime)}\nexec ${JSON.stringify(b.node)} ${opts.nodeOptions} ${b.flags} ${JSON.stringify(join(b.dir, 'boot.js'))} "$@"\n`,
        {
          mode: 0o755,
        },
      );
      const rc = join(scratch, `${b.name}.tfrc`);
      writeFileSync(rc, `provider_installation {\n  dev_overrides {\n    "registry.terraform.io/vic-iac/vic" = "${bin}"\n  }\n  direct {}\n}\n`);
      return { build: b, rc };
    });
    const env = {
      ...process.env,
      TF_IN_AUTOMATION: '1',
      CHECKPOINT_DISABLE: '1',
      VSPHERE_SERVER: sim.url,
      VSPHERE_USER: sim.username,
      VSPHERE_PASSWORD: sim.password,
      VSPHERE_THUMBPRINT: sim.thumbprint,
      TF_VAR_image: registry.image,
    };
    const plan = ['plan', '-input=false', '-lock=false', '-detailed-exitcode', '-no-color', ...vars];
    let traced = 0;
    const runPlan = async (rc: string, build: string): Promise<PlanFigures> => {
      rmSync(cpuLog, { force: true });
      await sim.control.resetStats();
      const simBefore = processTicks(sim.pid);
      const childrenBefore = endedChildrenCpuMs();
      const started = process.hrtime.bigint();
      const code = await new Promise<number>((done, fail) => {
        const child = spawn(terraform, plan, {
          cwd: vic.dir,
          env: {
            ...env,
            TF_CLI_CONFIG_FILE: rc,
            NODE_OPTIONS: `--require ${preload}`,
            ...(opts.trace ? { TF_LOG: 'trace', TF_LOG_PATH: `${opts.trace}.${build}.${++traced}` } : {}),
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        child.stderr.on('data', (b: Buffer) => (err += b.toString()));
        child.once('error', fail);
        child.once('close', (c) => (c === 0 ? done(0) : fail(new Error(`plan with ${build} exited ${c}: ${err.slice(-2000)}`))));
      });
      const wall = Number(process.hrtime.bigint() - started) / 1e6;
      const stats = await sim.control.stats();
      const lines = existsSync(cpuLog) ? readFileSync(cpuLog, 'utf8').trim().split('\n').filter(Boolean) : [];
      const providerCpu = lines.reduce((s, l) => s + Number(l.split(' ')[1]), 0);
      const rss = Math.max(0, ...lines.map((l) => Number(l.split(' ')[2])));
      const threads: Record<string, number> = {};
      for (const l of lines)
        for (const [k, v] of Object.entries(JSON.parse(l.split(' ').slice(3).join(' ') || '{}') as Record<string, number>)) threads[k] = (threads[k] ?? 0) + v;
      return {
        build,
        wall_ms: round(wall),
        provider_cpu_ms: round(providerCpu),
        provider_starts: lines.length,
        provider_cpu_by_start_ms: lines.map((l) => round(Number(l.split(' ')[1]))),
        provider_peak_rss_mib: round(rss),
        provider_threads_ms: threads,
        terraform_cpu_ms: round(endedChildrenCpuMs() - childrenBefore - providerCpu),
        vcsim_cpu_ms: (processTicks(sim.pid) - simBefore) * CLOCK_TICK_MS,
        round_trips: code === 0 ? stats.total : -1,
        by_method: stats.calls,
      };
    };
    const runs: PlanFigures[] = [];
    const sides: Array<() => Promise<PlanFigures>> = configs.map((c) => () => runPlan(c.rc, c.build.name));
    if (stub) {
      // The stub runs through a dev_overrides wrapper that appends the CPU of each start (the shell's
      // `times`, not in a pipeline, whose subshell has no children) to a log: Terraform's CPU and the stub's apart, as for vic's builds.
      const stubBin = join(scratch, 'stub');
      const stubCpuLog = join(scratch, 'stub-cpu.log');
      const real = stubProviderBinary();
      mkdirSync(stubBin, { recursive: true });
      writeFileSync(
        join(stubBin, 'terraform-provider-stub'),
        `#!/bin/sh\nVIC_STUB_SCHEMA=${JSON.stringify(join(dirname(real), 'schema.json'))} ${JSON.stringify(real)} "$@"\nrc=$?\ntimes >> ${JSON.stringify(stubCpuLog)}\nexit $rc\n`,
        { mode: 0o755 },
      );
      const stubRc = join(scratch, 'stub.tfrc');
      writeFileSync(stubRc, `provider_installation {\n  dev_overrides {\n    "registry.terraform.io/${STUB_SOURCE}" = "${stubBin}"\n  }\n  direct {}\n}\n`);
      sides.push(async () => {
        rmSync(stubCpuLog, { force: true });
        const started = process.hrtime.bigint();
        const childrenBefore = endedChildrenCpuMs();
        await stub.terraform(['plan', '-input=false', '-lock=false', '-detailed-exitcode', ...vars], { env: { TF_CLI_CONFIG_FILE: stubRc } });
        const wall = Number(process.hrtime.bigint() - started) / 1e6;
        const cpu = endedChildrenCpuMs() - childrenBefore;
        // `times` prints two lines (the shell's, then its children's: the stub's), each "0m1.230000s 0m0.120000s", user then system
        const lines = existsSync(stubCpuLog) ? readFileSync(stubCpuLog, 'utf8').trim().split('\n').filter(Boolean) : [];
        const starts = lines.filter((_, i) => i % 2 === 1);
        const seconds = (t: string) => {
          const m = /^(\d+)m([\d.]+)s$/.exec(t);
          if (!m) throw new Error(`stub CPU log: cannot read "${t}"`);
          return Number(m[1]) * 60 + Number(m[2]);
        };
        const stubCpu = starts.reduce(
          (sum, l) =>
            sum +
            l
              .trim()
              .split(/\s+/)
              .reduce((t, f) => t + seconds(f) * 1000, 0),
          0,
        );
        return {
          build: 'stub',
          wall_ms: round(wall),
          provider_cpu_ms: round(stubCpu),
          provider_starts: starts.length,
          provider_cpu_by_start_ms: starts.map((l) =>
            round(
              l
                .trim()
                .split(/\s+/)
                .reduce((t, f) => t + seconds(f) * 1000, 0),
            ),
          ),
          provider_peak_rss_mib: 0,
          provider_threads_ms: {},
          terraform_cpu_ms: round(cpu - stubCpu),
          vcsim_cpu_ms: 0,
          round_trips: 0,
          by_method: {},
        };
      });
    }
    // One plan per build before the rounds, not recorded: it writes the build's code caches, which
    // an installed provider has from its first command on.
    for (const c of configs) {
      progress(`warming ${c.build.name} up (code cache)`);
      await runPlan(c.rc, c.build.name);
    }
    for (let r = 0; r < opts.rounds; r++) {
      for (let k = 0; k < sides.length; k++) {
        const fig = await sides[(k + r) % sides.length]();
        runs.push(fig);
        progress(
          `round ${r + 1} ${fig.build}: wall ${fig.wall_ms} ms, provider CPU ${fig.provider_cpu_ms} ms (${fig.provider_starts} starts: ${fig.provider_cpu_by_start_ms.join(' + ')}, ${fig.provider_peak_rss_mib} MiB), terraform ${fig.terraform_cpu_ms} ms, vcsim ${fig.vcsim_cpu_ms} ms, ${fig.round_trips} round trips`,
        );
      }
    }
    const names = [...opts.builds.map((b) => b.name), ...(stub ? ['stub'] : [])];
    const summary = names.map((name) => {
      const mine = runs.filter((r) => r.build === name);
      const span = (f: (p: PlanFigures) => number) => {
        const v = mine.map(f);
        return `${Math.min(...v)}–${Math.max(...v)} (median ${round(median(v))})`;
      };
      return {
        build: name,
        wall_ms: span((p) => p.wall_ms),
        provider_cpu_ms: span((p) => p.provider_cpu_ms),
        terraform_cpu_ms: span((p) => p.terraform_cpu_ms),
        vcsim_cpu_ms: span((p) => p.vcsim_cpu_ms),
        round_trips: span((p) => p.round_trips),
        by_method: mine[0].by_method,
      };
    });
    process.stdout.write(`${JSON.stringify({ n: opts.n, load: readFileSync('/proc/loadavg', 'utf8').trim(), runs, summary }, null, 2)}\n`);
  } finally {
    vic.remove();
    stub?.remove();
    await registry.stop();
    await sim.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
