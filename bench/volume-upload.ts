/**
 * Bytes and time of a volume create, against the launcher's simulator: the engine reaches the
 * simulator through a local TCP relay that counts every byte the client sends (SOAP and datastore
 * PUTs alike, TLS included), so the figure is what crossed the wire, whichever route the create took.
 *
 *   npx tsx bench/volume-upload.ts [size_mb ...]     (default: 1024 10240; RUNS=n repeats each)
 */
import { connectEngine, type ApplyOptions, type Engine } from '../src/engine';
import type { Attrs } from '../src/resources';
import { startSimulator } from '../src/sim/simulator';
import { countingRelay } from '../test/helpers/counting-relay';

const MiB = 1024 * 1024;

async function applied(engine: Engine, plan: Awaited<ReturnType<Engine['plan']>>, opts: ApplyOptions = {}): Promise<Attrs | null> {
  if (plan.problems.some((p) => p.severity === 'error')) throw new Error(JSON.stringify(plan.problems));
  return engine.apply(plan, opts);
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number);
  const runs = Number(process.env.RUNS ?? 1);
  const sim = await startSimulator();
  const relay = await countingRelay(sim.url);
  try {
    const engine = await connectEngine({ url: relay.url, username: sim.username, password: sim.password, insecure: false, thumbprint: sim.thumbprint });
    const vch = (await applied(
      engine,
      await engine.plan('virtual_container_host', null, {
        name: 'vch-bench',
        compute: '/DC0/host/DC0_C0',
        datastore: 'LocalDS_0',
        bridge_network: 'VM Network',
      }),
    ))!;
    for (let run = 0; run < runs; run++) {
      for (const size of sizes.length > 0 ? sizes : [1024, 10240]) {
        const before = relay.sent();
        const started = process.hrtime.bigint();
        const cpu = process.cpuUsage();
        const routes: string[] = [];
        // When each phase began, in seconds from the start of the apply: where the time goes.
        const phases: Record<string, number> = {};
        const vol = (await applied(engine, await engine.plan('volume', null, { vch_id: vch.id, name: `v${size}-${run}`, size_mb: size }), {
          onProgress: (e) => {
            phases[e.phase] ??= +(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2);
            if (e.phase === 'upload' && e.message && !routes.includes(e.message)) routes.push(e.message);
          },
        }))!;
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        // This process's CPU (TLS, streams, the sparse scan); mke2fs and the simulator are not in it.
        const used = process.cpuUsage(cpu);
        const cpuSeconds = (used.user + used.system) / 1e6;
        const bytes = relay.sent() - before;
        console.log(
          JSON.stringify({
            size_mb: size,
            sent_bytes: bytes,
            sent_mib: +(bytes / MiB).toFixed(2),
            seconds: +seconds.toFixed(2),
            cpu_seconds: +cpuSeconds.toFixed(2),
            phases,
            route: routes,
          }),
        );
        await applied(engine, await engine.plan('volume', vol, null));
      }
    }
    await engine.close();
  } finally {
    await relay.close();
    await sim.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
