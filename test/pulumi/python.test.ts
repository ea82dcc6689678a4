/**
 * examples/pulumi-python through the real `pulumi` CLI, the Python language host and the native
 * provider pulumi-resource-vic, against the simulator and a registry with basic auth: up, an empty
 * preview, an in-place update, a replace, a refresh that sees drift made in vSphere, destroy; the
 * registry password and vic:password never in plaintext in any state file.
 */
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalWorkspace, type Stack } from '@pulumi/pulumi/automation';
import { VimClient, updateResourcePool } from '../../src/vsphere';
import { retrieveFromContainer } from '../../src/vsphere/property-collector';
import { connectTestClient } from '../helpers/engine';
import { HELLO_IMAGE } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { copyProject, generatePythonSdk, nativeBackend } from './native';
import { connectionConfig, simulatorPlacement } from './project';

const VSPHERE_PASSWORD = 'vsphere-Py-Pa55-e2e';
const REGISTRY_USER = 'py-puller';
const REGISTRY_PASSWORD = 'registry-Py-Pa55-e2e';
const PULUMI_STEP_MS = 240_000;
const SECRET_SIG = /\{\s*"4dabf18193072939515e22adb298388d":\s*"1b47061264138c4ac30d75fd1eb44270",\s*"ciphertext"/;

describe('a Python program on the vic provider (examples/pulumi-python) against the simulator', () => {
  const sim = useSimulator({ username: 'pulumi-python', password: VSPHERE_PASSWORD });
  const registry = useRegistry({ basicAuth: { username: REGISTRY_USER, password: REGISTRY_PASSWORD } });
  let scratch: string;
  let backend: string;
  let outside: VimClient;
  let stack: Stack;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'vic-pulumi-python-'));
    const sdk = await generatePythonSdk(join(scratch, 'sdk'));
    const local = await nativeBackend(scratch, 'python-passphrase', { PYTHONPATH: sdk });
    backend = local.backend;
    const [project] = await Promise.all([copyProject(scratch, 'examples/pulumi-python'), registry().pushImage(HELLO_IMAGE, 'py/hello:v1')]);
    outside = await connectTestClient(sim());
    const placement = await simulatorPlacement(outside);
    stack = await LocalWorkspace.createStack({ stackName: 'py', workDir: project }, local.options);
    await stack.setAllConfig({
      ...connectionConfig(sim()),
      resourcePoolId: { value: placement.resourcePoolId },
      datastoreId: { value: placement.datastoreId },
      image: { value: `${registry().host}/py/hello:v1` },
      insecureRegistry: { value: 'true' },
      registryUser: { value: REGISTRY_USER },
      registryPassword: { value: REGISTRY_PASSWORD, secret: true },
      memoryLimitMb: { value: '4096' },
    });
  }, 180_000);

  afterAll(async () => {
    await outside?.close();
    if (scratch && !process.env.VIC_KEEP_SCRATCH) await rm(scratch, { recursive: true, force: true });
  });

  async function vms(name: string): Promise<Array<{ moid: string; uuid: string; power: string }>> {
    const rows = await retrieveFromContainer<{ name: string; 'config.uuid': string; 'runtime.powerState': string }>(outside, {
      container: outside.serviceContent.rootFolder,
      select: [{ type: 'VirtualMachine', paths: ['name', 'config.uuid', 'runtime.powerState'] }],
    });
    return rows.filter((r) => r.props.name === name).map((r) => ({ moid: r.ref.value, uuid: r.props['config.uuid'], power: r.props['runtime.powerState'] }));
  }

  async function pools(name: string): Promise<Array<{ moid: string; memoryLimit: number }>> {
    const rows = await retrieveFromContainer<{ name: string; 'config.memoryAllocation.limit': number }>(outside, {
      container: outside.serviceContent.rootFolder,
      select: [{ type: 'ResourcePool', paths: ['name', 'config.memoryAllocation.limit'] }],
    });
    return rows.filter((r) => r.props.name === name).map((r) => ({ moid: r.ref.value, memoryLimit: Number(r.props['config.memoryAllocation.limit']) }));
  }

  async function stateFiles(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const entry of await readdir(dir)) {
      const p = join(dir, entry);
      if ((await stat(p)).isDirectory()) out.push(...(await stateFiles(p)));
      else out.push(p);
    }
    return out;
  }

  async function plaintextSecrets(): Promise<string[]> {
    const leaks: string[] = [];
    for (const file of await stateFiles(backend)) {
      const text = await readFile(file, 'utf8');
      if (text.includes(REGISTRY_PASSWORD)) leaks.push(`${file}: registry password`);
      if (text.includes(VSPHERE_PASSWORD)) leaks.push(`${file}: vic:password`);
    }
    return leaks;
  }

  let firstMoid = '';
  let firstUuid = '';
  it(
    'GIVEN a new stack whose image tag the registry lacks WHEN previewed THEN the preview fails on reference, naming the tag, and nothing is created',
    async () => {
      await stack.setConfig('image', { value: `${registry().host}/py/hello:gone` });
      try {
        const failed = await stack.preview().then(
          () => '',
          (err: unknown) => String(err instanceof Error ? err.message : err),
        );
        expect(failed).toMatch(/reference/);
        expect(failed).toContain('tag "gone" not found');
        expect(await pools('vch-py')).toEqual([]);
      } finally {
        await stack.setConfig('image', { value: `${registry().host}/py/hello:v1` });
      }
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN the Python example WHEN `pulumi up` runs THEN the VCH, the image and the container VM exist, typed as vic:index:*, and a preview right after shows no changes',
    async () => {
      const up = await stack.up();
      expect(up.summary.result).toBe('succeeded');
      expect(up.summary.resourceChanges).toMatchObject({ create: 4 }); // the stack, VCH, image, container VM
      expect(up.outputs.vchId.value).toMatch(/^resgroup-/);
      expect(up.outputs.imageDigest.value).toMatch(/^sha256:[0-9a-f]{64}$/);
      const web = await vms('web-1');
      expect(web).toEqual([expect.objectContaining({ uuid: up.outputs.webId.value, moid: up.outputs.webMoid.value, power: 'poweredOn' })]);
      firstMoid = web[0].moid;
      firstUuid = web[0].uuid;
      expect(await pools('vch-py')).toEqual([{ moid: up.outputs.vchId.value, memoryLimit: 4096 }]);

      const state = await stack.exportStack();
      const types = (state.deployment.resources as Array<{ type: string }>).map((r) => r.type).sort();
      expect(types).toEqual(['pulumi:providers:vic', 'pulumi:pulumi:Stack', 'vic:index:ContainerVm', 'vic:index:Image', 'vic:index:VirtualContainerHost']);

      const preview = await stack.preview();
      expect(Object.keys(preview.changeSummary)).toEqual(['same']);
    },
    PULUMI_STEP_MS,
  );

  it('GIVEN the deployed stack WHEN its state files are read THEN the registry password and vic:password are ciphertext only', async () => {
    expect(await plaintextSecrets()).toEqual([]);
    // THEN the registry credentials are in the checkpoint as a secret, in the inputs and the outputs
    // of the image (so the check above is not vacuous). The file, not `stack export`, which decrypts.
    const checkpoint = JSON.parse(await readFile(join(backend, '.pulumi/stacks/vic-example-python/py.json'), 'utf8')) as {
      checkpoint: { latest: { resources: Array<{ type: string; inputs: Record<string, unknown>; outputs: Record<string, unknown> }> } };
    };
    const image = checkpoint.checkpoint.latest.resources.find((r) => r.type === 'vic:index:Image');
    expect(JSON.stringify(image?.inputs.registryAuth)).toMatch(SECRET_SIG);
    expect(JSON.stringify(image?.outputs.registryAuth)).toMatch(SECRET_SIG);
  });

  it(
    'GIVEN an in-place arg (memoryLimitMb) changed WHEN previewed and applied THEN the VCH is updated, not replaced',
    async () => {
      await stack.setConfig('memoryLimitMb', { value: '2048' });
      const preview = await stack.preview();
      expect(preview.changeSummary).toMatchObject({ update: 1 });
      expect(preview.changeSummary.replace).toBeUndefined();
      const [before] = await pools('vch-py');
      const up = await stack.up();
      expect(up.summary.resourceChanges).toMatchObject({ update: 1 });
      expect(await pools('vch-py')).toEqual([{ moid: before.moid, memoryLimit: 2048 }]);
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN a forceNew arg (command) changed WHEN previewed and applied THEN the container VM is replaced, delete before create, keeping its BIOS UUID',
    async () => {
      await stack.setConfig('command', { value: JSON.stringify(['/hello', 'again']) });
      const preview = await stack.preview();
      expect(preview.changeSummary).toMatchObject({ replace: 1 });
      expect(preview.changeSummary.update).toBeUndefined();
      const up = await stack.up();
      expect(up.summary.resourceChanges).toMatchObject({ replace: 1 });
      const web = await vms('web-1');
      expect(web).toHaveLength(1);
      expect(web[0].moid).not.toBe(firstMoid);
      expect(web[0].uuid).toBe(firstUuid);
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN the VCH memory limit changed directly in vSphere WHEN `pulumi refresh` runs THEN it records the drift, and the next preview plans to undo it',
    async () => {
      const [pool] = await pools('vch-py');
      await updateResourcePool(outside, { type: 'ResourcePool', value: pool.moid }, { memoryAllocation: { limit: 1024 } });
      const refresh = await stack.refresh();
      expect(refresh.summary.resourceChanges).toMatchObject({ update: 1 });
      const state = await stack.exportStack();
      const vch = (state.deployment.resources as Array<{ type: string; outputs?: Record<string, unknown> }>).find(
        (r) => r.type === 'vic:index:VirtualContainerHost',
      );
      expect(vch?.outputs?.memoryLimitMb).toBe(1024);
      const preview = await stack.preview();
      expect(preview.changeSummary).toMatchObject({ update: 1 });
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN the stack WHEN `pulumi destroy` runs THEN no VM or pool is left, and no state file ever held a secret in plaintext',
    async () => {
      const destroy = await stack.destroy();
      expect(destroy.summary.result).toBe('succeeded');
      expect(await vms('web-1')).toEqual([]);
      expect(await pools('vch-py')).toEqual([]);
      const state = await stack.exportStack();
      expect(state.deployment.resources ?? []).toEqual([]);
      expect(await plaintextSecrets()).toEqual([]);
    },
    PULUMI_STEP_MS,
  );
});
