/**
 * examples/stateful-counter through the `vic` CLI, against the real launcher with guests running:
 * the first run counts 1; a new RELEASE replaces the container VM, whose first run counts 2 and
 * names the release before it, read with `vic logs`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeOciLayout } from '../helpers/oci-layout';
import { ensureBootstrapIso } from '../helpers/qemu';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { runVic, useVicProject } from '../cli/run-vic';
import { probeImageSpec } from './probe-image';

const EXAMPLE = join(__dirname, '../../examples/stateful-counter/spec.yaml');
const BOOT_MS = 180_000;

describe('examples/stateful-counter', () => {
  const sim = useSimulator({ runGuests: { maxRunning: 1 } });
  const registry = useRegistry();
  const project = useVicProject(sim, 'vic-stateful-example-');
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const layout = await writeOciLayout(join(project().dir, 'oci'), 'latest', [probeImageSpec()]);
    await registry().push(layout.dir, 'latest', 'vic-demo/busybox:latest');
    env = { ...project().env, VIC_BOOTSTRAP_ISO: await ensureBootstrapIso(), NO_COLOR: '1' };
  }, 240_000);

  async function vic(args: string[]) {
    const r = await runVic(args, env, { cwd: project().dir, timeoutMs: BOOT_MS });
    if (r.code !== 0) throw new Error(`vic ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  async function logsOnceExited(): Promise<string> {
    const deadline = Date.now() + BOOT_MS;
    for (;;) {
      const ls = JSON.parse((await vic(['ls', '-f', 'spec.yaml', '--json'])).stdout) as Array<{ name: string; status: string; process?: string }>;
      const row = ls.find((r) => r.name === 'counter-1');
      if (row?.status === 'poweredOff' && row.process?.startsWith('exited')) return (await vic(['logs', 'counter-1'])).stdout;
      if (Date.now() > deadline) throw new Error(`counter-1 did not finish within ${BOOT_MS} ms: ${JSON.stringify(row)}; launcher log:\n${sim().logTail()}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  test(
    'GIVEN the example applied WHEN its release changes THEN the new container VM continues the count kept on the volume',
    async () => {
      const spec = readFileSync(EXAMPLE, 'utf8').replace('127.0.0.1:5000/vic-demo/busybox:latest', `${registry().host}/vic-demo/busybox:latest`);
      writeFileSync(project().specFile, spec);
      const first = await vic(['apply', '-f', 'spec.yaml', '--auto-approve']);
      expect(first.stdout).toContain('Apply complete! Resources: 4 added, 0 changed, 0 destroyed.');
      expect(await logsOnceExited()).toBe('run 1 of release 1\n');

      writeFileSync(project().specFile, spec.replace('RELEASE: "1"', 'RELEASE: "2"'));
      const second = await vic(['apply', '-f', 'spec.yaml', '--auto-approve']);
      expect(second.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 1 destroyed.');
      expect(await logsOnceExited()).toBe('run 2 of release 2\nprevious run: release 1\n');
    },
    3 * BOOT_MS,
  );
});
