/**
 * `docker events` names a container's image as `docker ps` and `docker inspect` do, and `docker ps
 * --filter ancestor=` takes that name: the name typed for a container made with docker, and for one
 * made by IaC (Terraform, Pulumi, the vic CLI: no label with the name typed) the reference its image
 * was pulled as, never its id alone.
 */
import { useDockerBed } from './docker-env';

describe('docker events and the image of a container', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-events' });
  const ok = (args: string[]) => bed().dockerOk(args);

  test('GIVEN a container VM made through the engine, as Terraform and the vic CLI make them WHEN docker starts and stops it THEN docker events names its image by the reference docker ps shows, not by its id, and docker ps --filter ancestor= finds it by that reference', async () => {
    const imageId = await ok(['image', 'inspect', '--format', '{{.Id}}', bed().image]);
    const engine = bed().engine.forCommand();
    const plan = await engine.plan('container_vm', null, { vch_id: bed().vch.id, image_id: imageId, name: 'iac-events', power_state: 'stopped' });
    expect(plan.problems).toEqual([]);
    await engine.apply(plan);

    const since = Math.floor(Date.now() / 1000) - 1;
    await ok(['start', 'iac-events']);
    await ok(['stop', '-t', '0', 'iac-events']);

    const image = bed().image;
    expect(await ok(['ps', '-a', '--filter', 'name=iac-events', '--format', '{{.Image}}'])).toBe(image);
    expect(await ok(['inspect', '--format', '{{.Config.Image}}', 'iac-events'])).toBe(image);
    expect(await bed().eventsSince(since, 'container=iac-events', '{{.Action}} {{.Actor.Attributes.image}}')).toEqual([
      `start ${image}`,
      `die ${image}`,
      `stop ${image}`,
    ]);
    // The filter on the image takes the name docker ps shows.
    const byImage = await ok([
      'events',
      '--since',
      String(since),
      '--until',
      String(Math.floor(Date.now() / 1000) + 1),
      '--filter',
      `image=${image}`,
      '--filter',
      'container=iac-events',
      '--format',
      '{{.Action}}',
    ]);
    expect(byImage.split('\n')).toEqual(['start', 'die', 'stop']);
    // scope=local is every event of this engine; a key dockerd does not know is refused, not ignored.
    const window = ['--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--format', '{{.Action}}'];
    expect((await ok(['events', ...window, '--filter', 'scope=local', '--filter', 'container=iac-events'])).split('\n')).toEqual(['start', 'die', 'stop']);
    const bogus = await bed().docker(['events', ...window, '--filter', 'bogus=1']);
    expect(bogus.code).toBe(1);
    expect(bogus.stderr).toContain("invalid filter 'bogus'");
    // And docker ps finds it by that name too.
    expect((await ok(['ps', '-a', '--filter', `ancestor=${image}`, '--format', '{{.Names}}'])).split('\n')).toContain('iac-events');
  });

  test('GIVEN a container made with docker run WHEN it is started and stopped THEN its events name the image as it was typed', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await ok(['run', '-d', '--name', 'docker-events', bed().image]);
    await ok(['stop', '-t', '0', 'docker-events']);
    const image = bed().image;
    expect(await bed().eventsSince(since, 'container=docker-events', '{{.Action}} {{.Actor.Attributes.image}}')).toEqual([
      `create ${image}`,
      `start ${image}`,
      `die ${image}`,
      `stop ${image}`,
    ]);
  });
});
