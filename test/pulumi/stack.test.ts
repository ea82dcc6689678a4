/**
 * examples/pulumi through the real `pulumi` CLI (Automation API, local file:// backend) against the
 * simulator and a real registry: up, an empty preview, a forceNew change that replaces, an in-place
 * update, drift made directly in vSphere seen by refresh, and a destroy that leaves nothing behind.
 * Secrets (vic:password, the registry password) never appear in plaintext in any state file.
 */
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalWorkspace, type ConfigMap, type LocalWorkspaceOptions, type Stack } from '@pulumi/pulumi/automation';
import { VimClient, updateResourcePool } from '../../src/vsphere';
import { retrieveFromContainer } from '../../src/vsphere/property-collector';
import { connectTestClient } from '../helpers/engine';
import { HELLO_IMAGE } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { connectionConfig, localBackend, preparePulumiProjects, simulatorPlacement } from './project';

// Distinctive secrets, so finding one in a state file cannot be a coincidence.
const VSPHERE_PASSWORD = 'vsphere-Pa55-e2e';
const REGISTRY_USER = 'puller';
const REGISTRY_PASSWORD = 'registry-Pa55-e2e';
const PULUMI_STEP_MS = 240_000;

interface VmRow {
  name: string;
  moid: string;
  uuid: string;
  power: string;
}

describe('pulumi up of examples/pulumi against the simulator', () => {
  const sim = useSimulator({ username: 'pulumi-e2e', password: VSPHERE_PASSWORD });
  const registry = useRegistry({ basicAuth: { username: REGISTRY_USER, password: REGISTRY_PASSWORD } });
  let scratch: string;
  let backend: string;
  let outside: VimClient;
  let stack: Stack;
  let importProject: string;
  let workspaceOptions: LocalWorkspaceOptions;
  let connection: ConfigMap;
  let placement: { resourcePoolId: string; datastoreId: string };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'vic-pulumi-e2e-'));
    ({ backend, options: workspaceOptions } = await localBackend(scratch, 'e2e-passphrase'));
    const [[project, importing]] = await Promise.all([
      preparePulumiProjects(scratch, ['examples/pulumi', 'test/pulumi/import-program']),
      registry().pushImage(HELLO_IMAGE, 'e2e/hello:v1'),
    ]);
    importProject = importing;
    outside = await connectTestClient(sim());
    placement = await simulatorPlacement(outside);
    stack = await LocalWorkspace.createStack({ stackName: 'e2e', workDir: project }, workspaceOptions);
    connection = connectionConfig(sim());
    await stack.setAllConfig({
      ...connection,
      resourcePoolId: { value: placement.resourcePoolId },
      datastoreId: { value: placement.datastoreId },
      image: { value: `${registry().host}/e2e/hello:v1` },
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

  async function vms(): Promise<VmRow[]> {
    const rows = await retrieveFromContainer<{ name: string; 'config.uuid': string; 'runtime.powerState': string }>(outside, {
      container: outside.serviceContent.rootFolder,
      select: [{ type: 'VirtualMachine', paths: ['name', 'config.uuid', 'runtime.powerState'] }],
    });
    return rows.map((r) => ({ name: r.props.name, moid: r.ref.value, uuid: r.props['config.uuid'], power: r.props['runtime.powerState'] }));
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

  /** Every file of the backend (checkpoints, backups, history) with the secrets found in plaintext. */
  async function plaintextSecrets(): Promise<string[]> {
    const leaks: string[] = [];
    for (const file of await stateFiles(backend)) {
      const text = await readFile(file, 'utf8');
      for (const secret of [sim().password, REGISTRY_PASSWORD])
        if (text.includes(secret)) leaks.push(`${file}: ${secret === REGISTRY_PASSWORD ? 'registry password' : 'vic:password'}`);
    }
    return leaks;
  }

  let firstMoid = '';
  let firstUuid = '';

  it(
    'GIVEN the example stack WHEN `pulumi up` runs THEN the VCH, the image and the container VM exist, and a preview right after shows no changes',
    async () => {
      const up = await stack.up();
      expect(up.summary.result).toBe('succeeded');
      expect(up.summary.resourceChanges).toMatchObject({ create: expect.any(Number) });
      const ids = up.outputs.containerIds.value as Record<string, string>;
      expect(up.outputs.vchId.value).toMatch(/^resgroup-/);
      expect(ids['web-1']).toMatch(/^[0-9a-f-]{36}$/);
      expect(up.outputs.imageDigest.value).toMatch(/^sha256:[0-9a-f]{64}$/);

      const web = (await vms()).filter((v) => v.name === 'web-1');
      expect(web).toEqual([expect.objectContaining({ uuid: ids['web-1'], power: 'poweredOn' })]);
      firstMoid = web[0].moid;
      firstUuid = web[0].uuid;
      expect(up.outputs.webMoid.value).toBe(firstMoid);
      expect(await pools('vch-web')).toEqual([{ moid: up.outputs.vchId.value, memoryLimit: 4096 }]);

      const preview = await stack.preview();
      expect(Object.keys(preview.changeSummary)).toEqual(['same']);
    },
    PULUMI_STEP_MS,
  );

  it('GIVEN the deployed stack WHEN its state files are read THEN vic:password and the registry password are ciphertext only', async () => {
    expect(await plaintextSecrets()).toEqual([]);
    // THEN both secrets are in the checkpoint, encrypted (so the check above is not vacuous): the
    // registry password in the image, vic:password among the dynamic provider's config.
    const checkpoint = await readFile(join(backend, '.pulumi/stacks/vic-example/e2e.json'), 'utf8');
    const encrypted = (name: string) =>
      new RegExp(`"${name}":\\s*\\{\\s*"4dabf18193072939515e22adb298388d":\\s*"1b47061264138c4ac30d75fd1eb44270",\\s*"ciphertext"`);
    expect(checkpoint).toMatch(encrypted('registryAuth'));
    expect(checkpoint).toMatch(encrypted('vic:password'));
  });

  it(
    'GIVEN a forceNew arg (command) changed WHEN previewed and applied THEN the container VM is replaced, delete before create, keeping its deterministic BIOS UUID',
    async () => {
      await stack.setConfig('command', { value: JSON.stringify(['/hello', 'again']) });
      const preview = await stack.preview({ diff: true });
      expect(preview.changeSummary).toMatchObject({ replace: 1 });
      expect(preview.changeSummary.update).toBeUndefined();
      const up = await stack.up();
      expect(up.summary.resourceChanges).toMatchObject({ replace: 1 });
      const web = (await vms()).filter((v) => v.name === 'web-1');
      expect(web).toHaveLength(1);
      expect(web[0].moid).not.toBe(firstMoid);
      expect(web[0].uuid).toBe(firstUuid);
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN an in-place arg (memoryLimitMb) changed WHEN previewed and applied THEN the VCH is updated, not replaced',
    async () => {
      await stack.setConfig('memoryLimitMb', { value: '2048' });
      const preview = await stack.preview();
      expect(preview.changeSummary).toMatchObject({ update: 1 });
      expect(preview.changeSummary.replace).toBeUndefined();
      const before = await pools('vch-web');
      const up = await stack.up();
      expect(up.summary.resourceChanges).toMatchObject({ update: 1 });
      expect(await pools('vch-web')).toEqual([{ moid: before[0].moid, memoryLimit: 2048 }]);
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN an existing VCH WHEN another stack declares it with the import option THEN args that differ are refused naming the difference (not the datacenter left to the default), and matching args adopt it without creating anything',
    async () => {
      const [pool] = await pools('vch-web');
      const adopting = await LocalWorkspace.createStack({ stackName: 'adopt', workDir: importProject }, workspaceOptions);
      await adopting.setAllConfig({
        ...connection,
        vchName: { value: 'vch-web' },
        resourcePoolId: { value: placement.resourcePoolId },
        // Import reads the datastore back by name; the datacenter left out is the default one, the
        // same object as the "DC0" the import reads: it matches.
        datastore: { value: 'LocalDS_0' },
        memoryLimitMb: { value: '1000' },
        importId: { value: pool.moid },
      });
      await expect(adopting.up()).rejects.toThrow(
        /cannot import virtual_container_host "resgroup-\d+": the program's args differ from vSphere:\s+memoryLimitMb: 2048 → 1000\s+Change the args/,
      );

      await adopting.setConfig('memoryLimitMb', { value: String(pool.memoryLimit) });
      const up = await adopting.up();
      expect(up.outputs.id.value).toBe(pool.moid);
      expect(await pools('vch-web')).toEqual([pool]);
      const preview = await adopting.preview();
      expect(Object.keys(preview.changeSummary)).toEqual(['same']);
      // The VCH belongs to the first stack: forget it here without deleting it.
      await adopting.workspace.removeStack('adopt', { force: true });
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN the VCH memory limit changed directly in vSphere WHEN `pulumi refresh` runs THEN it records the drift, and the next preview plans to undo it',
    async () => {
      const [pool] = await pools('vch-web');
      await updateResourcePool(outside, { type: 'ResourcePool', value: pool.moid }, { memoryAllocation: { limit: 1024 } });
      const refresh = await stack.refresh();
      expect(refresh.summary.resourceChanges).toMatchObject({ update: 1 });
      const state = await stack.exportStack();
      const vch = (state.deployment.resources as Array<{ type: string; outputs?: Record<string, unknown> }>).find((r) =>
        r.type.endsWith(':VirtualContainerHost'),
      );
      expect(vch?.outputs?.memoryLimitMb).toBe(1024);
      const preview = await stack.preview();
      expect(preview.changeSummary).toMatchObject({ update: 1 });
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN the tag moved in the registry WHEN previewed THEN the image is replaced, and the output says why (no arg of it changed)',
    async () => {
      await registry().pushImage({ ...HELLO_IMAGE, layers: [{ entries: [{ type: 'file', path: 'hello', content: 'moved\n', mode: 0o755 }] }] }, 'e2e/hello:v1');
      const preview = await stack.preview();
      expect(preview.changeSummary).toMatchObject({ replace: 2 });
      const said = preview.stdout.replace(/\s+/g, ' ');
      expect(said).toMatch(
        new RegExp(
          `image "${registry().host}/e2e/hello:v1" will be replaced: reference ${registry().host}/e2e/hello:v1 now points at sha256:[0-9a-f]{64} \\(was sha256:[0-9a-f]{64}\\)`,
        ),
      );
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN the registry down WHEN previewed and applied THEN the stored image is kept, and the output carries the warning that names the registry',
    async () => {
      await registry().stop();
      const host = registry().host;
      const preview = await stack.preview();
      expect(preview.changeSummary).toMatchObject({ update: 1 });
      const said = preview.stdout.replace(/\s+/g, ' ');
      expect(said).toContain(
        `warning: vic: image "${host}/e2e/hello:v1": reference: Registry unreachable: the stored image is kept: cannot reach registry ${host}`,
      );
      expect(said).toContain('pin the reference by digest');
      // Said once by the provider; Pulumi shows it as it comes and again under Diagnostics.
      expect(said.split('Registry unreachable').length - 1).toBe(2);
      // The update the preview planned (the VCH's drift, undone) goes through during the outage.
      const up = await stack.up();
      expect(up.summary.resourceChanges).toMatchObject({ update: 1 });
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN the stack WHEN `pulumi destroy` runs THEN no VM, pool or state resource is left, and no state file ever held a secret in plaintext',
    async () => {
      const destroy = await stack.destroy();
      expect(destroy.summary.result).toBe('succeeded');
      expect((await vms()).filter((v) => v.name === 'web-1')).toEqual([]);
      expect(await pools('vch-web')).toEqual([]);
      const state = await stack.exportStack();
      expect(state.deployment.resources ?? []).toEqual([]);
      expect(await plaintextSecrets()).toEqual([]);
    },
    PULUMI_STEP_MS,
  );
});
