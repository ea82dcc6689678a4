/**
 * VIC Group1 1-03 images: three images of one repository, built at different times, pulled from the
 * test bed's registry; docker images lists them (plain, -a, -q, --no-trunc, by name) and filters them
 * by before/since as dockerd does (by when each image was built), with image ids that are dockerd's
 * (the sha256 of the image config). VIC's "Tag images" case is 1-03-tag.test.ts.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeOciLayout, type ImageSpec } from '../helpers/oci-layout';
import { busyboxImage, useDockerBed } from './docker-env';

const execFileAsync = promisify(execFile);

/**
 * Pushes `spec` to `registryHost/repositoryAndTag` with its config's `created` set to `created`
 * (the layout helper writes one fixed time): its image id, the config's digest, as dockerd computes it.
 */
async function pushBuiltAt(registryHost: string, spec: ImageSpec, repositoryAndTag: string, created: string): Promise<{ config: string; manifest: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'vic-images-'));
  try {
    const layout = await writeOciLayout(dir, 'v1', [spec]);
    const blob = (digest: string) => join(dir, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
    const putBlob = async (content: Buffer) => {
      const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
      await writeFile(blob(digest), content);
      return { digest, size: content.length };
    };
    const manifest = JSON.parse(await readFile(blob(layout.topDigest), 'utf8')) as { config: { digest: string; size: number } };
    const config = JSON.parse(await readFile(blob(manifest.config.digest), 'utf8')) as { created: string };
    const newConfig = await putBlob(Buffer.from(JSON.stringify({ ...config, created })));
    const newManifest = await putBlob(Buffer.from(JSON.stringify({ ...manifest, config: { ...manifest.config, ...newConfig } })));
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Array<Record<string, unknown>> };
    index.manifests[0] = { ...index.manifests[0], ...newManifest };
    await writeFile(join(dir, 'index.json'), JSON.stringify(index));
    await execFileAsync(
      'skopeo',
      [
        'copy',
        '--quiet',
        '--insecure-policy',
        '--all',
        '--dest-tls-verify=false',
        '--preserve-digests',
        `oci:${dir}:v1`,
        `docker://${registryHost}/${repositoryAndTag}`,
      ],
      { timeout: 60_000 },
    );
    return { config: newConfig.digest, manifest: newManifest.digest };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('1-03 docker images', () => {
  const bed = useDockerBed({ vchName: 'vch-images' });
  const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');
  /** The repository of the three images, their ids as dockerd computes them (the config digests) and their manifests' digests, by tag. */
  let repository = '';
  const configDigests: Record<string, string> = {};
  const manifestDigests: Record<string, string> = {};
  /** The ids the endpoint gives them (docker image inspect): the listings must show these. */
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    repository = `${bed().registryHost}/vic-test/images`;
    const spec = busyboxImage();
    for (const [tag, created] of [
      ['1.27.0', '2017-09-01T00:00:00Z'],
      ['1.27.1', '2017-10-01T00:00:00Z'],
      ['latest', '2024-01-02T03:04:05Z'],
    ]) {
      const pushed = await pushBuiltAt(bed().registryHost, spec, `vic-test/images:${tag}`, created);
      configDigests[tag] = pushed.config;
      manifestDigests[tag] = pushed.manifest;
    }
  }, 120_000);

  test('GIVEN three tags of one repository WHEN pulled (the bare name meaning latest) THEN docker images lists all three, newest first', async () => {
    for (const ref of [repository, `${repository}:1.27.1`, `${repository}:1.27.0`]) {
      const r = await bed().docker(['pull', ref], { timeoutMs: 180_000 });
      expect({ ref, code: r.code, stderr: r.stderr }).toEqual({ ref, code: 0, stderr: '' });
      expect(r.stdout).not.toContain('Error');
    }
    for (const tag of ['latest', '1.27.1', '1.27.0']) ids[tag] = await bed().dockerOk(['image', 'inspect', '--format', '{{.Id}}', `${repository}:${tag}`]);
    const table = await bed().docker(['images']);
    expect([table.code, table.stderr]).toEqual([0, '']);
    const rows = lines(table.stdout);
    expect(rows[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    // dockerd lists images newest first (by when they were built).
    expect(rows.slice(1).map((row) => row.split(/\s+/).slice(0, 3))).toEqual([
      [repository, 'latest', ids.latest.slice(7, 19)],
      [repository, '1.27.1', ids['1.27.1'].slice(7, 19)],
      [repository, '1.27.0', ids['1.27.0'].slice(7, 19)],
    ]);
  });

  test('GIVEN the images WHEN docker images -a runs THEN it lists the same three (no intermediate images here)', async () => {
    const rows = lines(await bed().dockerOk(['images', '-a']));
    expect(rows.slice(1).filter((row) => row.split(/\s+/)[0] === repository)).toHaveLength(3);
  });

  test('GIVEN the images WHEN docker images -q runs THEN it prints only their 12-hex ids, one a line, no names', async () => {
    const out = await bed().dockerOk(['images', '-q']);
    expect(out).not.toContain('images');
    expect(lines(out)).toEqual([ids.latest, ids['1.27.1'], ids['1.27.0']].map((id) => id.slice(7, 19)));
  });

  test('GIVEN the images WHEN docker images --no-trunc runs THEN the IMAGE ID column is the whole sha256: id (71 characters)', async () => {
    const rows = lines(await bed().dockerOk(['images', '--no-trunc']));
    expect(rows).toHaveLength(4);
    for (const row of rows.slice(1)) {
      const id = row.split(/\s+/)[2];
      expect(id).toHaveLength(71);
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
  });

  test('GIVEN the images WHEN docker images -f before=<the newest> runs THEN it lists the two built before it', async () => {
    const r = await bed().docker(['images', '-f', `before=${repository}`]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).not.toContain('Error');
    const rows = lines(r.stdout);
    expect(rows).toHaveLength(3);
    expect(rows.slice(1).map((row) => row.split(/\s+/)[1])).toEqual(['1.27.1', '1.27.0']);
  });

  test('GIVEN the images WHEN docker images -f since=<the oldest> runs THEN it lists the two built after it', async () => {
    const r = await bed().docker(['images', '-f', `since=${repository}:1.27.0`]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const rows = lines(r.stdout);
    expect(rows.slice(1).map((row) => row.split(/\s+/)[1])).toEqual(['latest', '1.27.1']);
  });

  test('GIVEN the images WHEN docker images REPOSITORY:TAG runs THEN it lists that one image under the header', async () => {
    const r = await bed().docker(['images', `${repository}:1.27.0`]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const rows = lines(r.stdout);
    expect(rows).toHaveLength(2);
    expect(rows[1].split(/\s+/).slice(0, 3)).toEqual([repository, '1.27.0', ids['1.27.0'].slice(7, 19)]);
  });

  test("VIC/docker image id consistency: GIVEN the images WHEN docker image inspect reads their ids THEN each is the image's manifest digest, as dockerd's containerd image store names images", async () => {
    // VIC pulled each image into VIC and into dockerd and compared the IMAGE ID columns. vic-iac's
    // image id is the digest a pull resolves (docs/endpoint.md), as with dockerd's containerd image
    // store; its classic store shows the config's digest instead.
    const got = Object.fromEntries(
      await Promise.all(
        ['latest', '1.27.1', '1.27.0'].map(async (tag) => [tag, await bed().dockerOk(['image', 'inspect', '--format', '{{.Id}}', `${repository}:${tag}`])]),
      ),
    );
    expect(got).toEqual(manifestDigests);
    expect(Object.values(got)).not.toEqual(expect.arrayContaining(Object.values(configDigests)));
    expect(lines(await bed().dockerOk(['images', '-q', '--no-trunc']))).toEqual([manifestDigests.latest, manifestDigests['1.27.1'], manifestDigests['1.27.0']]);
  });
});
