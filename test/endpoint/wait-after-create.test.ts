/**
 * The wait `docker run` opens between its create and its start takes the state the create just left
 * instead of reading the VM. Its answer still comes from vSphere: a container changed through the
 * vSphere API right after its create is waited on as vSphere has it.
 */
import { moRef } from '../../src/vsphere';
import { powerOffVm, powerOnVm } from '../../src/vsphere/virtual-machine';
import { connectTestClient } from '../helpers/engine';
import { useDockerBed } from './docker-env';

describe('docker wait on a container just created', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-wait' });
  const ok = (args: string[]) => bed().dockerOk(args);

  test('GIVEN a container just created WHEN its VM is powered on through the vSphere API before docker wait THEN the wait lasts until the VM is powered off there, and reports that exit', async () => {
    const id = await ok(['create', '--name', 'on-outside', bed().image]);
    const moid = await ok(['inspect', '--format', '{{.VSphere.Moid}}', id]);
    const outside = await connectTestClient(bed().sim);
    try {
      await powerOnVm(outside, moRef('VirtualMachine', moid));
      let ended = false;
      const waiting = bed()
        .docker(['wait', id])
        .finally(() => (ended = true));
      // Several of the endpoint's looks (every 500 ms) see it running: the wait goes on.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(ended).toBe(false);
      await powerOffVm(outside, moRef('VirtualMachine', moid));
      const waited = await waiting;
      // No guest runs here, so none reported an exit code.
      expect({ code: waited.code, stdout: waited.stdout.trim(), stderr: waited.stderr }).toEqual({ code: 0, stdout: '0', stderr: '' });
    } finally {
      await outside.close();
    }
  });
});
