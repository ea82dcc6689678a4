/**
 * The Terraform provider as release artifacts (`npm run release`), installed the ways users install
 * a provider that is not on a public registry:
 *   - Terraform through a `network_mirror` that a local HTTPS server serves from the release's mirror/,
 *     and through the same directory as a `filesystem_mirror` (the packed layout `terraform providers
 *     mirror` writes), with the same package hash;
 *   - OpenTofu through exactly what the README tells an OpenTofu user: a filesystem mirror in ~/.tofurc,
 *     and examples/terraform with its bare `source = "vic-iac/vic"`.
 * Each one applies examples/terraform against the simulator and destroys it again.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { findPeer } from '../../src/sim/peers';
import { REPO, requireTerraform, type Workspace } from '../provider/terraform-cli';
import { useTerraformTestbed } from '../provider/testbed';

const run = promisify(execFile);
const PASSWORD = 'Release-e2e-S3cret!';
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const NAME = 'terraform-provider-vic';
const PLATFORMS = ['linux_amd64', 'linux_arm64', 'darwin_amd64', 'darwin_arm64'];

/** The README's OpenTofu CLI configuration, with <release> standing for the release directory. */
function readmeTofuConfig(): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const block = /<!-- tofurc -->\s*```hcl\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README.md has no OpenTofu CLI configuration block after a <!-- tofurc --> marker');
  return block[1];
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A static HTTPS server over `root`, with a self-signed certificate for 127.0.0.1 written to `certFile`. */
async function serveHttps(root: string, certFile: string): Promise<{ server: Server; url: string; requests: string[] }> {
  const keyFile = `${certFile}.key`;
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], {
    stdio: 'ignore',
  });
  const requests: string[] = [];
  const server = createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'https://127.0.0.1').pathname);
    requests.push(path);
    const file = normalize(join(root, path));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/zip', 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests };
}

/** A working directory holding examples/terraform, run by `binary` with the given environment. */
function exampleWorkspace(parent: string, name: string, binary: string, env: NodeJS.ProcessEnv): Workspace {
  const dir = join(parent, name);
  cpSync(join(REPO, 'examples/terraform'), dir, { recursive: true });
  return {
    dir,
    cliConfig: env.TF_CLI_CONFIG_FILE ?? '',
    write: (file, content) => writeFileSync(join(dir, file), content),
    async terraform(args, extra = {}) {
      try {
        const r = await run(binary, args, { cwd: dir, env: { ...env, ...extra, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', NO_COLOR: '1' }, maxBuffer: 64 << 20 });
        return { code: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    },
  };
}

/** The environment without any CLI configuration the machine or the jest run sets. */
function cleanEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  for (const key of Object.keys(env)) if (key.startsWith('TF_') && key !== 'TF_VAR_image' && key !== 'TF_VAR_insecure_registry') delete env[key];
  return env;
}

describe('terraform-provider-vic release artifacts', () => {
  const bed = useTerraformTestbed({ username: 'release-e2e', password: PASSWORD, repository: 'release/app', program: 'httpd' });
  let scratch: string;
  let release: string;
  let https: { server: Server; url: string; requests: string[] } | undefined;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'vic-release-e2e-'));
    release = join(scratch, 'release');
    // GIVEN the artifacts of one command
    await run('npm', ['run', '--silent', 'release', '--', release], { cwd: REPO, maxBuffer: 16 << 20, timeout: 300_000 });
  }, 360_000);

  afterAll(async () => {
    await new Promise<void>((ok) => (https ? https.server.close(() => ok()) : ok()));
    if (scratch && !process.env.VIC_KEEP_SCRATCH) rmSync(scratch, { recursive: true, force: true });
  });

  test('THEN the zips, SHA256SUMS and the manifest are written, and SHA256SUMS verifies', () => {
    const sums = readFileSync(join(release, `${NAME}_${VERSION}_SHA256SUMS`), 'utf8');
    const listed = sums.trim().split('\n').map((l) => l.split(/\s+/)[1]);
    expect(listed.sort()).toEqual([...PLATFORMS.map((p) => `${NAME}_${VERSION}_${p}.zip`), `${NAME}_${VERSION}_manifest.json`].sort());
    execFileSync('sha256sum', ['--check', '--strict', '--quiet', `${NAME}_${VERSION}_SHA256SUMS`], { cwd: release });
    expect(JSON.parse(readFileSync(join(release, `${NAME}_${VERSION}_manifest.json`), 'utf8'))).toEqual({ version: 1, metadata: { protocol_versions: ['6.0'] } });
    const entries = execFileSync('unzip', ['-Z1', join(release, `${NAME}_${VERSION}_linux_amd64.zip`)], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(entries).toEqual(['boot.js', 'bootstrap.iso', 'engine-entry.js', 'main.js', 'protocol-static.js', 'self-signed.js', `${NAME}_v${VERSION}`]);
  });

  test('WHEN the release is made again from the same sources THEN the zips and SHA256SUMS are byte for byte the same', async () => {
    const again = join(scratch, 'release-again');
    await run('npm', ['run', '--silent', 'release', '--', again], { cwd: REPO, maxBuffer: 16 << 20, timeout: 300_000 });
    const sums = `${NAME}_${VERSION}_SHA256SUMS`;
    expect(readFileSync(join(again, sums), 'utf8')).toBe(readFileSync(join(release, sums), 'utf8'));
  }, 300_000);

  test('THEN the mirror serves the provider mirror protocol for registry.terraform.io and registry.opentofu.org', () => {
    for (const host of ['registry.terraform.io', 'registry.opentofu.org']) {
      const dir = join(release, 'mirror', host, 'vic-iac/vic');
      expect(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'))).toEqual({ versions: { [VERSION]: {} } });
      const archives = (JSON.parse(readFileSync(join(dir, `${VERSION}.json`), 'utf8')) as { archives: Record<string, { url: string; hashes: string[] }> }).archives;
      expect(Object.keys(archives).sort()).toEqual([...PLATFORMS].sort());
      for (const p of PLATFORMS) {
        expect(archives[p].url).toBe(`${NAME}_${VERSION}_${p}.zip`);
        expect(archives[p].hashes).toContain(`zh:${sha256(join(dir, archives[p].url))}`);
        expect(archives[p].hashes.some((h) => /^h1:[A-Za-z0-9+/]{43}=$/.test(h))).toBe(true);
      }
    }
  });

  test('WHEN Terraform installs from the release served as a network_mirror THEN init locks its h1 hash, apply creates the example and destroy removes it', async () => {
    const home = join(scratch, 'tf-home');
    mkdirSync(home);
    const cert = join(scratch, 'mirror-cert.pem');
    https = await serveHttps(join(release, 'mirror'), cert);
    const cliConfig = join(home, 'terraform.rc');
    writeFileSync(cliConfig, `provider_installation {\n  network_mirror {\n    url     = "${https.url}"\n    include = ["registry.terraform.io/vic-iac/vic"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/vic-iac/vic"]\n  }\n}\n`);
    // Go's TLS stack on Linux reads extra roots from SSL_CERT_FILE: the mirror's certificate is trusted, nothing else is needed.
    const env = { ...cleanEnv(home), ...bed.env(), TF_CLI_CONFIG_FILE: cliConfig, SSL_CERT_FILE: cert };
    const ws = exampleWorkspace(scratch, 'tf-example', requireTerraform(), env);

    await bed.terraform(ws, ['init', '-input=false']);
    expect(https.requests).toEqual(expect.arrayContaining(['/registry.terraform.io/vic-iac/vic/index.json', `/registry.terraform.io/vic-iac/vic/${VERSION}.json`, `/registry.terraform.io/vic-iac/vic/${NAME}_${VERSION}_linux_amd64.zip`]));
    const published = (JSON.parse(readFileSync(join(release, 'mirror/registry.terraform.io/vic-iac/vic', `${VERSION}.json`), 'utf8')) as { archives: Record<string, { hashes: string[] }> }).archives.linux_amd64.hashes;
    const lock = readFileSync(join(ws.dir, '.terraform.lock.hcl'), 'utf8');
    expect(lock).toContain(`version = "${VERSION}"`);
    const locked = [...lock.matchAll(/"(h1:[^"]+)"/g)].map((m) => m[1]);
    expect(locked.length).toBeGreaterThan(0);
    for (const h of locked) expect(published).toContain(h);

    const applied = await bed.terraform(ws, ['apply', '-auto-approve', '-input=false']);
    expect(applied.stdout).toMatch(/Apply complete! Resources: 4 added, 0 changed, 0 destroyed\./);
    const outputs = JSON.parse((await bed.terraform(ws, ['output', '-json'])).stdout) as Record<string, { value: string }>;
    expect(outputs.web_vm.value).toMatch(/^vm-\d+$/);

    // The same directory read from disk is the packed layout of a filesystem_mirror (what
    // `terraform providers mirror` writes): Terraform installs the same package from it.
    const fsHome = join(scratch, 'tf-fs-home');
    mkdirSync(fsHome);
    const fsConfig = join(fsHome, 'terraform.rc');
    writeFileSync(fsConfig, `provider_installation {\n  filesystem_mirror {\n    path    = "${join(release, 'mirror')}"\n    include = ["registry.terraform.io/vic-iac/vic"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/vic-iac/vic"]\n  }\n}\n`);
    const fromDisk = exampleWorkspace(scratch, 'tf-fs-example', requireTerraform(), { ...cleanEnv(fsHome), ...bed.env(), TF_CLI_CONFIG_FILE: fsConfig });
    await bed.terraform(fromDisk, ['init', '-input=false']);
    const fsLocked = [...readFileSync(join(fromDisk.dir, '.terraform.lock.hcl'), 'utf8').matchAll(/"(h1:[^"]+)"/g)].map((m) => m[1]);
    expect(fsLocked).toEqual(locked.filter((h) => h.startsWith('h1:')));

    const destroyed = await bed.terraform(ws, ['destroy', '-auto-approve', '-input=false']);
    expect(destroyed.stdout).toMatch(/Destroy complete! Resources: 4 destroyed\./);
  }, 600_000);

  test('WHEN an OpenTofu user follows the README (the release as a filesystem mirror in ~/.tofurc) THEN tofu init, apply and destroy work with the bare source address', async () => {
    const tofu = findPeer('tofu');
    const version = execFileSync(tofu, ['version'], { encoding: 'utf8' });
    expect(version).toMatch(/^OpenTofu v1\.6\.\d+\n/);
    const home = join(scratch, 'tofu-home');
    mkdirSync(home);
    writeFileSync(join(home, '.tofurc'), readmeTofuConfig().replaceAll('/path/to/vic-iac/release', release));
    const env = { ...cleanEnv(home), ...bed.env() };
    const ws = exampleWorkspace(scratch, 'tofu-example', tofu, env);
    expect(readFileSync(join(ws.dir, 'main.tf'), 'utf8')).toMatch(/source\s*=\s*"vic-iac\/vic"/);

    const init = await bed.terraform(ws, ['init', '-input=false']);
    expect(init.stdout).toContain(`Installed vic-iac/vic v${VERSION}`);
    expect(readFileSync(join(ws.dir, '.terraform.lock.hcl'), 'utf8')).toContain('provider "registry.opentofu.org/vic-iac/vic"');
    const applied = await bed.terraform(ws, ['apply', '-auto-approve', '-input=false']);
    expect(applied.stdout).toMatch(/Apply complete! Resources: 4 added, 0 changed, 0 destroyed\./);
    const again = await bed.terraform(ws, ['plan', '-detailed-exitcode', '-input=false'], { allow: [0] });
    expect(again.stdout).toContain('No changes.');
    const destroyed = await bed.terraform(ws, ['destroy', '-auto-approve', '-input=false']);
    expect(destroyed.stdout).toMatch(/Destroy complete! Resources: 4 destroyed\./);
  }, 600_000);
});
