/**
 * VIC Group1 1-12 rmi: an image removed after the endpoint restarted (VIC rebooted the VCH's
 * appliance; here a second endpoint, with nothing in memory, serves the same VCH), after its
 * container was removed, refused while a container uses it, a name that is no reference, and an
 * image pulled by its digest. Images come from the test bed's registry ("alpine" is a second image there).
 */
import { runProcess } from '../cli/run-vic';
import { busyboxImage, dockerCli, useDockerBed } from './docker-env';

describe('1-12 docker rmi', () => {
  const bed = useDockerBed({ vchName: 'vch-rmi' });
  let alpine = '';

  beforeAll(async () => {
    const spec = busyboxImage();
    alpine = await bed().pushImage({ ...spec, config: { ...spec.config, Labels: { 'org.example.image': 'alpine' } } }, 'vic-test/alpine:1');
  }, 120_000);

  test('GIVEN two pulled images WHEN the endpoint restarts THEN docker images lists both, and docker rmi of one removes it alone', async () => {
    for (const ref of [bed().image, alpine]) {
      const r = await bed().docker(['pull', ref], { timeoutMs: 180_000 });
      expect({ ref, code: r.code, stderr: r.stderr }).toEqual({ ref, code: 0, stderr: '' });
    }
    const restarted = await bed().serve();
    try {
      const docker = (args: string[]) =>
        runProcess(dockerCli(), args, { ...bed().env, DOCKER_HOST: `tcp://127.0.0.1:${restarted.port}` }, { timeoutMs: 120_000 });
      const images = await docker(['images']);
      expect([images.code, images.stderr]).toEqual([0, '']);
      expect(images.stdout).toContain('vic-test/busybox');
      expect(images.stdout).toContain('vic-test/alpine');
      const r = await docker(['rmi', bed().image]);
      expect([r.code, r.stderr]).toEqual([0, '']);
      const after = await docker(['images']);
      expect(after.code).toBe(0);
      expect(after.stdout).not.toContain('busybox');
      expect(after.stdout).toContain('vic-test/alpine');
    } finally {
      await restarted.close();
    }
  });

  test('GIVEN a container made from an image and removed WHEN docker rmi runs THEN the image is removed', async () => {
    await bed().dockerOk(['pull', bed().image]);
    const id = await bed().dockerOk(['create', bed().image, 'busybox', 'top']);
    expect(await bed().dockerOk(['rm', id])).toBe(id);
    const r = await bed().docker(['rmi', bed().image]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^Untagged: .*\nDeleted: sha256:[0-9a-f]{64}\n$/);
    expect(await bed().dockerOk(['images'])).not.toContain('busybox');
  });

  test('GIVEN a container made from an image WHEN docker rmi runs THEN it exits 1 with a conflict naming the container, and the image stays', async () => {
    await bed().dockerOk(['pull', bed().image]);
    const id = await bed().dockerOk(['create', '--name', 'rmi-user', bed().image, 'busybox', 'top']);
    const r = await bed().docker(['rmi', bed().image]);
    expect(r.code).toBe(1);
    // dockerd: `conflict: unable to remove repository reference "<name>" (must force) - container
    // <id> is using its referenced image <id>`. vic-iac documents that -f cannot force it either (the
    // container's disk is a child of the image's), so it does not say "must force"; the conflict
    // and the container are said all the same.
    expect(r.stderr).toMatch(/^Error response from daemon: conflict: unable to (remove repository reference|delete) /);
    expect(r.stderr).toContain(id.slice(0, 12));
    expect(await bed().dockerOk(['images'])).toContain('vic-test/busybox');
    expect(await bed().dockerOk(['rm', 'rmi-user'])).toBe('rmi-user');
  });

  test('GIVEN a name that is no valid reference (upper case) WHEN docker rmi runs THEN it exits 1 saying the reference format is invalid', async () => {
    const r = await bed().docker(['rmi', 'fakeImage']);
    expect(r.code).toBe(1);
    // dockerd: `invalid reference format: repository name (library/fakeImage) must be lowercase`.
    expect(r.stderr).toMatch(/^Error response from daemon: invalid reference format: repository name \(library\/fakeImage\) must be lowercase/);
  });

  test('GIVEN an image pulled by its digest WHEN docker rmi of that digest reference runs THEN it untags it by that name and deletes the image', async () => {
    const spec = busyboxImage();
    const tagged = await bed().pushImage({ ...spec, config: { ...spec.config, Labels: { 'org.example.image': 'by-digest' } } }, 'vic-test/bydigest:1');
    const repository = tagged.replace(/:1$/, '');
    const head = await fetch(`http://${bed().registryHost}/v2/vic-test/bydigest/manifests/1`, {
      method: 'HEAD',
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    });
    const digest = head.headers.get('docker-content-digest') ?? '';
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const ref = `${repository}@${digest}`;
    const pulled = await bed().docker(['pull', ref], { timeoutMs: 180_000 });
    expect([pulled.code, pulled.stderr]).toEqual([0, '']);
    expect(await bed().dockerOk(['images', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}}', repository])).toBe(
      `${repository} <none> ${digest}`,
    );
    const r = await bed().docker(['rmi', ref]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain(`Untagged: ${ref}\n`);
    expect(r.stdout).toMatch(/Deleted: sha256:[0-9a-f]{64}\n$/);
    expect(await bed().dockerOk(['images', '-q', repository])).toBe('');
  });
});
