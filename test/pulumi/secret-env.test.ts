/**
 * secretEnv through the real `pulumi` CLI (Automation API, local file:// backend) against the
 * simulator: given as a plain string, the value still becomes a secret output, no state file
 * (checkpoint, backups, history) holds it in plaintext, and neither up nor a replacing preview
 * prints it.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { LocalWorkspace, PulumiCommand, type Stack } from '@pulumi/pulumi/automation';
import { findPeer } from '../../src/sim/peers';
import { retrieveFromContainer } from '../../src/vsphere/property-collector';
import { connectTestClient } from '../helpers/engine';
import { writeOciLayout } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { preparePulumiProjects, pulumiSdkDir } from './project';

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
    // A missing CLI fails here, naming the install command (never a skip).
    const pulumi = findPeer('pulumi');
    const languageHost = findPeer('pulumi-language-nodejs');
    scratch = await mkdtemp(join(tmpdir(), 'vic-pulumi-secret-'));
    backend = join(scratch, 'state');
    await mkdir(backend);
    const [[project], layout] = await Promise.all([
      preparePulumiProjects(scratch, ['test/pulumi/secret-env-program']),
      writeOciLayout(join(scratch, 'layout'), 'v1', [{ layers: [{ entries: [{ type: 'file', path: 'hello', content: 'hi\n' }] }], config: { Cmd: ['/hello'] } }]),
    ]);
    await registry().push(layout.dir, 'v1', 'secret/hello:v1');

    const outside = await connectTestClient(sim());
    let placement: { resourcePoolId?: string; datastoreId?: string };
    try {
      const clusters = await retrieveFromContainer<{ name: string; resourcePool: { value: string } }>(outside, {
        container: outside.serviceContent.rootFolder,
        select: [{ type: 'ClusterComputeResource', paths: ['name', 'resourcePool'] }],
      });
      const datastores = await retrieveFromContainer<{ name: string }>(outside, { container: outside.serviceContent.rootFolder, select: [{ type: 'Datastore', paths: ['name'] }] });
      placement = { resourcePoolId: clusters.find((c) => c.props.name === 'DC0_C0')?.props.resourcePool.value, datastoreId: datastores.find((d) => d.props.name === 'LocalDS_0')?.ref.value };
    } finally {
      await outside.close();
    }
    if (!placement.resourcePoolId || !placement.datastoreId) throw new Error('simulator inventory lacks DC0_C0 or LocalDS_0');

    const pulumiCommand = await PulumiCommand.get({ root: dirname(dirname(pulumi)), skipVersionCheck: true });
    stack = await LocalWorkspace.createStack(
      { stackName: 'secret', workDir: project },
      {
        pulumiCommand,
        pulumiHome: join(scratch, 'home'),
        envVars: {
          VIC_TEST_TOKEN: TOKEN,
          PATH: [dirname(pulumi), dirname(languageHost), pulumiSdkDir(), process.env.PATH ?? ''].join(delimiter),
          PULUMI_BACKEND_URL: `file://${backend}`,
          PULUMI_CONFIG_PASSPHRASE: 'secret-env-passphrase',
          PULUMI_SKIP_UPDATE_CHECK: 'true',
          PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
        },
      },
    );
    const s = sim();
    if (!s.thumbprint) throw new Error('the simulator serves no TLS thumbprint; the test pins it as a user would');
    await stack.setAllConfig({
      'vic:vsphereServer': { value: s.url },
      'vic:user': { value: s.username },
      'vic:password': { value: s.password, secret: true },
      'vic:thumbprint': { value: s.thumbprint },
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
