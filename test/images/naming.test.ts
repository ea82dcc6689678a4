/**
 * Pure naming rules of the pipeline, table-driven: image references, platforms, the rootfs UUID,
 * the VMDK descriptor, registry auth challenges and the filesystem size plan.
 */
import { planFilesystemSize, rootfsUuidForDigest } from '../../src/images/ext4';
import { formatPlatform, parsePlatform, platformMatches } from '../../src/images/manifest';
import { formatImageReference, parseImageReference } from '../../src/images/reference';
import { parseChallenge } from '../../src/images/registry-client';
import { monolithicFlatDescriptor, parseFlatDescriptor } from '../../src/images/vmdk';

const D = `sha256:${'ab'.repeat(32)}`;

describe('image references', () => {
  test.each([
    ['busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' }],
    ['busybox:1.36', { registry: 'docker.io', repository: 'library/busybox', tag: '1.36' }],
    ['user/app:v2', { registry: 'docker.io', repository: 'user/app', tag: 'v2' }],
    ['127.0.0.1:5000/library/busybox:1.36', { registry: '127.0.0.1:5000', repository: 'library/busybox', tag: '1.36' }],
    ['localhost/app', { registry: 'localhost', repository: 'app', tag: 'latest' }],
    ['registry.example.com/a/b/c@' + D, { registry: 'registry.example.com', repository: 'a/b/c', digest: D }],
    ['registry.example.com:443/app:v1@' + D, { registry: 'registry.example.com:443', repository: 'app', tag: 'v1', digest: D }],
    ['index.docker.io/library/alpine', { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' }],
    ['[::1]:5000/app:x', { registry: '[::1]:5000', repository: 'app', tag: 'x' }],
    ['my-registry.local/some_repo/sub__name/x-y.z:tag_1.0-rc', { registry: 'my-registry.local', repository: 'some_repo/sub__name/x-y.z', tag: 'tag_1.0-rc' }],
  ])('GIVEN "%s" WHEN parsed THEN it is %j', (text, expected) => {
    expect(parseImageReference(text)).toEqual(expected);
  });

  test.each([
    ['', /is empty/],
    ['Busybox', /repository "Busybox"/],
    ['app:-bad', /tag "-bad"/],
    ['app@sha256:abc', /digest "sha256:abc"/],
    ['app@md5:' + 'a'.repeat(32), /digest/],
    ['registry.example.com/', /repository ""/],
    ['a b', /white space/],
    ['reg_istry.com:5000/app', /registry|repository/],
  ])('GIVEN "%s" WHEN parsed THEN it is refused with a message about %s', (text, message) => {
    expect(() => parseImageReference(text)).toThrow(message);
    expect(() => parseImageReference(text)).toThrow(/write it as \[registry\/\]repository\[:tag\]\[@sha256:digest\]/);
  });

  test('GIVEN a parsed reference WHEN formatted THEN the registry is always written', () => {
    expect(formatImageReference(parseImageReference('busybox'))).toBe('docker.io/library/busybox:latest');
    expect(formatImageReference(parseImageReference(`127.0.0.1:5000/app@${D}`))).toBe(`127.0.0.1:5000/app@${D}`);
  });
});

describe('platforms', () => {
  test.each([
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }, true],
    ['linux/amd64', { os: 'linux', architecture: 'arm64' }, false],
    ['linux/arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }, true],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64' }, true],
    ['linux/arm/v7', { os: 'linux', architecture: 'arm', variant: 'v6' }, false],
    ['linux/arm', { os: 'linux', architecture: 'arm', variant: 'v7' }, true],
    ['windows/amd64', { os: 'linux', architecture: 'amd64' }, false],
  ])('GIVEN wanted %s and offered %j WHEN matched THEN %s', (wanted, offered, matches) => {
    expect(platformMatches(parsePlatform(wanted), offered)).toBe(matches);
  });

  test.each(['linux', 'linux/', 'linux/amd64/v1/x', 'Linux/AMD64'])('GIVEN "%s" WHEN parsed THEN it is refused', (text) => {
    expect(() => parsePlatform(text)).toThrow(/is not os\/architecture\[\/variant\]/);
  });

  test('GIVEN a platform WHEN formatted THEN it round-trips', () => {
    expect(formatPlatform(parsePlatform('linux/arm64/v8'))).toBe('linux/arm64/v8');
  });
});

describe('rootfs UUID', () => {
  test.each([
    [`sha256:${'0'.repeat(64)}`, '00000000-0000-8000-8000-000000000000'],
    [`sha256:${'f'.repeat(64)}`, 'ffffffff-ffff-8fff-bfff-ffffffffffff'],
    ['sha256:c287ce00c3da569449a20daf1b3fa6d43ed953457b2627d681e738d62eb90d5f', 'c287ce00-c3da-8694-89a2-0daf1b3fa6d4'],
  ])('GIVEN digest %s WHEN the UUID is derived THEN it is %s (version 8, RFC 4122 variant)', (digest, uuid) => {
    expect(rootfsUuidForDigest(digest)).toBe(uuid);
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('GIVEN a malformed digest WHEN a UUID is asked for THEN it is refused', () => {
    expect(() => rootfsUuidForDigest('sha256:xyz')).toThrow(/not sha256: followed by 64/);
  });
});

describe('VMDK descriptor', () => {
  test('GIVEN a 100 MiB extent WHEN the descriptor is written THEN it names the flat extent with its sector count and parses back', () => {
    const text = monolithicFlatDescriptor({ extentFileName: 'abc-flat.vmdk', sizeBytes: 100 * 1024 * 1024, digest: D });
    expect(text).toContain('createType="monolithicFlat"');
    expect(text).toContain('RW 204800 FLAT "abc-flat.vmdk" 0');
    expect(text).toContain(`CID=${'ab'.repeat(4)}`);
    expect(text).toContain('ddb.geometry.cylinders = "12"');
    expect(parseFlatDescriptor(text)).toEqual({ createType: 'monolithicFlat', extentFileName: 'abc-flat.vmdk', sizeBytes: 100 * 1024 * 1024 });
  });

  test.each([[0], [1000], [-512]])('GIVEN a size of %d bytes WHEN the descriptor is written THEN it is refused', (size) => {
    expect(() => monolithicFlatDescriptor({ extentFileName: 'x-flat.vmdk', sizeBytes: size, digest: D })).toThrow(/positive multiple of 512/);
  });
});

describe('registry auth challenges', () => {
  test.each([
    [
      'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull"',
      { scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull' } },
    ],
    ['Basic realm="vic-test"', { scheme: 'basic', params: { realm: 'vic-test' } }],
    ['basic realm=unquoted', { scheme: 'basic', params: { realm: 'unquoted' } }],
    ['Negotiate abc', undefined],
    [undefined, undefined],
  ])('GIVEN WWW-Authenticate %s WHEN parsed THEN %j', (header, expected) => {
    expect(parseChallenge(header)).toEqual(expected);
  });
});

describe('filesystem size plan', () => {
  const stats = { inodes: 1000, dataBytes: 50 * 1024 * 1024, regularFiles: 800, directories: 150, symlinks: 50 };

  test('GIVEN no size WHEN planned THEN the content fits with at least 64 MiB free, in 4 MiB steps', () => {
    const plan = planFilesystemSize(stats);
    expect(plan.sizeBytes - plan.requiredBytes).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    expect(plan.sizeBytes % (4 * 1024 * 1024)).toBe(0);
    expect(plan.inodes).toBeGreaterThan(stats.inodes);
  });

  test('GIVEN a size_mb too small for the content WHEN planned THEN the error says how much is needed', () => {
    expect(() => planFilesystemSize(stats, 20)).toThrow(/size_mb 20 is too small for this image: its content needs at least \d+ MB/);
  });

  test('GIVEN a large enough size_mb WHEN planned THEN it is used as is', () => {
    expect(planFilesystemSize(stats, 512).sizeBytes).toBe(512 * 1024 * 1024);
  });
});
