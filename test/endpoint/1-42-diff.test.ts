/**
 * VIC Group1 1-42 "docker diff", with the docker CLI against real guests: what a container added,
 * changed and deleted in its root filesystem, as dockerd lists it (A, C, D; the directories above a
 * change as changed; a deleted directory alone). The guest lists the container's files (a stopped
 * container's through a maintenance boot, as docker cp) and the endpoint compares them with the
 * listing kept beside the image's disk since its pull (guest-config.md, "docker diff").
 */
import { deleteDatastoreFile } from '../../src/vsphere';
import { connectTestClient, defaultDatastore } from '../helpers/engine';
import { useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 420_000;

describe('VIC 1-42: docker diff', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-diff' });
  const diff = async (name: string) => (await bed().dockerOk(['diff', name])).split('\n').filter(Boolean);

  test(
    'GIVEN a container that added files, changed /etc/passwd, made a home and deleted a directory, then exited WHEN docker diff THEN each change is listed as dockerd does, and the container stays exited',
    async () => {
      const script = [
        'busybox touch a b c',
        'busybox rm -rf /probe',
        'echo "krusty:x:1001:1001::/home/krusty:/bin/sh" >> /etc/passwd',
        'mkdir -p /home/krusty',
        'echo hi > /home/krusty/.profile',
      ].join(' && ');
      const id = await bed().dockerOk(['create', '--name', 'diff1', bed().image, 'sh', '-c', script]);
      await bed().dockerOk(['start', '-a', 'diff1']);
      const status = () => bed().dockerOk(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.FinishedAt}}', 'diff1']);
      const before = await status();
      expect(before).toMatch(/^exited 0 /);
      const changes = ['A /a', 'A /b', 'A /c', 'C /etc', 'C /etc/passwd', 'C /home', 'A /home/krusty', 'A /home/krusty/.profile', 'D /probe'];
      expect(await diff('diff1')).toEqual(changes);
      // By its id as well; the container is as it was.
      expect(await diff(id)).toEqual(changes);
      expect(await status()).toBe(before);
    },
    2 * BOOT_MS,
  );

  test(
    'GIVEN a running container WHEN it writes a file and docker diff runs THEN the new files and their directories are listed, those in /tmp included, and nothing of what the runtime mounts or writes (/proc, /dev, /etc/hosts)',
    async () => {
      await bed().dockerOk(['run', '-d', '--name', 'diff2', bed().image, 'sh', '-c', 'mkdir -p /srv/app && echo up > /srv/app/state && sleep 600']);
      await waitUntilProcessRuns(bed(), 'diff2', BOOT_MS);
      await bed().dockerOk(['exec', 'diff2', 'sh', '-c', 'echo tmp > /tmp/scratch; cat /srv/app/state']);
      // /tmp is the container's own directory, on its disk: listed, as dockerd lists it.
      expect(await diff('diff2')).toEqual(['A /srv', 'A /srv/app', 'A /srv/app/state', 'C /tmp', 'A /tmp/scratch']);
      await bed().dockerOk(['exec', 'diff2', 'sh', '-c', 'echo more >> /etc/group']);
      expect(await diff('diff2')).toEqual(['C /etc', 'C /etc/group', 'A /srv', 'A /srv/app', 'A /srv/app/state', 'C /tmp', 'A /tmp/scratch']);
    },
    2 * BOOT_MS,
  );

  test('GIVEN an image stored without a file listing (by an older vic-iac) WHEN docker diff of its container THEN 409 says why and what to do, and no guest boots', async () => {
    const outside = await connectTestClient(bed().sim);
    try {
      const [image] = await bed().engine.listIn('image', String(bed().vch.id));
      const diskPath = String(image.disk_path);
      await deleteDatastoreFile(outside, `${diskPath.slice(0, diskPath.lastIndexOf('/'))}/files.ndjson.gz`, (await defaultDatastore(outside)).dc.ref);
      await bed().dockerOk(['create', '--name', 'diff3', bed().image]);
      const r = await bed().docker(['diff', 'diff3']);
      expect([r.code, r.stdout]).toEqual([1, '']);
      expect(r.stderr.trim()).toMatch(
        /^Error response from daemon: docker diff of diff3: its image \S+ was stored by an older vic-iac, which kept no listing of its files to compare with\. Remove the containers of that image and the image, then pull it again$/,
      );
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}}', 'diff3'])).toBe('created');
    } finally {
      await outside.close();
    }
  });

  test("GIVEN a container that is not there WHEN docker diff names it THEN dockerd's 404 No such container", async () => {
    const r = await bed().docker(['diff', 'fakeContainer']);
    expect([r.code, r.stderr.trim()]).toEqual([1, 'Error response from daemon: No such container: fakeContainer']);
  });
});
