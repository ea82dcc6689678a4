/**
 * Setup profiles (scripts/setup.sh --profile): the demo sets up only what it runs, the tests
 * everything. Read through `setup.sh --list`, the same selection the real run makes.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = resolve(__dirname, '../..');

async function list(...args: string[]): Promise<{ steps: string[]; debian: string[] }> {
  const { stdout } = await run('bash', [join(REPO, 'scripts/setup.sh'), ...args, '--list'], { cwd: REPO });
  const lines = stdout.trim().split('\n');
  return {
    steps: lines.filter((l) => l.startsWith('step ')).map((l) => l.slice('step scripts/peers/'.length)),
    debian: lines.filter((l) => l.startsWith('debian ')).map((l) => l.slice('debian '.length)),
  };
}

describe('setup profiles', () => {
  test('GIVEN the test profile (the default) THEN every peer step and every Debian package is set up', async () => {
    const all = readdirSync(join(REPO, 'scripts/peers'))
      .filter((f) => /^\d+-.*\.sh$/.test(f))
      .sort();
    const byDefault = await list();
    expect(byDefault.steps).toEqual(all);
    expect(await list('--profile', 'test')).toEqual(byDefault);
    const packages = readFileSync(join(REPO, 'scripts/peers/debian-packages.txt'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
      .map((l) => l.trim().split(/\s+/)[0]);
    expect(byDefault.debian).toEqual(packages);
  });

  test('GIVEN the demo profile THEN the simulator and the ISO are set up, and none of the peers only the tests use', async () => {
    const demo = await list('--profile', 'demo');
    expect(demo.steps).toEqual(['00-debian.sh', '10-npm.sh', '20-vcsim.sh', '50-bootstrap-iso.sh']);
    // The demo's simulator runs its container VMs in QEMU (vic sim start refuses to start without it).
    expect(demo.debian).toEqual(
      expect.arrayContaining(['docker-registry', 'skopeo', 'busybox-static', 'xorriso', 'e2fsprogs', 'qemu-system-x86', 'qemu-utils']),
    );
    for (const testOnly of ['ovmf', 'apache2-utils', 'postgresql', 'jq']) expect(demo.debian).not.toContain(testOnly);
  });

  test('GIVEN npm run demo and npm test THEN each asks for its own profile', () => {
    expect(readFileSync(join(REPO, 'scripts/demo.sh'), 'utf8')).toMatch(/^bash scripts\/setup\.sh --profile demo$/m);
    expect(readFileSync(join(REPO, 'scripts/test.sh'), 'utf8')).toMatch(/^bash scripts\/setup\.sh --profile test$/m);
  });

  test('GIVEN an unknown profile THEN setup fails with exit 2, naming the value and the profiles there are', async () => {
    const failed = await run('bash', [join(REPO, 'scripts/setup.sh'), '--profile', 'prod'], { cwd: REPO }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain('unknown profile "prod"');
    expect(failed?.stderr).toMatch(/test .*demo/);
  });
});
