/** A container VM an IaC state made shows in docker ps and inspect with its image's reference, as one docker made does. */
import type { Attrs } from '../../src/resources';
import { useDockerBed } from './docker-env';

describe('docker ps and inspect of an IaC-made container', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-iacimg' });

  test('GIVEN a container VM made through the engine (no docker labels) THEN IMAGE and .Config.Image are the reference it was pulled as, .Image its id', async () => {
    const image = (await bed().engine.listIn('image', String(bed().vch.id)))[0];
    const plan = await bed().engine.plan('container_vm', null, { vch_id: bed().vch.id, image_id: image.id, name: 'iac-img', power_state: 'stopped' });
    expect(plan.problems).toEqual([]);
    (await bed().engine.apply(plan)) as Attrs;
    const ps = await bed().docker(['ps', '-a', '--filter', 'name=iac-img', '--format', '{{.Names}} {{.Image}}']);
    expect([ps.code, ps.stdout]).toEqual([0, `iac-img ${bed().image}\n`]);
    const inspect = await bed().docker(['inspect', '--format', '{{.Config.Image}} {{.Image}}', 'iac-img']);
    expect([inspect.code, inspect.stdout]).toEqual([0, `${bed().image} ${String(image.id)}\n`]);
    // A container docker made still shows the name as typed.
    expect((await bed().docker(['create', '--name', 'dk-img', bed().image])).code).toBe(0);
    expect((await bed().docker(['ps', '-a', '--filter', 'name=dk-img', '--format', '{{.Image}}'])).stdout).toBe(`${bed().image}\n`);
  });
});
