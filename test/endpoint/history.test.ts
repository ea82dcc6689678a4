/**
 * docker history with the docker CLI: the steps of an image's config, newest first, read from the
 * config kept beside its disk (a pulled image's as the registry served it, a loaded one's from its
 * archive), each layer's size on the step that made it; and `image inspect`'s RootFS.Layers, from
 * the same config.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useDockerBed } from './docker-env';

describe('docker history', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-history' });
  let host = '';
  beforeAll(() => (host = mkdtempSync(join(tmpdir(), 'vic-history-'))));
  afterAll(() => rmSync(host, { recursive: true, force: true }));

  const history = (image: string) =>
    bed().dockerOk(['history', '--no-trunc', '--human=false', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}', image]);

  test('GIVEN a pulled image whose config has no history WHEN docker history THEN one row: the image’s id and the size of its layer', async () => {
    const id = await bed().dockerOk(['image', 'inspect', '-f', '{{.Id}}', bed().image]);
    const [row, ...more] = (await history(bed().image)).split('\n');
    expect(more).toEqual([]);
    const [shown, createdBy, size] = row.split('|');
    expect([shown, createdBy]).toEqual([id, '']);
    expect(Number(size)).toBeGreaterThan(1_000_000);
    // The layers of the config the registry served: one per layer of the test image.
    const layers = JSON.parse(await bed().dockerOk(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', bed().image])) as string[];
    expect(layers.length).toBeGreaterThan(0);
    for (const l of layers) expect(l).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test('GIVEN a loaded image whose config has two steps, one without a layer WHEN docker history THEN both, newest first, the layer’s size on the step that added it', async () => {
    const dir = join(host, 'archive');
    mkdirSync(join(dir, 'root', 'srv'), { recursive: true });
    writeFileSync(join(dir, 'root', 'srv', 'data'), 'x'.repeat(10_000));
    const layer = join(dir, 'layer.tar');
    execFileSync('tar', ['-C', join(dir, 'root'), '--owner=0', '--group=0', '-cf', layer, '.']);
    const diffId = `sha256:${createHash('sha256')
      .update(execFileSync('cat', [layer]))
      .digest('hex')}`;
    const config = {
      architecture: 'amd64',
      os: 'linux',
      created: '2024-01-02T00:00:00Z',
      config: { Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [
        { created: '2024-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD dir:abc in / ' },
        { created: '2024-01-02T00:00:00Z', created_by: '/bin/sh -c #(nop)  CMD ["sh"]', comment: 'the command', empty_layer: true },
      ],
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: ['stepped:v1'], Layers: ['layer.tar'] }]));
    const archive = join(host, 'stepped.tar');
    execFileSync('tar', ['-C', dir, '-cf', archive, 'manifest.json', 'config.json', 'layer.tar']);
    await bed().dockerOk(['load', '-i', archive]);
    const id = await bed().dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'stepped:v1']);
    expect((await history('stepped:v1')).split('\n')).toEqual([
      `${id}|/bin/sh -c #(nop)  CMD ["sh"]|0|the command`,
      `<missing>|/bin/sh -c #(nop) ADD dir:abc in / |${statSync(layer).size}|`,
    ]);
    // inspect names the layers the config names, as dockerd (RootFS.Layers).
    expect(await bed().dockerOk(['image', 'inspect', '-f', '{{.RootFS.Type}} {{json .RootFS.Layers}}', 'stepped:v1'])).toBe(`layers ["${diffId}"]`);
  });

  test("GIVEN an image that is not there WHEN docker history names it THEN dockerd's No such image", async () => {
    const r = await bed().docker(['history', 'nosuch:1']);
    expect([r.code, r.stderr.trim()]).toEqual([1, 'Error response from daemon: No such image: nosuch:1']);
  });
});
