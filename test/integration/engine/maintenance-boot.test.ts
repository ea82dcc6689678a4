/**
 * A maintenance boot of a stopped container VM (docker cp of a stopped container; guest-config.md,
 * "Maintenance boot"), against vcsim without guests: the guest's side is played by writing what the
 * simulator's runner writes (its ready token), or by nothing at all (a guest that serves no such
 * boot). The container reads as stopped throughout, exec requests reach only the boot whose token
 * the guest gave, the end powers it off and leaves no marker, and a start after a client that died
 * mid-boot runs the process.
 */
import type { Attrs } from '../../../src/resources';
import { InputUnreachableError, NotRunningError } from '../../../src/resources/errors';
import { INPUT_KEY_PREFIX, KEYS, MAINTENANCE_GUEST_KEY, MAINTENANCE_READY_KEY } from '../../../src/resources/container-vm.lifecycle';
import { extraConfigMap } from '../../../src/resources/snapshot';
import { moRef } from '../../../src/vsphere';
import { retrieveObject } from '../../../src/vsphere/property-collector';
import { powerOffVm, powerOnVm, reconfigureVm } from '../../../src/vsphere/virtual-machine';
import { applied, useContainerBed } from '../../helpers/engine';

describe('container_vm maintenance boot', () => {
  const bed = useContainerBed('vch-maint', 'test/maint');
  const engine = () => bed().engine;
  const outside = () => bed().outside;
  const grace = process.env.VIC_STOP_GRACE_MS;
  // No guest here answers the end's SIGTERM: its power-off comes after this grace.
  beforeAll(() => void (process.env.VIC_STOP_GRACE_MS = '500'));
  afterAll(() => {
    if (grace === undefined) delete process.env.VIC_STOP_GRACE_MS;
    else process.env.VIC_STOP_GRACE_MS = grace;
  });

  const config = (name: string): Attrs => ({ vch_id: bed().vch.id, image_id: bed().img.id, name, power_state: 'stopped', memory_mb: 128 });
  const vmOf = async (state: Attrs) => {
    const vm = await retrieveObject<Record<string, unknown>>(outside(), moRef('VirtualMachine', String(state.moid)), [
      'runtime.powerState',
      'config.extraConfig',
    ]);
    return { power: String(vm['runtime.powerState']), extraConfig: extraConfigMap(vm['config.extraConfig']) };
  };
  const refreshed = async (state: Attrs): Promise<Attrs> => {
    const [read] = await engine().read([{ type: 'container_vm', state }]);
    if (!read) throw new Error(`container VM ${String(state.name)} is gone`);
    return read;
  };
  /** What the simulator's runner does for a guest that serves the boot: it takes the request away, then says the guest is ready. */
  const guestServes = async (state: Attrs, token: string): Promise<void> => {
    for (;;) {
      const { power, extraConfig } = await vmOf(state);
      if (power === 'poweredOn' && extraConfig.get(MAINTENANCE_GUEST_KEY) === token) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await reconfigureVm(outside(), moRef('VirtualMachine', String(state.moid)), {
      extraConfig: { [MAINTENANCE_GUEST_KEY]: '', [MAINTENANCE_READY_KEY]: token },
    });
  };

  it('GIVEN a stopped container VM WHEN a maintenance boot serves it THEN it reads as stopped, exec reaches that boot only, and the end powers it off without a marker', async () => {
    const created = await applied(engine(), await engine().plan('container_vm', null, config('maint-1')));
    const token = 'a1b2c3d4';
    await Promise.all([engine().maintenance('container_vm', created, token, 'begin'), guestServes(created, token)]);
    expect((await vmOf(created)).power).toBe('poweredOn');

    // The container does not run: a refresh reads it stopped, and its configuration plans nothing.
    const read = await refreshed(created);
    expect(read.power_state).toBe('stopped');
    expect((await engine().plan('container_vm', read, config('maint-1'))).action).toBe('no-op');
    expect(await engine().maintenance('container_vm', created, token, 'alive')).toBe(true);

    // Exec requests go to that boot's guest, and to no other.
    await engine()
      .forCommand({ maintenance: token })
      .exec('container_vm', created, 'ab', { argv: [], archive: { op: 'stat', path: '/etc' } });
    expect([...(await vmOf(created)).extraConfig.keys()].filter((k) => k.startsWith(INPUT_KEY_PREFIX))).toHaveLength(1);
    await expect(
      engine()
        .forCommand({ maintenance: 'ffff' })
        .exec('container_vm', created, 'cd', { argv: ['ls'] }),
    ).rejects.toBeInstanceOf(NotRunningError);
    await expect(engine().exec('container_vm', created, 'ef', { argv: ['ls'] })).rejects.toBeInstanceOf(NotRunningError);

    await engine().maintenance('container_vm', created, token, 'end');
    const after = await vmOf(created);
    expect(after.power).toBe('poweredOff');
    expect([KEYS.maintenance, MAINTENANCE_GUEST_KEY, MAINTENANCE_READY_KEY].map((k) => after.extraConfig.get(k) ?? '')).toEqual(['', '', '']);
    expect(await engine().maintenance('container_vm', created, token, 'alive')).toBe(false);
    expect((await refreshed(created)).power_state).toBe('stopped');
  }, 60_000);

  it('GIVEN a guest that serves no maintenance boot (it powers off) WHEN one begins THEN it is refused as unreachable, and no marker is left', async () => {
    const created = await applied(engine(), await engine().plan('container_vm', null, config('maint-2')));
    const powersOff = (async () => {
      while ((await vmOf(created)).power !== 'poweredOn') await new Promise((r) => setTimeout(r, 100));
      await powerOffVm(outside(), moRef('VirtualMachine', String(created.moid)));
    })();
    await expect(engine().maintenance('container_vm', created, 'beef', 'begin')).rejects.toBeInstanceOf(InputUnreachableError);
    await powersOff;
    const after = await vmOf(created);
    expect(after.power).toBe('poweredOff');
    expect([KEYS.maintenance, MAINTENANCE_GUEST_KEY].map((k) => after.extraConfig.get(k) ?? '')).toEqual(['', '']);
  }, 60_000);

  it('GIVEN a maintenance boot whose client died WHEN the container is started THEN that boot ends first and the start runs the process, without the marker', async () => {
    const created = await applied(engine(), await engine().plan('container_vm', null, config('maint-3')));
    const ref = moRef('VirtualMachine', String(created.moid));
    // Left as a killed endpoint leaves it: the marker, and the VM on.
    await reconfigureVm(outside(), ref, { extraConfig: { [KEYS.maintenance]: '0123', [MAINTENANCE_READY_KEY]: '0123' } });
    await powerOnVm(outside(), ref);
    const read = await refreshed(created);
    expect(read.power_state).toBe('stopped');
    const started = await applied(engine(), await engine().plan('container_vm', read, { ...config('maint-3'), power_state: 'running' }));
    expect(started.power_state).toBe('running');
    const after = await vmOf(created);
    expect(after.power).toBe('poweredOn');
    expect([KEYS.maintenance, MAINTENANCE_READY_KEY].map((k) => after.extraConfig.get(k) ?? '')).toEqual(['', '']);
  }, 60_000);
});
