/**
 * Two real `vic apply` processes on one state: they never both run. Started together, one applies
 * and the other fails at once naming the first; with --lock-timeout the second waits for the first
 * to finish, then finds nothing left to do. The simulator holds every task 1 s, so the runs overlap.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readState } from '../../src/cli/state-file';
import type { VimClient } from '../../src/vsphere';
import { VIC, useVicProject, type VicRun, vchYaml } from '../cli/run-vic';
import { connectTestClient } from '../helpers/engine';
import { HELLO_IMAGE } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { auditPool } from './inventory-audit';

function spec(registryHost: string, memoryMb: number): string {
  const vms = [0, 1, 2]
    .map((i) => `  c${i}:\n    vch_id: \${virtual_container_host.l.id}\n    image_id: \${image.app.id}\n    name: lock-${i}\n    memory_mb: ${memoryMb}\n`)
    .join('');
  return `${vchYaml('vch-lock', 'l')}image:
  app:
    vch_id: \${virtual_container_host.l.id}
    reference: ${registryHost}/lock/app:1
    insecure_registry: true
container_vm:
${vms}`;
}

interface TimedRun extends VicRun {
  readonly pid: number;
  readonly endedAt: number;
}

function start(args: readonly string[], env: NodeJS.ProcessEnv): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(VIC, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const guard = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr, pid: child.pid ?? -1, endedAt: Date.now() });
    });
  });
}

describe('two vic apply runs on one state', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  const project = useVicProject(sim, 'vic-concurrent-');
  let dir: string;
  let specFile: string;
  let env: NodeJS.ProcessEnv;
  let outside: VimClient;

  beforeAll(async () => {
    ({ dir, specFile, env } = project());
    await registry().pushImage(HELLO_IMAGE, 'lock/app:1');
    const s = sim();
    outside = await connectTestClient(s);
    await s.control.setDelay({ asyncTaskMs: 1000 });
  }, 60_000);
  afterAll(async () => {
    await outside?.close();
  });

  it('GIVEN two applies started together WHEN both run THEN one applies and the other fails at once naming it; the VMs are not duplicated', async () => {
    await writeFile(specFile, spec(registry().host, 128));
    const [a, b] = await Promise.all([start(['apply', '-f', specFile, '-y'], env), start(['apply', '-f', specFile, '-y'], env)]);
    const [winner, loser] = a.code === 0 ? [a, b] : [b, a];
    expect([winner.code, loser.code]).toEqual([0, 1]);
    expect(winner.stdout).toContain('Apply complete! Resources: 5 added, 0 changed, 0 destroyed.');
    expect(loser.stderr).toMatch(
      new RegExp(
        `state ${join(dir, '.vic', 'state.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is locked by vic process ${winner.pid} \\(vic apply, since \\S+\\); wait for it to finish, or pass --lock-timeout to wait for it`,
      ),
    );
    // the loser stopped before it planned or touched vSphere
    expect(loser.stdout).toBe('');
    expect(loser.endedAt).toBeLessThan(winner.endedAt);
    const state = readState(join(dir, '.vic', 'state.json'));
    expect(await auditPool(outside, String(state.resources['virtual_container_host.l'].attrs.id), state)).toEqual({
      vms: 3,
      duplicates: [],
      orphans: [],
      lost: [],
      stateEntries: 3,
    });
  }, 180_000);

  it('GIVEN an update running WHEN a second apply starts with --lock-timeout THEN it waits for the first, then finds nothing to do', async () => {
    await writeFile(specFile, spec(registry().host, 256));
    const first = start(['apply', '-f', specFile, '-y'], env);
    // let the first run take the lock
    await new Promise((r) => setTimeout(r, 2500));
    const second = start(['apply', '-f', specFile, '-y', '--lock-timeout', '2m'], env);
    const [a, b] = await Promise.all([first, second]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stdout).toContain('Apply complete! Resources: 0 added, 3 changed, 0 destroyed.');
    expect(b.stdout).toContain('No changes.');
    expect(b.endedAt).toBeGreaterThan(a.endedAt);
    const state = readState(join(dir, '.vic', 'state.json'));
    expect(
      Object.values(state.resources)
        .filter((e) => e.type === 'container_vm')
        .map((e) => e.attrs.memory_mb),
    ).toEqual([256, 256, 256]);
  }, 180_000);

  it('GIVEN a lock timeout that is not a duration WHEN apply runs THEN exit 2 names the flag and the accepted forms', async () => {
    const run = await start(['apply', '-f', specFile, '-y', '--lock-timeout', 'soon'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--lock-timeout must be a duration such as 30s, 5m or 1h (or 0), got "soon"');
  }, 60_000);

  it('GIVEN a task timeout that is not a duration WHEN planning THEN exit 2 names the value, the units and where it came from', async () => {
    const run = await start(['plan', '-f', specFile, '--task-timeout', 'soon'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'task_timeout: task_timeout = "soon" is not a positive duration. Write a number with a unit: ms, s, m or h, e.g. "90s", "30m" or "1h30m". (from --task-timeout)',
    );
  }, 60_000);
});
