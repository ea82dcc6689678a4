/**
 * VIC Group1 1-41 commit. VIC committed a stopped container's changes to new images (with `-c ENV`,
 * `-a` and `-m`). vic-iac does not (docs/endpoint.md, "Not supported": an image is a registry's,
 * flattened into a disk of the VCH's image store): each commit answers that it is not supported by
 * vic-iac and what to do instead, exits 1, and makes nothing: no image, and the container stays as
 * it was. The refusal does not depend on what ran in the container, so a container that was
 * created and never started stands for VIC's stopped ones: no guest boots in this file. (1-42,
 * docker diff, is test/endpoint/1-42-diff.test.ts.)
 */
import { useDockerBed } from './docker-env';

const COMMIT_REFUSED = 'Error response from daemon: docker commit is not supported by vic-iac: build a new image from a Dockerfile and pull it';

describe('1-41 docker commit', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-commit' });
  let images = '';
  let container = '';

  beforeAll(async () => {
    container = await bed().dockerOk(['create', '--name', 'commit1', bed().image, 'sh', '-c', 'touch a b c; rm -rf /tmp']);
    images = await bed().dockerOk(['images', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}']);
  }, 120_000);

  /** The container as inspect shows it, and the images: what a refused commit or diff must leave as it was. */
  const unchanged = async () => {
    expect(await bed().dockerOk(['inspect', '--format', '{{.Id}} {{.Name}} {{.State.Status}} {{.Image}}', 'commit1'])).toMatch(
      new RegExp(`^${container} /commit1 created sha256:[0-9a-f]{64}$`),
    );
    expect(await bed().dockerOk(['images', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}'])).toBe(images);
  };

  test.each([
    { what: 'a plain commit', args: ['commit', 'commit1', 'debian-nano'], image: 'debian-nano' },
    { what: 'a commit with -c ENV', args: ['commit', '-c', 'ENV TEST commitEnvTest', 'commit1', 'debian-env'], image: 'debian-env' },
    { what: 'a commit with -c RUN', args: ['commit', '-c', 'RUN apt-get install nginx', 'commit1', 'debian-run'], image: 'debian-run' },
    {
      what: 'a commit with an author and a message',
      args: ['commit', '-a', 'Robot', '-m', 'Robot made a commit', '-c', 'ENV TEST commitEnvTest', 'commit1', 'debian-auth'],
      image: 'debian-auth',
    },
  ])(
    'GIVEN a container WHEN $what runs THEN it exits 1 saying docker commit is not supported by vic-iac, and no image $image is made',
    async ({ args, image }) => {
      const r = await bed().docker(args);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim()).toBe(COMMIT_REFUSED);
      const inspected = await bed().docker(['image', 'inspect', image]);
      expect(inspected.code).toBe(1);
      expect(inspected.stderr).toContain(`No such image: ${image}`);
      await unchanged();
    },
  );

  test("GIVEN a container that is not there WHEN docker commit names it THEN dockerd's 404 No such container comes first", async () => {
    for (const args of [['commit', '-c', 'ENV TEST x', 'fakeContainer', 'image-fake']]) {
      const r = await bed().docker(args);
      expect({ args, code: r.code, stderr: r.stderr.trim() }).toEqual({
        args,
        code: 1,
        stderr: 'Error response from daemon: No such container: fakeContainer',
      });
    }
  });
});
