import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startSimulator, type RunningSimulator } from '../../../src/sim/simulator';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const stopLeftoverSimulators = require('../../helpers/global-teardown.js') as () => Promise<void>;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of a process that has already exited: the owner of an orphaned launcher. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('jest global teardown', () => {
  test('GIVEN launchers owned by this process, by a dead process and by a live one WHEN teardown runs THEN the first two are stopped cleanly and reported, the third is left alone', async () => {
    const started: RunningSimulator[] = [];
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const ownedByUs = await startSimulator({ tls: false });
      started.push(ownedByUs);
      const orphan = await startSimulator({ tls: false }, { ownerPid: deadPid() });
      started.push(orphan);
      // the jest main process is alive: like another run's simulator, this one must survive
      const anotherRuns = await startSimulator({ tls: false }, { ownerPid: process.ppid });
      started.push(anotherRuns);
      const dirs = [...Object.values((await ownedByUs.control.info()).datastores), ...Object.values((await orphan.control.info()).datastores)];

      await stopLeftoverSimulators();

      expect(pidAlive(ownedByUs.pid)).toBe(false);
      expect(pidAlive(orphan.pid)).toBe(false);
      // SIGTERM, not SIGKILL: the launchers removed their datastore dirs themselves
      for (const dir of dirs) expect(existsSync(dir)).toBe(false);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining(`${ownedByUs.pid}`));
      expect(warn).toHaveBeenCalledWith(expect.stringContaining(`${orphan.pid}`));
      expect(pidAlive(anotherRuns.pid)).toBe(true);
    } finally {
      warn.mockRestore();
      await Promise.all(started.map((sim) => sim.stop()));
    }
  });
});
