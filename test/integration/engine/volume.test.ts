/**
 * volume and container_vm.volumes through the engine, against the simulator and a real registry:
 * create (an ext4 disk with its marker), grow, shrink refused, mounts on a container VM, destroy
 * refused while attached and forced, a disk detached outside attached again, import by datastore
 * path, a volume deleted outside made again with a warning, a disk without our marker never
 * deleted, and the bad inputs refused at plan.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import { decodeGuestConfig } from '../../../src/resources/guest-config';
import { volumeFilesystemUuid } from '../../../src/resources/volume';
import { VimClient, deleteDatastoreFile, downloadDatastoreFile, moRef, uploadDatastoreFile } from '../../../src/vsphere';
import { retrieveObject } from '../../../src/vsphere/property-collector';
import { editDevice, removeDevice, type VirtualDevice } from '../../../src/vsphere/virtual-devices';
import { reconfigureVm } from '../../../src/vsphere/virtual-machine';
import { extraConfigMap } from '../../../src/resources/snapshot';
import { APP_IMAGE, writeOciLayout } from '../../helpers/oci-layout';
import { useRegistry } from '../../helpers/registry';
import { bytesOf, ext4Uuid } from '../../helpers/disk-bytes';
import { useSimulator } from '../../helpers/vcsim';
import { applied, connectTestClient, connectTestEngine, defaultDatastore } from '../../helpers/engine';

async function volumeDisks(outside: VimClient, moid: string): Promise<VirtualDevice[]> {
  const vm = await retrieveObject<Record<string, unknown>>(outside, moRef('VirtualMachine', moid), ['config.hardware.device']);
  const devices = vm['config.hardware.device'] as VirtualDevice[];
  return devices.filter((d) => d.$type === 'VirtualDisk' && String(d.backing?.fileName ?? '').includes('/volumes/'));
}

describe('volume lifecycle and container VM mounts', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  let engine: Engine;
  let outside: VimClient;
  let scratch: string;
  let vch: Attrs;
  let otherVch: Attrs;
  let img: Attrs;
  let data: Attrs;
  let dataConfig: Attrs;
  let web: Attrs;
  let webConfig: Attrs;

  beforeAll(async () => {
    engine = await connectTestEngine(sim());
    outside = await connectTestClient(sim());
    scratch = await mkdtemp(join(tmpdir(), 'vic-volume-test-'));
    const layout = await writeOciLayout(join(scratch, 'app'), 'v1', [{ ...APP_IMAGE, config: { ...APP_IMAGE.config, Env: ['PATH=/bin'] } }]);
    await registry().push(layout.dir, 'v1', 'test/volapp:v1');
    vch = await applied(
      engine,
      await engine.plan('virtual_container_host', null, { name: 'vch-v', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' }),
    );
    otherVch = await applied(
      engine,
      await engine.plan('virtual_container_host', null, { name: 'vch-w', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' }),
    );
    img = await applied(engine, await engine.plan('image', null, { vch_id: vch.id, reference: `${registry().host}/test/volapp:v1`, insecure_registry: true }));
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await outside?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('GIVEN a volume WHEN applied THEN an ext4 disk with its UUID, a descriptor and the marker are in <store>/volumes/<name>/', async () => {
    dataConfig = { vch_id: vch.id, name: 'data', size_mb: 32, labels: { app: 'counter' } };
    const plan = await engine.plan('volume', null, dataConfig);
    expect(plan.action).toBe('create');
    expect(plan.planned?.id).toBe('[LocalDS_0] vch-v/volumes/data/data.vmdk');
    data = await applied(engine, plan);
    expect(data).toMatchObject({
      id: '[LocalDS_0] vch-v/volumes/data/data.vmdk',
      name: 'data',
      size_mb: 32,
      datastore: 'LocalDS_0',
      labels: { app: 'counter' },
    });
    expect(data.filesystem_uuid).toBe(volumeFilesystemUuid(String(data.id)));
    const file = (name: string) => ({ datacenter: 'DC0', datastore: 'LocalDS_0', path: `vch-v/volumes/data/${name}` });
    const head = await bytesOf(await downloadDatastoreFile(outside, file('data-flat.vmdk')), 4096);
    expect(ext4Uuid(head)).toBe(data.filesystem_uuid);
    const descriptor = (await bytesOf(await downloadDatastoreFile(outside, file('data.vmdk')))).toString('utf8');
    expect(descriptor).toContain(`RW ${(32 * 1024 * 1024) / 512} FLAT "data-flat.vmdk" 0`);
    const marker = JSON.parse((await bytesOf(await downloadDatastoreFile(outside, file('vic-iac-volume.json')))).toString('utf8')) as Attrs;
    expect(marker).toMatchObject({ owner: 'vic-iac', vch: vch.id, name: 'data', size_mb: 32 });
    const [read] = await engine.read([{ type: 'volume', state: data }]);
    expect(read).toEqual(data);
    expect((await engine.plan('volume', data, dataConfig)).action).toBe('no-op');
  });

  it('GIVEN 1 and then 4 volumes WHEN refreshed at once or one by one THEN the round trips are the same: one listing of the store', async () => {
    const extra: Attrs[] = [];
    for (const name of ['r1', 'r2', 'r3']) extra.push(await applied(engine, await engine.plan('volume', null, { vch_id: vch.id, name, size_mb: 16 })));
    const roundTrips = async (states: Attrs[], oneByOne: boolean) => {
      const fresh = await connectTestEngine(sim());
      try {
        const stats = (fresh as unknown as { client: VimClient }).client.stats;
        const before = stats.total;
        const read = oneByOne
          ? await Promise.all(states.map(async (s) => (await fresh.read([{ type: 'volume', state: s }]))[0]))
          : await fresh.read(states.map((state) => ({ type: 'volume' as const, state })));
        expect(read).toEqual(states);
        const calls = stats.snapshot();
        const listings = Object.entries(calls)
          .filter(([method]) => method.startsWith('SearchDatastore'))
          .reduce((sum, [, n]) => sum + n, 0);
        return { total: stats.total - before, listings };
      } finally {
        await fresh.close();
      }
    };
    const one = await roundTrips([data], false);
    expect(one.listings).toBe(1);
    // The listing is a task: its wait reads the task once or twice more depending on when it ends,
    // so the totals may differ by that much, never by a call per volume.
    for (const many of [await roundTrips([data, ...extra], false), await roundTrips([data, ...extra], true)]) {
      expect(many.listings).toBe(1);
      expect(Math.abs(many.total - one.total)).toBeLessThanOrEqual(2);
    }
    for (const state of extra) await engine.apply(await engine.plan('volume', state, null));
  });

  it('GIVEN a volume WHEN size_mb grows THEN an in-place update; WHEN it shrinks THEN the plan refuses, saying why', async () => {
    const grow = await engine.plan('volume', data, { ...dataConfig, size_mb: 64 });
    // vcsim's ExtendVirtualDisk only handles its own placeholder disks, not a flat extent: the
    // apply of a grow runs in the boot test, where the simulator's runner serves it.
    expect(grow.action).toBe('update');
    expect(grow.requiresReplace).toEqual([]);
    expect(grow.problems).toEqual([]);
    expect(grow.planned).toMatchObject({ id: data.id, size_mb: 64 });
    const shrink = await engine.plan('volume', data, { ...dataConfig, size_mb: 16 });
    expect(shrink.problems).toEqual([
      expect.objectContaining({
        path: ['size_mb'],
        severity: 'error',
        detail: expect.stringMatching(/size_mb = 16 is below the volume's current 32 MB\. vSphere cannot shrink a disk/),
      }),
    ]);
    const relabel = await applied(engine, await engine.plan('volume', data, { ...dataConfig, labels: { app: 'counter', tier: 'db' } }));
    expect(relabel.labels).toEqual({ app: 'counter', tier: 'db' });
    data = await applied(engine, await engine.plan('volume', relabel, dataConfig));
  });

  it('GIVEN a container VM with a volume WHEN applied THEN the disk is attached independent-persistent and the guest config mounts it', async () => {
    webConfig = { vch_id: vch.id, image_id: img.id, name: 'web-v', memory_mb: 256, volumes: [{ volume_id: data.id, path: '/data' }] };
    const plan = await engine.plan('container_vm', null, webConfig);
    expect(plan.problems).toEqual([]);
    web = await applied(engine, plan);
    expect(web.volumes).toEqual([{ volume_id: data.id, path: '/data', read_only: false }]);
    const disks = await volumeDisks(outside, String(web.moid));
    expect(disks.map((d) => [d.backing?.fileName, d.backing?.diskMode])).toEqual([[data.id, 'independent_persistent']]);
    const vm = await retrieveObject<Record<string, unknown>>(outside, moRef('VirtualMachine', String(web.moid)), ['config.extraConfig']);
    const guest = decodeGuestConfig(extraConfigMap(vm['config.extraConfig']).get('guestinfo.vic.config') ?? '');
    expect(guest.mounts).toEqual([{ path: '/data', read_only: false, uuid: data.filesystem_uuid }]);
    expect((await engine.plan('container_vm', web, webConfig)).action).toBe('no-op');
  });

  it('GIVEN a mounted volume WHEN the mount set changes THEN the container VM is replaced', async () => {
    const plan = await engine.plan('container_vm', web, { ...webConfig, volumes: [{ volume_id: data.id, path: '/data', read_only: true }] });
    expect(plan.action).toBe('replace');
    expect(plan.requiresReplace).toEqual([['volumes']]);
    // A replacement destroys the old VM: its volume disk is detached first, since Destroy_Task
    // deletes every disk of a VM, independent ones included.
    const replaced = await applied(engine, await engine.plan('container_vm', web, { ...webConfig, command: ['again'] }));
    expect(replaced.moid).not.toBe(web.moid);
    const descriptor = await downloadDatastoreFile(outside, { datacenter: 'DC0', datastore: 'LocalDS_0', path: 'vch-v/volumes/data/data-flat.vmdk' });
    expect(ext4Uuid(await bytesOf(descriptor, 4096))).toBe(data.filesystem_uuid);
    expect((await volumeDisks(outside, String(replaced.moid))).map((d) => d.backing?.fileName)).toEqual([data.id]);
    web = await applied(engine, await engine.plan('container_vm', replaced, webConfig));
  });

  it('GIVEN a volume mounted read-write by a running container VM WHEN a second running one mounts it in the same plan THEN refused, read-only too; a stopped one is accepted', async () => {
    const mounted = (id: string, mode: string) =>
      expect.objectContaining({
        path: ['volumes', 0, 'volume_id'],
        detail: expect.stringContaining(
          `volume ${id} is already mounted by running container VM(s) "web-v" (read-write) in this configuration, and this mount is ${mode}`,
        ),
      });
    const second = await engine.plan('container_vm', null, { ...webConfig, name: 'web-v2' });
    expect(second.problems).toEqual([mounted(String(data.id), 'read-write')]);
    const readOnly: Attrs = { ...webConfig, name: 'web-v3', volumes: [{ volume_id: data.id, path: '/data', read_only: true }] };
    expect((await engine.plan('container_vm', null, readOnly)).problems).toEqual([mounted(String(data.id), 'read-only')]);
    expect((await engine.plan('container_vm', null, { ...readOnly, name: 'web-v6', power_state: 'stopped' })).problems).toEqual([]);
  });

  it('GIVEN running container VMs that mount a volume read-only in one plan THEN accepted; a read-write one among them is refused naming them', async () => {
    // A command of its own: this plan's VMs only, not web-v's mount of the engine's earlier plans.
    const command = await connectTestEngine(sim());
    try {
      const reader = (name: string): Attrs => ({ ...webConfig, name, volumes: [{ volume_id: data.id, path: '/data', read_only: true }] });
      expect((await command.plan('container_vm', null, reader('ro-1'))).problems).toEqual([]);
      expect((await command.plan('container_vm', null, reader('ro-2'))).problems).toEqual([]);
      const writer = await command.plan('container_vm', null, { ...webConfig, name: 'rw-3' });
      expect(writer.problems).toEqual([
        expect.objectContaining({
          path: ['volumes', 0, 'volume_id'],
          detail: expect.stringContaining(
            `is already mounted by running container VM(s) "ro-1" (read-only), "ro-2" (read-only) in this configuration, and this mount is read-write: a volume is open read-write in one running VM at a time (vSphere locks its disk); read-only mounts share it with other read-only mounts only. Mount it read-only everywhere (read_only = true)`,
          ),
        }),
      ]);
    } finally {
      await command.close();
    }
  });

  /** Each step its own command (an engine each, as every front end has), from another state: its plan knows no other mount. */
  const command = async <T>(step: (e: Engine) => Promise<T>): Promise<T> => {
    const other = await connectTestEngine(sim());
    try {
      return await step(other);
    } finally {
      await other.close();
    }
  };

  it('GIVEN the volume attached read-write to a running container VM WHEN another command powers on another one with it, read-only too THEN refused naming the running one', async () => {
    const readOnly: Attrs[] = [{ volume_id: data.id, path: '/data', read_only: true }];
    const why = `"web-v" (${String(web.moid)}), running, has volume "data" (${String(data.id)}) attached read-write. A volume is open read-write in one running VM at a time (vSphere locks its disk); read-only mounts share it with other read-only mounts only. Stop "web-v" first, mount another volume, or mount it read-only in every running container VM.`;
    // Made stopped, then started: the start is refused.
    const stopped = await command(async (e) =>
      applied(e, await e.plan('container_vm', null, { ...webConfig, name: 'web-v4', volumes: readOnly, power_state: 'stopped' })),
    );
    await command(async (e) =>
      expect(e.apply(await e.plan('container_vm', stopped, { ...webConfig, name: 'web-v4', volumes: readOnly }))).rejects.toThrow(
        `container VM "web-v4" cannot start: ${why}`,
      ),
    );
    await command(async (e) => e.apply(await e.plan('container_vm', stopped, null)));
    // Made running: the create stops before its power-on; the VM it made is given up, and adopted by the next create.
    const running = { ...webConfig, name: 'web-v5', volumes: readOnly };
    await command(async (e) => expect(e.apply(await e.plan('container_vm', null, running))).rejects.toThrow(`container VM "web-v5" cannot start: ${why}`));
    const adopted = await command(async (e) => applied(e, await e.plan('container_vm', null, { ...running, power_state: 'stopped' })));
    expect(adopted.power_state).toBe('stopped');
    await command(async (e) => e.apply(await e.plan('container_vm', adopted, null)));
  });

  it('GIVEN running container VMs of other commands that mount a volume read-only THEN one more read-only starts beside them, attached nonpersistent; a read-write one, or one attached persistent, is refused naming them', async () => {
    const shared = await applied(engine, await engine.plan('volume', null, { vch_id: vch.id, name: 'shared', size_mb: 16 }));
    const mount = (readOnly: boolean): Attrs[] => [{ volume_id: shared.id, path: '/etc/app', read_only: readOnly }];
    const made: Attrs[] = [];
    try {
      for (const name of ['ro-a', 'ro-b']) {
        const vm = await command(async (e) => applied(e, await e.plan('container_vm', null, { ...webConfig, name, volumes: mount(true) })));
        made.push(vm);
        expect(vm.power_state).toBe('running');
        expect((await volumeDisks(outside, String(vm.moid))).map((d) => [d.backing?.fileName, d.backing?.diskMode])).toEqual([
          [shared.id, 'independent_nonpersistent'],
        ]);
      }
      const [a, b] = made;
      const holders = `"ro-a" (${String(a.moid)}), running, has volume "shared" (${String(shared.id)}) attached read-only; "ro-b" (${String(b.moid)}), running, has volume "shared" (${String(shared.id)}) attached read-only.`;
      const writer = { ...webConfig, name: 'rw-c', volumes: mount(false) };
      await command(async (e) => expect(e.apply(await e.plan('container_vm', null, writer))).rejects.toThrow(`container VM "rw-c" cannot start: ${holders}`));
      made.push(await command(async (e) => applied(e, await e.plan('container_vm', null, { ...writer, power_state: 'stopped' }))));
      // A reader made before read-only mounts were attached nonpersistent holds the writer lock.
      const old = await command(async (e) =>
        applied(e, await e.plan('container_vm', null, { ...webConfig, name: 'ro-old', volumes: mount(true), power_state: 'stopped' })),
      );
      made.push(old);
      const [disk] = await volumeDisks(outside, String(old.moid));
      await reconfigureVm(outside, moRef('VirtualMachine', String(old.moid)), {
        deviceChange: [editDevice({ ...disk, backing: { ...disk.backing, diskMode: 'independent_persistent' } } as VirtualDevice)],
      });
      await command(async (e) =>
        expect(e.apply(await e.plan('container_vm', old, { ...webConfig, name: 'ro-old', volumes: mount(true) }))).rejects.toThrow(
          `Container VM "ro-old" itself has volume "shared" (${String(shared.id)}) attached read-write, although it mounts it read-only`,
        ),
      );
    } finally {
      for (const vm of made) await command(async (e) => e.apply(await e.plan('container_vm', vm, null)));
      await engine.apply(await engine.plan('volume', shared, null));
    }
  });

  it('GIVEN a volume disk detached in vSphere WHEN planned THEN an update that attaches it again', async () => {
    const [disk] = await volumeDisks(outside, String(web.moid));
    await reconfigureVm(outside, moRef('VirtualMachine', String(web.moid)), { deviceChange: [removeDevice(disk)] });
    expect(await volumeDisks(outside, String(web.moid))).toEqual([]);
    const [now] = await engine.read([{ type: 'container_vm', state: web }]);
    expect(now?.volumes).toEqual([]);
    const plan = await engine.plan('container_vm', now, webConfig);
    expect(plan.action).toBe('update');
    expect(plan.requiresReplace).toEqual([]);
    expect(plan.reasons.join('\n')).toContain(`volumes: ${String(data.id)} (mounted at /data) detached outside vic-iac: attached again`);
    web = await applied(engine, plan);
    expect((await volumeDisks(outside, String(web.moid))).map((d) => d.backing?.fileName)).toEqual([data.id]);
    expect(web.power_state).toBe('running');
  });

  it('GIVEN an attached volume WHEN destroyed THEN refused naming the VM; WITH force_destroy THEN detached and deleted', async () => {
    const destroy = await engine.plan('volume', data, null);
    await expect(engine.apply(destroy)).rejects.toThrow(
      /volume "data" \(\[LocalDS_0\] vch-v\/volumes\/data\/data\.vmdk\) is attached to 1 VM\(s\): web-v \(vm-\d+\).*force_destroy = true/,
    );
    const file = { datacenter: 'DC0', datastore: 'LocalDS_0', path: 'vch-v/volumes/data/data.vmdk' };
    await expect(bytesOf(await downloadDatastoreFile(outside, file))).resolves.toBeInstanceOf(Buffer);
    const forced = await applied(engine, await engine.plan('volume', data, { ...dataConfig, force_destroy: true }));
    await engine.apply(await engine.plan('volume', forced, null));
    expect(await volumeDisks(outside, String(web.moid))).toEqual([]);
    await expect(downloadDatastoreFile(outside, file)).rejects.toThrow(/not found|404/i);
    await engine.apply(await engine.plan('container_vm', web, null));
  });

  it('GIVEN a volume deleted outside WHEN refreshed and planned THEN gone, and made again with a warning that its data is gone', async () => {
    data = await applied(engine, await engine.plan('volume', null, dataConfig));
    const { dc } = await defaultDatastore(outside);
    await deleteDatastoreFile(outside, '[LocalDS_0] vch-v/volumes/data', dc.ref);
    const fresh = await connectTestEngine(sim());
    try {
      const [now] = await fresh.read([{ type: 'volume', state: data }]);
      expect(now).toBeNull();
      const plan = await fresh.plan('volume', null, dataConfig);
      expect(plan.action).toBe('create');
      expect(plan.problems).toEqual([
        expect.objectContaining({
          severity: 'warning',
          summary: 'Volume deleted outside vic-iac',
          detail: expect.stringContaining('the data it held is gone'),
        }),
      ]);
      data = (await fresh.apply(plan)) as Attrs;
    } finally {
      await fresh.close();
    }
  });

  it('GIVEN a volume WHEN imported by its datastore path THEN the state matches; a path that is not a volume is refused', async () => {
    const imported = await engine.importState('volume', String(data.id));
    expect(imported).toEqual({ ...data, force_destroy: false });
    await expect(engine.importState('volume', '[LocalDS_0] vch-v/images/x.vmdk')).rejects.toThrow(/use the datastore path of its VMDK descriptor/);
  });

  it('GIVEN a volume whose marker was removed WHEN destroyed THEN refused: a VMDK without our marker is never deleted', async () => {
    const { dc } = await defaultDatastore(outside);
    await deleteDatastoreFile(outside, '[LocalDS_0] vch-v/volumes/data/vic-iac-volume.json', dc.ref);
    await expect(engine.apply(await engine.plan('volume', data, null))).rejects.toThrow(/carries no vic-iac-volume\.json beside it.*never deletes such a disk/);
    const body = JSON.stringify({ v: 1, owner: 'vic-iac', vch: vch.id, name: 'data', size_mb: 32, labels: {} });
    await uploadDatastoreFile(outside, { datacenter: 'DC0', datastore: 'LocalDS_0', path: 'vch-v/volumes/data/vic-iac-volume.json' }, body, {
      size: body.length,
    });
  });

  it('GIVEN bad mounts and sizes WHEN planned THEN each is a plan-time error naming attribute, value and what to do', async () => {
    const size0 = await engine.plan('volume', null, { vch_id: vch.id, name: 'zero', size_mb: 0 });
    expect(size0.problems).toEqual([
      expect.objectContaining({ path: ['size_mb'], detail: expect.stringMatching(/size_mb = 0 is below the minimum of 16 MB/) }),
    ]);
    const bad = await engine.plan('container_vm', null, {
      ...webConfig,
      name: 'web-bad',
      volumes: [
        { volume_id: data.id, path: 'data' },
        { volume_id: '[LocalDS_0] vch-v/volumes/b/b.vmdk', path: '/' },
      ],
    });
    expect(bad.problems.map((p) => [p.path.join('.'), p.detail])).toEqual([
      ['volumes.0.path', expect.stringMatching(/volumes\[0\]\.path = "data" is not an absolute path\. Use a path inside the container that starts with "\/"/)],
      ['volumes.1.path', expect.stringMatching(/volumes\[1\]\.path = "\/" is the root of the container.*Mount the volume on a directory/)],
    ]);
    const twice = await engine.plan('container_vm', null, {
      ...webConfig,
      name: 'web-twice',
      volumes: [
        { volume_id: '[LocalDS_0] vch-v/volumes/c/c.vmdk', path: '/x' },
        { volume_id: '[LocalDS_0] vch-v/volumes/d/d.vmdk', path: '/x/' },
      ],
    });
    expect(twice.problems.map((p) => [p.path.join('.'), p.detail])).toEqual([
      [
        'volumes.1.path',
        expect.stringMatching(/volumes\[1\]\.path = "\/x\/" mounts the same path as volumes\[0\]\.path\. Give each volume its own mount path/),
      ],
    ]);
    const other = await applied(engine, await engine.plan('volume', null, { vch_id: otherVch.id, name: 'theirs', size_mb: 16 }));
    const foreign = await engine.plan('container_vm', null, {
      ...webConfig,
      name: 'web-foreign',
      volumes: [{ volume_id: other.id, path: '/data', read_only: true }],
    });
    expect(foreign.problems).toEqual([
      expect.objectContaining({
        path: ['volumes', 0, 'volume_id'],
        summary: 'Volume of another VCH',
        detail: expect.stringContaining(`create the volume with vch_id = "${String(vch.id)}"`),
      }),
    ]);
    const missing = await engine.plan('container_vm', null, {
      ...webConfig,
      name: 'web-missing',
      volumes: [{ volume_id: '[LocalDS_0] vch-v/volumes/nope/nope.vmdk', path: '/data' }],
    });
    expect(missing.problems).toEqual([expect.objectContaining({ path: ['volumes', 0, 'volume_id'], summary: 'Volume not found' })]);
  });
});
