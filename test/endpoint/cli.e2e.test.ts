/**
 * `vic endpoint certs | serve | env` as a user runs them: certificates made, the endpoint served
 * in the background, `eval "$(vic endpoint env)"` pointing the docker CLI at it, and the refusals
 * (plain HTTP off loopback, serving before certificates exist).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine, type Engine } from '../../src/engine';
import { settingsFor, vsphereEnv } from '../helpers/engine';
import { useSimulator } from '../helpers/vcsim';
import { VIC, cleanEnv, runProcess, runVic } from '../cli/run-vic';

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
    serving = spawn(VIC, ['endpoint', 'serve', '--vch', 'vch-cli', '--listen', '127.0.0.1:0'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    serving.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
    serving.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
    for (let i = 0; i < 120 && !/Docker endpoint for VCH/.test(out); i++) await new Promise((r) => setTimeout(r, 250));
    expect(out).toMatch(/Docker endpoint for VCH "vch-cli" on https:\/\/127\.0\.0\.1:\d+ \(mutual TLS\)/);
    const shell = await runProcess('bash', ['-c', `eval "$("${VIC}" endpoint env)" && echo "$DOCKER_HOST" && docker ps`], env());
    expect(shell.stderr).toBe('');
    expect(shell.code).toBe(0);
    expect(shell.stdout).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+\nCONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n$/);
    const exited = new Promise<number | null>((resolve) => serving?.once('exit', (code) => resolve(code)));
    serving.kill('SIGTERM');
    expect(await exited).toBe(0);
    serving = undefined;
  });
});
