/**
 * 1-03 images and 1-12 rmi with two tags of one digest: the VCH's store holds one disk per digest,
 * so docker images lists both tags on one IMAGE ID, and docker rmi of one tag only untags it while
 * the other remains (as dockerd does), never deleting the disk the other tag still names.
 */
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { writeOciLayout } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { busyboxImage, useDockerBed } from './docker-env';

describe('1-03 docker images and 1-12 docker rmi: two tags, one digest', () => {
  const bed = useDockerBed({ vchName: 'vch-tags' });
  const registry = useRegistry();
  let scratch: string;
  const tag = (t: string) => `${registry().host}/tags/busybox:${t}`;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'vic-shared-digest-'));
    // One layout pushed under two tags with its digests kept: one manifest, one digest.
    const layout = await writeOciLayout(join(scratch, 'layout'), 'v1', [busyboxImage()]);
    await registry().push(layout.dir, layout.tag, 'tags/busybox:1.36');
    await registry().push(layout.dir, layout.tag, 'tags/busybox:latest');
    bed().insecureRegistries.push(registry().host);
  }, 120_000);

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const images = async () => (await bed().dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).split('\n').filter(Boolean).sort();

  test('GIVEN two tags of one digest WHEN both are pulled THEN docker images lists both tags with one IMAGE ID, and each inspects to it', async () => {
    await bed().dockerOk(['pull', tag('1.36')]);
    const second = await bed().docker(['pull', tag('latest')], { timeoutMs: 180_000 });
    expect([second.code, second.stderr]).toEqual([0, '']);
    const rows = await images();
    expect(rows.map((r) => r.split(' ')[0])).toEqual([tag('1.36'), tag('latest')]);
    const ids = new Set(rows.map((r) => r.split(' ')[1]));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    for (const t of ['1.36', 'latest']) {
      expect(await bed().dockerOk(['image', 'inspect', '--format', '{{.Id}} {{len .RepoTags}}', tag(t)])).toMatch(new RegExp(`^sha256:${id}[0-9a-f]{52} 2$`));
    }
  });

  test('GIVEN both tags WHEN docker rmi removes one THEN it is only untagged: the other tag keeps the image and its disk, and a container can still be made from it', async () => {
    const r = await bed().docker(['rmi', tag('1.36')]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(`Untagged: ${tag('1.36')}\n`);
    const rows = await images();
    expect(rows.map((row) => row.split(' ')[0])).toEqual([tag('latest')]);
    expect((await bed().docker(['image', 'inspect', tag('1.36')])).code).toBe(1);
    expect((await bed().docker(['create', '--name', 'after-untag', tag('latest')])).code).toBe(0);
    expect(await bed().dockerOk(['ps', '-a', '--filter', 'name=after-untag', '--format', '{{.Image}}'])).toBe(tag('latest'));
  });

  test('GIVEN the image tagged twice again WHEN docker rmi names its ID THEN it is refused (must be forced), as the image is referenced in two repositories', async () => {
    await bed().dockerOk(['pull', tag('1.36')]);
    const id = await bed().dockerOk(['image', 'inspect', '--format', '{{.Id}}', tag('latest')]);
    const refused = await bed().docker(['rmi', id.slice(7, 19)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`unable to delete ${id.slice(7, 19)} \\(must be forced\\) - image is referenced in multiple repositories`));
    expect((await images()).length).toBe(2);
  });

  test('GIVEN one tag left and no container WHEN docker rmi removes it THEN it is untagged and the image deleted', async () => {
    expect((await bed().docker(['rm', 'after-untag'])).code).toBe(0);
    expect((await bed().docker(['rmi', tag('1.36')])).stdout).toBe(`Untagged: ${tag('1.36')}\n`);
    const id = await bed().dockerOk(['image', 'inspect', '--format', '{{.Id}}', tag('latest')]);
    const r = await bed().docker(['rmi', tag('latest')]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(`Untagged: ${tag('latest')}\nDeleted: ${id}\n`);
    expect(await images()).toEqual([]);
  });
});
