/** docker run / pull of an image the VCH cannot get: the message names the image as typed, the registry, the cause and what to do. */
import { useDockerBed } from './docker-env';

describe('docker run and pull of an image the VCH cannot get', () => {
  const bed = useDockerBed({ vchName: 'vch-pullerr' });

  test('GIVEN a registry that does not resolve WHEN docker run --rm runs THEN it says which image, which registry, why, and what to do', async () => {
    const r = await bed().docker(['run', '--rm', 'nosuch.invalid/team/app:1', 'true'], { timeoutMs: 120_000 });
    expect(r.code).toBe(125);
    expect(r.stderr).not.toMatch(/reference:/);
    expect(r.stderr).toContain('cannot pull nosuch.invalid/team/app:1: registry nosuch.invalid cannot be reached from the VCH');
    expect(r.stderr).toMatch(/ENOTFOUND/);
    expect(r.stderr).toContain('check the image name; the VCH needs network access to nosuch.invalid, or push the image to a registry it reaches');
  });

  test('GIVEN a tag or a repository the registry does not have WHEN docker pull and docker run run THEN docker\'s "manifest unknown" with the reference', async () => {
    const tag = await bed().docker(['pull', `${bed().image.replace(/:1$/, ':nosuchtag')}`], { timeoutMs: 120_000 });
    expect(tag.code).toBe(1);
    expect(tag.stderr).not.toMatch(/reference:/);
    expect(tag.stderr).toContain(`manifest for ${bed().image.replace(/:1$/, ':nosuchtag')} not found: manifest unknown`);
    expect(tag.stderr).toContain(`registry ${bed().registryHost} has no such tag or repository; check the name and tag`);
    const repo = await bed().docker(['run', '--rm', `${bed().registryHost}/vic-test/none:1`, 'true'], { timeoutMs: 120_000 });
    expect(repo.code).toBe(125);
    expect(repo.stderr).toContain(`manifest for ${bed().registryHost}/vic-test/none:1 not found: manifest unknown`);
  });
});
