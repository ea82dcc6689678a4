import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/sim/simulator';

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
