/**
 * An image resource replaced (its tag moved in the registry) while containers docker made still use
 * the old image: Terraform destroys the old image first, and that destroy now keeps the image for
 * docker's containers, under its digest, as dockerd leaves an image untagged while a container uses
 * it. Before, the destroy was refused midway through the apply, after the state's own containers
 * were gone. A container an IaC state made still keeps the image from being destroyed.
 */
import type { Attrs } from '../../src/resources';
import { busyboxImage, useDockerBed } from './docker-env';

describe('an image a state replaces while docker containers use it', () => {
  const bed = useDockerBed({ vchName: 'vch-imgrepl' });

  test('GIVEN a state image and a docker container of it WHEN the tag moves and the image is replaced destroy-first, as Terraform does THEN both steps succeed, the old image is docker’s under its digest, and docker rmi removes it once its container is gone', async () => {
    const base = busyboxImage();
    const reference = await bed().pushImage(base, 'vic-test/moving:1');
    const engine = bed().engine;
    const vchId = String(bed().vch.id);
    const config: Attrs = { vch_id: vchId, reference, insecure_registry: true };
    const created = await engine.plan('image', null, config);
    expect(created.problems).toEqual([]);
    const first = (await engine.apply(created)) as Attrs;
    expect((await bed().docker(['create', '--name', 'dk-user', reference])).code).toBe(0);

    await bed().pushImage({ ...base, config: { ...base.config, Labels: { 'org.example.image': 'moved' } } }, 'vic-test/moving:1');
    const [refreshed] = (await engine.forCommand().read([{ type: 'image', state: first }])) as Attrs[];
    const replaced = await engine.forCommand().plan('image', refreshed, config);
    expect([replaced.action, replaced.problems.filter((p) => p.severity !== 'warning')]).toEqual(['replace', []]);
    // Terraform's order: the old object's destroy, then the create.
    await engine.apply(await engine.forCommand().plan('image', refreshed, null));
    const second = (await engine.apply(await engine.forCommand().plan('image', null, config))) as Attrs;
    expect(second.id).not.toBe(first.id);

    const repository = reference.replace(/:1$/, '');
    const stored = (await engine.forCommand().listIn('image', vchId)).map((i) => [i.id, i.references]);
    expect(stored).toEqual(
      expect.arrayContaining([
        [first.id, [`${repository}@${String(first.id)}`]],
        [second.id, [reference]],
      ]),
    );
    expect(stored).toHaveLength(2);
    // docker lists it untagged, as dockerd lists an image whose tag moved, and may remove it: no state holds it.
    expect((await bed().dockerOk(['images', '--digests', '--format', '{{.Tag}} {{.Digest}}', repository])).split('\n').sort()).toEqual([
      `1 ${String(second.id)}`,
      `<none> ${String(first.id)}`,
    ]);
    const inUse = await bed().docker(['rmi', String(first.id)]);
    expect([inUse.code, inUse.stderr]).toEqual([1, expect.stringContaining('dk-user')]);
    await bed().dockerOk(['rm', 'dk-user']);
    expect(await bed().dockerOk(['rmi', String(first.id)])).toContain(`Deleted: ${String(first.id)}`);
    expect((await engine.forCommand().listIn('image', vchId)).map((i) => i.id)).toEqual([second.id]);
  });

  test('GIVEN a state image and a container VM an IaC state made from it WHEN the image is destroyed THEN the destroy is refused naming the container, and the image stays', async () => {
    // Content of its own: another test's image of the same digest would be a second holder.
    const base = busyboxImage();
    const reference = await bed().pushImage({ ...base, config: { ...base.config, Labels: { 'org.example.image': 'held' } } }, 'vic-test/held:1');
    const engine = bed().engine;
    const vchId = String(bed().vch.id);
    const image = (await engine.apply(await engine.plan('image', null, { vch_id: vchId, reference, insecure_registry: true }))) as Attrs;
    const vm = await engine.plan('container_vm', null, { vch_id: vchId, image_id: image.id, name: 'iac-user', power_state: 'stopped' });
    expect(vm.problems).toEqual([]);
    await engine.apply(vm);
    await expect(engine.apply(await engine.forCommand().plan('image', image, null))).rejects.toThrow(/is in use by 1 container VM\(s\): iac-user/);
    expect((await engine.forCommand().listIn('image', vchId)).map((i) => i.id)).toContain(image.id);
  });
});
