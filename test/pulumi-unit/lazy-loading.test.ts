/**
 * GIVEN a Pulumi program that imports vic-iac/pulumi WHEN it loads THEN neither the vSphere client,
 * the engine nor the image pipeline is loaded: only the provider process needs them (and loads them
 * by package name at call time). The declarations validate image references with the pipeline's own
 * parser (src/images/reference.ts and its errors: pure, no I/O), which is allowed.
 * A fresh node process, because jest's module registry hides this.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '../..');

it('GIVEN vic-iac/pulumi imported by a program WHEN loaded THEN no engine, vSphere or image module is in the require cache', async () => {
  const script = `require(${JSON.stringify(join(ROOT, 'pulumi-component'))});
    const heavy = Object.keys(require.cache).filter((k) => /node_modules\\/(undici|htmlparser2|tar-stream)\\/|\\/src\\/(vsphere|engine)\\/|\\/src\\/images\\/(?!(reference|errors)\\.ts$)/.test(k));
    const ours = Object.keys(require.cache).filter((k) => k.includes('/pulumi-component/'));
    console.log(JSON.stringify({ heavy, ours: ours.length }));`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT });
  const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { heavy: string[]; ours: number };
  // THEN the check is not vacuous: the package itself was loaded.
  expect(result.ours).toBeGreaterThan(2);
  expect(result.heavy).toEqual([]);
});
