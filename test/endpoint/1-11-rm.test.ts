/**
 * VIC Group1 1-11 rm: a created container goes, VM and datastore folder with it; a running one
 * needs -f; an unknown one says so. docker events shows create, start, die and destroy.
 */
import { containerFolders, useDockerBed } from './docker-env';

describe('1-11 docker rm', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-rm' });
  const since = Math.floor(Date.now() / 1000);

  const containerDirs = () => containerFolders(bed());

  test('GIVEN a created container WHEN docker rm runs THEN it prints the name, and the VM and its folder are gone', async () => {
    expect((await bed().docker(['create', '--name', 'rm-1', bed().image])).code).toBe(0);
    expect(await containerDirs()).toContain('rm-1');
    const r = await bed().docker(['rm', 'rm-1']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'rm-1\n', '']);
    expect((await bed().engine.inventory()).containerVms.map((vm) => vm.name)).not.toContain('rm-1');
    expect(await containerDirs()).not.toContain('rm-1');
  });

  test('GIVEN a running container WHEN docker rm runs without -f THEN 409 says to stop it; with -f it goes', async () => {
    expect((await bed().docker(['run', '-d', '--name', 'rm-2', bed().image, 'sleep', '600'])).code).toBe(0);
    const r = await bed().docker(['rm', 'rm-2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/You cannot remove a running container [0-9a-f]{64}\. Stop the container before attempting removal or force remove/);
    const f = await bed().docker(['rm', '-f', 'rm-2']);
    expect([f.code, f.stdout]).toEqual([0, 'rm-2\n']);
    expect((await bed().docker(['ps', '-a', '-q'])).stdout).toBe('');
  });

  test('GIVEN no such container THEN docker rm says so and exits 1', async () => {
    const r = await bed().docker(['rm', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No such container: nope/);
  });

  test('GIVEN what happened above WHEN docker events reads it back THEN create, start, die and destroy are there', async () => {
    expect(await bed().eventsSince(since, 'type=container', '{{.Action}} {{.Actor.Attributes.name}}')).toEqual([
      'create rm-1',
      'destroy rm-1',
      'create rm-2',
      'start rm-2',
      'die rm-2',
      'destroy rm-2',
    ]);
  });
});
