/**
 * The safety round through the real `pulumi` CLI (Automation API, local backend), the simulator and
 * a real registry: a tag that moves converges in one `pulumi up` (the image is replaced new-first,
 * its container VM moves, the old image is deleted last), and two container VMs with one name in a
 * VCH, or two images with one reference, are refused by `pulumi preview`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalWorkspace, type Stack } from '@pulumi/pulumi/automation';
import { VimClient, moRef } from '../../src/vsphere';
import { retrieveFromContainer, retrieveObject } from '../../src/vsphere/property-collector';
import { extraConfigMap } from '../../src/resources/snapshot';
import { connectTestClient, connectTestEngine } from '../helpers/engine';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { connectionConfig, localBackend, preparePulumiProjects, simulatorPlacement } from './project';

const PULUMI_STEP_MS = 240_000;

describe('pulumi: moved tags and duplicate names', () => {
  const sim = useSimulator({ username: 'pulumi-safety', password: 'vsphere-Safety-P4ss' });
  const registry = useRegistry();
  let scratch: string;
  let outside: VimClient;
  let stack: Stack;

  async function pushApp(version: string): Promise<void> {
    await registry().pushImage(
      { layers: [{ entries: [{ type: 'file', path: 'version', content: `${version}\n` }] }], config: { Cmd: ['/bin/true'] } },
      'safety/app:v1',
    );
  }

  async function vmNames(): Promise<string[]> {
    const rows = await retrieveFromContainer<{ name: string }>(outside, {
      container: outside.serviceContent.rootFolder,
      select: [{ type: 'VirtualMachine', paths: ['name'] }],
    });
    return rows.map((r) => r.props.name);
  }

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'vic-pulumi-safety-'));
    const { options } = await localBackend(scratch, 'safety-passphrase');
    const [project] = await preparePulumiProjects(scratch, ['test/pulumi/safety-program']);
    await pushApp('one');
    outside = await connectTestClient(sim());
    const { resourcePoolId, datastoreId } = await simulatorPlacement(outside);
    stack = await LocalWorkspace.createStack({ stackName: 'safety', workDir: project }, options);
    await stack.setAllConfig({
      ...connectionConfig(sim()),
      resourcePoolId: { value: resourcePoolId },
      datastoreId: { value: datastoreId },
      image: { value: `${registry().host}/safety/app:v1` },
    });
  }, 180_000);

  afterAll(async () => {
    await outside?.close();
    if (scratch && !process.env.VIC_KEEP_SCRATCH) await rm(scratch, { recursive: true, force: true });
  });

  it(
    'GIVEN an image and a container VM on tag v1 WHEN a new image is pushed to v1 THEN `pulumi up` replaces both on the new digest, deletes the old image last, and the next preview has no changes',
    async () => {
      const first = await stack.up();
      const oldDigest = String(first.outputs.imageDigest.value);
      // The old image's state as Pulumi stored it: where it is, for the read below that finds it gone.
      const [oldImage] = (await stack.exportStack()).deployment.resources.filter((r: { type: string }) => r.type.endsWith('vic:Image'));
      const oldDiskPath = String(oldImage.outputs.diskPath);
      await pushApp('two');

      const preview = await stack.preview();
      expect(preview.changeSummary).toMatchObject({ replace: 2 });
      const steps: string[] = [];
      const up = await stack.up({
        onEvent: (e) => e.resOutputsEvent && steps.push(`${e.resOutputsEvent.metadata.op} ${e.resOutputsEvent.metadata.urn.split('::').pop()}`),
      });
      expect(up.summary.resourceChanges).toMatchObject({ replace: 2 });
      // The image: the new one first, the old one after the VM was replaced. The VM: delete first (its BIOS UUID comes from its name).
      const at = (step: string) => steps.indexOf(step);
      expect(steps.filter((st) => / (app|web)$/.test(st))).toEqual(
        expect.arrayContaining(['create-replacement app', 'delete-replaced app', 'create-replacement web', 'delete-replaced web']),
      );
      expect(at('create-replacement app')).toBeLessThan(at('create-replacement web'));
      expect(at('delete-replaced web')).toBeLessThan(at('create-replacement web'));
      expect(at('delete-replaced app')).toBeGreaterThan(at('create-replacement web'));
      const digest = String(up.outputs.imageDigest.value);
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(digest).not.toBe(oldDigest);
      expect(up.outputs.webImageId.value).toBe(digest);
      const vm = await retrieveObject<Record<string, unknown>>(outside, moRef('VirtualMachine', String(up.outputs.webMoid.value)), ['config.extraConfig']);
      expect(extraConfigMap(vm['config.extraConfig']).get('vic.image')).toBe(digest);
      // The new image was made first (create-before-destroy); the old one went once the VM had moved.
      const engine = await connectTestEngine(sim());
      try {
        const [vch] = (await stack.exportStack()).deployment.resources.filter((r: { type: string }) => r.type.endsWith('vic:VirtualContainerHost'));
        const [old] = await engine.read([{ type: 'image', state: { id: oldDigest, vch_id: String(vch.id), disk_path: oldDiskPath } }]);
        expect(old).toBeNull();
      } finally {
        await engine.close();
      }
      const again = await stack.preview();
      expect(Object.keys(again.changeSummary)).toEqual(['same']);
    },
    PULUMI_STEP_MS * 2,
  );

  it(
    'GIVEN two container VMs with one name in the VCH WHEN previewed THEN the preview fails on name, and `pulumi up` fails before a second VM takes the name',
    async () => {
      await stack.setConfig('twins', { value: 'true' });
      try {
        await expect(stack.preview()).rejects.toThrow(
          /Duplicate container_vm: container_vm "twin-[ab]" and container_vm "twin-[ab]" both declare vchId = "resgroup-\d+" and name = "twin"/,
        );
        await expect(stack.up()).rejects.toThrow(/Duplicate container_vm/);
        expect((await vmNames()).filter((n) => n === 'twin').length).toBeLessThanOrEqual(1);
      } finally {
        await stack.removeConfig('twins');
      }
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN a second Image with the same reference in the VCH WHEN previewed THEN the preview fails naming both and the reference, saying to declare the image once, and `pulumi up` makes no second image',
    async () => {
      await stack.setConfig('twinImage', { value: 'true' });
      try {
        const refused =
          /Duplicate image: image "app(-copy)?" and image "app(-copy)?" both declare vchId = "resgroup-\d+" and reference = "[^"]+\/safety\/app:v1".*Declare the image once/s;
        await expect(stack.preview()).rejects.toThrow(refused);
        await expect(stack.up()).rejects.toThrow(/Duplicate image/);
        const images = (await stack.exportStack()).deployment.resources.filter((r: { type: string }) => r.type.endsWith('vic:Image'));
        expect(images).toHaveLength(1);
      } finally {
        await stack.removeConfig('twinImage');
      }
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN an Image on a tag WHEN a second Image names its digest as @sha256 THEN the preview fails naming both references and the digest, and `pulumi up` makes no second image',
    async () => {
      const digest = String((await stack.outputs()).imageDigest.value);
      const pinned = `${registry().host}/safety/app@${digest}`;
      await stack.setConfig('digestTwin', { value: pinned });
      try {
        const refused = new RegExp(
          `Duplicate image: image "app(-pinned)?" \\(reference = "[^"]+/safety/app(:v1|@${digest})"\\) and image "app(-pinned)?" \\(reference = "[^"]+/safety/app(:v1|@${digest})"\\) ` +
            `both resolve to id = "${digest}" in vchId = "resgroup-\\d+".*Declare one vic_image \\(or one vic.Image\\) for this digest`,
          's',
        );
        await expect(stack.preview()).rejects.toThrow(refused);
        await expect(stack.up()).rejects.toThrow(/Duplicate image/);
        const images = (await stack.exportStack()).deployment.resources.filter((r: { type: string }) => r.type.endsWith('vic:Image'));
        expect(images).toHaveLength(1);
      } finally {
        await stack.removeConfig('digestTwin');
      }
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN an image a container VM uses WHEN its sizeMb changes (same digest, same directory) THEN `pulumi up` replaces the VM with it, the VM deleted first and made last, and the next preview has no changes',
    async () => {
      const before = await stack.up();
      await stack.setConfig('imageSizeMb', { value: '48' });
      const steps: string[] = [];
      const up = await stack.up({
        onEvent: (e) => e.resOutputsEvent && steps.push(`${e.resOutputsEvent.metadata.op} ${e.resOutputsEvent.metadata.urn.split('::').pop()}`),
      });
      expect(up.summary.resourceChanges).toMatchObject({ replace: 2 });
      const at = (step: string) => steps.indexOf(step);
      expect(at('delete-replaced web')).toBeGreaterThan(-1);
      expect(at('delete-replaced web')).toBeLessThan(at('delete-replaced app'));
      expect(at('delete-replaced app')).toBeLessThan(at('create-replacement app'));
      expect(at('create-replacement app')).toBeLessThan(at('create-replacement web'));
      expect(up.outputs.imageDigest.value).toBe(before.outputs.imageDigest.value);
      expect(up.outputs.webImageId.value).toBe(before.outputs.imageDigest.value);
      expect(up.outputs.webMoid.value).not.toBe(before.outputs.webMoid.value);
      const again = await stack.preview();
      expect(Object.keys(again.changeSummary)).toEqual(['same']);
    },
    PULUMI_STEP_MS * 2,
  );

  it(
    'GIVEN the deployed stack WHEN its program is broken (two container VMs with one name, an image tag that is gone) THEN `pulumi preview` fails AND `pulumi destroy` removes every VM and the VCH pool',
    async () => {
      await stack.up();
      await stack.setAllConfig({ twins: { value: 'true' }, image: { value: `${registry().host}/safety/app:gone` } });
      await expect(stack.preview()).rejects.toThrow(/Duplicate container_vm|not found/);
      const destroy = await stack.destroy();
      expect(destroy.summary.result).toBe('succeeded');
      expect((await vmNames()).filter((n) => n === 'web-1' || n === 'twin')).toEqual([]);
      const pools = await retrieveFromContainer<{ name: string }>(outside, {
        container: outside.serviceContent.rootFolder,
        select: [{ type: 'ResourcePool', paths: ['name'] }],
      });
      expect(pools.map((p) => p.props.name)).not.toContain('vch-safety');
    },
    PULUMI_STEP_MS * 2,
  );
});
