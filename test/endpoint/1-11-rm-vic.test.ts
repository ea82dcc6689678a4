/**
 * VIC Group1 1-11 rm, the cases 1-11-rm.test.ts leaves out: a container that ran and exited goes,
 * VM and datastore folder with it (one boot); one whose VM was deleted through the vSphere API is
 * no such container.
 */
import { destroyVm } from '../../src/vsphere/virtual-machine';
import { moRef } from '../../src/vsphere';
import { connectTestClient } from '../helpers/engine';
import { containerFolders, useDockerBed } from './docker-env';

const BOOT_MS = 240_000;

describe('1-11 docker rm (VIC cases)', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 1 } }, pull: true, vchName: 'vch-rm-vic' });

  const containerDirs = () => containerFolders(bed());

  test(
    'GIVEN a container that ran and exited WHEN docker rm runs THEN it prints the id, and the VM and its folder are gone',
    async () => {
      const c = await bed().docker(['create', '--name', 'rmv-stopped', bed().image, 'ls']);
      expect([c.code, c.stderr]).toEqual([0, '']);
      const id = c.stdout.trim();
      expect((await bed().docker(['start', id])).code).toBe(0);
      const w = await bed().docker(['wait', id], { timeoutMs: BOOT_MS });
      expect([w.code, w.stdout]).toEqual([0, '0\n']);
      expect(await bed().dockerOk(['inspect', '-f', '{{.State.Status}}', id])).toBe('exited');
      expect(await containerDirs()).toContain('rmv-stopped');
      const r = await bed().docker(['rm', id]);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, `${id}\n`, '']);
      expect((await bed().engine.inventory()).containerVms.map((vm) => vm.name)).not.toContain('rmv-stopped');
      expect(await containerDirs()).not.toContain('rmv-stopped');
      expect((await bed().docker(['ps', '-a', '-q', '--filter', 'name=rmv-stopped'])).stdout).toBe('');
    },
    BOOT_MS,
  );

  test('GIVEN a created container whose VM was deleted through the vSphere API WHEN docker rm runs THEN it exits 1: no such container', async () => {
    expect((await bed().docker(['create', '--name', 'rmv-oob', bed().image])).code).toBe(0);
    const outside = await connectTestClient(bed().sim);
    try {
      const vm = (await bed().engine.inventory()).containerVms.find((v) => v.name === 'rmv-oob');
      await destroyVm(outside, moRef('VirtualMachine', String(vm?.moid)));
    } finally {
      await outside.close();
    }
    const r = await bed().docker(['rm', 'rmv-oob']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error response from daemon: No such container: rmv-oob\n');
  });
});
