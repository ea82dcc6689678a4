/**
 * VIC Group1 1-42 "docker push", with the docker CLI and real registries: a stored image is pushed
 * under another name by copying its manifest and layers from the registry it was pulled from (the
 * image store keeps it as one disk): mounted across repositories of one registry, streamed to
 * another registry behind token auth, skipped where the target has them. The pushed manifest is the
 * pulled one byte for byte, so the image keeps its id.
 */
import { createHash } from 'node:crypto';
import { useRegistry } from '../helpers/registry';
import { useDockerBed } from './docker-env';

describe('VIC 1-42: docker push', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-push' });
  const user = { username: 'pusher', password: 'push-secret-1' };
  const other = useRegistry({ tokenAuth: user });
  let id = '';

  beforeAll(async () => {
    bed().insecureRegistries.push(other().host);
    id = await bed().dockerOk(['image', 'inspect', '-f', '{{.Id}}', bed().image]);
  });

  /** The manifest a registry serves under a tag (anonymous): its digest. */
  const servedDigest = async (host: string, repository: string, tag: string): Promise<string> => {
    const res = await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect(res.status).toBe(200);
    return `sha256:${createHash('sha256')
      .update(Buffer.from(await res.arrayBuffer()))
      .digest('hex')}`;
  };

  test('GIVEN an image tagged into another repository of its registry WHEN docker push THEN its layers are mounted there, and the registry serves the same manifest (the image id) under the tag', async () => {
    const target = `${bed().registryHost}/pushed/busybox:v1`;
    await bed().dockerOk(['tag', bed().image, target]);
    const r = await bed().docker(['push', target]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain(`The push refers to repository [${bed().registryHost}/pushed/busybox]`);
    expect(r.stdout).toMatch(/Mounted from vic-test\/busybox/);
    expect(r.stdout).toMatch(new RegExp(`v1: digest: ${id} size: \\d+`));
    expect(await servedDigest(bed().registryHost, 'pushed/busybox', 'v1')).toBe(id);
    expect(await bed().eventsSince(Math.floor(Date.now() / 1000) - 60, 'event=push', '{{.Actor.ID}}')).toContain(target);
  });

  test('GIVEN another registry behind token auth WHEN docker push without and then with docker login THEN it is refused saying to log in, then each layer is pushed, a second push finds them there, and a pull gives the same image', async () => {
    const target = `${other().host}/team/busybox`;
    await bed().dockerOk(['tag', bed().image, target]);
    const refused = await bed().docker(['push', target]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `registry ${other().host} requires credentials for pushing to ${other().host}/team/busybox; log in first (docker login ${other().host})`,
    );

    const login = await bed().docker(['login', other().host, '-u', user.username, '--password-stdin'], { input: user.password });
    expect(login.code).toBe(0);
    const r = await bed().docker(['push', target]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/: Pushed/);
    expect(r.stdout).toMatch(new RegExp(`latest: digest: ${id} size: \\d+`));
    const again = await bed().docker(['push', target]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Layer already exists/);
    expect(again.stdout).not.toMatch(/: Pushed/);

    // The registry checked each blob against its digest as it took it, and the manifest only with its blobs there: a pull by that name gives the image.
    await bed().dockerOk(['rmi', target]);
    const pulled = await bed().docker(['pull', target]);
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toContain(`Digest: ${id}`);
  });

  test('GIVEN an image whose only name is on the token registry WHEN it is pushed to another repository there THEN the login reads it there too, and its layers are mounted', async () => {
    // The other names go: the private registry's is the one left to read the layers from.
    for (const name of [bed().image, `${bed().registryHost}/pushed/busybox:v1`]) await bed().dockerOk(['rmi', name]);
    const target = `${other().host}/team2/busybox:v2`;
    await bed().dockerOk(['tag', `${other().host}/team/busybox`, target]);
    const r = await bed().docker(['push', target]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/Mounted from team\/busybox/);
    expect(r.stdout).toMatch(new RegExp(`v2: digest: ${id} size: \\d+`));
    // Put back for the tests after this one.
    await bed().dockerOk(['tag', target, bed().image]);
  });

  test('GIVEN no local image of that name WHEN docker push THEN it says so and exits 1', async () => {
    const r = await bed().docker(['push', `${bed().registryHost}/fakeimage`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`An image does not exist locally with the tag: ${bed().registryHost}/fakeimage`);
  });

  test('GIVEN a registry that cannot be reached WHEN docker push THEN it fails naming it and exits 1', async () => {
    await bed().dockerOk(['tag', bed().image, 'fakerepo.invalid:5000/busybox']);
    const r = await bed().docker(['push', 'fakerepo.invalid:5000/busybox']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach registry fakerepo\.invalid:5000/);
  });
});
