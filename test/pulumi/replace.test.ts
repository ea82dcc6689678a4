/**
 * Replacements under the same vSphere identity through the real `pulumi` CLI (Automation API, local
 * backend), the simulator and a real registry. `pulumi up --replace` never asks the provider how to
 * order the replacement: it creates the new resource first, which finds the object the old one holds
 * (a volume's name, an image's digest), then deletes the old one. That delete must leave the object
 * to its replacement, with a warning; a container VM (its BIOS UUID) and a VCH (its pool's name),
 * which cannot exist twice, are refused saying what to do, and doing it (deleteBeforeReplace) works.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalWorkspace, type Stack } from '@pulumi/pulumi/automation';
import type { Engine } from '../../src/engine';
import type { VimClient } from '../../src/vsphere';
import { connectTestClient, connectTestEngine } from '../helpers/engine';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { connectionConfig, localBackend, preparePulumiProjects, simulatorPlacement, type LocalBackend } from './project';

const PULUMI_STEP_MS = 240_000;

describe('pulumi: replacements under the same identity', () => {
  const sim = useSimulator({ username: 'pulumi-replace', password: 'vsphere-Replace-P4ss' });
  const registry = useRegistry();
  let scratch: string;
  let outside: VimClient;
  let engine: Engine;
  let stack: Stack;
  let options: LocalBackend['options'];

  const urnOf = async (type: string, name: string): Promise<string> => {
    const resources = (await stack.exportStack()).deployment.resources as { urn: string; type: string }[];
    const found = resources.find((r) => r.type.endsWith(`vic:${type}`) && r.urn.endsWith(`::${name}`));
    if (!found) throw new Error(`no ${type} "${name}" in the stack`);
    return found.urn;
  };
  /** The stack's state of `type` `name`, read again from vSphere: null when its object is gone. */
  const readBack = async (type: 'volume' | 'image', pulumiType: string, name: string) => {
    const resources = (await stack.exportStack()).deployment.resources as {
      urn: string;
      type: string;
      id: string;
      outputs: Record<string, string | undefined>;
    }[];
    const r = resources.find((x) => x.type.endsWith(`vic:${pulumiType}`) && x.urn.endsWith(`::${name}`));
    if (!r) throw new Error(`no ${pulumiType} "${name}" in the stack`);
    const state = {
      id: r.id,
      vch_id: String(r.outputs.vchId),
      name: r.outputs.name ?? null,
      disk_path: r.outputs.diskPath ?? null,
      datastore: r.outputs.datastore ?? null,
    };
    const [read] = await engine.read([{ type, state }]);
    return read;
  };
  const expectConverged = async () => {
    const refreshed = await stack.refresh();
    expect(Object.keys(refreshed.summary.resourceChanges ?? {})).toEqual(['same']);
    const again = await stack.preview();
    expect(Object.keys(again.changeSummary)).toEqual(['same']);
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'vic-pulumi-replace-'));
    ({ options } = await localBackend(scratch, 'replace-passphrase'));
    const [project] = await preparePulumiProjects(scratch, ['test/pulumi/replace-program']);
    await registry().pushImage(
      { layers: [{ entries: [{ type: 'file', path: 'version', content: 'one\n' }] }], config: { Cmd: ['/bin/true'] } },
      'replace/app:v1',
    );
    outside = await connectTestClient(sim());
    engine = await connectTestEngine(sim());
    const { resourcePoolId, datastoreId } = await simulatorPlacement(outside);
    stack = await LocalWorkspace.createStack({ stackName: 'replace', workDir: project }, options);
    await stack.setAllConfig({
      ...connectionConfig(sim()),
      resourcePoolId: { value: resourcePoolId },
      datastoreId: { value: datastoreId },
      image: { value: `${registry().host}/replace/app:v1` },
    });
    await stack.up();
  }, 180_000);

  afterAll(async () => {
    await engine?.close();
    await outside?.close();
    if (scratch && !process.env.VIC_KEEP_SCRATCH) await rm(scratch, { recursive: true, force: true });
  });

  it.each<[string, 'volume' | 'image', string, string]>([
    ['a volume', 'volume', 'Volume', 'data'],
    ['an image a container VM uses', 'image', 'Image', 'app'],
  ])(
    'GIVEN %s WHEN `pulumi up --replace` THEN the replacement is made first, the old delete keeps the object it holds with a warning, and a refresh finds it',
    async (_label, type, pulumiType, name) => {
      const before = await readBack(type, pulumiType, name);
      expect(before).not.toBeNull();
      let output = '';
      const up = await stack.up({ replace: [await urnOf(pulumiType, name)], onOutput: (o) => (output += o) });
      expect(up.summary.resourceChanges).toMatchObject({ replace: 1 });
      expect(output.replace(/\s+/g, ' ')).toContain(`${type} "${type === 'volume' ? name : String(before?.id)}" kept: its replacement is the same object`);
      const after = await readBack(type, pulumiType, name);
      expect(after).not.toBeNull();
      expect(after?.id).toBe(before?.id);
      await expectConverged();
    },
    PULUMI_STEP_MS * 2,
  );

  it(
    'GIVEN another stack WHEN it declares a volume of the same name in the VCH THEN its create is refused, naming the import, and the first stack keeps its volume',
    async () => {
      const before = await readBack('volume', 'Volume', 'data');
      const other = await LocalWorkspace.createStack({ stackName: 'replace-other', workDir: stack.workspace.workDir }, options);
      try {
        await other.setAllConfig({ ...connectionConfig(sim()), vchId: { value: String((await stack.outputs()).vchId.value) } });
        await expect(other.up()).rejects.toThrow(
          /Volume held by another resource: .*the resource option import: '\[LocalDS_0\] [^']*\/volumes\/data\/data\.vmdk', or pulumi import with that id/s,
        );
        expect((await other.exportStack()).deployment.resources ?? []).not.toContainEqual(expect.objectContaining({ type: expect.stringMatching(/Volume$/) }));
      } finally {
        await other.workspace.removeStack('replace-other', { force: true });
      }
      expect(await readBack('volume', 'Volume', 'data')).toEqual(before);
      await expectConverged();
    },
    PULUMI_STEP_MS,
  );

  it.each<[string, string, string, RegExp]>([
    ['a container VM', 'ContainerVm', 'web', /Container VM held by another resource: .*deleteBeforeReplace/s],
    ['a VCH', 'VirtualContainerHost', 'replace', /VCH managed elsewhere: .*`pulumi up --replace`.*deleteBeforeReplace/s],
  ])(
    'GIVEN %s WHEN `pulumi up --replace` THEN the create of the replacement is refused, saying to replace it delete-first, and nothing changes',
    async (_label, pulumiType, name, refusal) => {
      const before = await stack.outputs();
      await expect(stack.up({ replace: [await urnOf(pulumiType, name)] })).rejects.toThrow(refusal);
      const after = await stack.outputs();
      expect([after.webMoid.value, after.vchId.value]).toEqual([before.webMoid.value, before.vchId.value]);
      await expectConverged();
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN the deleteBeforeReplace option the refusals advise WHEN `pulumi up --replace` of the VCH and of the container VM THEN each is destroyed first and made again, and a refresh finds no drift',
    async () => {
      await stack.setConfig('deleteFirst', { value: 'true' });
      try {
        await stack.up();
        const before = await stack.outputs();
        const vch = await stack.up({ replace: [await urnOf('VirtualContainerHost', 'replace')] });
        expect(vch.summary.resourceChanges?.replace).toBeGreaterThanOrEqual(1);
        const after = await stack.outputs();
        expect(after.vchId.value).not.toBe(before.vchId.value);
        const web = await stack.up({ replace: [await urnOf('ContainerVm', 'web')] });
        expect(web.summary.resourceChanges).toMatchObject({ replace: 1 });
        expect((await stack.outputs()).webMoid.value).not.toBe(after.webMoid.value);
        await expectConverged();
      } finally {
        await stack.removeConfig('deleteFirst');
      }
    },
    PULUMI_STEP_MS * 2,
  );
});
