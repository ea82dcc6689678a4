/** VIC Group1 1-05 start: start a created container, start one already running, start one that is not there. */
import { useDockerBed } from './docker-env';

describe('1-05 docker start', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-start' });

  test('GIVEN a created container WHEN docker start runs THEN it prints the name and the container runs', async () => {
    expect((await bed().docker(['create', '--name', 'st-1', bed().image, 'sleep', '600'])).code).toBe(0);
    const r = await bed().docker(['start', 'st-1']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'st-1\n', '']);
    expect((await bed().docker(['ps', '--format', '{{.Names}} {{.State}}'])).stdout).toBe('st-1 running\n');
  });

  test('GIVEN a running container WHEN docker start runs again THEN it succeeds without change (304)', async () => {
    const r = await bed().docker(['start', 'st-1']);
    expect([r.code, r.stdout]).toEqual([0, 'st-1\n']);
  });

  test('GIVEN no such container WHEN docker start runs THEN it says so and exits 1', async () => {
    const r = await bed().docker(['start', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No such container: nope/);
  });
});
