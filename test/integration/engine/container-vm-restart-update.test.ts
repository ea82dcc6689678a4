/**
 * container_vm `restart` and `max_restarts` update in place (docker update --restart, a changed
 * restart policy in Terraform or Pulumi): the same VM, its spec marker and the guest config its
 * tether reads at boot both carry the new policy, and a running one's plan says it applies from its
 * next start. No guest boots: the guest config is read back from the VM's extraConfig.
 */
import type { Attrs } from '../../../src/resources';
import { GUESTINFO_CONFIG_KEY, decodeGuestConfig, type GuestConfig } from '../../../src/resources/guest-config';
import { extraConfigMap } from '../../../src/resources/snapshot';
import { moRef, type VimClient } from '../../../src/vsphere';
import { retrieveObject } from '../../../src/vsphere/property-collector';
import { applied, useContainerBed } from '../../helpers/engine';

/** The guest config its tether reads at boot, and the spec marker, of a container VM as vSphere has them. */
async function guestAndSpec(client: VimClient, state: Attrs): Promise<{ guest: GuestConfig; spec: Attrs }> {
  const vm = await retrieveObject<Record<string, unknown>>(client, moRef('VirtualMachine', String(state.moid)), ['config.extraConfig']);
  const extra = extraConfigMap(vm['config.extraConfig']);
  return { guest: decodeGuestConfig(extra.get(GUESTINFO_CONFIG_KEY) ?? ''), spec: JSON.parse(extra.get('vic.spec') ?? '{}') as Attrs };
}

describe('container_vm restart policy, updated in place', () => {
  const bed = useContainerBed('vch-restart', 'test/restart');
  const engine = () => bed().engine;

  const guestRestart = async (state: Attrs) => {
    const { guest, spec } = await guestAndSpec(bed().outside, state);
    return { guest: guest.restart ?? null, spec };
  };

  it('GIVEN a stopped container VM WHEN its restart policy changes, and back THEN it is updated in place, in its spec and its guest config, and plans nothing after', async () => {
    const config: Attrs = { vch_id: bed().vch.id, image_id: bed().img.id, name: 'rs-1', power_state: 'stopped', memory_mb: 128 };
    const created = await applied(engine(), await engine().plan('container_vm', null, config));
    expect(await guestRestart(created)).toMatchObject({ guest: null });

    const plan = await engine().plan('container_vm', created, { ...config, restart: 'on-failure', max_restarts: 2 });
    expect(plan.action).toBe('update');
    const updated = await applied(engine(), plan);
    expect(updated).toMatchObject({ moid: created.moid, id: created.id, restart: 'on-failure', max_restarts: 2 });
    expect(await guestRestart(created)).toMatchObject({ guest: { policy: 'on-failure', max_restarts: 2 }, spec: { restart: 'on-failure', max_restarts: 2 } });
    const [read] = await engine().read([{ type: 'container_vm', state: updated }]);
    expect((await engine().plan('container_vm', read!, { ...config, restart: 'on-failure', max_restarts: 2 })).action).toBe('no-op');

    // unless-stopped is always to the tether.
    await applied(engine(), await engine().plan('container_vm', read!, { ...config, restart: 'unless-stopped' }));
    expect((await guestRestart(created)).guest).toEqual({ policy: 'always' });
    const [again] = await engine().read([{ type: 'container_vm', state: updated }]);
    await applied(engine(), await engine().plan('container_vm', again!, config));
    expect(await guestRestart(created)).toMatchObject({ guest: null, spec: { restart: 'no' } });
  });

  it('GIVEN a running container VM WHEN its restart policy changes THEN the plan updates it in place and says it applies from its next start; it stays on', async () => {
    const config: Attrs = { vch_id: bed().vch.id, image_id: bed().img.id, name: 'rs-2', memory_mb: 128 };
    const created = await applied(engine(), await engine().plan('container_vm', null, config));
    const plan = await engine().plan('container_vm', created, { ...config, restart: 'always' });
    expect(plan.action).toBe('update');
    expect(plan.notes).toContain('container VM "rs-2" runs: its guest follows the new restart policy from its next start');
    const updated = await applied(engine(), plan);
    expect(updated).toMatchObject({ moid: created.moid, power_state: 'running', restart: 'always' });
    expect((await guestRestart(created)).guest).toEqual({ policy: 'always' });
  });
});

describe('container_vm extra_hosts, updated in place', () => {
  const bed = useContainerBed('vch-extra-hosts', 'test/extra-hosts');
  const engine = () => bed().engine;

  const guestHosts = async (state: Attrs) => {
    const { guest, spec } = await guestAndSpec(bed().outside, state);
    return { guest: guest.hosts ?? null, spec };
  };

  it('GIVEN a container VM made with extra_hosts WHEN they change, and go THEN the same VM carries them in its spec and its guest config, and plans nothing after', async () => {
    const config: Attrs = {
      vch_id: bed().vch.id,
      image_id: bed().img.id,
      name: 'eh-1',
      power_state: 'stopped',
      memory_mb: 128,
      extra_hosts: ['db.local:10.0.0.5'],
    };
    const created = await applied(engine(), await engine().plan('container_vm', null, config));
    expect(created.extra_hosts).toEqual(['db.local:10.0.0.5']);
    expect(await guestHosts(created)).toMatchObject({ guest: [{ address: '10.0.0.5', names: ['db.local'] }], spec: { extra_hosts: ['db.local:10.0.0.5'] } });

    const changed = { ...config, extra_hosts: ['db.local:10.0.0.6', 'v6:[fd00::5]'] };
    const plan = await engine().plan('container_vm', created, changed);
    expect(plan.action).toBe('update');
    const updated = await applied(engine(), plan);
    expect(updated).toMatchObject({ moid: created.moid, id: created.id, extra_hosts: ['db.local:10.0.0.6', 'v6:[fd00::5]'] });
    expect((await guestHosts(created)).guest).toEqual([
      { address: '10.0.0.6', names: ['db.local'] },
      { address: 'fd00::5', names: ['v6'] },
    ]);
    const [read] = await engine().read([{ type: 'container_vm', state: updated }]);
    expect((await engine().plan('container_vm', read!, changed)).action).toBe('no-op');

    const { extra_hosts: _gone, ...without } = config;
    await applied(engine(), await engine().plan('container_vm', read!, without));
    expect(await guestHosts(created)).toMatchObject({ guest: null, spec: { extra_hosts: null } });
  });

  it('GIVEN an entry that is not NAME:ADDRESS, or names the host gateway THEN the plan refuses it naming the entry', async () => {
    const config: Attrs = { vch_id: bed().vch.id, image_id: bed().img.id, name: 'eh-2', power_state: 'stopped', memory_mb: 128 };
    for (const [entry, said] of [
      ['db.local', 'is not a "NAME:ADDRESS" host entry'],
      ['db.local:10.0.0.300', 'is not a "NAME:ADDRESS" host entry'],
      ['host.internal:host-gateway', "names the host's gateway"],
    ]) {
      const plan = await engine().plan('container_vm', null, { ...config, extra_hosts: ['ok:10.0.0.1', entry] });
      expect(plan.problems.map((p) => p.detail)).toEqual([expect.stringContaining(`extra_hosts[1] = ${JSON.stringify(entry)} ${said}`)]);
    }
  });
});
