/**
 * A container and a volume made with docker, then imported into an IaC state: the container's
 * import leaves docker's own labels out of the state, and a configuration without them drops them
 * at the first apply (the volume's too), so from then on docker may no longer remove what the state holds (before: `docker rm` and `docker volume rm` still went
 * through, and the next plan created them again, the volume empty).
 */
import { containerVm, type Attrs, type Schema } from '../../src/resources';
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
});
