/**
 * A container and a volume made with docker, then imported into an IaC state: the container's
 * import leaves docker's own labels out of the state, and a configuration without them drops them
 * at the first apply (the volume's too), so from then on docker may no longer remove what the state holds (before: `docker rm` and `docker volume rm` still went
 * through, and the next plan created them again, the volume empty). `terraform plan -generate-config-out`
 * writes the labels the refresh reads, docker's among them: the plan warns until they are deleted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerVm, type Attrs, type Schema } from '../../src/resources';
import { vsphereEnv } from '../helpers/engine';
import { VIC_PROVIDER_HCL, workspace } from '../provider/terraform-cli';
import { useDockerBed } from './docker-env';

describe('an object docker made, imported into an IaC state', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-import-dk' });

  test('GIVEN a container and a volume docker made WHEN imported and applied THEN their docker labels are gone and docker rm / volume rm are refused', async () => {
    expect((await bed().docker(['volume', 'create', 'adopted-data'])).code).toBe(0);
    expect((await bed().docker(['create', '--name', 'adopted', '-v', 'adopted-data:/data', '--label', 'team=web', bed().image])).code).toBe(0);
    const engine = bed().engine;
    const [vm] = (await engine.listIn('container_vm', String(bed().vch.id))).filter((v) => v.name === 'adopted');
    const [volume] = (await engine.listIn('volume', String(bed().vch.id))).filter((v) => v.name === 'adopted-data');

    const importedVm = await engine.importState('container_vm', String(vm.id));
    // Its own labels (and those docker took from the image), not docker's bookkeeping.
    expect(importedVm.labels).toMatchObject({ team: 'web' });
    expect(Object.keys(importedVm.labels as object).filter((k) => k.startsWith('vic-iac.docker.'))).toEqual([]);
    // A volume's refresh does not read its marker again: its import keeps docker's labels, and a
    // configuration without them (as a user writes it) takes the volume from docker at the apply.
    const importedVolume = await engine.importState('volume', String(volume.id));
    expect(importedVolume.labels).toMatchObject({ 'vic-iac.docker.origin': 'docker' });

    // The configuration as the user writes it from the import: the refresh still reads docker's labels, and the apply drops them.
    const [vmNow, volumeNow] = (await engine.read([
      { type: 'container_vm', state: importedVm },
      { type: 'volume', state: importedVolume },
    ])) as Attrs[];
    // The inputs of the imported state, as `terraform plan -generate-config-out` writes them.
    const inputs = Object.fromEntries(
      Object.entries(importedVm).filter(([k]) => (containerVm.schema as Schema)[k]?.required || (containerVm.schema as Schema)[k]?.optional),
    );
    const vmPlan = await engine.plan('container_vm', vmNow, inputs);
    expect([vmPlan.action, vmPlan.problems]).toEqual(['update', []]);
    await engine.apply(vmPlan);
    const volumePlan = await engine.plan('volume', volumeNow, { vch_id: bed().vch.id, name: 'adopted-data', size_mb: volumeNow.size_mb, labels: null });
    expect([volumePlan.action, volumePlan.problems]).toEqual(['update', []]);
    await engine.apply(volumePlan);

    const rm = await bed().docker(['rm', 'adopted']);
    expect([rm.code, rm.stderr]).toEqual([1, expect.stringContaining('managed by infrastructure as code')]);
    const volumeRm = await bed().docker(['volume', 'rm', 'adopted-data']);
    expect([volumeRm.code, volumeRm.stderr]).toEqual([1, expect.stringContaining('managed by infrastructure as code')]);
    // Still docker's to see, stop and start.
    expect((await bed().docker(['ps', '-a', '--filter', 'name=adopted', '--format', '{{.Names}} {{.Label "team"}}'])).stdout).toBe('adopted web\n');
  });

  test('GIVEN a container and a volume docker made WHEN terraform plan -generate-config-out imports them THEN the plan warns that docker may remove them while its generated labels stay, and once they are deleted the apply hands both to the state', async () => {
    expect((await bed().docker(['volume', 'create', 'generated-data'])).code).toBe(0);
    expect((await bed().docker(['create', '--name', 'generated', '-v', 'generated-data:/data', '-p', '8097:80', bed().image])).code).toBe(0);
    const vchId = String(bed().vch.id);
    const [vm] = (await bed().engine.listIn('container_vm', vchId)).filter((v) => v.name === 'generated');
    const [volume] = (await bed().engine.listIn('volume', vchId)).filter((v) => v.name === 'generated-data');
    const ws = workspace('mirror');
    ws.write(
      'main.tf',
      [
        VIC_PROVIDER_HCL,
        `import {\n  to = vic_container_vm.generated\n  id = "${String(vm.id)}"\n}`,
        `import {\n  to = vic_volume.generated\n  id = "${String(volume.id)}"\n}`,
      ].join('\n'),
    );
    const env = vsphereEnv(bed().sim);
    const tf = async (args: string[], codes = [0]) => {
      const r = await ws.terraform([...args, '-no-color'], env);
      expect({ args, code: codes.includes(r.code) ? 'ok' : r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ args, code: 'ok', stderr: '' });
      return r.stdout;
    };
    await tf(['init', '-input=false']);
    const generated = await tf(['plan', '-input=false', '-generate-config-out=generated.tf']);
    expect(generated).toContain('Plan: 2 to import, 0 to add, 0 to change, 0 to destroy.');
    const config = readFileSync(join(ws.dir, 'generated.tf'), 'utf8');
    // What the refresh reads, docker's labels among them, is what Terraform writes.
    expect(config).toMatch(/"vic-iac\.docker\.origin"\s+= "docker"/);

    const warned = await tf(['plan', '-input=false']);
    expect(warned).toContain('Warning: Docker may remove this container');
    expect(warned).toContain('Warning: Docker may remove this volume');
    expect(warned).toMatch(/docker rm and docker container prune may remove it while\s+this state holds it/);
    expect(warned).toMatch(/whose keys start with\s+"vic-iac\.docker\."/);

    // As the warning says: the docker labels out of the generated configuration, then apply.
    ws.write(
      'generated.tf',
      config
        .split('\n')
        .filter((line) => !line.includes('"vic-iac.docker.'))
        .join('\n'),
    );
    const applied = await tf(['apply', '-auto-approve', '-input=false']);
    expect(applied).not.toContain('Warning: Docker may remove');
    expect(applied).toContain('Apply complete! Resources: 2 imported, 0 added, 2 changed, 0 destroyed.');
    const rm = await bed().docker(['rm', 'generated']);
    expect([rm.code, rm.stderr]).toEqual([1, expect.stringContaining('managed by infrastructure as code')]);
    const volumeRm = await bed().docker(['volume', 'rm', 'generated-data']);
    expect([volumeRm.code, volumeRm.stderr]).toEqual([1, expect.stringContaining('managed by infrastructure as code')]);
    // The state and the objects agree: nothing more to do.
    expect(await tf(['plan', '-input=false', '-detailed-exitcode'])).toContain('No changes.');
    await tf(['destroy', '-auto-approve', '-input=false']);
    expect((await bed().docker(['ps', '-a', '--filter', 'name=generated', '--format', '{{.Names}}'])).stdout).toBe('');
  }, 300_000);
});
