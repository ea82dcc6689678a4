/**
 * The V8 code cache the installed provider loads its bundles with (provider/code-cache.ts), in real
 * Node processes: the cache is written when a process exits and only read back by a later one.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = join(__dirname, '../..');

interface Loaded {
  compiled: string;
  value: string;
}

describe('loadBundle (V8 code cache)', () => {
  let home: string;
  let bundle: string;
  const cacheDir = () => join(home, 'run/vic-iac/code-cache');
  const cacheFiles = () => readdirSync(cacheDir()).filter((f) => f.endsWith('.v8'));

  /** Loads the bundle in a fresh Node process, as a provider start does. */
  async function load(env: NodeJS.ProcessEnv = {}): Promise<Loaded> {
    const script = `const { loadBundle } = require(${JSON.stringify(join(REPO, 'provider/code-cache'))});
      const r = loadBundle(${JSON.stringify(bundle)});
      console.log(JSON.stringify({ compiled: r.compiled, value: r.exports.greet('cache') }));`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: REPO,
      env: { PATH: process.env.PATH, HOME: home, XDG_RUNTIME_DIR: join(home, 'run'), ...env },
    });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Loaded;
  }

  const writeBundle = (greeting: string) =>
    writeFileSync(bundle, `const path = require('node:path');\nexports.greet = (who) => '${greeting}, ' + who + ' from ' + path.basename(__filename);\n`);

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'vic-code-cache-'));
    bundle = join(home, 'main.js');
    writeBundle('hello');
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('GIVEN a first start WHEN it exits THEN the cache is written privately, and the next start runs from it with the same result', async () => {
    expect(await load()).toEqual({ compiled: 'source', value: 'hello, cache from main.js' });
    expect(cacheFiles()).toHaveLength(1);
    expect(statSync(cacheDir()).mode & 0o777).toBe(0o700);
    expect(statSync(join(cacheDir(), cacheFiles()[0])).mode & 0o777).toBe(0o600);
    expect(await load()).toEqual({ compiled: 'cached', value: 'hello, cache from main.js' });
  }, 60_000);

  it('GIVEN a new version of the bundle WHEN started THEN the old cache is not used; both versions keep their cache', async () => {
    await load();
    const [old] = cacheFiles();
    writeBundle('bonjour');
    expect(await load()).toEqual({ compiled: 'source', value: 'bonjour, cache from main.js' });
    expect(cacheFiles()).toHaveLength(2);
    expect(cacheFiles()).toContain(old);
    expect(await load()).toEqual({ compiled: 'cached', value: 'bonjour, cache from main.js' });
    // Two installed versions used in turn (two configurations pinning different versions) no longer evict each other.
    writeBundle('hello');
    expect(await load()).toEqual({ compiled: 'cached', value: 'hello, cache from main.js' });
  }, 60_000);

  it('GIVEN more versions than CACHES_PER_BUNDLE WHEN each has run THEN only the most recently written caches stay, and abandoned temporary files go', async () => {
    const { CACHES_PER_BUNDLE } = await import('../../provider/code-cache');
    const versions = Array.from({ length: CACHES_PER_BUNDLE + 2 }, (_, i) => `version ${i}`);
    for (const v of versions) {
      writeBundle(v);
      expect((await load()).compiled).toBe('source');
      // mtime order must not depend on the file system's timestamp resolution
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(cacheFiles()).toHaveLength(CACHES_PER_BUNDLE);
    // A process killed between writing its cache and renaming it leaves a temporary file behind.
    const abandoned = join(cacheDir(), '.main.js-0123456789abcdef.v8.deadbeef');
    writeFileSync(abandoned, 'partial');
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(abandoned, hourAgo, hourAgo);
    writeBundle(versions[0]);
    expect((await load()).compiled).toBe('source');
    expect(cacheFiles()).toHaveLength(CACHES_PER_BUNDLE);
    expect(readdirSync(cacheDir())).not.toContain('.main.js-0123456789abcdef.v8.deadbeef');
    // The newest versions are the ones still cached.
    writeBundle(versions[versions.length - 1]);
    expect((await load()).compiled).toBe('cached');
    writeBundle(versions[1]);
    expect((await load()).compiled).toBe('source');
  }, 120_000);

  it('GIVEN several first starts at once WHEN they exit THEN one whole cache is left, which the next start uses', async () => {
    const results = await Promise.all([load(), load(), load(), load()]);
    expect(results.map((r) => r.value)).toEqual(Array(4).fill('hello, cache from main.js'));
    expect(cacheFiles()).toHaveLength(1);
    expect(readdirSync(cacheDir()).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(await load()).toEqual({ compiled: 'cached', value: 'hello, cache from main.js' });
  }, 60_000);

  it('GIVEN a damaged cache file WHEN started THEN V8 refuses it, the bundle runs from source and the cache is rewritten', async () => {
    await load();
    writeFileSync(join(cacheDir(), cacheFiles()[0]), Buffer.alloc(4096, 0x5a));
    expect(await load()).toEqual({ compiled: 'source', value: 'hello, cache from main.js' });
    expect((await load()).compiled).toBe('cached');
  }, 60_000);

  it('GIVEN a cache directory other users can write to WHEN started THEN it is not trusted: no cache is read or written', async () => {
    await load();
    chmodSync(cacheDir(), 0o777);
    expect(await load()).toEqual({ compiled: 'uncached', value: 'hello, cache from main.js' });
  }, 60_000);

  it('GIVEN VIC_PROVIDER_CODE_CACHE=0 WHEN started THEN the bundle is required as usual and nothing is written', async () => {
    expect(await load({ VIC_PROVIDER_CODE_CACHE: '0' })).toEqual({ compiled: 'uncached', value: 'hello, cache from main.js' });
    expect(() => readdirSync(cacheDir())).toThrow();
  }, 60_000);
});

describe('the handshake certificate cache', () => {
  it('GIVEN a private directory WHEN two starts ask THEN the second reuses the certificate; GIVEN one others can write to THEN it is never used', async () => {
    const { serverCertificate } = await import('../../provider/auto-mtls');
    const dir = mkdtempSync(join(tmpdir(), 'vic-cert-cache-'));
    try {
      chmodSync(dir, 0o700);
      const env = { VIC_PROVIDER_CERT_DIR: dir };
      const first = await serverCertificate(env);
      const second = await serverCertificate(env);
      expect([first.source, second.source]).toEqual(['generated', 'cached']);
      expect(second.cert.handshakeField).toBe(first.cert.handshakeField);
      chmodSync(dir, 0o777);
      const third = await serverCertificate(env);
      expect(third.source).toBe('generated');
      expect(third.cert.handshakeField).not.toBe(first.cert.handshakeField);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
