/**
 * A VCH whose pool holds containers docker made cannot be destroyed without force_destroy, and
 * nothing of a state removes them: its destroy is refused at the plan, before the state's own
 * container VMs and images (which go first) are gone, not half-way through the apply.
 */
import type { Attrs } from '../../src/resources';
import { vsphereEnv } from '../helpers/engine';
import { VIC_PROVIDER_HCL, workspace } from '../provider/terraform-cli';
import { useDockerBed } from './docker-env';

describe("a VCH's destroy planned while docker's containers are in it", () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-destroy-plan' });

  test('GIVEN a container docker made and one a state made WHEN the VCH destroy is planned THEN it is refused naming the docker one only; with force_destroy, or once docker removed it, it is planned', async () => {
    const { engine, vch } = bed();
    await bed().dockerOk(['create', '--name', 'made-by-docker', bed().image]);
    const [image] = await engine.listIn('image', String(vch.id));
    const iac = await engine.plan('container_vm', null, { vch_id: vch.id, image_id: image?.id, name: 'made-by-state', power_state: 'stopped' });
    expect(iac.problems).toEqual([]);
    const iacVm = (await engine.apply(iac)) as Attrs;

    const plan = await engine.plan('virtual_container_host', vch, null);
    expect(plan.action).toBe('delete');
    expect(plan.problems.map((p) => p.detail)).toEqual([
      expect.stringMatching(
        /^virtual container host "vch-destroy-plan" \(resgroup-\d+\) still holds 1 VM\(s\): made-by-docker \(vm-\d+\)\. Delete them first, or set force_destroy = true to delete them with the VCH\. Docker made them: docker rm -f removes them\. Nothing was destroyed\.$/,
      ),
    ]);
    await expect(engine.apply(plan)).rejects.toThrow(/the plan for virtual_container_host has errors; nothing was changed/);
    expect((await engine.listIn('container_vm', String(vch.id))).map((vm) => vm.name).sort()).toEqual(['made-by-docker', 'made-by-state']);

    // force_destroy deletes docker's containers with the VCH: nothing refuses it.
    expect((await engine.plan('virtual_container_host', { ...vch, force_destroy: true }, null)).problems).toEqual([]);
    // Once docker removed its container, the state's own container VM does not hold the destroy back (it goes first).
    await bed().dockerOk(['rm', 'made-by-docker']);
    expect((await engine.plan('virtual_container_host', vch, null)).problems).toEqual([]);
    await engine.apply(await engine.plan('container_vm', iacVm, null));
  });

  test('GIVEN the VCH in a Terraform state and a container docker made in it WHEN terraform destroy runs THEN its plan fails naming the container, and nothing is destroyed', async () => {
    const { vch } = bed();
    await bed().dockerOk(['create', '--name', 'holds-it', bed().image]);
    const ws = workspace('mirror');
    ws.write(
      'main.tf',
      [
        VIC_PROVIDER_HCL,
        `import {\n  to = vic_virtual_container_host.v\n  id = "${String(vch.id)}"\n}`,
        'resource "vic_virtual_container_host" "v" {\n  name = "vch-destroy-plan"\n  compute = "/DC0/host/DC0_C0"\n  datastore = "LocalDS_0"\n  bridge_network = "VM Network"\n}',
      ].join('\n'),
    );
    const env = vsphereEnv(bed().sim);
    expect((await ws.terraform(['init', '-input=false', '-no-color'], env)).code).toBe(0);
    const applied = await ws.terraform(['apply', '-auto-approve', '-input=false', '-no-color'], env);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    const destroy = await ws.terraform(['destroy', '-auto-approve', '-input=false', '-no-color'], env);
    expect(destroy.code).toBe(1);
    expect(destroy.stderr.replace(/\s+/g, ' ')).toMatch(
      /still holds 1 VM\(s\): holds-it \(vm-\d+\)\. .* Docker made them: docker rm -f removes them\. Nothing was destroyed\./,
    );
    expect(destroy.stdout).not.toContain('Destroying...');
    expect((await ws.terraform(['state', 'list'], env)).stdout.trim()).toBe('vic_virtual_container_host.v');
    expect(await bed().dockerOk(['ps', '-a', '--filter', 'name=holds-it', '--format', '{{.Names}}'])).toBe('holds-it');
    await bed().dockerOk(['rm', 'holds-it']);
    // Handed back to nobody: the bed removes its VCH itself.
    expect((await ws.terraform(['state', 'rm', 'vic_virtual_container_host.v'], env)).code).toBe(0);
  }, 300_000);
});
