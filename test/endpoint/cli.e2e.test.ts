/**
 * `vic endpoint certs | serve | env` as a user runs them: certificates made, the endpoint served
 * in the background, `eval "$(vic endpoint env)"` pointing the docker CLI at it, and the refusals
 * (plain HTTP off loopback, serving before certificates exist); then as a user re-runs them: a
 * second `certs` (the README's steps after `npm run demo`) keeps the certificates a running endpoint
 * and its clients use, unless --force; an endpoint that stops takes its record with it, a second one
 * from the same directory is refused, and `env` never points docker at an endpoint that is not running.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine, type Engine } from '../../src/engine';
import { settingsFor, vsphereEnv } from '../helpers/engine';
import { useSimulator } from '../helpers/vcsim';
import { VIC, cleanEnv, runProcess, runVic, serveEndpointProcess } from '../cli/run-vic';

describe('vic endpoint certs, serve and env', () => {
  const sim = useSimulator();
  let dir: string;
  let engine: Engine;
  let serving: ChildProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vic-endpoint-cli-'));
    engine = await connectEngine(settingsFor(sim()));
    const plan = await engine.plan('virtual_container_host', null, { name: 'vch-cli', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0' });
    expect(plan.problems).toEqual([]);
    await engine.apply(plan);
  });
  afterAll(async () => {
    serving?.kill('SIGKILL');
    await engine?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const env = () => cleanEnv({ ...vsphereEnv(sim()), XDG_DATA_HOME: dir });
  const certDir = () => join(dir, 'vic-iac', 'endpoint');
  const ca = () => readFileSync(join(certDir(), 'ca.pem'), 'utf8');

  /** `vic endpoint serve` in the background, once it says it serves (mutual TLS, a free port). */
  async function serve(): Promise<ChildProcess> {
    const { child, output } = await serveEndpointProcess('vch-cli', env());
    expect(output).toMatch(/Docker endpoint for VCH "vch-cli" on https:\/\/127\.0\.0\.1:\d+ \(mutual TLS\)/);
    return child;
  }

  const exit = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  test('GIVEN no certificates WHEN vic endpoint serve runs THEN it says how to make them and exits 2', async () => {
    const r = await runVic(['endpoint', 'serve', '--vch', 'vch-cli', '--listen', '127.0.0.1:0'], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/make the endpoint's certificates first with: vic endpoint certs/);
  });

  test('GIVEN plain HTTP on an address that is not loopback THEN serve refuses and exits 1', async () => {
    const r = await runVic(['endpoint', 'serve', '--vch', 'vch-cli', '--plain-http', '--listen', '0.0.0.0:0'], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/plain HTTP is served on loopback only/);
  });

  test('GIVEN vic endpoint certs THEN the CA, server certificate and client bundle are written, keys 0600', async () => {
    const r = await runVic(['endpoint', 'certs', '--host', 'localhost', '--host', '127.0.0.1'], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SANs: localhost, 127\.0\.0\.1/);
    for (const f of ['ca.pem', 'server-cert.pem', 'client/ca.pem', 'client/cert.pem', 'client/env']) expect(existsSync(join(certDir(), f))).toBe(true);
    for (const f of ['ca-key.pem', 'server-key.pem', 'client/key.pem']) expect(statSync(join(certDir(), f)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(certDir(), 'client/env'), 'utf8')).toContain('export DOCKER_TLS_VERIFY=1');
  });

  test('GIVEN the endpoint served in the background WHEN eval "$(vic endpoint env)" and docker ps run THEN docker talks to it; SIGTERM stops it', async () => {
    serving = await serve();
    const shell = await runProcess('bash', ['-c', `eval "$("${VIC}" endpoint env)" && echo "$DOCKER_HOST" && docker ps`], env());
    expect(shell.stderr).toBe('');
    expect(shell.code).toBe(0);
    expect(shell.stdout).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+\nCONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n$/);
    // A client that forgot TLS is told so, as by dockerd, not given an EOF.
    const plain = await runProcess('bash', ['-c', `eval "$("${VIC}" endpoint env)" && DOCKER_TLS_VERIFY= DOCKER_CERT_PATH= docker ps`], env());
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('Client sent an HTTP request to an HTTPS server.');
    const exited = exit(serving);
    serving.kill('SIGTERM');
    expect(await exited).toBe(0);
    serving = undefined;
  });

  test('GIVEN certificates WHEN certs runs again THEN the certificates are kept (a running endpoint keeps its clients); --host without --force is refused; --force makes new ones', async () => {
    expect((await runVic(['endpoint', 'certs'], env())).code).toBe(0);
    const first = ca();

    const again = await runVic(['endpoint', 'certs'], env());
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /^Kept the CA, server certificate and client bundle already in .*: an endpoint and its clients may use them\. --force makes new ones\.$/m,
    );
    expect(ca()).toBe(first);

    const other = await runVic(['endpoint', 'certs', '--host', 'docker.example.com'], env());
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /already holds the endpoint's CA and certificates.*nothing written\. To make new ones for --host docker\.example\.com, pass --force/,
    );
    expect(ca()).toBe(first);

    const forced = await runVic(['endpoint', 'certs', '--force'], env());
    expect(forced.code).toBe(0);
    expect(ca()).not.toBe(first);
  }, 60_000);

  test('GIVEN --start-wait that is not whole seconds WHEN vic endpoint serve runs THEN it exits 2 naming the flag and what to give, before it serves', async () => {
    for (const value of ['soon', '1.5', '-3']) {
      const r = await runVic(['endpoint', 'serve', '--vch', 'vch-cli', '--listen', '127.0.0.1:0', `--start-wait=${value}`], env());
      expect([value, r.code, r.stderr]).toEqual([
        value,
        2,
        expect.stringContaining(`--start-wait ${value}: give whole seconds, 0 or more (0: docker start returns at the power-on)`),
      ]);
    }
  }, 60_000);

  test('GIVEN the endpoint WHEN it stops THEN its record goes; a second serve on its port says what to do; WHEN it was killed THEN env says it is not running instead of pointing docker at it', async () => {
    const record = join(certDir(), 'endpoint.json');
    serving = await serve();
    expect(existsSync(record)).toBe(true);
    const stopped = exit(serving);
    serving.kill('SIGTERM');
    expect(await stopped).toBe(0);
    serving = undefined;
    expect(existsSync(record)).toBe(false);

    serving = await serve();
    const port = (JSON.parse(readFileSync(record, 'utf8')) as { port: number }).port;
    const recorded = readFileSync(record, 'utf8');
    const pid = (JSON.parse(recorded) as { pid: number }).pid;
    // A second endpoint from the same directory, on any port, would take the first one's record.
    const second = await runVic(['endpoint', 'serve', '--vch', 'vch-cli', '--listen', '127.0.0.1:0'], env());
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      `an endpoint already runs from ${certDir()} (pid ${pid}, https://127.0.0.1:${port}; recorded in ${record}): use it (eval "$(vic endpoint env)"), stop it first (kill ${pid}), or serve another endpoint from another directory: vic endpoint certs --dir <path>, then vic endpoint serve --dir <path> --listen 127.0.0.1:<another port>`,
    );
    expect(readFileSync(record, 'utf8')).toBe(recorded);
    expect((await runVic(['endpoint', 'env'], env())).stdout).toContain(`tcp://127.0.0.1:${port}`);
    // From another directory, the port is what is taken.
    const other = join(dir, 'other');
    const third = await runVic(['endpoint', 'serve', '--vch', 'vch-cli', '--plain-http', '--dir', other, '--listen', `127.0.0.1:${port}`], env());
    expect(third.code).toBe(1);
    expect(third.stderr).toContain(
      `127.0.0.1:${port} is already in use (another endpoint? "vic endpoint env" names the one this directory records): stop it, use it, or pass --listen 127.0.0.1:<another port> (0 picks a free one)`,
    );
    const killed = exit(serving);
    serving.kill('SIGKILL');
    await killed;
    serving = undefined;
    const r = await runVic(['endpoint', 'env'], env());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`(pid`);
    expect(r.stderr).toContain(`port ${port}) is not running (killed, or the machine restarted): start it again with "vic endpoint serve --vch <name>"`);
  }, 120_000);
});
