/**
 * The `replaceOnChanges` resource option through the real `pulumi` CLI (Automation API, local
 * backend), the simulator and a real registry. Pulumi's engine matches the option against the
 * property names the provider's Diff reports as changed: a container VM's labels, which vic-iac
 * updates in place, are replaced when the option names them, and updated in place when it does not.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalWorkspace, type Stack, type StepEventMetadata } from '@pulumi/pulumi/automation';
import type { VimClient } from '../../src/vsphere';
import { connectTestClient, vmMoidsNamed } from '../helpers/engine';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { connectionConfig, localBackend, preparePulumiProjects, simulatorPlacement } from './project';

const PULUMI_STEP_MS = 240_000;

describe('pulumi: the replaceOnChanges option on a property vic-iac updates in place', () => {
  const sim = useSimulator({ username: 'pulumi-roc', password: 'vsphere-R0c-P4ss' });
  const registry = useRegistry();
  let scratch: string;
  let outside: VimClient;
  let stack: Stack;

  /** The container VM "web-roc" as vSphere has it: one VM, its MOID. */
  const webVms = (): Promise<string[]> => vmMoidsNamed(outside, 'web-roc');

  /** `pulumi preview --diff`: its text and the step of the container VM (Pulumi's own diff metadata). */
  const previewDiff = async () => {
    let output = '';
    const steps: Pick<StepEventMetadata, 'op' | 'keys' | 'diffs' | 'detailedDiff'>[] = [];
    const preview = await stack.preview({
      diff: true,
      onOutput: (o) => (output += o),
      onEvent: ({ resourcePreEvent: pre }) => {
        if (!pre?.metadata.type.endsWith(':ContainerVm')) return;
        const { op, keys, diffs, detailedDiff } = pre.metadata;
        steps.push({ op, keys, diffs, detailedDiff });
      },
    });
    return { summary: preview.changeSummary, output, steps };
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'vic-pulumi-roc-'));
    const { options } = await localBackend(scratch, 'roc-passphrase');
    const [project] = await preparePulumiProjects(scratch, ['test/pulumi/replace-on-changes-program']);
    await registry().pushImage({ layers: [{ entries: [{ type: 'file', path: 'version', content: 'one\n' }] }], config: { Cmd: ['/bin/true'] } }, 'roc/app:v1');
    outside = await connectTestClient(sim());
    const { resourcePoolId, datastoreId } = await simulatorPlacement(outside);
    stack = await LocalWorkspace.createStack({ stackName: 'roc', workDir: project }, options);
    await stack.setAllConfig({
      ...connectionConfig(sim()),
      resourcePoolId: { value: resourcePoolId },
      datastoreId: { value: datastoreId },
      image: { value: `${registry().host}/roc/app:v1` },
      tier: { value: 'one' },
    });
    await stack.up();
  }, 180_000);

  afterAll(async () => {
    await outside?.close();
    if (scratch && !process.env.VIC_KEEP_SCRATCH) await rm(scratch, { recursive: true, force: true });
  });

  it(
    'GIVEN no replaceOnChanges WHEN the labels change THEN `pulumi preview --diff` names labels as an update, and `pulumi up` updates the same VM in place',
    async () => {
      const [before] = await webVms();
      await stack.setConfig('tier', { value: 'two' });
      const preview = await previewDiff();
      expect(preview.summary).toMatchObject({ update: 1 });
      expect(preview.summary.replace).toBeUndefined();
      expect(preview.steps).toEqual([{ op: 'update', keys: undefined, diffs: ['labels'], detailedDiff: { labels: { diffKind: 'update', inputDiff: false } } }]);
      const up = await stack.up();
      expect(up.summary.resourceChanges).toMatchObject({ update: 1 });
      expect(up.outputs.webLabels.value).toEqual({ tier: 'two' });
      expect(await webVms()).toEqual([before]);
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN replaceOnChanges: ["cpus"] WHEN the labels change THEN the option matches nothing that changed: an update in place',
    async () => {
      await stack.setConfig('replaceOnChanges', { value: JSON.stringify(['cpus']) });
      await stack.setConfig('tier', { value: 'three' });
      try {
        const preview = await previewDiff();
        expect(preview.summary).toMatchObject({ update: 1 });
        expect(preview.summary.replace).toBeUndefined();
      } finally {
        await stack.removeConfig('replaceOnChanges');
        await stack.setConfig('tier', { value: 'two' });
      }
    },
    PULUMI_STEP_MS,
  );

  it(
    'GIVEN replaceOnChanges: ["labels"] WHEN the labels change THEN `pulumi preview --diff` says labels force a replacement, and `pulumi up` replaces the VM (destroyed first: same name) and converges',
    async () => {
      const [before] = await webVms();
      await stack.setConfig('replaceOnChanges', { value: JSON.stringify(['labels']) });
      await stack.setConfig('tier', { value: 'four' });
      const preview = await previewDiff();
      expect(preview.summary).toMatchObject({ replace: 1 });
      expect(preview.steps).toContainEqual({
        op: 'replace',
        keys: ['labels'],
        diffs: ['labels'],
        detailedDiff: { labels: { diffKind: 'update-replace', inputDiff: false } },
      });
      // The text the user reads: the replacement and the property that forces it.
      expect(preview.output).toMatch(/\+-\s*pulumi-nodejs:dynamic\/vic:ContainerVm/);
      expect(preview.output).toMatch(/~ labels\s*:/);

      const up = await stack.up();
      expect(up.summary.resourceChanges).toMatchObject({ replace: 1 });
      expect(up.outputs.webLabels.value).toEqual({ tier: 'four' });
      const after = await webVms();
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(before);
      expect(up.outputs.webMoid.value).toBe(after[0]);

      const again = await stack.preview();
      expect(Object.keys(again.changeSummary)).toEqual(['same']);
    },
    PULUMI_STEP_MS * 2,
  );
});
