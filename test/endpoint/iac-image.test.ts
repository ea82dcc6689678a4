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

describe('docker rmi of an image name an IaC state holds', () => {
  const bed = useDockerBed({ vchName: 'vch-iacrmi' });

  const pullThroughState = async (reference: string): Promise<Attrs> => {
    const plan = await bed().engine.plan('image', null, { vch_id: bed().vch.id, reference, insecure_registry: true });
    expect(plan.problems).toEqual([]);
    return (await bed().engine.apply(plan)) as Attrs;
  };

  test('GIVEN an image a state pulled WHEN docker removes it by name, by id or forced THEN each is refused, naming the state, and the image stays; a name docker added is untagged', async () => {
    const image = await pullThroughState(bed().image);
    const refused = await bed().docker(['rmi', bed().image]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`unable to remove repository reference "${bed().image}"`);
    expect(refused.stderr).toContain(
      'managed by infrastructure as code (a Terraform, Pulumi or vic state pulled it, not docker): remove the image from that configuration and apply',
    );
    for (const args of [
      ['rmi', String(image.id)],
      ['rmi', '-f', String(image.id)],
      ['rmi', '-f', bed().image],
    ]) {
      const r = await bed().docker(args);
      expect({ args, code: r.code, managed: r.stderr.includes('managed by infrastructure as code') }).toEqual({ args, code: 1, managed: true });
    }
    // docker's own name for it is docker's to remove; the state's name still refuses, by id too.
    expect((await bed().docker(['tag', bed().image, 'mine/copy:1'])).code).toBe(0);
    const byId = await bed().docker(['rmi', '-f', String(image.id)]);
    expect(byId.code).toBe(1);
    expect(byId.stderr).toContain('docker may untag the names it added itself (docker rmi mine/copy:1)');
    expect(await bed().docker(['rmi', 'mine/copy:1'])).toMatchObject({ code: 0, stdout: 'Untagged: mine/copy:1\n' });
    const listed = await bed().docker(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    expect(listed.stdout).toBe(`${bed().image} ${String(image.id).slice(7, 19)}\n`);
    // The state's own destroy still deletes it.
    const destroy = await bed().engine.plan('image', image, null);
    await bed().engine.apply(destroy);
    expect((await bed().docker(['images', '-q'])).stdout).toBe('');
  });

  test('GIVEN a name docker pulled WHEN a state pulls the same name THEN the name becomes the state’s: docker rmi is refused', async () => {
    expect((await bed().docker(['pull', bed().image], { timeoutMs: 180_000 })).code).toBe(0);
    const image = await pullThroughState(bed().image);
    const refused = await bed().docker(['rmi', bed().image]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('managed by infrastructure as code');
    await bed().engine.apply(await bed().engine.plan('image', image, null));
    expect((await bed().docker(['images', '-q'])).stdout).toBe('');
  });
});
