/**
 * secretEnv through the real `pulumi` CLI (Automation API, local file:// backend) against the
 * simulator: given as a plain string, the value still becomes a secret output, no state file
 * (checkpoint, backups, history) holds it in plaintext, and neither up nor a replacing preview
 * prints it.
 */
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalWorkspace, type Stack } from '@pulumi/pulumi/automation';
import { connectTestClient } from '../helpers/engine';
import { HELLO_IMAGE } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { connectionConfig, localBackend, preparePulumiProjects, simulatorPlacement } from './project';

const TOKEN = 'Pulumi-Secret-Env-4a9c';
const ROTATED = 'Pulumi-Rotated-Env-e61d';
const PULUMI_STEP_MS = 240_000;

describe('GIVEN a Pulumi program with a container VM whose secretEnv is a plain string', () => {
  const sim = useSimulator({ username: 'pulumi-secret', password: 'pulumi-Secret-Pa55' });
  const registry = useRegistry();
  let scratch: string;
  let backend: string;
  let stack: Stack;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'vic-pulumi-secret-'));
    const local = await localBackend(scratch, 'secret-env-passphrase', { VIC_TEST_TOKEN: TOKEN });
    backend = local.backend;
    const [[project]] = await Promise.all([
      preparePulumiProjects(scratch, ['test/pulumi/secret-env-program']),
      registry().pushImage(HELLO_IMAGE, 'secret/hello:v1'),
    ]);

    const outside = await connectTestClient(sim());
    let placement: { resourcePoolId: string; datastoreId: string };
    try {
      placement = await simulatorPlacement(outside);
    } finally {
      await outside.close();
    }

    stack = await LocalWorkspace.createStack({ stackName: 'secret', workDir: project }, local.options);
    await stack.setAllConfig({
      ...connectionConfig(sim()),
      resourcePoolId: { value: placement.resourcePoolId },
      datastoreId: { value: placement.datastoreId },
      image: { value: `${registry().host}/secret/hello:v1` },
    });
  }, 180_000);

  afterAll(async () => {
    if (scratch && !process.env.VIC_KEEP_SCRATCH) await rm(scratch, { recursive: true, force: true });
  });

  async function files(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const entry of await readdir(dir)) {
      const p = join(dir, entry);
      if ((await stat(p)).isDirectory()) out.push(...(await files(p)));
      else out.push(p);
    }
    return out;
  }

  it(
    'WHEN `pulumi up` runs THEN the secretEnv output is a secret, env is not, and nothing printed holds the value',
    async () => {
      const up = await stack.up();
      expect(up.summary.result).toBe('succeeded');
      expect(up.outputs.secretEnv).toEqual({ value: { API_TOKEN: TOKEN }, secret: true });
      expect(up.outputs.env).toEqual({ value: { MODE: 'prod' }, secret: false });
      expect(up.stdout + up.stderr).not.toContain(TOKEN);
      const preview = await stack.preview();
      expect(Object.keys(preview.changeSummary)).toEqual(['same']);
    },
    PULUMI_STEP_MS,
  );

  it('WHEN the state files are read THEN the value is ciphertext only, in the inputs and the outputs of the container VM', async () => {
    const all = await files(backend);
    for (const file of all) expect({ file, leaks: (await readFile(file, 'utf8')).includes(TOKEN) }).toEqual({ file, leaks: false });
    // The check above is not vacuous: the checkpoint holds secretEnv, encrypted.
    const checkpoint = await readFile(join(backend, '.pulumi/stacks/vic-secret-env-test/secret.json'), 'utf8');
    expect(checkpoint).toMatch(/"secretEnv":\s*\{\s*"4dabf18193072939515e22adb298388d":\s*"1b47061264138c4ac30d75fd1eb44270",\s*"ciphertext"/);
  });

  it(
    'WHEN the value is rotated THEN the preview replaces the container VM without printing either value',
    async () => {
      // The workspace passes its envVars to every pulumi command it runs.
      stack.workspace.envVars.VIC_TEST_TOKEN = ROTATED;
      const preview = await stack.preview({ diff: true });
      expect(preview.changeSummary).toMatchObject({ replace: 1 });
      expect(preview.stdout).toMatch(/secretEnv/);
      expect(preview.stdout + preview.stderr).not.toContain(TOKEN);
      expect(preview.stdout + preview.stderr).not.toContain(ROTATED);
      stack.workspace.envVars.VIC_TEST_TOKEN = TOKEN;
    },
    PULUMI_STEP_MS,
  );
});
