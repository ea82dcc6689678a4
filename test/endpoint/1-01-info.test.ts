/**
 * VIC Group1 1-01 info, and the endpoint's mutual TLS: docker info shows "vSphere", the VCH pool's
 * limits (changed in vSphere, shown at the next call) and the container counts; a client without
 * the bundle, or with a certificate from another CA, is refused.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateFiles, generateCertificates } from '../../src/endpoint/certs';
import { serveEndpoint } from '../../src/endpoint/serve';
import { virtualContainerHost, type Attrs } from '../../src/resources';
import { runProcess } from '../cli/run-vic';
import { useDockerBed } from './docker-env';

describe('1-01 docker info, and mutual TLS', () => {
  const bed = useDockerBed({ vchName: 'vch-info' });
  let other: string;

  beforeAll(async () => {
    other = await mkdtemp(join(tmpdir(), 'vic-endpoint-other-ca-'));
    await generateCertificates(other, { hosts: ['localhost', '127.0.0.1'], port: 0 });
  });
  afterAll(async () => {
    if (other) await rm(other, { recursive: true, force: true });
  });

  test('GIVEN a VCH WHEN docker info runs THEN it shows vSphere, the VCH, its pool limits and no containers', async () => {
    const r = await bed().docker(['info']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Operating System: VMware vSphere/);
    expect(r.stdout).toMatch(/Storage Driver: vSphere/);
    expect(r.stdout).toMatch(/VCH: vch-info/);
    expect(r.stdout).toMatch(/VCH memory limit: unlimited/);
    expect(r.stdout).toMatch(/Containers: 0\n\s+Running: 0\n\s+Paused: 0\n\s+Stopped: 0/);
    expect(r.stdout).toMatch(/Name: vch-info/);
    // VIC's "Basic Info": the volume driver is vsphere; the CPUs and memory the pool can give.
    expect(r.stdout).toMatch(/Plugins:\n\s+Volume: vsphere\n/);
    const [cpus, memory] = (await bed().dockerOk(['info', '--format', '{{.NCPU}} {{.MemTotal}}'])).split(' ').map(Number);
    expect(cpus).toBeGreaterThan(0);
    expect(memory).toBeGreaterThan(0);
  });

  test('GIVEN the pool limits changed WHEN docker info runs again THEN it shows the new limits', async () => {
    const vch = bed().vch;
    // Below what the simulator's cluster gives the pool (6 cores of 1147 MHz, about 961 MiB).
    const plan = await bed().engine.plan('virtual_container_host', vch, { ...inputs(vch), memory_limit_mb: 512, cpu_limit_mhz: 2000 });
    expect(plan.problems).toEqual([]);
    await bed().engine.apply(plan);
    const r = await bed().docker(['info', '--format', '{{json .DriverStatus}} {{.NCPU}} {{.MemTotal}}']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('["VCH memory limit","512 MB"]');
    expect(r.stdout).toContain('["VCH CPU limit","2000 MHz"]');
    // The CPUs and memory the pool can give: 2000 MHz is one of those cores.
    expect(r.stdout.trim().endsWith(` 1 ${512 * 1024 * 1024}`)).toBe(true);
  });

  test('GIVEN no client certificate THEN the docker CLI is refused', async () => {
    const { DOCKER_CERT_PATH: _p, DOCKER_TLS_VERIFY: _v, ...env } = bed().env;
    const ca = join(certificateFiles(bed().certDir).clientDir, 'ca.pem');
    // The server is verified, but the client has no certificate to show.
    const noCert = await runDocker(env, ['--tlsverify', '--tlscacert', ca, 'info']);
    expect(noCert.code).toBe(1);
    expect(noCert.stderr).toMatch(/certificate required|bad certificate|tls|remote error/i);
    const noTls = await runDocker(env, ['info']);
    expect(noTls.code).toBe(1);
  });

  test('GIVEN a client bundle from another CA THEN the docker CLI is refused', async () => {
    const r = await runDocker({ ...bed().env, DOCKER_CERT_PATH: certificateFiles(other).clientDir }, ['info']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/certificate|tls/i);
  });

  test('GIVEN the right bundle THEN the same call works', async () => {
    const r = await runDocker(bed().env, ['info', '--format', '{{.Name}}']);
    expect([r.code, r.stdout.trim()]).toEqual([0, 'vch-info']);
  });

  test('GIVEN plain HTTP asked for on an address that is not loopback THEN the endpoint refuses to start', async () => {
    await expect(serveEndpoint({ engine: bed().engine, vch: 'vch-info', host: '0.0.0.0', port: 0, version: 'x' })).rejects.toThrow(
      /plain HTTP is served on loopback only/,
    );
  });

  function runDocker(env: NodeJS.ProcessEnv, args: string[]) {
    return runProcess('docker', args, env, { timeoutMs: 60_000 });
  }
});

/** The VCH's inputs (what a config holds), from its state. */
function inputs(vch: Attrs): Attrs {
  const out: Attrs = {};
  for (const [k, a] of Object.entries(virtualContainerHost.schema)) {
    if ('computed' in a && a.computed && !('optional' in a && a.optional)) continue;
    if (vch[k] !== null && vch[k] !== undefined) out[k] = vch[k];
  }
  return out;
}
