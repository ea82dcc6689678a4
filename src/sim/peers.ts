import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/**
 * The external programs the tests and `vic sim` run, and how a user gets each one. Built peers
 * live in the project's `.cache/bin` (see scripts/lib.sh); the rest come from the system PATH.
 */
const INSTALL_HINTS: Readonly<Record<string, string>> = {
  'vcsim-launcher': 'run "npm run setup" (builds .cache/bin/vcsim-launcher from src/sim/launcher with Go >= 1.22)',
  terraform: 'run "npm run setup" (uses the preinstalled terraform or builds v1.5.7 into .cache/bin)',
  'docker-registry': 'run "npm run setup" or "apt-get install docker-registry"',
  skopeo: 'run "npm run setup" or "apt-get install skopeo"',
  htpasswd: 'run "npm run setup" or "apt-get install apache2-utils"',
  'qemu-system-x86_64': 'run "npm run setup" or "apt-get install qemu-system-x86"',
  'qemu-img': 'run "npm run setup" or "apt-get install qemu-utils"',
  mke2fs: 'run "npm run setup" or "apt-get install e2fsprogs"',
  debugfs: 'run "npm run setup" or "apt-get install e2fsprogs"',
  fakeroot: 'run "npm run setup" or "apt-get install fakeroot"',
  xorriso: 'run "npm run setup" or "apt-get install xorriso"',
  go: 'install Go >= 1.22 (https://go.dev/dl) and put it on PATH',
  docker: 'install the Docker CLI (e.g. "apt-get install docker.io") and put it on PATH',
  'docker-compose': 'run "npm run setup" (builds the compose v5.6.0 CLI plugin into .cache/bin/docker-compose from scripts/peers/compose with Go >= 1.26.8)',
  pulumi: 'run "npm run setup" (builds pulumi into .cache/bin)',
  'pulumi-language-nodejs': 'run "npm run setup" (builds pulumi-language-nodejs into .cache/bin)',
};

export class PeerMissingError extends Error {
  override readonly name = 'PeerMissingError';

  constructor(
    readonly peer: string,
    readonly searched: readonly string[],
    readonly installHint: string,
  ) {
    super(`peer program "${peer}" not found in ${searched.join(', ')}: ${installHint}`);
  }
}

/** The install hint for a peer, for messages that mention it without looking it up. */
export function peerInstallHint(name: string): string {
  // The npm package has neither the setup script nor the sources the setup builds from.
  if (!existsSync(join(projectRoot(), 'scripts', 'setup.sh')) && name === 'vcsim-launcher') {
    return 'the npm package does not carry the simulator launcher (a Go program): build it in a clone of vic-iac with "npm run setup" (Go >= 1.22), then put its .cache/bin/vcsim-launcher on PATH or in $VIC_CACHE/bin (docs/cli.md, "The embedded simulator")';
  }
  return INSTALL_HINTS[name] ?? `install "${name}" and put it on PATH`;
}

/** The project's cache of built peers: $VIC_CACHE/bin, else <project root>/.cache/bin. */
export function peerCacheDir(): string {
  const cache = process.env.VIC_CACHE;
  return cache ? join(cache, 'bin') : join(projectRoot(), '.cache', 'bin');
}

/** The absolute path of a peer program: `.cache/bin` first, then PATH. Throws PeerMissingError. */
export function findPeer(name: string): string {
  const dirs = [peerCacheDir(), ...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== '')];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new PeerMissingError(name, [peerCacheDir(), 'PATH'], peerInstallHint(name));
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

// Walks up from this file, so it works from src/ under ts-jest and from dist/src/ once compiled.
function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}
