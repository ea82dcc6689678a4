/**
 * The guest runner's pure parts (datastore paths, the launch spec, QEMU arguments, status lines) are
 * Go unit tests in src/sim/runner; this runs them so `npm test` covers them.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findPeer } from '../../src/sim/peers';
import { projectRoot } from '../helpers/qemu';

const execFileAsync = promisify(execFile);

test('GIVEN the guest runner sources WHEN go test runs THEN every Go unit test passes', async () => {
  const go = findPeer('go');
  const cwd = join(projectRoot(), 'src', 'sim', 'runner');
  const result = await execFileAsync(go, ['test', '-count=1', './...'], {
    cwd,
    env: { ...process.env, CGO_ENABLED: '0', PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`go test in ${cwd} failed:\n${err.stdout ?? ''}${err.stderr ?? err.message}`);
  });
  expect(result.stdout).toMatch(/^ok\s+vic-iac\/sim\/runner/m);
}, 180_000);
