/**
 * The local bootstrap ISO's digest is hashed once per content, then remembered in this process and
 * in the private per-user cache directory for the provider's next processes.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Module = typeof import('../../../src/resources/bootstrap-iso');
/** A fresh copy of the module: what a new provider process starts with (nothing in memory). */
const freshModule = (): Module => {
  let loaded: Module | undefined;
  jest.isolateModules(() => {
    loaded = jest.requireActual<Module>('../../../src/resources/bootstrap-iso');
  });
  return loaded!;
};
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');

describe('localIsoDigest', () => {
  let home: string;
  let iso: string;
  let env: NodeJS.ProcessEnv;
  const cacheDir = () => join(home, 'run/vic-iac/iso-digests');

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'vic-iso-digest-'));
    iso = join(home, 'bootstrap.iso');
    writeFileSync(iso, 'iso v1');
    env = { XDG_RUNTIME_DIR: join(home, 'run') };
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('GIVEN an ISO WHEN its digest is asked for THEN it is its sha256, remembered privately for the next process', async () => {
    expect(await freshModule().localIsoDigest(iso, env)).toBe(sha256('iso v1'));
    const [file] = readdirSync(cacheDir());
    expect(readFileSync(join(cacheDir(), file), 'utf8').trim()).toBe(sha256('iso v1'));
    // The next process reads what the first remembered instead of hashing: prove it with a planted value.
    writeFileSync(join(cacheDir(), file), `${'a'.repeat(64)}\n`);
    expect(await freshModule().localIsoDigest(iso, env)).toBe('a'.repeat(64));
  });

  it('GIVEN the ISO rebuilt in place WHEN asked again THEN it is hashed again, not taken from memory or the cache', async () => {
    const first = freshModule();
    expect(await first.localIsoDigest(iso, env)).toBe(sha256('iso v1'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    writeFileSync(iso, 'iso v2, longer');
    expect(await first.localIsoDigest(iso, env)).toBe(sha256('iso v2, longer'));
    expect(await freshModule().localIsoDigest(iso, env)).toBe(sha256('iso v2, longer'));
  });

  it('GIVEN a cache directory others can write to WHEN asked THEN nothing planted there is believed', async () => {
    await freshModule().localIsoDigest(iso, env);
    const [file] = readdirSync(cacheDir());
    writeFileSync(join(cacheDir(), file), `${'b'.repeat(64)}\n`);
    chmodSync(cacheDir(), 0o777);
    expect(await freshModule().localIsoDigest(iso, env)).toBe(sha256('iso v1'));
  });
});

describe('privateCacheDir', () => {
  it('GIVEN no usable home (HOME pointing at a file) WHEN a cache is asked for THEN there is none, and the ISO digest is still computed', async () => {
    const { privateCacheDir } = await import('../../../src/private-cache');
    const dir = mkdtempSync(join(tmpdir(), 'vic-no-home-'));
    try {
      const notADir = join(dir, 'file');
      writeFileSync(notADir, 'x');
      const env = { HOME: notADir, XDG_CACHE_HOME: join(notADir, 'cache') };
      expect(privateCacheDir('iso-digests', env)).toBeUndefined();
      const iso = join(dir, 'b.iso');
      writeFileSync(iso, 'iso');
      expect(await freshModule().localIsoDigest(iso, env)).toBe(sha256('iso'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('localBootstrapIso', () => {
  const { localBootstrapIso } = jest.requireActual<Module>('../../../src/resources/bootstrap-iso');
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vic-iso-find-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('GIVEN VIC_CACHE moved elsewhere WHEN the ISO is looked up THEN the one setup built there is found', () => {
    mkdirSync(join(dir, 'cache/bootstrap'), { recursive: true });
    writeFileSync(join(dir, 'cache/bootstrap/bootstrap.iso'), 'iso');
    expect(localBootstrapIso({ VIC_CACHE: join(dir, 'cache') }, join(dir, 'elsewhere'))).toBe(join(dir, 'cache/bootstrap/bootstrap.iso'));
  });

  it('GIVEN VIC_BOOTSTRAP_ISO WHEN the ISO is looked up THEN it wins over VIC_CACHE', () => {
    mkdirSync(join(dir, 'cache/bootstrap'), { recursive: true });
    writeFileSync(join(dir, 'cache/bootstrap/bootstrap.iso'), 'iso');
    expect(localBootstrapIso({ VIC_CACHE: join(dir, 'cache'), VIC_BOOTSTRAP_ISO: '/x/my.iso' }, dir)).toBe('/x/my.iso');
  });

  it('GIVEN VIC_CACHE without an ISO WHEN the ISO is looked up THEN the package-relative one is found', () => {
    mkdirSync(join(dir, 'pkg/.cache/bootstrap'), { recursive: true });
    writeFileSync(join(dir, 'pkg/.cache/bootstrap/bootstrap.iso'), 'iso');
    expect(localBootstrapIso({ VIC_CACHE: join(dir, 'empty') }, join(dir, 'pkg/dist/src'))).toBe(join(dir, 'pkg/.cache/bootstrap/bootstrap.iso'));
  });
});
