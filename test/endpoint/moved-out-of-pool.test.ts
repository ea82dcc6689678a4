/**
 * A container VM an admin moved out of the VCH's pool (the vSphere Client's drag onto another pool):
 * the endpoint lists only the pool's container VMs, so its own in-use checks do not see it, but
 * `docker rmi` of its image and `docker volume rm` of its volume are still refused by vSphere's list
 * of the datastore's VMs, as docker's 409 Conflict naming it; the image and the volume stay, and its
 * name stays taken. By name (inspect, start, stop, rm) the endpoint still finds it.
 */
import { moRef, type VimClient } from '../../src/vsphere';
import { connectTestClient } from '../helpers/engine';
import { moveIntoPool, parentOf } from '../helpers/vcenter-changes';
import { useDockerBed } from './docker-env';

describe('docker and a container VM moved out of the VCH pool', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-moved' });
  let outside: VimClient;
  beforeAll(async () => {
    outside = await connectTestClient(bed().sim);
  });
  afterAll(async () => outside?.close());

  test('GIVEN a container with a volume moved to another pool WHEN its image and its volume are removed THEN both are refused with 409 naming it, and both stay until it is removed by name', async () => {
    expect((await bed().docker(['create', '--name', 'wanderer', '-v', 'kept:/data', bed().image, 'true'])).code).toBe(0);
    const [vm] = (await bed().engine.inventory()).containerVms.filter((c) => c.name === 'wanderer');
    const pool = moRef('ResourcePool', String(bed().vch.id));
    await moveIntoPool(outside, await parentOf(outside, pool), [moRef('VirtualMachine', String(vm.moid))]);
    expect((await bed().docker(['ps', '-a', '--format', '{{.Names}}'])).stdout).not.toContain('wanderer');

    const named = `wanderer (${String(vm.moid)})`;
    const rmi = await bed().docker(['rmi', bed().image]);
    expect(rmi.code).toBe(1);
    expect(rmi.stderr).toContain(`is in use by 1 container VM(s): ${named}`);
    const api = await bed().call('DELETE', `/images/${encodeURIComponent(bed().image)}`);
    // Before: 500, the engine's refusal passed on as a server error.
    expect(api.status).toBe(409);
    const volume = await bed().docker(['volume', 'rm', 'kept']);
    expect(volume.code).toBe(1);
    expect(volume.stderr).toContain(`is attached to 1 VM(s): ${named}`);
    expect((await bed().call('DELETE', '/volumes/kept')).status).toBe(409);

    // Its name stays taken, as the VM still holds the BIOS UUID the name derives from.
    const again = await bed().docker(['create', '--name', 'wanderer', bed().image, 'true']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/Conflict\. The container name "\/wanderer" is already in use by container "[0-9a-f]{64}"/);

    expect((await bed().docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.trim()).toBe(bed().image);
    expect((await bed().docker(['volume', 'ls', '--format', '{{.Name}}'])).stdout.trim()).toBe('kept');

    // By name the endpoint still finds it (its BIOS UUID): once it is removed, so are the volume and the image.
    expect(await bed().dockerOk(['inspect', '--format', '{{.Name}}', 'wanderer'])).toBe('/wanderer');
    expect(await bed().dockerOk(['start', 'wanderer'])).toBe('wanderer');
    expect(await bed().dockerOk(['stop', '-t', '0', 'wanderer'])).toBe('wanderer');
    expect(await bed().dockerOk(['rm', 'wanderer'])).toBe('wanderer');
    expect(await bed().dockerOk(['volume', 'rm', 'kept'])).toBe('kept');
    expect((await bed().docker(['rmi', bed().image])).code).toBe(0);
  });
});
