/**
 * What `pulumi preview` (examples/pulumi, real CLI) says about a stack to create: Pulumi calls only
 * `check` for a resource to create, so that is where the image's registry and the VCH's placement
 * are checked. A bad reference fails the preview on its property, naming the value, with nothing
 * made; values not known yet (the VCH's id, the image's digest) do not fail it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalWorkspace, type Stack } from '@pulumi/pulumi/automation';
import { retrieveFromContainer } from '../../src/vsphere/property-collector';
import type { VimClient } from '../../src/vsphere';
import { connectTestClient } from '../helpers/engine';
import { HELLO_IMAGE } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { connectionConfig, localBackend, poolNames, preparePulumiProjects, previewFailure } from './project';

const PULUMI_STEP_MS = 240_000;
const VCH = 'vch-preview-create';
const REGISTRY_USER = 'preview-user';
const REGISTRY_PASSWORD = 'preview-registry-pw-1f9c';
const WRONG_PASSWORD = 'wrong-registry-pw-7d2e';

/** A local port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('pulumi preview of resources to create checks what they refer to', () => {
  const sim = useSimulator();
  const registry = useRegistry({ basicAuth: { username: REGISTRY_USER, password: REGISTRY_PASSWORD } });
  let scratch: string;
  let stack: Stack;
  let outside: VimClient;
  let image: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'vic-pulumi-preview-create-'));
    const { options } = await localBackend(scratch, 'preview-create-passphrase');
    const [[project]] = await Promise.all([preparePulumiProjects(scratch, ['examples/pulumi']), registry().pushImage(HELLO_IMAGE, 'preview/hello:v1')]);
    image = `${registry().host}/preview/hello:v1`;
    outside = await connectTestClient(sim());
    stack = await LocalWorkspace.createStack({ stackName: 'preview-create', workDir: project }, options);
    await stack.setAllConfig({
      ...connectionConfig(sim()),
      vchName: { value: VCH },
      resourcePoolId: { value: '/DC0/host/DC0_C0' },
      datastoreId: { value: 'LocalDS_0' },
      image: { value: image },
      insecureRegistry: { value: 'true' },
      registryUser: { value: REGISTRY_USER },
      registryPassword: { value: REGISTRY_PASSWORD, secret: true },
    });
  }, 180_000);

  afterAll(async () => {
    await outside?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** The VCH's pools: MOID and parent. */
  async function vchPools(): Promise<{ moid: string; parent: string }[]> {
    const rows = await retrieveFromContainer<{ name: string; parent: { value: string } }>(outside, {
      container: outside.serviceContent.rootFolder,
      select: [{ type: 'ResourcePool', paths: ['name', 'parent'] }],
    });
    return rows.filter((r) => r.props.name === VCH).map((r) => ({ moid: r.ref.value, parent: r.props.parent.value }));
  }

  /** Nothing was made: no VCH pool, and the stack holds no resource. */
  async function expectNothingMade(): Promise<void> {
    expect(await poolNames(outside)).not.toContain(VCH);
    const state = await stack.exportStack();
    const resources = (state.deployment as { resources?: { type: string }[] }).resources ?? [];
    expect(resources.filter((r) => r.type.includes('dynamic'))).toEqual([]);
  }

  it(
    'GIVEN a new stack with valid args WHEN previewed THEN it succeeds: the VCH id and the digest, not known yet, fail nothing',
    async () => {
      expect(await previewFailure(stack)).toBe('');
      await expectNothingMade();
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN a new stack whose image tag the registry lacks WHEN previewed THEN it fails on property reference naming the tag, and nothing is made',
    async () => {
      await stack.setConfig('image', { value: `${registry().host}/preview/hello:gone` });
      try {
        const failure = await previewFailure(stack);
        expect(failure).toMatch(
          /property reference value \{[^}]*hello:gone\} has a problem: Image reference cannot be resolved: tag "gone" not found in repository "preview\/hello"/,
        );
        await expectNothingMade();
      } finally {
        await stack.setConfig('image', { value: image });
      }
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN a new stack whose registry password is wrong WHEN previewed THEN it fails naming registryAuth, never the password, and nothing is made',
    async () => {
      await stack.setConfig('registryPassword', { value: WRONG_PASSWORD, secret: true });
      try {
        const failure = await previewFailure(stack);
        expect(failure).toMatch(/registryAuth: Image reference cannot be resolved/);
        expect(failure).not.toContain(WRONG_PASSWORD);
        expect(failure).not.toContain(REGISTRY_PASSWORD);
        await expectNothingMade();
      } finally {
        await stack.setConfig('registryPassword', { value: REGISTRY_PASSWORD, secret: true });
      }
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN a new stack whose VCH names a datastore vSphere lacks WHEN previewed THEN it fails on property datastore naming it, and nothing is made',
    async () => {
      await stack.setConfig('datastoreId', { value: 'NoSuchDS' });
      try {
        const failure = await previewFailure(stack);
        expect(failure).toMatch(/property datastore value \{NoSuchDS\} has a problem: .*datastore "NoSuchDS" not found in datacenter "DC0"/);
        await expectNothingMade();
      } finally {
        await stack.setConfig('datastoreId', { value: 'LocalDS_0' });
      }
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN a new stack whose vSphere cannot be reached WHEN previewed THEN it fails saying so, as terraform plan does, and nothing is made',
    async () => {
      const server = `https://127.0.0.1:${await closedPort()}/sdk`;
      await stack.setConfig('vic:vsphereServer', { value: server });
      try {
        const failure = await previewFailure(stack);
        expect(failure).toContain(`cannot connect to vSphere at ${server} as ${sim().username}`);
      } finally {
        await stack.setConfig('vic:vsphereServer', { value: sim().url });
      }
      await expectNothingMade();
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN the stack up WHEN its VCH moves to another compute (forceNew) THEN preview and up replace it: checked again as a create, the old VCH still holding its pool, folder and store is no conflict',
    async () => {
      const first = await stack.up();
      const [before] = await vchPools();
      expect(before?.moid).toBe(first.outputs.vchId.value);
      await stack.setConfig('resourcePoolId', { value: '/DC0/host/DC0_H0' });
      try {
        const preview = await stack.preview();
        expect(preview.changeSummary).toMatchObject({ replace: 3 });
        const up = await stack.up();
        expect(up.summary.resourceChanges).toMatchObject({ replace: 3 });
        const after = await vchPools();
        expect(after).toEqual([{ moid: up.outputs.vchId.value, parent: expect.not.stringMatching(before.parent) }]);
      } finally {
        await stack.destroy();
      }
      expect(await poolNames(outside)).not.toContain(VCH);
    },
    PULUMI_STEP_MS * 3,
  );
});
