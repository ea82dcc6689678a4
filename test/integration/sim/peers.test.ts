import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PeerMissingError, findPeer } from '../../../src/sim/peers';
import { startSimulator } from '../../../src/sim/simulator';

describe('findPeer', () => {
  let root: string;
  const saved = { PATH: process.env.PATH, VIC_CACHE: process.env.VIC_CACHE };

  function program(dir: string, name: string, executable = true): string {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, name);
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, executable ? 0o755 : 0o644);
    return path;
  }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'vic-peers-'));
    process.env.VIC_CACHE = join(root, 'cache');
    process.env.PATH = [join(root, 'path-a'), join(root, 'path-b')].join(':');
  });
  afterEach(() => {
    process.env.PATH = saved.PATH;
    if (saved.VIC_CACHE === undefined) delete process.env.VIC_CACHE;
    else process.env.VIC_CACHE = saved.VIC_CACHE;
    rmSync(root, { recursive: true, force: true });
  });

  test.each<[string, (r: string) => string | undefined, RegExp | undefined]>([
    ['in the cache and on PATH: the cache wins', (r) => (program(join(r, 'path-a'), 'skopeo'), program(join(r, 'cache', 'bin'), 'skopeo')), undefined],
    ['only on PATH: the first PATH entry that has it', (r) => (program(join(r, 'path-b'), 'skopeo'), undefined), /path-b\/skopeo$/],
    [
      'present but not executable, then executable later on PATH',
      (r) => (program(join(r, 'path-a'), 'skopeo', false), program(join(r, 'path-b'), 'skopeo')),
      undefined,
    ],
  ])('GIVEN a peer %s WHEN found THEN its absolute path comes back', (_case, arrange, pattern) => {
    const expected = arrange(root);
    const found = findPeer('skopeo');
    if (expected) expect(found).toBe(expected);
    if (pattern) expect(found).toMatch(pattern);
  });

  test.each([
    ['vcsim-launcher', /run "npm run setup" \(builds \.cache\/bin\/vcsim-launcher/],
    ['docker-registry', /apt-get install docker-registry/],
    ['qemu-system-x86_64', /apt-get install qemu-system-x86/],
    ['some-unknown-tool', /install "some-unknown-tool" and put it on PATH/],
  ])('GIVEN %s is nowhere WHEN looked up THEN PeerMissingError names how to install it', (name, hint) => {
    expect(() => findPeer(name)).toThrow(PeerMissingError);
    expect(() => findPeer(name)).toThrow(hint);
    expect(() => findPeer(name)).toThrow(new RegExp(`"${name}" not found in .*cache/bin, PATH`));
  });

  test('GIVEN no launcher built WHEN a simulator is started THEN it fails loudly with the setup command', async () => {
    await expect(startSimulator()).rejects.toThrow(/vcsim-launcher.*npm run setup/);
  });
});
