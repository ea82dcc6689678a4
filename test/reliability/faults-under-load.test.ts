/**
 * Faults under load: a 200-VM stack applied through the engine while the simulator drops
 * connections, answers 503, fails tasks and delays calls at random (a few percent of calls each,
 * from a printed seed; VIC_FAULT_SEED=<n> repeats a run's draws). Each run is a fresh engine, as
 * every front end makes one per command, and keeps the state the previous run saved. The runs go
 * on until an apply succeeds; then, with the faults off, a plan must be empty and the pool must hold
 * exactly the state's VMs: 0 duplicates, 0 orphans, 0 lost.
 */
import { applyStack, planStack, EMPTY_STATE, type Engine, type StackResource, type StackState } from '../../src/engine';
import type { FaultRule } from '../../src/sim/control';
import type { VimClient } from '../../src/vsphere';
import { connectTestClient, connectTestEngine } from '../helpers/engine';
import { HELLO_IMAGE } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { auditPool, faultSeed } from './inventory-audit';

const VMS = 200;
const MAX_RUNS = 30;

function spec(registryHost: string): StackResource[] {
  return [
    {
      type: 'virtual_container_host',
      name: 'load',
      config: { name: 'vch-load', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' },
    },
    { type: 'image', name: 'app', config: { vch_id: '${virtual_container_host.load.id}', reference: `${registryHost}/load/app:1`, insecure_registry: true } },
    ...Array.from({ length: VMS }, (_, i) => ({
      type: 'container_vm' as const,
      name: `c${i}`,
      config: { vch_id: '${virtual_container_host.load.id}', image_id: '${image.app.id}', name: `load-${i}` },
    })),
  ];
}

/** A few percent of calls each; task kinds only ever answer *_Task methods. */
function randomFaults(seed: number): FaultRule[] {
  return [
    { kind: 'drop', probability: 0.02, seed: seed + 1, times: -1 },
    { kind: 'http', httpStatus: 503, message: 'injected: busy', probability: 0.02, seed: seed + 2, times: -1 },
    { kind: 'task', fault: 'SystemError', message: 'injected task failure', probability: 0.03, seed: seed + 3, times: -1 },
    { kind: 'delay', delayMs: 400, probability: 0.03, seed: seed + 4, times: -1 },
  ];
}

describe('faults under load', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  let outside: VimClient;

  beforeAll(async () => {
    await registry().pushImage(HELLO_IMAGE, 'load/app:1');
    outside = await connectTestClient(sim());
  }, 60_000);
  afterAll(async () => {
    await outside?.close();
  });

  it(`GIVEN ${VMS} container VMs and random drops, 503s, task errors and delays WHEN applied until a run succeeds THEN it converges with 0 duplicates, 0 orphans and 0 lost`, async () => {
    const seed = faultSeed();
    const resources = spec(registry().host);
    let state: StackState = EMPTY_STATE;
    const runs: string[] = [];
    const started = Date.now();
    await sim().control.addFault(randomFaults(seed));
    let converged = false;
    for (let run = 1; run <= MAX_RUNS && !converged; run++) {
      let engine: Engine | undefined;
      try {
        engine = await connectTestEngine(sim());
        const plan = await planStack(engine, resources, state);
        expect(plan.problems).toEqual([]);
        const pending = plan.changes.filter((c) => c.change.action !== 'no-op').length;
        state = await applyStack(engine, plan, resources, { concurrency: 8, onState: (s) => void (state = s) });
        runs.push(`run ${run}: ${pending} change(s), applied`);
        converged = true;
      } catch (err) {
        // What was done is in the state (onState); the next run continues from it.
        runs.push(
          `run ${run}: ${String((err as Error).message).split('\n').length - 1} failure(s): ${
            String((err as Error).message)
              .split('\n')[1]
              ?.slice(0, 160) ?? (err as Error).message.slice(0, 160)
          }`,
        );
      } finally {
        await engine?.close().catch(() => undefined);
      }
    }
    const rules = await sim().control.faults();
    await sim().control.clearFaults();

    // THEN, with the faults off, nothing is left to do and the pool holds exactly the state's VMs
    const engine = await connectTestEngine(sim());
    let leftover: string[];
    try {
      const again = await planStack(engine, resources, state);
      leftover = again.changes.filter((c) => c.change.action !== 'no-op').map((c) => `${c.address}: ${c.change.action}`);
    } finally {
      await engine.close();
    }
    const poolId = String(state.resources['virtual_container_host.load']?.attrs.id);
    const audit = await auditPool(outside, poolId, state);
    const injected = Object.fromEntries(rules.map((r) => [r.kind === 'http' ? `http ${r.httpStatus}` : r.kind!, r.hits ?? 0]));
    const figures = {
      seed,
      vms: VMS,
      faultsInjected: injected,
      faultsTotal: Object.values(injected).reduce((a, b) => a + b, 0),
      callsPassed: rules.reduce((a, r) => a + (r.passed ?? 0), 0),
      runsUntilConvergence: runs.length,
      duplicates: audit.duplicates.length,
      orphans: audit.orphans.length,
      objectsLost: audit.lost.length,
      wallSeconds: Math.round((Date.now() - started) / 100) / 10,
    };
    process.stdout.write(
      `faults under load (repeat with VIC_FAULT_SEED=${seed}):\n${runs.map((r) => `  ${r}`).join('\n')}\n${JSON.stringify(figures, null, 2)}\n`,
    );

    expect(converged).toBe(true);
    expect(figures.faultsTotal).toBeGreaterThan(0);
    expect(leftover).toEqual([]);
    expect(audit).toEqual({ vms: VMS, duplicates: [], orphans: [], lost: [], stateEntries: VMS });
  }, 600_000);
});
