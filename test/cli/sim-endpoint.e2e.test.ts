/**
 * `vic endpoint serve` against the embedded simulator started with --no-guests: no process there
 * ever reports running, so docker start returns at the power-on (--start-wait 0) without being
 * told, and the endpoint says so; asked for a wait, it waits as asked.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VIC, cleanEnv, runProcess, runVic, serveEndpointProcess, vchYaml } from './run-vic';

describe('vic endpoint serve against vic sim start --no-guests', () => {
  let data: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    data = await mkdtemp(join(tmpdir(), 'vic-sim-endpoint-'));
    env = cleanEnv({ XDG_DATA_HOME: data, VIC_SIM_PORT: '0' });
  });

  afterAll(async () => {
    if (env) await runVic(['sim', 'stop'], env);
    if (data) await rm(data, { recursive: true, force: true });
  }, 20_000);

  test('GIVEN a simulator without guests WHEN the endpoint serves a VCH of it THEN it says docker start returns at the power-on; --start-wait given, it does not', async () => {
    const spec = join(data, 'spec.yaml');
    await writeFile(spec, vchYaml('vch-noguests'));
    const exports = `eval "$('${VIC}' sim start --no-guests)" >/dev/null`;
    const applied = await runProcess('sh', ['-c', `${exports} && '${VIC}' apply -f '${spec}' -y >/dev/null && env | grep '^VSPHERE_'`], env);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    const vsphere = Object.fromEntries(
      applied.stdout
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    const served = { ...env, ...vsphere };
    expect((await runVic(['endpoint', 'certs'], served)).code).toBe(0);

    const first = await serveEndpointProcess('vch-noguests', served);
    first.child.kill('SIGTERM');
    expect(first.output).toMatch(/Docker endpoint for VCH "vch-noguests"/);
    expect(first.output).toMatch(
      /the embedded simulator at https:\/\/127\.0\.0\.1:\d+\/sdk runs no guests \(vic sim start --no-guests\): docker start returns at the power-on \(--start-wait 0\)/,
    );
    await new Promise((resolve) => first.child.once('exit', resolve));

    const asked = await serveEndpointProcess('vch-noguests', served, ['--start-wait', '30']);
    asked.child.kill('SIGTERM');
    expect(asked.output).toMatch(/Docker endpoint for VCH "vch-noguests"/);
    expect(asked.output).not.toContain('runs no guests');
    await new Promise((resolve) => asked.child.once('exit', resolve));
  }, 120_000);
});
