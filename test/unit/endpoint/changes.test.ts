/** docker diff from two listings: the image's and the container's (src/endpoint/changes.ts). */
import { gzipSync } from 'node:zlib';
import { changesBetween, parseListing, type ListingEntry } from '../../../src/endpoint/changes';

const T = 1_700_000_000;
const dir = (path: string, mode = 0o755, uid = 0): ListingEntry => [path, 'd', mode, uid, uid, 0, T, ''];
const file = (path: string, size = 10, mtime = T, mode = 0o644): ListingEntry => [path, 'f', mode, 0, 0, size, mtime, ''];
const link = (path: string, target: string): ListingEntry => [path, 'l', 0o777, 0, 0, 0, T, target];
const mount = (path: string): ListingEntry => [path, 'm', 0o755, 0, 0, 0, T, ''];

const image: ListingEntry[] = [
  dir('/bin'),
  file('/bin/busybox', 1000),
  link('/bin/sh', 'busybox'),
  dir('/etc'),
  file('/etc/passwd', 100),
  file('/etc/group', 50),
  file('/etc/hosts', 20),
  dir('/home'),
  dir('/tmp', 0o1777),
  file('/tmp/seed'),
  dir('/var'),
  dir('/var/cache'),
  file('/var/cache/a'),
  file('/var/cache/b'),
];

describe('docker diff from listings', () => {
  it('GIVEN the container as its image THEN there is no change, whatever the directories’ own times and sizes', () => {
    const same = image.map((e): ListingEntry => (e[1] === 'd' ? [e[0], 'd', e[2], e[3], e[4], 4096, T + 99, ''] : e));
    expect(changesBetween(image, same)).toEqual([]);
  });

  it('GIVEN files added, changed and deleted THEN A, C and D as dockerd gives them: ancestors changed, a deleted directory alone, sorted by path', () => {
    const container: ListingEntry[] = [
      dir('/bin'),
      file('/bin/busybox', 1000),
      link('/bin/sh', 'busybox'),
      dir('/etc'),
      file('/etc/passwd', 130, T + 5),
      file('/etc/passwd-', 100),
      file('/etc/group', 50),
      dir('/home'),
      dir('/home/krusty', 0o755, 1000),
      file('/home/krusty/.profile'),
      file('/a'),
      dir('/tmp', 0o1777),
      file('/tmp/seed'),
    ];
    expect(changesBetween(image, container).map(({ Kind, Path }) => `${'CAD'[Kind]} ${Path}`)).toEqual([
      'A /a',
      'C /etc',
      'C /etc/passwd',
      'A /etc/passwd-',
      'C /home',
      'A /home/krusty',
      'A /home/krusty/.profile',
      'D /var',
    ]);
  });

  it('GIVEN a mode, an owner, a symlink target or a kind changed THEN C; an entry as it was is not', () => {
    const changed = (entry: ListingEntry) =>
      changesBetween(
        image,
        image.map((e) => (e[0] === entry[0] ? entry : e)),
      );
    expect(changed(file('/etc/group', 50, T, 0o600))).toEqual([
      { Path: '/etc', Kind: 0 },
      { Path: '/etc/group', Kind: 0 },
    ]);
    expect(changed(['/etc/group', 'f', 0o644, 1, 0, 50, T, ''])).toHaveLength(2);
    expect(changed(link('/bin/sh', 'ash'))).toEqual([
      { Path: '/bin', Kind: 0 },
      { Path: '/bin/sh', Kind: 0 },
    ]);
    expect(changed(dir('/etc/group'))).toHaveLength(2);
    expect(changed(dir('/home', 0o700))).toEqual([{ Path: '/home', Kind: 0 }]);
    expect(changed(file('/etc/group', 50, T))).toEqual([]);
  });

  it('GIVEN mount points (a tmpfs over /tmp, a volume, /proc) the runtime’s files and ext4’s lost+found THEN neither they nor what the image has under them are changes', () => {
    const container = image
      .filter((e) => !e[0].startsWith('/tmp') && e[0] !== '/etc/hosts')
      .concat([mount('/tmp'), mount('/proc'), mount('/data'), file('/etc/hostname'), dir('/lost+found', 0o700)]);
    expect(changesBetween(image, container)).toEqual([]);
  });

  it('GIVEN listings as gzip-compressed JSON lines THEN they parse; a bad line or a bad stream is refused with what it is', () => {
    const text = `${JSON.stringify(file('/a'))}\n${JSON.stringify(link('/b', 'a'))}\n`;
    expect(parseListing(gzipSync(text), 'the listing')).toEqual([file('/a'), link('/b', 'a')]);
    expect(() => parseListing(gzipSync('["/a","f"]\n'), 'the image listing')).toThrow(/the image listing has a line that is not \[path, kind/);
    expect(() => parseListing(gzipSync('{oops\n'), 'the listing')).toThrow(/not JSON/);
    expect(() => parseListing(Buffer.from('plain'), 'the guest listing')).toThrow(/the guest listing is not gzip-compressed/);
  });
});
