/**
 * 1-03 "Tag images": docker tag gives a stored image another name, which holds it as a second pull
 * of its digest would: docker images and inspect show both names on one id, a container is made from
 * the new name, docker rmi of a name only untags while another holds the image. A name that holds
 * another image moves, as with dockerd (that image stays, untagged, under its digest); a missing
 * image or a bad name is refused.
 */
import { busyboxImage, useDockerBed } from './docker-env';

describe('1-03 docker tag', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-tag' });
  const names = async () => (await bed().dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).split('\n').filter(Boolean).sort();

  test('GIVEN a pulled image WHEN docker tag names it busybox:cdg THEN both names list on one id, the new one inspects to it, and a container is made from it', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = await bed().docker(['tag', bed().image, 'busybox:cdg']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
    const id = await bed().dockerOk(['image', 'inspect', '--format', '{{.Id}}', bed().image]);
    expect(await names()).toEqual([`${bed().image} ${id.slice(7, 19)}`, `busybox:cdg ${id.slice(7, 19)}`].sort());
    // VIC's case: `docker images busybox` shows the new tag.
    expect(await bed().dockerOk(['images', 'busybox'])).toContain('cdg');
    expect(await bed().dockerOk(['image', 'inspect', '--format', '{{.Id}} {{len .RepoTags}}', 'busybox:cdg'])).toBe(`${id} 2`);
    // Tagging again with a name it has, or the default tag: done, nothing doubled.
    expect((await bed().docker(['tag', 'busybox:cdg', 'busybox:cdg'])).code).toBe(0);
    expect((await bed().docker(['tag', id.slice(7, 19), 'mine/busybox'])).code).toBe(0);
    expect(await bed().dockerOk(['image', 'inspect', '--format', '{{len .RepoTags}}', 'mine/busybox:latest'])).toBe('3');
    expect(await bed().eventsSince(since, 'type=image', '{{.Action}} {{.Actor.Attributes.name}}')).toEqual(
      expect.arrayContaining(['tag busybox:cdg', 'tag mine/busybox:latest']),
    );
    expect(await bed().dockerOk(['create', '--name', 'from-tag', 'busybox:cdg'])).toMatch(/^[0-9a-f]{64}$/);
    expect(await bed().dockerOk(['ps', '-a', '--filter', 'name=from-tag', '--format', '{{.Image}}'])).toBe('busybox:cdg');
    expect(await bed().dockerOk(['rm', 'from-tag'])).toBe('from-tag');
  });

  test('GIVEN the tags WHEN docker rmi removes them THEN each is only untagged, and the image stays under its first name', async () => {
    for (const name of ['busybox:cdg', 'mine/busybox:latest']) {
      const r = await bed().docker(['rmi', name]);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, `Untagged: ${name}\n`, '']);
    }
    expect((await names()).map((n) => n.split(' ')[0])).toEqual([bed().image]);
  });

  test('GIVEN a name that holds another image WHEN docker tag gives it to this one THEN the name moves, as with dockerd: the other image stays, untagged, under its digest', async () => {
    const spec = busyboxImage();
    const other = await bed().pushImage({ ...spec, config: { ...spec.config, Labels: { 'org.example.image': 'other' } } }, 'vic-test/other:1');
    await bed().dockerOk(['pull', other]);
    const otherId = await bed().dockerOk(['image', 'inspect', '--format', '{{.Id}}', other]);
    const id = await bed().dockerOk(['image', 'inspect', '--format', '{{.Id}}', bed().image]);
    const r = await bed().docker(['tag', bed().image, other]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(await bed().dockerOk(['image', 'inspect', '--format', '{{.Id}}', other])).toBe(id);
    const repository = other.replace(/:1$/, '');
    expect(await names()).toEqual([`${bed().image} ${id.slice(7, 19)}`, `${other} ${id.slice(7, 19)}`, `${repository}:<none> ${otherId.slice(7, 19)}`].sort());
    expect(await bed().dockerOk(['image', 'inspect', '--format', '{{.Id}}', `${repository}@${otherId}`])).toBe(otherId);
    // The untagged image goes by its id; the name it lost stays with this one.
    const gone = await bed().docker(['rmi', otherId.slice(7, 19)]);
    expect([gone.code, gone.stdout]).toEqual([0, `Untagged: ${repository}@${otherId}\nDeleted: ${otherId}\n`]);
    expect((await bed().docker(['rmi', other])).stdout).toBe(`Untagged: ${other}\n`);
    expect((await names()).map((n) => n.split(' ')[0])).toEqual([bed().image]);
  });

  test('GIVEN no such image, or a bad name through the API THEN refused: the CLI exits 1 with No such image; the API answers 400', async () => {
    const missing = await bed().docker(['tag', 'fakeimage:1', 'busybox:x']);
    expect([missing.code, missing.stderr.trim()]).toEqual([1, 'Error response from daemon: No such image: fakeimage:1']);
    const bad = await bed().call('POST', `/v1.45/images/${bed().image}/tag?repo=Not_Lower&tag=1`);
    expect(bad.status).toBe(400);
    expect((JSON.parse(bad.body) as { message: string }).message).toMatch(/^invalid reference format: Not_Lower:1/);
    const noRepo = await bed().call('POST', `/v1.45/images/${bed().image}/tag`);
    expect([noRepo.status, (JSON.parse(noRepo.body) as { message: string }).message]).toEqual([
      400,
      'repo is required: docker tag SOURCE_IMAGE TARGET_IMAGE[:TAG]',
    ]);
  });
});
