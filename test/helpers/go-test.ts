/** Runs a Go module's unit tests (`go test ./...`) so that `npm test` covers them. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findPeer } from '../../src/sim/peers';
import { projectRoot } from './qemu';

const execFileAsync = promisify(execFile);

/** The stdout of `go test` in `dir` (relative to the project root); a failure throws with Go's output. */
export async function goTest(dir: string): Promise<string> {
  const cwd = join(projectRoot(), dir);
  const result = await execFileAsync(findPeer('go'), ['test', '-count=1', './...'], {
    cwd,
    env: { ...process.env, CGO_ENABLED: '0', PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`go test in ${cwd} failed:\n${err.stdout ?? ''}${err.stderr ?? err.message}`);
  });
  return result.stdout;
}
