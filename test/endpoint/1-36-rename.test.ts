/**
 * VIC Group1 1-36 rename: refused, with the reason. A container VM's BIOS UUID, and so its id,
 * derives from its VCH and its name (the IaC identity), so a rename would be a new container.
 */
import { useDockerBed } from './docker-env';

describe('1-36 docker rename', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-rename' });

  test('GIVEN a container WHEN docker rename runs THEN it is refused with the reason and what to do instead', async () => {
    expect((await bed().docker(['create', '--name', 'rn-1', bed().image])).code).toBe(0);
    const r = await bed().docker(['rename', 'rn-1', 'rn-2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/docker rename is not supported by vic-iac: a container VM's identity .* create a container with the new name/);
  });
});
