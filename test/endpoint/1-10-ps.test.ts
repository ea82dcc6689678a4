/**
 * VIC Group1 1-10 ps, and one world with the IaC: docker ps lists the VCH's container VMs as
 * vSphere has them (powered off or deleted outside show at once), IaC-made ones included with
 * their labels; an endpoint started again shows the same; and the listing costs the same number
 * of SOAP calls whatever the number of containers. No guest runs here: power states are enough.
 */
import type { Attrs } from '../../src/resources';
import { moRef } from '../../src/vsphere';
import { destroyVm, powerOffVm } from '../../src/vsphere/virtual-machine';
import { connectTestClient } from '../helpers/engine';
import { useDockerBed } from './docker-env';

describe('1-10 docker ps', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-ps' });
  const ids: Record<string, string> = {};
  let iac: Attrs;

  const ps = async (...args: string[]) => {
    const r = await bed().docker(['ps', ...args]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };

  test('GIVEN no containers WHEN docker ps runs THEN it prints the header alone', async () => {
    expect(await ps()).toBe('CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
    expect(await ps('-a', '-q')).toBe('');
  });

  test('GIVEN containers created and started WHEN docker ps runs with -a, -q, filters and --format THEN each shows what it should', async () => {
    for (const [name, extra] of [
      ['ps-created', ['-l', 'tier=db']],
      ['ps-running', ['-l', 'tier=web']],
    ] as const) {
      const r = await bed().docker(['create', '--name', name, ...extra, bed().image, 'sleep', '600']);
      expect(r.code).toBe(0);
      ids[name] = r.stdout.trim();
    }
    const started = await bed().docker(['start', 'ps-running']);
    expect([started.code, started.stdout]).toEqual([0, 'ps-running\n']);

    expect(await ps('--format', '{{.Names}}|{{.Status}}|{{.Command}}')).toMatch(/^ps-running\|Up (Less than a second|\d+ seconds?)\|"sleep 600"\n$/);
    expect((await ps('-a', '--format', '{{.Names}} {{.State}}')).split('\n').sort().join('\n')).toBe('\nps-created created\nps-running running');
    expect((await ps('-a', '-q')).split('\n').filter(Boolean).sort()).toEqual([ids['ps-created'].slice(0, 12), ids['ps-running'].slice(0, 12)].sort());
    expect(await ps('-a', '--filter', 'name=ps-cr', '--format', '{{.Names}}')).toBe('ps-created\n');
    expect(await ps('-a', '--filter', 'status=created', '--format', '{{.Names}}')).toBe('ps-created\n');
    expect(await ps('-a', '--filter', 'label=tier=web', '--format', '{{.Names}} {{.Label "tier"}}')).toBe('ps-running web\n');
    expect(await ps('-a', '--filter', `id=${ids['ps-running'].slice(0, 8)}`, '--format', '{{.Names}}')).toBe('ps-running\n');
    expect(await ps('-a', '--filter', 'name=ps-running', '--format', '{{.Image}}')).toBe(`${bed().image}\n`);
    // None of these has a health check: none is healthy.
    expect(await ps('-a', '--filter', 'health=healthy', '--format', '{{.Names}}')).toBe('');
    const bad = await bed().docker(['ps', '--filter', 'color=blue']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid filter 'color': vic-iac filters containers by name, id, status, label/);
    // As dockerd: a status no container can have is refused, not an empty list.
    const bogus = await bed().docker(['ps', '-a', '--filter', 'status=bogus']);
    expect(bogus.code).toBe(1);
    expect(bogus.stderr).toContain(
      "invalid filter 'status=bogus': a container's status is one of created, restarting, running, removing, paused, exited, dead",
    );
  });

  test('GIVEN a container VM powered off and another deleted through the vSphere API THEN docker ps shows it at once', async () => {
    const outside = await connectTestClient(bed().sim);
    try {
      const inv = await bed().engine.inventory();
      const moid = (name: string) => String(inv.containerVms.find((vm) => vm.name === name)?.moid);
      await powerOffVm(outside, moRef('VirtualMachine', moid('ps-running')));
      expect(await ps('--format', '{{.Names}}')).toBe('');
      expect(await ps('-a', '--filter', 'name=ps-running', '--format', '{{.State}}')).toBe('created\n');
      await destroyVm(outside, moRef('VirtualMachine', moid('ps-created')));
      expect(await ps('-a', '--format', '{{.Names}}')).toBe('ps-running\n');
    } finally {
      await outside.close();
    }
  });

  test('GIVEN a container VM an IaC state made THEN docker ps shows it with its labels, docker may stop and start it (drift in the next plan) but not remove it', async () => {
    const image = (await bed().engine.listIn('image', String(bed().vch.id)))[0];
    const plan = await bed().engine.plan('container_vm', null, {
      vch_id: bed().vch.id,
      image_id: image.id,
      name: 'iac-web',
      labels: { team: 'ops' },
      command: ['sleep', '600'],
    });
    expect(plan.problems).toEqual([]);
    iac = (await bed().engine.apply(plan)) as Attrs;
    expect(await ps('--filter', 'label=team=ops', '--format', '{{.Names}} {{.Labels}} {{.State}}')).toBe('iac-web team=ops running\n');

    const rm = await bed().docker(['rm', '-f', 'iac-web']);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toMatch(/container "iac-web" is managed by infrastructure as code .*remove it from that configuration and apply/);
    expect(await ps('-a', '--filter', 'name=iac-web', '-q')).not.toBe('');

    const stop = await bed().docker(['stop', 'iac-web']);
    expect([stop.code, stop.stdout]).toEqual([0, 'iac-web\n']);
    const [now] = await bed().engine.read([{ type: 'container_vm', state: iac }]);
    const drift = await bed().engine.plan('container_vm', now, {
      vch_id: bed().vch.id,
      image_id: image.id,
      name: 'iac-web',
      labels: { team: 'ops' },
      command: ['sleep', '600'],
    });
    expect(drift.action).toBe('update');
    expect(drift.changes.map((c) => [c.path.join('.'), c.before, c.after])).toEqual([['power_state', 'stopped', 'running']]);
  });

  test('GIVEN the endpoint started again THEN docker ps shows the same: vSphere holds the truth', async () => {
    const before = await ps('-a', '--format', '{{.ID}} {{.Names}} {{.Image}} {{.State}} {{.Labels}}');
    await bed().endpoint.close();
    const again = await bed().serve({ port: bed().endpoint.port });
    try {
      expect(await ps('-a', '--format', '{{.ID}} {{.Names}} {{.Image}} {{.State}} {{.Labels}}')).toBe(before);
    } finally {
      await again.close();
    }
    // The bed closes its own endpoint again in afterAll: closing twice is harmless.
    const later = await bed().serve({ port: bed().endpoint.port });
    Object.assign(bed().endpoint, { close: later.close });
  });

  test('GIVEN more containers WHEN docker ps -a runs THEN it costs the same SOAP calls as with fewer', async () => {
    const image = (await bed().engine.listIn('image', String(bed().vch.id)))[0];
    const callsOfPs = async () => {
      await bed().sim.control.resetStats();
      await ps('-a', '-q');
      return (await bed().sim.control.stats()).total;
    };
    // The endpoint was started again: its first listing of the image store (for the IaC-made
    // containers' image names) also looks up what it keeps across requests.
    await ps('-a', '-q');
    const few = await callsOfPs();
    expect(few).toBeGreaterThan(0);
    for (let i = 0; i < 8; i++) {
      const plan = await bed().engine.plan('container_vm', null, { vch_id: bed().vch.id, image_id: image.id, name: `many-${i}`, power_state: 'stopped' });
      await bed().engine.apply(plan);
    }
    const many = await callsOfPs();
    expect((await ps('-a', '-q')).split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(10);
    expect(many).toBe(few);
  });
});
