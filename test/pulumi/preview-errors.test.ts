/**
 * What `pulumi preview` (examples/pulumi, real CLI) says when a change is refused: the resource as
 * the program names it (a container's name, an image's reference), never its id (a BIOS UUID, a
 * digest), which the user never wrote.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalWorkspace, type Stack } from '@pulumi/pulumi/automation';
import type { VimClient } from '../../src/vsphere';
import { connectTestClient } from '../helpers/engine';
import { HELLO_IMAGE } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { connectionConfig, localBackend, poolNames, preparePulumiProjects, previewFailure } from './project';

const PULUMI_STEP_MS = 240_000;

describe('pulumi preview errors name the resource as the program does', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  let scratch: string;
  let stack: Stack;
  let outside: VimClient;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'vic-pulumi-preview-'));
    const { options } = await localBackend(scratch, 'preview-passphrase');
    const [[project]] = await Promise.all([preparePulumiProjects(scratch, ['examples/pulumi']), registry().pushImage(HELLO_IMAGE, 'preview/hello:v1')]);
    outside = await connectTestClient(sim());
    stack = await LocalWorkspace.createStack({ stackName: 'preview', workDir: project }, options);
    await stack.setAllConfig({
      ...connectionConfig(sim()),
      vchName: { value: 'vch-preview' },
      resourcePoolId: { value: '/DC0/host/DC0_C0' },
      datastoreId: { value: 'LocalDS_0' },
      image: { value: `${registry().host}/preview/hello:v1` },
      insecureRegistry: { value: 'true' },
    });
  }, 180_000);

  afterAll(async () => {
    await outside?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it(
    'GIVEN the stack up WHEN the tag changes to one the registry does not have THEN the preview names the image by its reference, not its digest',
    async () => {
      await stack.up();
      await stack.setConfig('image', { value: `${registry().host}/preview/hello:gone` });
      const failure = await previewFailure(stack);
      expect(failure).toContain(`cannot plan image "${registry().host}/preview/hello:gone"`);
      expect(failure).not.toMatch(/cannot plan image "sha256:/);
      expect(failure).toMatch(/reference: Image reference cannot be resolved: tag "gone" not found in repository "preview\/hello"/);
      // Said once, without the stack the dynamic-provider server would echo on stderr.
      expect(failure).not.toMatch(/\n\s*at ProviderHost\./);
      expect(failure).not.toContain('Error: vic: cannot plan image');
      await stack.setConfig('image', { value: `${registry().host}/preview/hello:v1` });
      await stack.destroy();
      expect(await poolNames(outside)).not.toContain('vch-preview');
    },
    PULUMI_STEP_MS * 2,
  );
});
