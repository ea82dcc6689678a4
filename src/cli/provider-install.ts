/**
 * `vic provider install [MIRROR]`: puts the Terraform provider this package ships into a filesystem
 * mirror, so that `terraform init` (and `cdktf deploy`, which runs it) installs it like any other
 * provider. The default mirror, ~/.terraform.d/plugins, is one Terraform and OpenTofu both read
 * without configuration. From a clone, `npm run install-provider` (scripts/install-provider.sh) builds
 * the bundle first and lays it out the same way; test/package/npm-package.e2e.test.ts holds the two
 * to one layout and one launcher.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The registries' host names a bare `source = "vic-iac/vic"` means: Terraform's, then OpenTofu's. */
const HOSTS = ['registry.terraform.io', 'registry.opentofu.org'];

export interface ProviderInstallOptions {
  /** The mirror directory (default ~/.terraform.d/plugins). */
  readonly mirror?: string;
  /** This package's root and version. */
  readonly root: string;
  readonly version: string;
  /** The node binary the launcher runs (default: the one running this command). */
  readonly node?: string;
}

/** The bundle a launcher runs: a clone's fresh build first, as bin/terraform-provider-vic takes it. */
export function shippedBundle(root: string): string | undefined {
  return [join(root, '.cache', 'provider'), join(root, 'dist', 'terraform-provider')].find((dir) => existsSync(join(dir, 'boot.js')));
}

/**
 * The launchers' lines that keep NODE_EXTRA_CA_CERTS out of Node's start (src/extra-ca-certs.ts); the
 * same as VIC_DEFER_EXTRA_CA_CERTS in scripts/lib.sh and the lines in bin/terraform-provider-vic.
 */
export const DEFER_EXTRA_CA_CERTS = [
  '# NODE_EXTRA_CA_CERTS would cost every start its whole root store: the provider loads it on first use.',
  'case "${NODE_OPTIONS:-}" in *--use-*-ca*) ;; *) [ -z "${NODE_EXTRA_CA_CERTS:-}" ] || { export VIC_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS"; unset NODE_EXTRA_CA_CERTS; } ;; esac',
].join('\n');

/** The launcher Terraform runs: a shell script, since a command substitution would fork at every start. */
export function providerLauncher(version: string, node: string): string {
  return [
    '#!/bin/sh',
    `# terraform-provider-vic ${version}, installed by vic-iac`,
    '# Not $(dirname ...): a command substitution forks a subshell and a process, a good share of a start.',
    'case "$0" in */*) dir="${0%/*}" ;; *) dir=. ;; esac',
    DEFER_EXTRA_CA_CERTS,
    `exec "${node}" "$dir/boot.js" "$@"`,
    '',
  ].join('\n');
}

function platform(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return `${process.platform}_${arch}`;
}

/** Installs the provider into the mirror: the directories it wrote, one per registry host. */
export function installProvider(options: ProviderInstallOptions): string[] {
  const bundle = shippedBundle(options.root);
  if (!bundle) {
    throw new Error(
      `no provider bundle in ${options.root} (neither .cache/provider/boot.js nor dist/terraform-provider/boot.js): from a clone, run npm run install-provider instead`,
    );
  }
  const mirror = resolve(options.mirror ?? join(homedir(), '.terraform.d', 'plugins'));
  const iso = [join(options.root, 'dist', 'bootstrap.iso'), join(options.root, '.cache', 'bootstrap', 'bootstrap.iso')].find((f) => existsSync(f));
  const files = readdirSync(bundle).filter((f) => f.endsWith('.js') || f.endsWith('.js.map'));
  const targets: string[] = [];
  for (const host of HOSTS) {
    const target = join(mirror, host, 'vic-iac', 'vic', options.version, platform());
    mkdirSync(target, { recursive: true });
    // Earlier versions shipped the .proto files; the protocol is compiled into protocol-static.js now.
    rmSync(join(target, 'proto'), { recursive: true, force: true });
    for (const f of files) copyFileSync(join(bundle, f), join(target, f));
    // The ISO container VMs boot; VCHs that name none get it uploaded (src/resources/bootstrap-iso.ts).
    if (iso) copyFileSync(iso, join(target, 'bootstrap.iso'));
    const launcher = join(target, `terraform-provider-vic_v${options.version}`);
    writeFileSync(`${launcher}.tmp`, providerLauncher(options.version, options.node ?? process.execPath));
    chmodSync(`${launcher}.tmp`, 0o755);
    renameSync(`${launcher}.tmp`, launcher);
    targets.push(target);
  }
  return targets;
}
