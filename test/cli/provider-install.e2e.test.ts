/**
 * `vic provider install [MIRROR]` and the clone's `npm run install-provider` (scripts/install-provider.sh)
 * lay the provider out the same way: the same files per registry host and one launcher, so a mirror
 * made either way is the same to `terraform init`. The npm package's own install is exercised in
 * test/package/npm-package.e2e.test.ts.
 */
import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installProvider as installWithScript } from '../provider/terraform-cli';
import { cleanEnv, runVic } from './run-vic';

const VERSION = (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;
const PLATFORM = `${process.platform}_${process.arch === 'x64' ? 'amd64' : process.arch}`;

describe('vic provider install', () => {
  let mirror: string;
  beforeAll(() => {
    mirror = mkdtempSync(join(tmpdir(), 'vic-provider-install-'));
  });
  afterAll(() => rmSync(mirror, { recursive: true, force: true }));

  test('GIVEN a mirror WHEN vic provider install runs THEN each registry host holds what install-provider.sh puts there, with the same launcher', async () => {
    const scripted = installWithScript();
    const r = await runVic(['provider', 'install', mirror], cleanEnv());
    expect([r.code, r.stderr]).toEqual([0, '']);
    for (const host of ['registry.terraform.io', 'registry.opentofu.org']) {
      const ours = join(mirror, host, 'vic-iac/vic', VERSION, PLATFORM);
      const theirs = join(scripted, host, 'vic-iac/vic', VERSION, PLATFORM);
      expect(r.stdout).toContain(`installed vic-iac/vic ${VERSION} into ${ours}`);
      expect(readdirSync(ours).sort()).toEqual(readdirSync(theirs).sort());
      // The node each names may be reached by another path (a symlink on PATH): compare where it leads.
      const launcher = (dir: string) => {
        const text = readFileSync(join(dir, `terraform-provider-vic_v${VERSION}`), 'utf8');
        return text.replace(/exec "([^"]+)"/, (_m, node: string) => `exec "${realpathSync(node)}"`);
      };
      expect(launcher(ours)).toBe(launcher(theirs));
      for (const f of ['boot.js', 'main.js', 'engine-entry.js']) expect(readFileSync(join(ours, f))).toEqual(readFileSync(join(theirs, f)));
    }
  });

  test('GIVEN no bundle WHEN the package root holds none THEN the error says what to run', async () => {
    const { installProvider } = await import('../../src/cli/provider-install');
    const empty = mkdtempSync(join(tmpdir(), 'vic-no-bundle-'));
    try {
      expect(() => installProvider({ root: empty, version: VERSION, mirror })).toThrow(
        /no provider bundle in .*: from a clone, run npm run install-provider instead/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
