/**
 * docker save with the docker CLI and the real registry: a pulled image (whose layers the image store
 * does not keep: they are read back from the registry) saved as docker 25 saves, removed, and loaded
 * again with the same id; by id it is saved without a name, as dockerd saves it.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useDockerBed } from './docker-env';

describe('docker save', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-save' });
  let host = '';
  beforeAll(() => (host = mkdtempSync(join(tmpdir(), 'vic-save-'))));
  afterAll(() => rmSync(host, { recursive: true, force: true }));

  test('GIVEN a pulled image WHEN docker save -o FILE, docker rmi and docker load -i FILE THEN the archive holds its manifest byte for byte under its name, and the image comes back with its id and name', async () => {
    const id = await bed().dockerOk(['image', 'inspect', '-f', '{{.Id}}', bed().image]);
    const since = Math.floor(Date.now() / 1000) - 1;
    const file = join(host, 'saved.tar');
    await bed().dockerOk(['save', '-o', file, bed().image]);
    const dir = join(host, 'saved');
    execFileSync('mkdir', [dir]);
    execFileSync('tar', ['-C', dir, '-xf', file]);
    const manifest = readFileSync(join(dir, 'blobs', 'sha256', id.slice(7)));
    expect(`sha256:${createHash('sha256').update(manifest).digest('hex')}`).toBe(id);
    const legacy = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Array<{ RepoTags: string[]; Layers: string[] }>;
    expect(legacy).toEqual([expect.objectContaining({ RepoTags: [bed().image], Layers: [expect.stringMatching(/^blobs\/sha256\/[0-9a-f]{64}$/)] })]);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations: Record<string, string> }> };
    expect(index.manifests).toEqual([
      expect.objectContaining({ digest: id, annotations: expect.objectContaining({ 'org.opencontainers.image.ref.name': '1' }) }),
    ]);
    expect(await bed().eventsSince(since, 'event=save', '{{.Actor.ID}}')).toEqual([id]);

    await bed().dockerOk(['rmi', bed().image]);
    const r = await bed().docker(['load', '-i', file]);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `Loaded image: ${bed().image}\n`, '']);
    expect(await bed().dockerOk(['image', 'inspect', '-f', '{{.Id}}', bed().image])).toBe(id);
  });

  test('GIVEN an image saved by its id WHEN the archive is loaded THEN it has no name, as with dockerd, and the load says its id', async () => {
    const id = await bed().dockerOk(['image', 'inspect', '-f', '{{.Id}}', bed().image]);
    const file = join(host, 'by-id.tar');
    await bed().dockerOk(['save', '-o', file, id.slice(7, 19)]);
    const r = await bed().docker(['load', '-i', file]);
    expect([r.code, r.stdout]).toEqual([0, `Loaded image ID: ${id}\n`]);
  });

  test("GIVEN an image that is not there WHEN docker save names it THEN dockerd's No such image, and no file", async () => {
    const file = join(host, 'none.tar');
    const r = await bed().docker(['save', '-o', file, 'nosuch:1']);
    expect([r.code, r.stderr.trim()]).toEqual([1, 'Error response from daemon: No such image: nosuch:1']);
  });
});
