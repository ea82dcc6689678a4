/**
 * A reader that goes away (`vic ls | head -1`) ends vic as SIGPIPE ends other Unix tools: quietly,
 * with status 141, never with an EPIPE stack. bin/vic runs as a child process against a real vcsim.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { useSimulator } from '../helpers/vcsim';
import { VIC, runProcess, runVic, useVicProject, type VicRun, vchYaml } from './run-vic';

const SPEC = `${vchYaml('vch-pipe')}volume:
  data:
    vch_id: \${virtual_container_host.demo.id}
    name: data
    size_mb: 16
`;

/** Runs vic with its stdout a pipe whose reading end is closed before vic writes: every write fails with EPIPE. */
function runWithClosedStdout(args: readonly string[], env: NodeJS.ProcessEnv): Promise<VicRun & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(VIC, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    // vic needs far longer to start (node, tsx, a vSphere login) than this takes.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vic ${args.join(' ')} did not end within 60 s; stderr:\n${stderr}`));
    }, 60_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: '', stderr });
    });
  });
}

describe('GIVEN vic writing to a pipe whose reader has gone', () => {
  const sim = useSimulator();
  const project = useVicProject(sim, 'vic-closed-pipe-');

  beforeAll(async () => {
    const { specFile, env } = project();
    await writeFile(specFile, SPEC);
    const applied = await runVic(['apply', '-f', specFile, '--auto-approve'], env, { timeoutMs: 120_000 });
    if (applied.code !== 0) throw new Error(`apply failed:\n${applied.stdout}\n${applied.stderr}`);
  }, 150_000);

  it.each([
    ['ls -f SPEC', (spec: string) => ['ls', '-f', spec]],
    ['ls --all', () => ['ls', '--all']],
    ['state list', (spec: string) => ['state', 'list', '-f', spec]],
    ['plan', (spec: string) => ['plan', '-f', spec]],
    ['version', () => ['version']],
    ['--help', () => ['--help']],
  ])('WHEN vic %s writes THEN it exits 141 and prints nothing on stderr', async (_what, args) => {
    const { specFile, env } = project();
    const run = await runWithClosedStdout(args(specFile), env);
    expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({ code: 141, signal: null, stderr: '' });
  });

  it('WHEN piped into head -1 from a shell THEN head prints the table header, and vic leaves no EPIPE message', async () => {
    const { specFile, env } = project();
    const run = await runProcess('bash', ['-c', `'${VIC}' ls -f '${specFile}' | head -1; echo "vic exited \${PIPESTATUS[0]}"`], env);
    expect(run.stderr).toBe('');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^KIND +NAME +ID +STATUS/);
    // 0 when head took the whole table in one read before it closed the pipe, 141 when vic wrote after.
    expect(lines[1]).toMatch(/^vic exited (0|141)$/);
    expect(lines).toHaveLength(2);
  });

  it('WHEN stdout stays open THEN the same commands exit 0: 141 is for a closed pipe only', async () => {
    const { specFile, env } = project();
    const run = await runVic(['ls', '-f', specFile], env);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('vch-pipe');
  });
});
