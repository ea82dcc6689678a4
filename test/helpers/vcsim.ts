import { SIMULATOR_OWNER_ENV, startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/sim/simulator';

// Tag every launcher with the jest run (the main jest process), so global-teardown.js can find
// the ones a crashed worker left behind without touching other runs' simulators. Jest's child
// process workers are forked with IPC (process.send); in-band and thread workers share the pid.
process.env[SIMULATOR_OWNER_ENV] ??= String(typeof process.send === 'function' ? process.ppid : process.pid);

/**
 * A fresh simulator for the calling test file: started in beforeAll, stopped in afterAll.
 * Call it at the top of a describe block; the getter is valid inside tests.
 */
export function useSimulator(opts: SimulatorOptions = {}): () => RunningSimulator {
  let running: RunningSimulator | undefined;
  beforeAll(async () => {
    running = await startSimulator(opts);
  }, 40_000);
  afterAll(async () => {
    await running?.stop();
  }, 20_000);
  return () => {
    if (!running) throw new Error('useSimulator: the simulator is not running (use the getter inside a test, after beforeAll)');
    return running;
  };
}
