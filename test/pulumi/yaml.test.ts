/**
 * examples/pulumi-yaml through the real `pulumi` CLI, Pulumi YAML's language host and the native
 * provider pulumi-resource-vic, against the simulator: up, an empty preview, `pulumi import` of a
 * container VM made outside Pulumi (the generated code, added to the program, previews with no
 * change), a refresh after a container VM was deleted in vSphere, and a destroy that leaves nothing
 * behind.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalWorkspace, type Stack } from '@pulumi/pulumi/automation';
import { parseDocument, parse } from 'yaml';
import type { Engine } from '../../src/engine';
import { VimClient, destroyVm, powerOffVm } from '../../src/vsphere';
import { retrieveFromContainer } from '../../src/vsphere/property-collector';
import { applied, connectTestClient, connectTestEngine } from '../helpers/engine';
import { HELLO_IMAGE } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { copyProject, nativeBackend, pulumiCli, type NativeBackend } from './native';
import { connectionConfig, poolNames, simulatorPlacement } from './project';

const PULUMI_STEP_MS = 240_000;

describe('a Pulumi YAML program on the vic provider (examples/pulumi-yaml) against the simulator', () => {
  const sim = useSimulator({ username: 'pulumi-yaml', password: 'pulumi-Yaml-Pa55' });
  const registry = useRegistry();
  let scratch: string;
  let local: NativeBackend;
  let project: string;
  let outside: VimClient;
  let engine: Engine;
  let stack: Stack;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'vic-pulumi-yaml-'));
    local = await nativeBackend(scratch, 'yaml-passphrase');
    [project] = await Promise.all([copyProject(scratch, 'examples/pulumi-yaml'), registry().pushImage(HELLO_IMAGE, 'yaml/hello:v1')]);
    outside = await connectTestClient(sim());
    engine = await connectTestEngine(sim());
    const placement = await simulatorPlacement(outside);
    stack = await LocalWorkspace.createStack({ stackName: 'yaml', workDir: project }, local.options);
    await stack.setAllConfig({
      ...connectionConfig(sim()),
      resourcePoolId: { value: placement.resourcePoolId },
      datastoreId: { value: placement.datastoreId },
      image: { value: `${registry().host}/yaml/hello:v1` },
      insecureRegistry: { value: 'true' },
    });
  }, 180_000);

  afterAll(async () => {
    await engine?.close();
    await outside?.close();
    if (scratch && !process.env.VIC_KEEP_SCRATCH) await rm(scratch, { recursive: true, force: true });
  });

  async function vms(): Promise<Array<{ name: string; moid: string; uuid: string; power: string }>> {
    const rows = await retrieveFromContainer<{ name: string; 'config.uuid': string; 'runtime.powerState': string }>(outside, {
      container: outside.serviceContent.rootFolder,
      select: [{ type: 'VirtualMachine', paths: ['name', 'config.uuid', 'runtime.powerState'] }],
    });
    return rows.map((r) => ({ name: r.props.name, moid: r.ref.value, uuid: r.props['config.uuid'], power: r.props['runtime.powerState'] }));
  }

  let vchId = '';
  let imageId = '';

  it(
    'GIVEN the YAML example WHEN `pulumi up` runs THEN the VCH, the image and the container VM exist, and a preview right after shows no changes',
    async () => {
      const up = await stack.up();
      expect(up.summary.result).toBe('succeeded');
      expect(up.summary.resourceChanges).toMatchObject({ create: 4 });
      vchId = up.outputs.vchId.value as string;
      imageId = up.outputs.imageId.value as string;
      expect(vchId).toMatch(/^resgroup-/);
      expect((await vms()).filter((v) => v.name === 'web-yaml')).toEqual([
        expect.objectContaining({ uuid: up.outputs.webId.value, moid: up.outputs.webMoid.value, power: 'poweredOn' }),
      ]);
      const preview = await stack.preview();
      expect(Object.keys(preview.changeSummary)).toEqual(['same']);
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN labels on the container VM (updated in place) WHEN the replaceOnChanges option names them and they change THEN the native provider reports labels as the changed property and `pulumi up` replaces the VM',
    async () => {
      const file = join(project, 'Pulumi.yaml');
      const program = parseDocument(await readFile(file, 'utf8'));
      program.setIn(['resources', 'web', 'properties', 'labels'], program.createNode({ tier: 'one' }));
      await writeFile(file, program.toString());
      const labelled = await stack.up();
      expect(labelled.summary.resourceChanges).toMatchObject({ update: 1 });
      const [before] = (await vms()).filter((v) => v.name === 'web-yaml');
      expect(before.moid).toBe(labelled.outputs.webMoid.value);

      program.setIn(['resources', 'web', 'options'], program.createNode({ replaceOnChanges: ['labels'] }));
      program.setIn(['resources', 'web', 'properties', 'labels'], program.createNode({ tier: 'two' }));
      await writeFile(file, program.toString());
      const steps: Array<{ op: string; keys?: string[]; diffs?: string[] }> = [];
      const preview = await stack.preview({
        onEvent: ({ resourcePreEvent: pre }) => {
          if (pre?.metadata.type === 'vic:index:ContainerVm') steps.push({ op: pre.metadata.op, keys: pre.metadata.keys, diffs: pre.metadata.diffs });
        },
      });
      expect(preview.changeSummary).toMatchObject({ replace: 1 });
      expect(steps).toContainEqual({ op: 'replace', keys: ['labels'], diffs: ['labels'] });
      const up = await stack.up();
      expect(up.summary.resourceChanges).toMatchObject({ replace: 1 });
      const after = (await vms()).filter((v) => v.name === 'web-yaml');
      expect(after).toEqual([expect.objectContaining({ moid: up.outputs.webMoid.value, uuid: before.uuid })]);
      expect(after[0].moid).not.toBe(before.moid);
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN a container VM made outside Pulumi WHEN `pulumi import` takes it by its MOID THEN it generates YAML for it, and with that code in the program a preview shows no changes',
    async () => {
      const made = await applied(
        engine,
        await engine.plan('container_vm', null, { vch_id: vchId, image_id: imageId, name: 'outside-1', memory_mb: 512, env: { MODE: 'imported' } }),
      );
      const moid = String(made.moid);

      const out = join(scratch, 'imported.yaml');
      await pulumiCli(project, local.env, ['import', 'vic:index:ContainerVm', 'outside', moid, '--stack', 'yaml', '--yes', '--protect=false', '--out', out]);
      const generated = await readFile(out, 'utf8');
      const resource = (parse(generated) as { resources: Record<string, { type: string; properties: Record<string, unknown> }> }).resources.outside;
      // Pulumi YAML writes the short form of an index-module token.
      expect(['vic:ContainerVm', 'vic:index:ContainerVm']).toContain(resource.type);
      expect(resource.properties).toMatchObject({ name: 'outside-1', vchId, imageId, memoryMb: 512, env: { MODE: 'imported' } });

      const state = await stack.exportStack();
      const imported = (state.deployment.resources as Array<{ type: string; id?: string; outputs?: Record<string, unknown> }>).find(
        (r) => r.type === 'vic:index:ContainerVm' && r.outputs?.name === 'outside-1',
      );
      expect(imported?.id).toBe(made.id);

      // The program takes the generated resource as is.
      const program = parseDocument(await readFile(join(project, 'Pulumi.yaml'), 'utf8'));
      program.setIn(['resources', 'outside'], program.createNode(resource));
      await writeFile(join(project, 'Pulumi.yaml'), program.toString());
      const preview = await stack.preview();
      expect(Object.keys(preview.changeSummary)).toEqual(['same']);
      expect((await vms()).filter((v) => v.name === 'outside-1')).toEqual([expect.objectContaining({ moid, uuid: made.id })]);

      // The generated code holds the VCH and image ids as literals, so Pulumi knows no order among
      // them: refer to the resources instead, as a user would, and an up records the dependencies
      // (nothing changes in vSphere), so the destroy below deletes the VM before its image.
      program.setIn(['resources', 'outside', 'properties', 'vchId'], '${host.id}');
      program.setIn(['resources', 'outside', 'properties', 'imageId'], '${hello.id}');
      await writeFile(join(project, 'Pulumi.yaml'), program.toString());
      const up = await stack.up();
      expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(['same']);
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN a container VM of the stack deleted directly in vSphere WHEN `pulumi refresh` runs THEN it leaves the state, and the next preview plans to create it again',
    async () => {
      const [web] = (await vms()).filter((v) => v.name === 'web-yaml');
      const vm = { type: 'VirtualMachine', value: web.moid };
      await powerOffVm(outside, vm);
      await destroyVm(outside, vm);
      const refresh = await stack.refresh();
      expect(refresh.summary.resourceChanges).toMatchObject({ delete: 1 });
      const state = await stack.exportStack();
      const names = (state.deployment.resources as Array<{ type: string; outputs?: Record<string, unknown> }>)
        .filter((r) => r.type === 'vic:index:ContainerVm')
        .map((r) => r.outputs?.name);
      expect(names).toEqual(['outside-1']);
      const preview = await stack.preview();
      expect(preview.changeSummary).toMatchObject({ create: 1 });
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN the stack WHEN `pulumi destroy` runs THEN no container VM (imported or not) and no VCH pool is left',
    async () => {
      const destroy = await stack.destroy();
      expect(destroy.summary.result).toBe('succeeded');
      expect((await vms()).filter((v) => ['web-yaml', 'outside-1'].includes(v.name))).toEqual([]);
      expect(await poolNames(outside)).not.toContain('vch-yaml');
      const state = await stack.exportStack();
      expect(state.deployment.resources ?? []).toEqual([]);
    },
    PULUMI_STEP_MS,
  );
});
