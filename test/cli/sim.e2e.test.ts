/**
 * `vic sim start|status|stop`: the embedded simulator as a background service with its state in
 * $XDG_DATA_HOME/vic-iac/sim, on loopback, reused when alive, and gone (no process left) after stop.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VIC, cleanEnv, runProcess, runVic, type VicRun } from './run-vic';

/** Running, not merely a zombie waiting for init (the launcher's parent, vic, exited long ago). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function shell(script: string, env: NodeJS.ProcessEnv): Promise<VicRun> {
  return runProcess('sh', ['-c', script], env);
}

describe('vic sim', () => {
  let data: string;
  let env: NodeJS.ProcessEnv;
  let pid: number | undefined;

  beforeAll(async () => {
    data = await mkdtemp(join(tmpdir(), 'vic-sim-test-'));
    env = cleanEnv({ XDG_DATA_HOME: data, VIC_SIM_PORT: '0' });
  });

  afterAll(async () => {
    // Whatever a failed assertion left behind: never leave a simulator running.
    if (env) await runVic(['sim', 'stop'], env);
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    if (data) await rm(data, { recursive: true, force: true });
  }, 20_000);

  it('GIVEN no simulator WHEN asked for its status THEN exit 3 and how to start it', async () => {
    const run = await runVic(['sim', 'status'], env);
    expect(run).toMatchObject({ code: 3, stdout: '# vSphere simulator not running; start it with: vic sim start\n' });
    const json = await runVic(['sim', 'status', '--json'], env);
    expect(JSON.parse(json.stdout)).toEqual({ running: false });
  });

  it('GIVEN no simulator WHEN started THEN it runs in the background on loopback with TLS and prints exports without the password', async () => {
    const run = await runVic(['sim', 'start'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const m = /^# vSphere simulator started: (https:\/\/127\.0\.0\.1:\d+\/sdk) \(pid (\d+)\)$/m.exec(run.stdout);
    expect(m).not.toBeNull();
    pid = Number(m![2]);
    expect(alive(pid)).toBe(true);
    const dir = join(data, 'vic-iac', 'sim');
    const password = (await readFile(join(dir, 'password'), 'utf8')).trim();
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect((await stat(join(dir, 'password'))).mode & 0o777).toBe(0o600);
    expect(run.stdout).not.toContain(password);
    expect(run.stdout).toContain(`export VSPHERE_SERVER=${m![1]}`);
    expect(run.stdout).toContain(`export VSPHERE_PASSWORD="$(cat ${join(dir, 'password')})"`);
    expect(run.stdout).toMatch(/^export VSPHERE_THUMBPRINT=([0-9A-F]{2}:){31}[0-9A-F]{2}$/m);
  });

  it('GIVEN a running simulator WHEN started again THEN the same process is reused', async () => {
    const run = await runVic(['sim', 'start', '--json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ pid, reused: true });
    const status = await runVic(['sim', 'status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`(pid ${pid}, since `);
  });

  it('GIVEN a running simulator WHEN started again with options it does not have THEN exit 1 naming both, nothing on stdout, and it keeps running as it was', async () => {
    const record = JSON.parse((await runVic(['sim', 'status', '--json'], env)).stdout) as { url: string; pid: number };
    const port = Number(new URL(record.url).port);
    const other = port === 65000 ? 65001 : 65000;
    const run = await runVic(['sim', 'start', '--max-guests', '3', '--no-guests', '--port', String(other)], env);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toContain(
      `the simulator already runs (${record.url}, pid ${pid}) with port ${port}, guests running in QEMU, not --port ${other}, --no-guests: nothing was changed. ` +
        'Stop it first (vic sim stop) to start it with other options',
    );
    // One option that differs is enough; options that match, or none, reuse it.
    expect((await runVic(['sim', 'start', '--max-guests', '1'], env)).stderr).toContain('with --max-guests 2, not --max-guests 1');
    expect(await runVic(['sim', 'start', '--max-guests', '2', '--port', String(port)], env)).toMatchObject({ code: 0, stderr: '' });
    expect((await runVic(['sim', 'status', '--json'], env)).stdout).toContain(`"pid": ${pid}`);
  });

  it('GIVEN the exports WHEN evaluated in a shell THEN vic connects to the simulator with the thumbprint pinned', async () => {
    const run = await shell(`eval "$('${VIC}' sim start)" && test -z "$VSPHERE_ALLOW_UNVERIFIED_SSL" && '${VIC}' ls --all`, env);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe('Nothing here: no VCHs, images, volumes or container VMs.\n');
  });

  it('GIVEN a running simulator WHEN stopped THEN no process is left, status says so, and a second stop is harmless', async () => {
    const run = await runVic(['sim', 'stop'], env);
    expect(run).toMatchObject({ code: 0, stdout: `vSphere simulator stopped (pid ${pid}).\n` });
    expect(alive(pid!)).toBe(false);
    // SIGTERM let the launcher remove its model datastores.
    expect(await readdir(join(data, 'vic-iac', 'sim', 'datastores'))).toEqual([]);
    expect((await runVic(['sim', 'status'], env)).code).toBe(3);
    expect(await runVic(['sim', 'stop'], env)).toMatchObject({ code: 0, stdout: 'vSphere simulator was not running.\n' });
  });

  it('GIVEN a bad port WHEN starting THEN exit 2 (usage) and nothing starts', async () => {
    const run = await runVic(['sim', 'start', '--port', '99999'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--port must be 0..65535, got "99999"');
    expect((await runVic(['sim', 'status'], env)).code).toBe(3);
  });
});
