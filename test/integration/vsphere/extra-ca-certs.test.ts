/**
 * NODE_EXTRA_CA_CERTS, deferred by the provider's launchers (src/extra-ca-certs.ts): the launcher
 * moves it to VIC_EXTRA_CA_CERTS, so Node's start does not build the root store, and the provider's
 * TLS clients trust the file all the same. Checked against real TLS peers: the simulator (whose
 * certificate is its own CA) and a docker-registry serving a throwaway CA's certificate. The file
 * is trusted only through the deferred variable here, so a pass cannot come from Node's own start.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEFER_EXTRA_CA_CERTS, providerLauncher } from '../../../src/cli/provider-install';
import { DEFERRED_EXTRA_CA_CERTS, restoreExtraCaCertsForChildren } from '../../../src/extra-ca-certs';
import { ManifestNotFoundError } from '../../../src/images/errors';
import { RegistryClient } from '../../../src/images/registry-client';
import { VimClient } from '../../../src/vsphere';
import { useRegistry } from '../../helpers/registry';
import { useSimulator } from '../../helpers/vcsim';

const run = promisify(execFile);
const REPO = join(__dirname, '../../..');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vic-extra-ca-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `fn` with VIC_EXTRA_CA_CERTS set to `file` (or unset), as the launcher leaves it. */
async function deferred<T>(file: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env[DEFERRED_EXTRA_CA_CERTS];
  if (file === undefined) delete process.env[DEFERRED_EXTRA_CA_CERTS];
  else process.env[DEFERRED_EXTRA_CA_CERTS] = file;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[DEFERRED_EXTRA_CA_CERTS];
    else process.env[DEFERRED_EXTRA_CA_CERTS] = before;
  }
}

describe('the launcher', () => {
  /** What the launcher hands to boot.js: a stand-in boot.js that prints the two variables. */
  async function launch(env: Record<string, string>): Promise<{ node: string | null; vic: string | null }> {
    writeFileSync(
      join(dir, 'boot.js'),
      'process.stdout.write(JSON.stringify({ node: process.env.NODE_EXTRA_CA_CERTS ?? null, vic: process.env.VIC_EXTRA_CA_CERTS ?? null }))',
    );
    const launcher = join(dir, 'terraform-provider-vic_v0');
    writeFileSync(launcher, providerLauncher('0', process.execPath), { mode: 0o755 });
    const { stdout } = await run(launcher, [], { env: { PATH: process.env.PATH, ...env } });
    return JSON.parse(stdout) as { node: string | null; vic: string | null };
  }

  test('GIVEN NODE_EXTRA_CA_CERTS THEN Node starts without it, and the provider finds it in VIC_EXTRA_CA_CERTS', async () => {
    expect(await launch({ NODE_EXTRA_CA_CERTS: '/etc/corp-ca.pem' })).toEqual({ node: null, vic: '/etc/corp-ca.pem' });
  });

  test.each(['--use-openssl-ca', '--max-old-space-size=512 --use-bundled-ca'])(
    'GIVEN NODE_OPTIONS=%s (another CA store) THEN NODE_EXTRA_CA_CERTS is left to Node',
    async (options) => {
      expect(await launch({ NODE_EXTRA_CA_CERTS: '/etc/corp-ca.pem', NODE_OPTIONS: options })).toEqual({ node: '/etc/corp-ca.pem', vic: null });
    },
  );

  test('GIVEN no NODE_EXTRA_CA_CERTS THEN neither variable is set', async () => {
    expect(await launch({})).toEqual({ node: null, vic: null });
  });

  test('GIVEN the other launchers THEN each holds the same lines (scripts/lib.sh for install-provider.sh and release.sh, bin/terraform-provider-vic)', async () => {
    const { stdout } = await run('bash', ['-c', 'source scripts/lib.sh && printf %s "$VIC_DEFER_EXTRA_CA_CERTS"'], { cwd: REPO });
    expect(stdout).toBe(DEFER_EXTRA_CA_CERTS);
    expect(readFileSync(join(REPO, 'bin/terraform-provider-vic'), 'utf8')).toContain(`\n${DEFER_EXTRA_CA_CERTS}\n`);
    for (const script of ['scripts/install-provider.sh', 'scripts/release.sh']) {
      expect(readFileSync(join(REPO, script), 'utf8')).toMatch(/\n\$VIC_DEFER_EXTRA_CA_CERTS\nexec /);
    }
  });

  test('GIVEN a deferred file THEN the provider gives it back to NODE_EXTRA_CA_CERTS for its children, and never overrides one that is set', () => {
    const env: NodeJS.ProcessEnv = { VIC_EXTRA_CA_CERTS: '/a.pem' };
    restoreExtraCaCertsForChildren(env);
    expect(env.NODE_EXTRA_CA_CERTS).toBe('/a.pem');
    const kept: NodeJS.ProcessEnv = { VIC_EXTRA_CA_CERTS: '/a.pem', NODE_EXTRA_CA_CERTS: '/b.pem' };
    restoreExtraCaCertsForChildren(kept);
    expect(kept.NODE_EXTRA_CA_CERTS).toBe('/b.pem');
  });
});

describe('GIVEN a simulator whose certificate is trusted only through the deferred NODE_EXTRA_CA_CERTS', () => {
  const sim = useSimulator();
  const login = () => VimClient.connect({ url: sim().url, username: 'u', password: 'p' }).then((client) => client.close());
  let caFile: string;
  beforeAll(() => {
    caFile = join(dir, 'vcsim-ca.pem');
    writeFileSync(caFile, sim().certPem ?? '');
    expect(sim().certPem).toContain('BEGIN CERTIFICATE');
  });

  test('THEN the default trust (no thumbprint, no CA file) logs in', async () => {
    await expect(deferred(caFile, login)).resolves.toBeUndefined();
  });

  test('THEN without it the same login is refused as untrusted, saying how to pin the certificate', async () => {
    const refusal = deferred(undefined, login);
    // This process's own NODE_EXTRA_CA_CERTS (Node loaded it at start) is named when there is one.
    const extra = process.env.NODE_EXTRA_CA_CERTS ? ` and NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS}` : '';
    await expect(refusal).rejects.toThrow(`checked against system CAs${extra}); pin it with thumbprint`);
  });

  test("THEN a file that cannot be loaded is ignored with Node's warning, and the bundled roots alone apply", async () => {
    const missing = join(dir, 'no-such-ca.pem');
    // In a process of its own, so the warning is seen as a user sees it on the provider's stderr.
    const probe = [
      "require('./src/vsphere').VimClient.connect({ url: process.argv[1], username: 'u', password: 'p' })",
      '.then(() => process.stdout.write("logged in"), (e) => process.stdout.write(e.message))',
    ].join('');
    const { stdout, stderr } = await run(process.execPath, ['--require', 'tsx/cjs', '-e', probe, sim().url], {
      cwd: REPO,
      env: { ...process.env, VIC_EXTRA_CA_CERTS: missing },
    });
    expect(stdout).toMatch(/TLS certificate of .* is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT, checked against system CAs and NODE_EXTRA_CA_CERTS /);
    expect(stdout).toContain(`NODE_EXTRA_CA_CERTS ${missing});`);
    expect(stderr).toContain(`Warning: Ignoring extra certs from \`${missing}\`, load failed: ENOENT`);
  });
});

describe('GIVEN a TLS registry whose CA is trusted only through the deferred NODE_EXTRA_CA_CERTS', () => {
  const registry = useRegistry({ tls: true });
  const fetchMissing = async () => {
    const client = await RegistryClient.create(registry().host);
    try {
      await client.fetchManifest('library/none', 'latest');
    } finally {
      await client.close();
    }
  };

  test('THEN a client without ca_file reaches it (the manifest is simply not there)', async () => {
    await expect(deferred(registry().caFile, fetchMissing)).rejects.toBeInstanceOf(ManifestNotFoundError);
  });

  test('THEN without it the connection is refused for the certificate', async () => {
    const err = (await deferred(undefined, fetchMissing).catch((e: unknown) => e)) as Error;
    expect(err).not.toBeInstanceOf(ManifestNotFoundError);
    expect(err.message).toMatch(/certificate/i);
  });
});
