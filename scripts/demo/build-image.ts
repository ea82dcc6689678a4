/**
 * The demo image, built by the project itself from Debian's busybox-static: one layer holding
 * /bin/busybox, a symlink for each of its applets, a passwd/group and a page for httpd. Written
 * as an OCI layout with fixed timestamps, so the same busybox always gives the same digest (a
 * second `npm run demo` plans no change). Prints the manifest digest.
 *
 * Usage: tsx scripts/demo/build-image.ts <layout dir> <tag>
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { writeOciLayout, type TarEntrySpec } from '../../test/helpers/oci-layout';

const BUSYBOX = '/bin/busybox';

function busyboxVersion(): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'busybox-static'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('busybox-static is not installed; run "npm run setup" or "apt-get install -y busybox-static"');
  }
}

async function main(): Promise<void> {
  const [dir, tag] = process.argv.slice(2);
  if (!dir || !tag) throw new Error('usage: build-image.ts <layout dir> <tag>');
  const version = busyboxVersion();
  const binary = readFileSync(BUSYBOX);
  const applets = execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'bin/busybox')
    .sort();
  const dirs = new Set(['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'etc', 'tmp', 'root', 'var', 'var/www', 'proc', 'sys', 'dev', 'home']);
  // Applets sit in bin, sbin, usr/bin or usr/sbin; busybox also lists `linuxrc`, at the root.
  for (const a of applets) if (a.includes('/')) dirs.add(a.slice(0, a.lastIndexOf('/')));
  const entries: TarEntrySpec[] = [
    ...[...dirs].sort().map((d): TarEntrySpec => ({ type: 'dir', path: d, mode: d === 'tmp' ? 0o1777 : d === 'root' ? 0o700 : 0o755 })),
    { type: 'file', path: 'bin/busybox', content: binary, mode: 0o755 },
    ...applets.map((a): TarEntrySpec => ({ type: 'symlink', path: a, target: '/bin/busybox' })),
    { type: 'file', path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' },
    { type: 'file', path: 'etc/group', content: 'root:x:0:\nnogroup:x:65534:\n' },
    { type: 'file', path: 'var/www/index.html', content: '<h1>Hello from a vic-iac container VM</h1>\n' },
  ];
  rmSync(dir, { recursive: true, force: true });
  const layout = await writeOciLayout(dir, tag, [
    {
      layers: [{ entries }],
      config: {
        Cmd: ['sh'],
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        WorkingDir: '/',
        ExposedPorts: { '80/tcp': {} },
        Labels: {
          'org.opencontainers.image.title': 'vic-iac demo busybox',
          'org.opencontainers.image.version': version,
          'org.opencontainers.image.source': 'debian busybox-static',
        },
      },
    },
  ]);
  process.stdout.write(`${layout.topDigest}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`build-image: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
