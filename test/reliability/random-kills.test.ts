/**
 * Random kills: `vic apply` / `vic destroy` (bin/vic, a real process) killed with SIGKILL at a
 * random point of create, update (in place and by replacement) and destroy runs, 20 times. The
 * simulator runs every task asynchronously and slows every call, so each kill lands mid-work: the
 * kill waits for the first resource to start, then a random share of a second. After each kill the
 * same command runs again to its end; it must converge: exit 0, a plan with no changes, 0
 * duplicates, 0 orphans and no state entry without its VM. The seed is printed
 * (VIC_FAULT_SEED=<n> repeats the kill points).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readState } from '../../src/cli/state-file';
import { retrieveFromContainer, type VimClient } from '../../src/vsphere';
import { VIC, runVic, useVicProject, vchYaml } from '../cli/run-vic';
import { ageVmsNamed, connectTestClient } from '../helpers/engine';
import { HELLO_IMAGE } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { auditPool, faultSeed, seededRandom } from './inventory-audit';

const KILLS = 20;
const VMS = 6;

type Phase = 'create' | 'update' | 'replace' | 'destroy';
const CYCLE: readonly Phase[] = ['create', 'update', 'replace', 'destroy'];

function spec(registryHost: string, memoryMb: number, command: string): string {
  const vms = Array.from(
    { length: VMS },
    (_, i) =>
      `  c${i}:\n    vch_id: \${virtual_container_host.k.id}\n    image_id: \${image.app.id}\n    name: kill-${i}\n    memory_mb: ${memoryMb}\n    command: [${command}]\n`,
  ).join('');
  return `${vchYaml('vch-kills', 'k')}image:
  app:
    vch_id: \${virtual_container_host.k.id}
    reference: ${registryHost}/kills/app:1
    insecure_registry: true
container_vm:
${vms}`;
}

interface KillRun {
  readonly killedAfterMs: number;
  readonly stdout: string;
}

/** Starts bin/vic, waits for the first resource to start working, then a random delay, then SIGKILL. */
function runAndKill(args: readonly string[], env: NodeJS.ProcessEnv, marker: RegExp, delayMs: number): Promise<KillRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(VIC, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const started = Date.now();
    let stdout = '';
    let armed = false;
    const arm = () => {
      if (armed) return;
      armed = true;
      setTimeout(() => child.kill('SIGKILL'), delayMs);
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      if (marker.test(stdout)) arm();
    });
    child.stderr.on('data', () => undefined);
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`vic ${args.join(' ')} ended on its own (exit ${code}) before the kill; stdout:\n${stdout}`));
      else resolve({ killedAfterMs: Date.now() - started, stdout });
    });
  });
}

describe('random kills of vic apply and destroy', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  const project = useVicProject(sim, 'vic-kills-');
  let dir: string;
  let specFile: string;
  let env: NodeJS.ProcessEnv;
  let outside: VimClient;

  beforeAll(async () => {
    ({ dir, specFile, env } = project());
    await registry().pushImage(HELLO_IMAGE, 'kills/app:1');
    const s = sim();
    outside = await connectTestClient(s);
    // Every task takes 1 s (queued, running, progress) and every call 30 ms: a kill lands mid-work.
    await s.control.setDelay({ asyncTaskMs: 1000, delay: 30 });
  }, 60_000);
  afterAll(async () => {
    await outside?.close();
  });

  async function vmsNamedKill(): Promise<string[]> {
    const rows = await retrieveFromContainer<{ name: string }>(outside, {
      container: outside.serviceContent.rootFolder,
      select: [{ type: 'VirtualMachine', paths: ['name'] }],
    });
    return rows.map((r) => r.props.name).filter((n) => n.startsWith('kill-'));
  }

  it(`GIVEN ${KILLS} kill -9 at random points of create, update, replace and destroy runs WHEN the same command runs again THEN each converges with 0 duplicates and 0 orphans`, async () => {
    const seed = faultSeed();
    const random = seededRandom(seed);
    const log: string[] = [];
    let memory = 128;
    let command = '/hello';
    let totals = { duplicates: 0, orphans: 0, lost: 0 };

    for (let kill = 1; kill <= KILLS; kill++) {
      const phase = CYCLE[(kill - 1) % CYCLE.length];
      if (phase === 'update') memory = memory === 128 ? 256 : 128;
      if (phase === 'replace') command = command === '/hello' ? '/hello, again' : '/hello';
      await writeFile(specFile, spec(registry().host, memory, command));
      const args = phase === 'destroy' ? ['destroy', '-f', specFile, '-y'] : ['apply', '-f', specFile, '-y'];
      const marker =
        phase === 'destroy'
          ? /Destroying\.\.\./
          : phase === 'create'
            ? /container_vm\.c\d+: Creating\.\.\./
            : /container_vm\.c\d+: (Modifying|Replacing)\.\.\./;
      const delayMs = Math.round(random() * 1500);
      const killed = await runAndKill(args, env, marker, delayMs);
      const doneBeforeKill = (killed.stdout.match(/complete after/g) ?? []).length;
      // The user runs it again a while later: the tasks the killed run started have ended (1 s each
      // here), and its half-made VMs are older than a create's lease, so they are adopted at once
      // rather than waited for as creates another process may still be running.
      await new Promise((r) => setTimeout(r, 1_500));
      await ageVmsNamed(sim(), outside, 'kill-');

      // WHEN the same command runs again
      const again = await runVic(args, env, { timeoutMs: 180_000 });
      expect({ kill, phase, code: again.code, stderr: again.stderr }).toEqual({ kill, phase, code: 0, stderr: '' });

      // THEN the state matches vSphere
      const state = readState(join(dir, '.vic', 'state.json'));
      const plan = await runVic(['plan', '-f', specFile, '--detailed-exitcode'], env, { timeoutMs: 120_000 });
      let line: string;
      if (phase === 'destroy') {
        expect({ kill, entries: Object.keys(state.resources), vms: await vmsNamedKill() }).toEqual({ kill, entries: [], vms: [] });
        line = `kill ${kill} (${phase}): killed ${killed.killedAfterMs} ms in (${delayMs} ms after the first resource started, ${doneBeforeKill} done); re-run: everything destroyed`;
      } else {
        expect({ kill, phase, planExit: plan.code }).toEqual({ kill, phase, planExit: 0 });
        const poolId = String(state.resources['virtual_container_host.k']?.attrs.id);
        const audit = await auditPool(outside, poolId, state);
        totals = {
          duplicates: totals.duplicates + audit.duplicates.length,
          orphans: totals.orphans + audit.orphans.length,
          lost: totals.lost + audit.lost.length,
        };
        expect({ kill, phase, ...audit }).toEqual({ kill, phase, vms: VMS, duplicates: [], orphans: [], lost: [], stateEntries: VMS });
        line = `kill ${kill} (${phase}): killed ${killed.killedAfterMs} ms in (${delayMs} ms after the first resource started, ${doneBeforeKill} done); re-run: ${audit.vms} VMs, 0 duplicates, 0 orphans, 0 lost`;
      }
      log.push(line);
      expect(existsSync(join(dir, '.vic', 'state.json.lock'))).toBe(false);
    }
    process.stdout.write(
      `random kills (repeat with VIC_FAULT_SEED=${seed}):\n${log.map((l) => `  ${l}`).join('\n')}\n${JSON.stringify({ seed, kills: KILLS, ...totals }, null, 2)}\n`,
    );
  }, 900_000);
});
