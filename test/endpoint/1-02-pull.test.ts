/**
 * VIC Group1 1-02 pull, 1-03 images and 1-12 rmi: pull through the image pipeline with Docker's
 * progress stream, docker login against a registry with basic auth, docker images, and rmi refused
 * while a container uses the image.
 */
import { useRegistry } from '../helpers/registry';
import { busyboxImage, useDockerBed } from './docker-env';

describe('1-02 docker pull, 1-03 images, 1-12 rmi', () => {
  const bed = useDockerBed({ vchName: 'vch-pull' });
  const privateRegistry = useRegistry({ basicAuth: { username: 'alice', password: 's3cret-pw' } });
  const since = Math.floor(Date.now() / 1000);

  test('GIVEN an image in the registry WHEN docker pull runs THEN it shows progress, the digest and the status', async () => {
    const r = await bed().docker(['pull', bed().image], { timeoutMs: 180_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Digest: sha256:[0-9a-f]{64}/);
    expect(r.stdout).toMatch(new RegExp(`Status: Downloaded newer image for ${bed().image.replace(/[.]/g, '\\.')}`));
    expect(r.stdout.trim().split('\n').pop()).toBe(bed().image);
    // Again, nothing changed in the registry: docker's words for that.
    const again = await bed().docker(['pull', bed().image], { timeoutMs: 180_000 });
    expect([again.code, again.stderr]).toEqual([0, '']);
    expect(again.stdout).toContain(`Status: Image is up to date for ${bed().image}`);
    expect(again.stdout).not.toContain('Downloaded newer image');
  });

  test('GIVEN an image reference asked for as a container THEN docker inspect says no such container, as dockerd (VIC 1-23)', async () => {
    const r = await bed().docker(['inspect', '--type=container', bed().image]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`No such container: ${bed().image}`);
  });

  test("GIVEN a tag the registry does not have THEN docker pull fails with the registry's reason", async () => {
    const r = await bed().docker(['pull', `${bed().registryHost}/vic-test/busybox:nope`], { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope/);
  });

  test('GIVEN pulled images WHEN docker images runs THEN it lists them with repository, tag, id and size', async () => {
    const r = await bed().docker(['images', '--format', '{{.Repository}} {{.Tag}} {{.ID}}']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${bed().registryHost.replace(/[.]/g, '\\.')}/vic-test/busybox 1 [0-9a-f]{12}\\n$`));
    const q = await bed().docker(['images', '-q']);
    expect(q.stdout).toMatch(/^[0-9a-f]{12}\n$/);
    const inspect = await bed().docker(['image', 'inspect', '--format', '{{.Os}} {{json .Config.Cmd}}', bed().image]);
    expect(inspect.stdout).toBe('linux ["sh","-c","echo hello from a container VM"]\n');
    // As dockerd: when the image was built (its config's created), and what its files take, not
    // the disk made for them (which has room for the containers' writes).
    const [created, size] = (await bed().dockerOk(['image', 'inspect', '--format', '{{.Created}} {{.Size}}', bed().image])).split(' ');
    expect(created).toBe('2024-01-02T03:04:05.000Z');
    expect(Number(size)).toBeGreaterThan(0);
    expect(Number(size)).toBeLessThan(8 * 1024 * 1024);
    expect(await bed().dockerOk(['images', '--format', '{{.CreatedSince}}'])).toMatch(/years ago$/);
  });

  test('GIVEN an image a container uses WHEN docker rmi runs THEN it is refused; once the container is gone it is removed', async () => {
    expect((await bed().docker(['create', '--name', 'user-1', bed().image])).code).toBe(0);
    const refused = await bed().docker(['rmi', bed().image]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /unable to delete [0-9a-f]{12} \(cannot be forced: the disks of its containers are children of its disk\) - image is being used by container [0-9a-f]{64} \(user-1\)/,
    );
    // Forced by id with a second name: refused before any name goes (it used to drop some of them).
    expect((await bed().docker(['tag', bed().image, 'second:1'])).code).toBe(0);
    const id = (await bed().dockerOk(['image', 'inspect', '--format', '{{.Id}}', bed().image])).trim();
    const forced = await bed().docker(['rmi', '-f', id.slice(7, 19)]);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(
      /cannot be forced: the disks of its containers are children of its disk\) - image is being used by container [0-9a-f]{64} \(user-1\)/,
    );
    expect((await bed().dockerOk(['image', 'inspect', '--format', '{{join .RepoTags " "}}', id])).trim().split(' ').sort()).toEqual(
      [bed().image, 'second:1'].sort(),
    );
    expect((await bed().docker(['rmi', 'second:1'])).stdout).toBe('Untagged: second:1\n');
    expect((await bed().docker(['rm', 'user-1'])).code).toBe(0);
    const r = await bed().docker(['rmi', bed().image]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(new RegExp(`Untagged: ${bed().image.replace(/[.]/g, '\\.')}\\nDeleted: sha256:[0-9a-f]{64}\\n`));
    expect((await bed().docker(['images', '-q'])).stdout).toBe('');
    const none = await bed().docker(['rmi', 'nope:1']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/No such image: nope:1/);
  });

  test('GIVEN a registry with basic auth WHEN docker login and docker pull run THEN the pull works; a wrong password is refused', async () => {
    await privateRegistry().pushImage(busyboxImage(), 'private/busybox:1');
    const host = privateRegistry().host;
    bed().insecureRegistries.push(host);
    const anonymous = await bed().docker(['pull', `${host}/private/busybox:1`], { timeoutMs: 120_000 });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain(`pull access denied for ${host}/private/busybox:1: registry ${host} requires credentials`);
    expect(anonymous.stderr).toContain(`; log in with docker login ${host}`);
    expect(anonymous.stderr).not.toMatch(/registry_auth/);
    const login = await bed().docker(['login', '-u', 'alice', '-p', 's3cret-pw', host]);
    expect(login.stdout).toMatch(/Login Succeeded/);
    expect(login.code).toBe(0);
    const pulled = await bed().docker(['pull', `${host}/private/busybox:1`], { timeoutMs: 180_000 });
    expect([pulled.code, pulled.stderr]).toEqual([0, '']);
    const bad = await bed().docker(['login', '-u', 'alice', '-p', 'wrong', host]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unauthorized: incorrect username or password/);
    expect(bad.stderr).not.toContain('wrong');
  });

  test('GIVEN the pulls above WHEN docker events reads them back THEN each pull is an image event', async () => {
    const until = Math.floor(Date.now() / 1000) + 1;
    const r = await bed().docker(['events', '--since', String(since), '--until', String(until), '--filter', 'type=image', '--format', '{{.Action}}']);
    expect(r.stdout.split('\n').filter((l) => l === 'pull').length).toBeGreaterThanOrEqual(2);
  });

  test('GIVEN a tag that moved in the registry WHEN docker pull runs again THEN the tag names the new image, which containers are made from; the old one stays untagged until removed', async () => {
    const spec = busyboxImage();
    // Its own digest: not the one another test's image has, so the old one's only name is the tag.
    const moving = await bed().pushImage({ ...spec, config: { ...spec.config, Labels: { 'org.example.image': 'moving' } } }, 'vic-test/moving:1');
    await bed().dockerOk(['pull', moving]);
    const oldId = await bed().dockerOk(['image', 'inspect', '--format', '{{.Id}}', moving]);
    await bed().pushImage({ ...spec, config: { ...spec.config, Labels: { 'org.example.image': 'moved' } } }, 'vic-test/moving:1');
    const again = await bed().docker(['pull', moving], { timeoutMs: 180_000 });
    expect([again.code, again.stderr]).toEqual([0, '']);
    expect(again.stdout).toContain(`Status: Downloaded newer image for ${moving}`);
    const newId = await bed().dockerOk(['image', 'inspect', '--format', '{{.Id}}', moving]);
    expect(newId).not.toBe(oldId);
    const repository = moving.replace(/:1$/, '');
    const rows = (await bed().dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', repository])).split('\n').sort();
    expect(rows).toEqual([`${moving} ${newId.slice(7, 19)}`, `${repository}:<none> ${oldId.slice(7, 19)}`].sort());
    // Pulled by the digest it is stored under: dockerd's words for an image already there.
    const byDigest = await bed().docker(['pull', `${repository}@${newId}`], { timeoutMs: 120_000 });
    expect(byDigest.code).toBe(0);
    expect(byDigest.stdout).toContain(`${newId}: Pulling from vic-test/moving`);
    expect(byDigest.stdout).toContain(`Status: Image is up to date for ${repository}@${newId}`);
    expect((await bed().dockerOk(['rmi', `${repository}@${newId}`])).trim()).toBe(`Untagged: ${repository}@${newId}`);
    // Its name by digest is a RepoDigest, not a tag, as with dockerd.
    expect(await bed().dockerOk(['image', 'inspect', '--format', '{{json .RepoTags}} {{json .RepoDigests}}', oldId])).toBe(`[] ["${repository}@${oldId}"]`);
    expect(await bed().dockerOk(['create', '--name', 'moved-1', moving])).toMatch(/^[0-9a-f]{64}$/);
    expect(await bed().dockerOk(['inspect', '--format', '{{.Image}}', 'moved-1'])).toBe(newId);
    expect(await bed().dockerOk(['rm', 'moved-1'])).toBe('moved-1');
    const old = await bed().docker(['rmi', oldId.slice(7, 19)]);
    expect([old.code, old.stdout]).toEqual([0, `Untagged: ${repository}@${oldId}\nDeleted: ${oldId}\n`]);
    expect((await bed().docker(['rmi', moving])).code).toBe(0);
  });
});
