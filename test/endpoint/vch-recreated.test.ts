/**
 * The endpoint serves a VCH by name. When that VCH is destroyed, every request says so instead of
 * listing nothing; when a VCH of that name is made again (a new resource pool, a new id), the
 * endpoint serves the new one without a restart, with none of the destroyed one's docker networks.
 */
import type { Attrs } from '../../src/resources';
import { useDockerBed } from './docker-env';

describe('the endpoint when its VCH is destroyed and made again', () => {
  const bed = useDockerBed({ vchName: 'vch-again' });
  const config = { name: 'vch-again', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' };

  test('GIVEN the VCH destroyed WHEN docker ps runs THEN it fails saying the VCH was destroyed; made again THEN docker ps, pull and create work on the new one, which has no docker network of the old one', async () => {
    const { engine } = bed();
    expect(await bed().dockerOk(['ps', '-a', '-q'])).toBe('');
    await bed().dockerOk(['network', 'create', 'net-of-old']);
    expect(await bed().dockerOk(['network', 'ls', '--format', '{{.Name}}'])).toContain('net-of-old');
    const destroy = await engine.plan('virtual_container_host', bed().vch, null);
    expect(destroy.problems).toEqual([]);
    await engine.apply(destroy);

    const gone = await bed().docker(['ps', '-a']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/the virtual container host "vch-again" \(resgroup-\d+\) this endpoint serves no longer exists in vSphere: it was destroyed/);

    const plan = await engine.plan('virtual_container_host', null, config);
    expect(plan.problems).toEqual([]);
    const again = (await engine.apply(plan)) as Attrs;
    expect(again.id).not.toBe(bed().vch.id);

    expect(await bed().dockerOk(['ps', '-a', '-q'])).toBe('');
    expect(await bed().dockerOk(['info', '--format', '{{json .DriverStatus}}'])).toContain(String(again.id));
    // The old VCH's network went with it: not listed, and its name is free again.
    expect(await bed().dockerOk(['network', 'ls', '--format', '{{.Name}}'])).not.toContain('net-of-old');
    expect((await bed().docker(['network', 'inspect', 'net-of-old'])).code).toBe(1);
    await bed().dockerOk(['network', 'create', 'net-of-old']);
    expect((await bed().docker(['pull', bed().image], { timeoutMs: 180_000 })).code).toBe(0);
    expect((await bed().docker(['create', '--name', 'c-again', bed().image])).code).toBe(0);
    expect(await bed().dockerOk(['ps', '-a', '--format', '{{.Names}}'])).toBe('c-again');
    const vms = await engine.listIn('container_vm', String(again.id));
    expect(vms.map((vm) => vm.name)).toEqual(['c-again']);
  });
});
