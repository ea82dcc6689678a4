/**
 * The safety round through bin/vic (a child process, as a user runs it) against the simulator and a
 * real registry: a tag that moves converges in one `vic apply` (the image replaced new-first, the
 * container VM moved to it, the old image deleted after), an image replaced in place of itself (a
 * new size, same digest) takes its container VMs with it, and two container VMs with one name in a
 * VCH are refused at plan, also when the spec spells the VCH two ways.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StackState } from '../../src/engine';
import { connectTestEngine } from '../helpers/engine';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { runVic, useVicProject, type VicRun, vchYaml } from './run-vic';

function spec(registryHost: string, extra = '', imageExtra = ''): string {
  return `${vchYaml('vch-safety')}image:
  app:
    vch_id: \${virtual_container_host.demo.id}
    reference: ${registryHost}/safety/app:v1
    insecure_registry: true
${imageExtra}container_vm:
  web:
    vch_id: \${virtual_container_host.demo.id}
    image_id: \${image.app.id}
    name: web-1
${extra}`;
}

describe('vic: moved tags and duplicate names', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  const project = useVicProject(sim, 'vic-cli-safety-');
  let dir: string;
  let specFile: string;
  let env: NodeJS.ProcessEnv;
  const vic = (...args: string[]): Promise<VicRun> => runVic(args, env, { timeoutMs: 120_000 });
  const state = async (): Promise<StackState> => JSON.parse(await readFile(join(dir, '.vic', 'state.json'), 'utf8')) as StackState;

  async function pushApp(version: string): Promise<void> {
    await registry().pushImage(
      { layers: [{ entries: [{ type: 'file', path: 'version', content: `${version}\n` }] }], config: { Cmd: ['/bin/true'] } },
      'safety/app:v1',
    );
  }

  beforeAll(async () => {
    ({ dir, specFile, env } = project());
    await pushApp('one');
    await writeFile(specFile, spec(registry().host));
  }, 60_000);

  it('GIVEN an image and a container VM on tag v1 WHEN a new image is pushed to v1 THEN plan replaces both, apply converges, the old image is gone and a further plan has no changes', async () => {
    expect((await vic('apply', '-f', specFile, '--auto-approve')).code).toBe(0);
    const old = (await state()).resources['image.app'].attrs;
    await pushApp('two');

    const plan = await vic('plan', '-f', specFile);
    expect(plan).toMatchObject({ code: 0, stderr: '' });
    expect(plan.stdout).toContain('# image.app must be replaced');
    expect(plan.stdout).toMatch(
      new RegExp(`# reference .*/safety/app:v1 now points at sha256:[0-9a-f]{64} \\(was ${String(old.digest)}\\) \\(forces replacement\\)`),
    );
    expect(plan.stdout).toContain('# container_vm.web must be replaced');

    const apply = await vic('apply', '-f', specFile, '--auto-approve');
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    // The new image first, then the VM, then the old image (no VM ever points at a deleted image).
    const at = (text: string) => apply.stdout.indexOf(text);
    expect(at('image.app: Replacement complete')).toBeGreaterThan(-1);
    expect(at('container_vm.web: Replacement complete')).toBeGreaterThan(at('image.app: Replacement complete'));
    expect(at('image.app#replaced: Destruction complete')).toBeGreaterThan(at('container_vm.web: Replacement complete'));
    const after = await state();
    const image = after.resources['image.app'].attrs;
    expect(image.digest).not.toBe(old.digest);
    expect(after.resources['container_vm.web'].attrs.image_id).toBe(image.id);
    expect(Object.keys(after.resources).sort()).toEqual(['container_vm.web', 'image.app', 'virtual_container_host.demo']);
    const engine = await connectTestEngine(sim());
    try {
      expect(await engine.read([{ type: 'image', state: old }])).toEqual([null]);
      const [vm] = await engine.read([{ type: 'container_vm', state: after.resources['container_vm.web'].attrs }]);
      expect(vm?.image_id).toBe(image.id);
    } finally {
      await engine.close();
    }
    const again = await vic('plan', '-f', specFile, '--detailed-exitcode');
    expect(again).toMatchObject({ code: 0, stdout: 'No changes. vSphere matches the spec.\n' });
  }, 240_000);

  it('GIVEN a second container VM with the name web-1 WHEN planned THEN vic refuses it on name, also when the VCH is spelled by its id', async () => {
    const vchId = String((await state()).resources['virtual_container_host.demo'].attrs.id);
    for (const vch of ['${virtual_container_host.demo.id}', vchId]) {
      const twin = `  twin:\n    vch_id: ${vch}\n    image_id: \${image.app.id}\n    name: web-1\n`;
      await writeFile(specFile, spec(registry().host, twin));
      const plan = await vic('plan', '-f', specFile);
      expect(plan.code).toBe(2);
      expect(plan.stderr).toMatch(
        /container_vm\.(twin|web)\.name: .*container_vm\.(twin|web) and container_vm\.(twin|web) both declare vch_id = "[^"]+" and name = "web-1"/,
      );
      const apply = await vic('apply', '-f', specFile, '--auto-approve');
      expect(apply.code).toBe(2);
      expect(Object.keys((await state()).resources)).not.toContain('container_vm.twin');
    }
    await writeFile(specFile, spec(registry().host));
  }, 240_000);

  it('GIVEN an image a container VM uses WHEN its size_mb changes (same digest, same directory) THEN plan replaces both; apply deletes the VM, then the image, makes them again in reverse, and a next plan has no changes', async () => {
    await writeFile(specFile, spec(registry().host));
    expect((await vic('apply', '-f', specFile, '--auto-approve')).code).toBe(0);
    const before = await state();
    await writeFile(specFile, spec(registry().host, '', '    size_mb: 48\n'));

    const plan = await vic('plan', '-f', specFile);
    expect(plan).toMatchObject({ code: 0, stderr: '' });
    expect(plan.stdout).toContain('# image.app must be replaced');
    expect(plan.stdout).toContain('# container_vm.web must be replaced');
    expect(plan.stdout).toMatch(/image\.app is replaced \(forces replacement\)/);

    const apply = await vic('apply', '-f', specFile, '--auto-approve');
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    const at = (text: string) => apply.stdout.indexOf(text);
    expect(at('container_vm.web#replaced: Destruction complete')).toBeGreaterThan(-1);
    expect(at('image.app#replaced: Destruction complete')).toBeGreaterThan(at('container_vm.web#replaced: Destruction complete'));
    expect(at('image.app: Replacement complete')).toBeGreaterThan(at('image.app#replaced: Destruction complete'));
    expect(at('container_vm.web: Replacement complete')).toBeGreaterThan(at('image.app: Replacement complete'));
    const after = await state();
    expect(Object.keys(after.resources).sort()).toEqual(['container_vm.web', 'image.app', 'virtual_container_host.demo']);
    const image = after.resources['image.app'].attrs;
    expect(image.size_mb).toBe(48);
    expect(image.id).toBe(before.resources['image.app'].attrs.id);
    expect(after.resources['container_vm.web'].attrs.image_id).toBe(image.id);
    expect(after.resources['container_vm.web'].attrs.moid).not.toBe(before.resources['container_vm.web'].attrs.moid);
    const again = await vic('plan', '-f', specFile, '--detailed-exitcode');
    expect(again).toMatchObject({ code: 0, stdout: 'No changes. vSphere matches the spec.\n' });
  }, 240_000);
});
