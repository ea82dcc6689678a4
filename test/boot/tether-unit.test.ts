/**
 * The tether's pure parts (config parsing, ext4 superblock, user lookup, VMware RPC framing) are
 * Go unit tests in guest/tether; this runs them so `npm test` covers them.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findPeer } from '../../src/sim/peers';
import { projectRoot } from '../helpers/qemu';

const execFileAsync = promisify(execFile);

test('GIVEN the tether sources WHEN go test runs THEN every Go unit test passes', async () => {
  const go = findPeer('go');
  const cwd = join(projectRoot(), 'guest', 'tether');
  const result = await execFileAsync(go, ['test', '-count=1', './...'], {
    cwd,
    env: { ...process.env, CGO_ENABLED: '0', PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`go test in ${cwd} failed:\n${err.stdout ?? ''}${err.stderr ?? err.message}`);
  });
  expect(result.stdout).toMatch(/^ok\s+vic-iac\/guest\/tether/m);
}, 180_000);
