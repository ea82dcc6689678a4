/**
 * VIC Group1 1-23 inspect, the cases 1-23-inspect.test.ts leaves out: docker inspect of an image
 * (with and without --type), --type=image of a container, an object that is neither, a container's
 * anonymous volume under Config.Volumes, and the RepoDigest a pull printed. No guest runs here.
 */
import { busyboxImage, useDockerBed } from './docker-env';

describe('1-23 docker inspect (VIC cases)', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-inspect-vic' });

  test('GIVEN a pulled image WHEN docker inspect runs on its name, with and without --type=image THEN it prints a JSON array whose first entry has the image Id', async () => {
    const plain = await bed().docker(['inspect', bed().image]);
    expect([plain.code, plain.stderr]).toEqual([0, '']);
    const [doc] = JSON.parse(plain.stdout) as Array<{ Id: string; RepoTags: string[] }>;
    expect(doc.Id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(doc.RepoTags).toContain(bed().image);
    const typed = await bed().docker(['inspect', '--type=image', bed().image]);
    expect([typed.code, typed.stderr]).toEqual([0, '']);
    expect((JSON.parse(typed.stdout) as Array<{ Id: string }>)[0].Id).toBe(doc.Id);
  });

  test('GIVEN a created container WHEN docker inspect --type=container runs THEN it gives its Id; --type=image of it says no such image', async () => {
    const c = await bed().docker(['create', '--name', 'iv-typed', bed().image]);
    expect([c.code, c.stderr]).toEqual([0, '']);
    const id = c.stdout.trim();
    const plain = await bed().docker(['inspect', id]);
    expect([plain.code, plain.stderr]).toEqual([0, '']);
    expect((JSON.parse(plain.stdout) as Array<{ Id: string }>)[0].Id).toBe(id);
    const typed = await bed().docker(['inspect', '--type=container', id]);
    expect([typed.code, typed.stderr]).toEqual([0, '']);
    expect((JSON.parse(typed.stdout) as Array<{ Id: string }>)[0].Id).toBe(id);
    const wrong = await bed().docker(['inspect', '--type=image', id]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`No such image: ${id}`);
    expect(await bed().dockerOk(['rm', 'iv-typed'])).toBe('iv-typed');
  });

  test('GIVEN a name that is neither a container nor an image WHEN docker inspect runs THEN it exits 1 with "No such object"', async () => {
    const r = await bed().docker(['inspect', 'fake']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No such object: fake');
  });

  test('GIVEN a container created with an anonymous volume (-v /var/lib/test) WHEN inspect reads .Config.Volumes THEN the path is there', async () => {
    const c = await bed().docker(['create', '--name', 'iv-volume', '-v', '/var/lib/test', bed().image]);
    expect([c.code, c.stderr]).toEqual([0, '']);
    const out = await bed().dockerOk(['inspect', '-f', '{{.Config.Volumes}}', 'iv-volume']);
    // dockerd: map[/var/lib/test:{}]
    expect(out).toContain('/var/lib/test');
    expect(await bed().dockerOk(['inspect', '-f', '{{json .Config.Volumes}}', 'iv-volume'])).toBe('{"/var/lib/test":{}}');
    expect(await bed().dockerOk(['rm', '-v', 'iv-volume'])).toBe('iv-volume');
  });

  test('GIVEN an image just pulled WHEN docker inspect reads .RepoDigests THEN it holds the digest the pull printed', async () => {
    const base = busyboxImage();
    const image = await bed().pushImage({ ...base, config: { ...base.config, Labels: { 'org.example.image': 'digest' } } }, 'vic-test/digest:1');
    const pull = await bed().docker(['pull', image], { timeoutMs: 180_000 });
    expect([pull.code, pull.stderr]).toEqual([0, '']);
    const digest = /Digest: (sha256:[0-9a-f]{64})/.exec(pull.stdout)?.[1];
    expect(digest).toBeDefined();
    const out = await bed().dockerOk(['inspect', '-f', '{{.RepoDigests}}', image]);
    expect(out).toContain(`${bed().registryHost}/vic-test/digest@${String(digest)}`);
  }, 200_000);
});
