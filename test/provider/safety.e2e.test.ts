/**
 * The safety round through the real `terraform` CLI (provider from a filesystem mirror, simulator,
 * real registry): a tag that moves converges in one apply, two container VMs with one name are
 * refused at plan, and what is wrong with an image reference fails the plan while the VCH is still
 * to be created.
 */
import { join } from 'node:path';
import { connectTestEngine, vmMoidsNamed } from '../helpers/engine';
import { writeOciLayout } from '../helpers/oci-layout';
import { moRef } from '../../src/vsphere';
import { retrieveObject } from '../../src/vsphere/property-collector';
import type { Attrs } from '../../src/resources';
import { extraConfigMap } from '../../src/resources/snapshot';
import { Workspace, readState, stateAttributes, workspace } from './terraform-cli';
import { useTerraformTestbed } from './testbed';

const PASSWORD = 'Tf-safety-S3cret!';

describe('terraform: moved tags, duplicate names, plan-time image errors', () => {
  const bed = useTerraformTestbed({ username: 'terraform', password: PASSWORD, repository: 'test/app', program: 'httpd' });
  let ws: Workspace;
  const tf = (args: string[], extra: NodeJS.ProcessEnv = {}, allow: number[] = []) => bed.terraform(ws, args, { extraEnv: extra, allow });
  const attrs = (name: string) => stateAttributes(ws.dir, name);

  beforeAll(async () => {
    ws = await bed.initFixture('safety');
  }, 120_000);

  it('GIVEN an image and a container VM on tag v1 WHEN a new image is pushed to v1 THEN plan replaces both on the new digest, apply converges, and a further plan has no changes', async () => {
    await tf(['apply', '-auto-approve']);
    const oldImage = attrs('app');
    const oldDigest = String(oldImage.digest);
    const layout = await writeOciLayout(join(bed.scratch(), 'moved'), 'v1', [
      {
        layers: [
          {
            entries: [
              { type: 'dir', path: 'bin' },
              { type: 'file', path: 'bin/httpd', content: '#!/bin/sh\necho moved\n', mode: 0o755 },
            ],
          },
        ],
        config: { Entrypoint: ['/bin/httpd'], Env: ['PATH=/bin'] },
      },
    ]);
    await bed.registry().push(layout.dir, 'v1', 'test/app:v1');

    const plan = await tf(['plan']);
    expect(plan.stdout).toContain('# vic_image.app must be replaced');
    expect(plan.stdout).toMatch(new RegExp(`~ digest\\s+= "${oldDigest}" -> "sha256:[0-9a-f]{64}" # forces replacement`));
    expect(plan.stdout).toContain('# vic_container_vm.web must be replaced');
    expect(plan.stdout).toMatch(/~ image_id\s+= "sha256:[0-9a-f]{64}" -> "sha256:[0-9a-f]{64}" # forces replacement/);
    expect(plan.stdout).toContain('Plan: 2 to add, 0 to change, 2 to destroy.');

    const apply = await tf(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 2 added, 0 changed, 2 destroyed.');
    const image = attrs('app');
    const vm = attrs('web');
    expect(image.digest).not.toBe(oldDigest);
    expect(image.id).toBe(image.digest);
    expect(vm.image_id).toBe(image.id);
    const seen = await retrieveObject<Record<string, unknown>>(bed.outside(), moRef('VirtualMachine', String(vm.moid)), ['config.extraConfig']);
    expect(extraConfigMap(seen['config.extraConfig']).get('vic.image')).toBe(image.id);
    // Terraform destroyed the VM before the old image, and nothing keeps the old image now.
    const engine = await connectTestEngine(bed.sim());
    try {
      expect(await engine.read([{ type: 'image', state: oldImage as Attrs }])).toEqual([null]);
    } finally {
      await engine.close();
    }
    const again = await tf(['plan', '-detailed-exitcode']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes. Your infrastructure matches the configuration.');
  }, 300_000);

  it('GIVEN two container VMs with one name in the VCH WHEN planned THEN the plan fails on name and nothing is created', async () => {
    const plan = await tf(['plan', '-var', 'twins=true'], {}, [1]);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('Error: Duplicate container_vm');
    expect(plan.stderr).toMatch(/with vic_container_vm\.twin\[[01]\]/);
    expect(plan.stderr).toMatch(/\d+:\s+name\s+= "twin"/);
    expect(plan.stderr.replace(/\s+/g, ' ')).toMatch(/both declare vch_id = "resgroup-\d+" and name = "twin"; the two would share one vSphere object/);
    expect(plan.stderr.match(/Error: Duplicate container_vm/g)).toHaveLength(1);
  }, 120_000);

  it('GIVEN a second image resource with the same reference in the VCH WHEN planned THEN the plan fails naming both resources and the reference, saying to declare the image once, and nothing is created', async () => {
    const before = readState(ws.dir).resources.filter((r) => r.type === 'vic_image').length;
    const plan = await tf(['plan', '-var', 'twin_image=true'], {}, [1]);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('Error: Duplicate image');
    expect(plan.stderr).toMatch(/with vic_image\.(twin\[0\]|app)/);
    const text = plan.stderr.replace(/\s+/g, ' ');
    expect(text).toMatch(/both declare vch_id = "resgroup-\d+" and reference = "127\.0\.0\.1:\d+\/test\/app:v1"/);
    // Terraform names one resource ("with ..."), the message the other, by the id its state holds.
    expect(text).toMatch(/another image resource \((the one whose state holds sha256:[0-9a-f]{64}|one this plan creates)\) and this one/);
    expect(text).toContain('Declare the image once (one vic_image resource, or one vic.Image) and give its id to every container VM that uses it');
    const apply = await tf(['apply', '-auto-approve', '-var', 'twin_image=true'], {}, [1]);
    expect(apply.code).toBe(1);
    expect(readState(ws.dir).resources.filter((r) => r.type === 'vic_image').length).toBe(before);
  }, 120_000);

  it('GIVEN an image on a tag WHEN a second image resource names the same digest as @sha256 THEN the plan fails naming both references and the digest, and the apply changes nothing', async () => {
    const app = attrs('app');
    const digest = String(app.digest);
    const pinned = `${String(app.reference).replace(/:[^:/]+$/, '')}@${digest}`;
    const before = readState(ws.dir).resources.filter((r) => r.type === 'vic_image').length;
    const plan = await tf(['plan', '-var', `digest_twin=${pinned}`], {}, [1]);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('Error: Duplicate image');
    expect(plan.stderr.match(/Error: Duplicate image/g)).toHaveLength(1);
    const text = plan.stderr.replace(/\s+/g, ' ');
    // Terraform names the resource it planned second; the message names both by their references.
    const references = [`reference = "${String(app.reference)}"`, `reference = "${pinned}"`];
    expect(text).toMatch(/with vic_image\.(app|digest_twin\[0\])/);
    for (const r of references) expect(text).toContain(r);
    expect(text).toMatch(new RegExp(`both resolve to id = "${digest}" in vch_id = "resgroup-\\d+": the two would share one vSphere object`));
    expect(text).toContain('Declare one vic_image (or one vic.Image) for this digest and give its id to the container VMs of both');
    const apply = await tf(['apply', '-auto-approve', '-var', `digest_twin=${pinned}`], {}, [1]);
    expect(apply.code).toBe(1);
    expect(readState(ws.dir).resources.filter((r) => r.type === 'vic_image').length).toBe(before);
    expect((await tf(['plan', '-detailed-exitcode'])).code).toBe(0);
  }, 120_000);

  it('GIVEN a tag and its @sha256 in a VCH the same apply makes WHEN applied THEN one image is made, the other refused before it is made, naming both references', async () => {
    const digest = String(attrs('app').digest);
    const fresh = workspace('dev', { fixture: 'safety', shared: ['testbed.tf'] });
    const env = { TF_VAR_vch_name: 'vch-late-digest', TF_VAR_digest_twin: `${bed.registry().host}/test/app@${digest}` };
    const plan = await bed.terraform(fresh, ['plan'], { extraEnv: env });
    expect(plan.stdout).toContain('Plan: 4 to add, 0 to change, 0 to destroy.');
    const apply = await bed.terraform(fresh, ['apply', '-auto-approve'], { extraEnv: env, allow: [1] });
    expect(apply.code).toBe(1);
    const text = apply.stderr.replace(/\s+/g, ' ');
    expect(text).toContain('Error: Duplicate image');
    expect(text).toMatch(new RegExp(`both resolve to id = "${digest}" in vch_id = "resgroup-\\d+"`));
    expect(
      readState(fresh.dir)
        .resources.filter((r) => r.type === 'vic_image')
        .flatMap((r) => r.instances),
    ).toHaveLength(1);
    const destroy = await bed.terraform(fresh, ['destroy', '-auto-approve'], { extraEnv: { TF_VAR_vch_name: env.TF_VAR_vch_name } });
    expect(destroy.stdout).toContain('Destroy complete!');
  }, 300_000);

  it('GIVEN two container VMs whose equal name is known only at apply WHEN applied THEN one is created, the other refused before it touches vSphere, and one VM has the name', async () => {
    const plan = await tf(['plan', '-var', 'late_twins=true']);
    expect(plan.stdout).toContain('Plan: 3 to add, 0 to change, 0 to destroy.');
    const apply = await tf(['apply', '-auto-approve', '-var', 'late_twins=true'], {}, [1]);
    expect(apply.code).toBe(1);
    expect(apply.stderr.replace(/\s+/g, ' ')).toMatch(
      /Error: (Duplicate container_vm|Container VM held by another resource) .*with vic_container_vm\.late_twin\[[01]\]/,
    );
    const twins = readState(ws.dir)
      .resources.filter((r) => r.name === 'late_twin')
      .flatMap((r) => r.instances);
    expect(twins).toHaveLength(1);
    expect(await vmMoidsNamed(bed.outside(), 'late-twin')).toEqual([twins[0].attributes.moid]);
    const cleanup = await tf(['apply', '-auto-approve']);
    expect(cleanup.stdout).toContain('Apply complete! Resources: 0 added, 0 changed, 2 destroyed.');
  }, 300_000);

  it.each<[string, string, NodeJS.ProcessEnv, string]>([
    ['a tag the registry lacks', 'reference', { TF_VAR_image: '' }, 'tag "missing" not found in repository "test/app"'],
    [
      'an image with no linux/amd64 build',
      'platform',
      { TF_VAR_image: 'arm64-only' },
      'is built for linux/arm64, not linux/amd64; use an image (or another tag of it) that has a linux/amd64 build',
    ],
    [
      'a ca_file that does not exist',
      'ca_file',
      { TF_VAR_image_ca_file: '/nonexistent/registry-ca.pem' },
      'ca_file "/nonexistent/registry-ca.pem" cannot be read',
    ],
  ])(
    'GIVEN %s and a VCH not created yet WHEN planned THEN the plan fails on %s before anything is created',
    async (_label, attribute, vars, detail) => {
      const fresh = workspace('dev', { fixture: 'safety', shared: ['testbed.tf'] });
      const env: NodeJS.ProcessEnv = { ...vars, TF_VAR_vch_name: 'vch-not-yet' };
      if (env.TF_VAR_image === '') env.TF_VAR_image = `${bed.registry().host}/test/app:missing`;
      if (env.TF_VAR_image === 'arm64-only') {
        const layout = await writeOciLayout(join(bed.scratch(), 'arm64-only'), 'v1', [
          { layers: [{ entries: [{ type: 'file', path: 'hello', content: 'hi\n' }] }], platform: { os: 'linux', architecture: 'arm64' } },
        ]);
        await bed.registry().push(layout.dir, 'v1', 'test/arm64-only:v1');
        env.TF_VAR_image = `${bed.registry().host}/test/arm64-only:v1`;
      }
      const plan = await bed.terraform(fresh, ['plan'], { extraEnv: env, allow: [1] });
      expect(plan.code).toBe(1);
      expect(plan.stderr).toMatch(new RegExp(`on main\\.tf line \\d+, in resource "vic_image" "app":\\s+\\d+:\\s+${attribute}\\s+=`));
      expect(plan.stderr.replace(/\s+/g, ' ')).toContain(detail);
      expect(plan.stdout).not.toContain('vic_image.app will be created');
    },
    120_000,
  );
});
