/**
 * image and container_vm through the engine, against the simulator and a real registry: create,
 * read, in-place update, replace, drift made in vSphere, delete guards, import, and a refresh whose
 * SOAP round trips do not grow with the number of VMs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine, PlannedChange } from '../../../src/engine';
import type { Attrs, Problem } from '../../../src/resources';
import { decodeGuestConfig } from '../../../src/resources/guest-config';
import { VimClient, moRef } from '../../../src/vsphere';
import { createVm, powerOffVm, reconfigureVm } from '../../../src/vsphere/virtual-machine';
import { deleteDatastoreFile } from '../../../src/vsphere/file-manager';
import { Inventory } from '../../../src/vsphere/inventory';
import { containerVmUuid } from '../../../src/resources/container-vm.lifecycle';
import { retrieveFromContainer, retrieveObject } from '../../../src/vsphere/property-collector';
import { extraConfigMap } from '../../../src/resources/snapshot';
import { DatastoreImageStore, imageLayout } from '../../../src/images';
import { writeOciLayout } from '../../helpers/oci-layout';
import { useRegistry } from '../../helpers/registry';
import { useSimulator } from '../../helpers/vcsim';
import { applied, connectTestClient, connectTestEngine } from '../../helpers/engine';

describe('image and container_vm lifecycle', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  let engine: Engine;
  let outside: VimClient;
  let scratch: string;
  let vch: Attrs;
  let img: Attrs;
  let web: Attrs;
  let webConfig: Attrs;

  /** A VCH of the test's own (the other tests' VMs use the shared VCH's image) with the app image in it. */
  async function vchWithImage(name: string): Promise<{ own: Attrs; image: Attrs }> {
    const own = await applied(
      engine,
      await engine.plan('virtual_container_host', null, { name, compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' }),
    );
    const image = await applied(
      engine,
      await engine.plan('image', null, { vch_id: own.id, reference: `${registry().host}/test/app:v1`, insecure_registry: true }),
    );
    return { own, image };
  }

  beforeAll(async () => {
    engine = await connectTestEngine(sim());
    outside = await connectTestClient(sim());
    scratch = await mkdtemp(join(tmpdir(), 'vic-cvm-test-'));
    const layout = await writeOciLayout(join(scratch, 'app'), 'v1', [
      {
        layers: [
          {
            entries: [
              { type: 'dir', path: 'bin' },
              { type: 'file', path: 'bin/app', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
            ],
          },
        ],
        config: { Entrypoint: ['/bin/app'], Cmd: ['--serve'], Env: ['PATH=/bin', 'MODE=prod'], WorkingDir: '/srv', ExposedPorts: { '80/tcp': {} } },
      },
    ]);
    await registry().push(layout.dir, 'v1', 'test/app:v1');
    vch = await applied(
      engine,
      await engine.plan('virtual_container_host', null, { name: 'vch-c', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' }),
    );
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
    await outside?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('GIVEN a tag in a registry WHEN the image is applied THEN its disk and config are in the VCH image store', async () => {
    img = await applied(engine, await engine.plan('image', null, { vch_id: vch.id, reference: `${registry().host}/test/app:v1`, insecure_registry: true }));
    expect(img.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(img).toMatchObject({ entrypoint: ['/bin/app'], cmd: ['--serve'], working_dir: '/srv', exposed_ports: ['80/tcp'] });
    expect(img.disk_path).toBe(`[LocalDS_0] vch-c/images/${String(img.id).slice(7)}/${String(img.id).slice(7)}.vmdk`);
    const again = await engine.plan('image', img, { vch_id: vch.id, reference: `${registry().host}/test/app:v1`, insecure_registry: true });
    expect(again.action).toBe('no-op');
  });

  it('GIVEN a missing tag WHEN planned THEN a problem on reference, before anything is uploaded', async () => {
    const plan = await engine.plan('image', null, { vch_id: vch.id, reference: `${registry().host}/test/app:nope`, insecure_registry: true });
    expect(plan.problems.map((p) => p.path.join('.'))).toEqual(['reference']);
  });

  it('GIVEN a container VM WHEN applied THEN the VM runs in the VCH with a child disk of the image and its guest config', async () => {
    webConfig = { vch_id: vch.id, image_id: img.id, name: 'web-1', env: { MODE: 'dev' }, memory_mb: 256, labels: { tier: 'web' } };
    const plan = await engine.plan('container_vm', null, webConfig);
    expect(plan.action).toBe('create');
    web = await applied(engine, plan);
    expect(web).toMatchObject({ name: 'web-1', power_state: 'running', cpus: 1, memory_mb: 256, networks: ['VM Network'], labels: { tier: 'web' } });
    expect(web.id).toMatch(/^[0-9a-f-]{36}$/);
    const vm = await retrieveObject<Record<string, unknown>>(outside, moRef('VirtualMachine', String(web.moid)), [
      'config.extraConfig',
      'resourcePool',
      'layout.disk',
      'config.guestId',
    ]);
    expect((vm.resourcePool as { value: string }).value).toBe(vch.id);
    expect(vm['config.guestId']).toBe('otherGuest64');
    const guest = decodeGuestConfig(extraConfigMap(vm['config.extraConfig']).get('guestinfo.vic.config') ?? '');
    expect(guest).toMatchObject({ entrypoint: ['/bin/app'], cmd: ['--serve'], env: ['PATH=/bin', 'MODE=dev'], working_dir: '/srv', hostname: 'web-1' });
    const files = JSON.stringify(vm['layout.disk']);
    expect(files).toContain(`vch-c/images/${String(img.id).slice(7)}`);
  });

  it('GIVEN an image store whose containers directory is gone WHEN a container VM is created THEN the directory is made again', async () => {
    const dc = await new Inventory(outside).datacenter('DC0');
    await deleteDatastoreFile(outside, '[LocalDS_0] vch-c/containers', dc.ref);
    const extra = await applied(
      engine,
      await engine.plan('container_vm', null, { vch_id: vch.id, image_id: img.id, name: 'fresh-dir', power_state: 'stopped' }),
    );
    expect(extra.vm_path).toBe('[LocalDS_0] vch-c/containers/fresh-dir/fresh-dir.vmx');
    await engine.apply(await engine.plan('container_vm', extra, null));
  });

  it('GIVEN networks = [] WHEN applied THEN the VM has no NIC, and the next plan changes nothing; a static ip_address with it is refused', async () => {
    const config: Attrs = { vch_id: vch.id, image_id: img.id, name: 'no-nic', networks: [], power_state: 'stopped' };
    const made = await applied(engine, await engine.plan('container_vm', null, config));
    expect(made.networks).toEqual([]);
    const devices = await retrieveObject<Record<string, unknown>>(outside, moRef('VirtualMachine', String(made.moid)), ['config.hardware.device']);
    const nics = JSON.stringify(devices['config.hardware.device']).match(/VirtualVmxnet3|VirtualE1000|Ethernet/g) ?? [];
    expect(nics).toEqual([]);
    const [read] = await engine.read([{ type: 'container_vm', state: made }]);
    const again = await engine.plan('container_vm', read, config);
    expect([again.action, again.reasons]).toEqual(['no-op', []]);
    await engine.apply(await engine.plan('container_vm', read, null));
    // Before: the bridge network was given anyway, and every plan after wanted to replace the VM.
    const withAddress = await engine.plan('container_vm', null, { ...config, name: 'no-nic-ip', ip_address: '10.0.2.50/24' });
    expect(withAddress.problems.map((p) => [p.path.join('.'), p.summary])).toEqual([['ip_address', expect.stringContaining('Invalid')]]);
    expect(withAddress.problems[0].detail).toContain('networks = [] gives the container VM no NIC');
  });

  it('GIVEN a container VM removed from the inventory, its files left WHEN a create makes it again THEN it is refused naming the .vmx, the UUID to import and the directory, and nothing is made', async () => {
    const config: Attrs = { vch_id: vch.id, image_id: img.id, name: 'unregistered', power_state: 'stopped' };
    const made = await applied(engine, await engine.plan('container_vm', null, config));
    await outside.call('UnregisterVM', moRef('VirtualMachine', String(made.moid)));
    const fresh = await connectTestEngine(sim());
    try {
      const plan = await fresh.plan('container_vm', null, config);
      expect(plan.problems).toEqual([]);
      // Before: "task … (CreateVM_Task) … failed with FileAlreadyExists".
      await expect(fresh.apply(plan)).rejects.toThrow(
        new RegExp(
          `container VM "unregistered": \\[LocalDS_0\\] vch-c/containers/unregistered/unregistered\\.vmx already exists, but no VM in vSphere is registered with it .*import it by its BIOS UUID ${String(made.id)}; or, if you no longer need it, delete the directory \\[LocalDS_0\\] vch-c/containers/unregistered .*Nothing was created\\.`,
        ),
      );
    } finally {
      await fresh.close();
    }
  });

  it('GIVEN a VCH without a bridge network WHEN a container VM with a static ip_address names no networks THEN the plan refuses it on ip_address: it would get no NIC', async () => {
    const bare = await applied(
      engine,
      await engine.plan('virtual_container_host', null, { name: 'vch-no-bridge', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0' }),
    );
    try {
      const plan = await engine.plan('container_vm', null, {
        vch_id: bare.id,
        image_id: img.id,
        name: 'ip-no-nic',
        ip_address: '10.0.2.50/24',
        power_state: 'stopped',
      });
      // (The image is another VCH's: image_id is refused too.)
      const onAddress = (problems: readonly Problem[]) => problems.filter((p) => p.path[0] === 'ip_address');
      expect(onAddress(plan.problems).map((p) => [p.severity, p.summary])).toEqual([['error', 'Static address without a NIC']]);
      expect(onAddress(plan.problems)[0].detail).toBe(
        'ip_address = "10.0.2.50/24" is set, but the container VM gets no NIC to put it on: networks is unset, and virtual container host "vch-no-bridge" has no bridge_network. Name a portgroup in networks (e.g. networks = ["VM Network"]), give the VCH a bridge_network, or remove ip_address.',
      );
      // Named networks are a NIC: nothing to refuse.
      const named = await engine.plan('container_vm', null, {
        vch_id: bare.id,
        image_id: img.id,
        name: 'ip-nic',
        ip_address: '10.0.2.50/24',
        networks: ['VM Network'],
        power_state: 'stopped',
      });
      expect(onAddress(named.problems)).toEqual([]);
    } finally {
      await engine.apply(await engine.plan('virtual_container_host', bare, null));
    }
  });

  it('GIVEN tty and stdin_open WHEN applied THEN the guest config asks for them, a refresh reads them back and the next plan changes nothing; unset, they read false', async () => {
    const config: Attrs = { vch_id: vch.id, image_id: img.id, name: 'shell-1', tty: true, stdin_open: true, power_state: 'stopped' };
    const made = await applied(engine, await engine.plan('container_vm', null, config));
    expect([made.tty, made.stdin_open]).toEqual([true, true]);
    const vm = await retrieveObject<Record<string, unknown>>(outside, moRef('VirtualMachine', String(made.moid)), ['config.extraConfig']);
    expect(decodeGuestConfig(extraConfigMap(vm['config.extraConfig']).get('guestinfo.vic.config') ?? '')).toMatchObject({ tty: true, open_stdin: true });
    const [read] = await engine.read([{ type: 'container_vm', state: made }]);
    expect([read?.tty, read?.stdin_open]).toEqual([true, true]);
    expect((await engine.plan('container_vm', read, config)).action).toBe('no-op');
    expect((await engine.plan('container_vm', read, { ...config, tty: false })).requiresReplace).toEqual([['tty']]);
    await engine.apply(await engine.plan('container_vm', read, null));
    expect([web.tty, web.stdin_open]).toEqual([false, false]);
  });

  // The guest's side is played by writing its reports (the simulator here runs no guests): a
  // process that runs and takes input says `input = serial`; vSphere's tether says nothing.
  it('GIVEN a running process WHEN input is sent THEN it lands in chunks in order only where the guest takes input; otherwise refused, and nothing written', async () => {
    const made = await applied(
      engine,
      await engine.plan('container_vm', null, { vch_id: vch.id, image_id: img.id, name: 'input-1', stdin_open: true, power_state: 'running' }),
    );
    const ref = moRef('VirtualMachine', String(made.moid));
    try {
      await sendInput(ref, made);
    } finally {
      await engine.apply(await engine.plan('container_vm', made, null));
    }
  });

  async function sendInput(ref: ReturnType<typeof moRef>, made: Attrs): Promise<void> {
    const inputKeys = async () =>
      [...extraConfigMap((await retrieveObject<Record<string, unknown>>(outside, ref, ['config.extraConfig']))['config.extraConfig'])]
        .filter(([k]) => k.startsWith('guestinfo.vic.stdin.'))
        .sort(([a], [b]) => a.localeCompare(b));
    // Not started by its guest yet: no process to take input.
    await expect(engine.input('container_vm', made, Buffer.from('early'), false)).rejects.toThrow(
      'container VM "input-1" runs no process: it is not running, or its guest has not started it yet',
    );
    await reconfigureVm(outside, ref, { extraConfig: { 'guestinfo.vic.status': 'running', 'guestinfo.vic.started_at': new Date().toISOString() } });
    await expect(engine.input('container_vm', made, Buffer.from('lost'), false)).rejects.toThrow(
      'input cannot reach the process of container VM "input-1": it was made without an open stdin (docker -i, stdin_open), or its guest takes no input from this hypervisor',
    );
    expect(await inputKeys()).toEqual([]);
    await reconfigureVm(outside, ref, { extraConfig: { 'guestinfo.vic.input': 'serial' } });
    // 100 KiB: three chunks of at most 48 KiB, then a second call and the end.
    const big = Buffer.alloc(100 * 1024, 'x');
    await engine.input('container_vm', made, big, false);
    await engine.input('container_vm', made, Buffer.from('tail\n'), true);
    const values = (await inputKeys()).map(([, v]) => v);
    expect(values.map((v) => (v === 'eof' ? v : Buffer.from(v.replace(/^data:/, ''), 'base64').length))).toEqual([48 * 1024, 48 * 1024, 4 * 1024, 5, 'eof']);
    expect(Buffer.concat(values.filter((v) => v !== 'eof').map((v) => Buffer.from(v.slice('data:'.length), 'base64'))).toString()).toBe(
      `${big.toString()}tail\n`,
    );
    // An exec waits for its own word from the guest (exec = serial), and goes as one key.
    await expect(engine.exec('container_vm', made, '0a1b', { argv: ['ls'] })).rejects.toThrow('exec cannot reach container VM "input-1"');
    await reconfigureVm(outside, ref, { extraConfig: { 'guestinfo.vic.exec': 'serial' } });
    await expect(engine.exec('container_vm', made, 'NOT-HEX', { argv: ['ls'] })).rejects.toThrow('exec id "NOT-HEX": expected 1 to 64 lowercase hex digits');
    await engine.exec('container_vm', made, '0a1b', { argv: ['ls', '-l'], tty: true });
    await engine.input('container_vm', made, Buffer.from('x'), true, '0a1b');
    const last = (await inputKeys()).slice(-3).map(([, v]) => v);
    expect(last).toEqual([
      `exec:0a1b:${Buffer.from(JSON.stringify({ argv: ['ls', '-l'], tty: true })).toString('base64')}`,
      'exec-data:0a1b:eA==',
      'exec-eof:0a1b',
    ]);
  }

  it('GIVEN the applied VM WHEN refreshed and planned THEN no changes', async () => {
    const [read] = await engine.read([{ type: 'container_vm', state: web }]);
    expect(read).toEqual(web);
    expect((await engine.plan('container_vm', read, webConfig)).action).toBe('no-op');
  });

  it('GIVEN the VM powered off and given more memory in vSphere WHEN refreshed THEN the plan shows both drifts as in-place updates', async () => {
    const ref = moRef('VirtualMachine', String(web.moid));
    await powerOffVm(outside, ref);
    await reconfigureVm(outside, ref, { memoryMB: 1024 });
    const [read] = await engine.read([{ type: 'container_vm', state: web }]);
    const plan = await engine.plan('container_vm', read, webConfig);
    expect(plan.action).toBe('update');
    expect(plan.reasons).toEqual(['memory_mb: 1024 → 256', 'power_state: "stopped" → "running"']);
    web = await applied(engine, plan);
    expect(web).toMatchObject({ memory_mb: 256, power_state: 'running' });
  });

  it('GIVEN more vCPUs than any host of the VCH has WHEN planned THEN refused on cpus with the most it can take; as many as a host has THEN planned', async () => {
    const plan = await engine.forCommand().plan('container_vm', web, { ...webConfig, cpus: 64 });
    expect(plan.problems).toEqual([
      expect.objectContaining({
        path: ['cpus'],
        severity: 'error',
        summary: 'More vCPUs than a host has',
        detail: expect.stringMatching(
          /^cpus = 64 is more than any host of \/DC0\/host\/DC0_C0 \(the compute of VCH "[^"]+"\) has: (\d+) logical CPUs\. vSphere would refuse to power the VM on\. Use at most \1\.$/,
        ),
      }),
    ]);
    const most = Number(/has: (\d+) logical/.exec(plan.problems[0].detail)?.[1]);
    expect(most).toBeGreaterThan(1);
    expect((await engine.forCommand().plan('container_vm', web, { ...webConfig, cpus: most })).problems).toEqual([]);
  });

  it('GIVEN a cpus change on a running VM WHEN planned THEN the plan notes the power cycle; applied THEN in place', async () => {
    const plan = await engine.plan('container_vm', web, { ...webConfig, cpus: 2, labels: { tier: 'front' } });
    expect(plan.action).toBe('update');
    expect(plan.notes).toEqual(['changing cpus or memory_mb powers container VM "web-1" off and on again']);
    const moid = web.moid;
    web = await applied(engine, plan);
    expect(web).toMatchObject({ cpus: 2, labels: { tier: 'front' }, power_state: 'running', moid });
    webConfig = { ...webConfig, cpus: 2, labels: { tier: 'front' } };
  });

  it("GIVEN a stopped container VM whose last run exited WHEN started, or started with more memory THEN the state is the new run (created, no exit code), not the last run's end", async () => {
    const stopped = await applied(engine, await engine.plan('container_vm', web, { ...webConfig, power_state: 'stopped' }));
    expect(stopped).toMatchObject({ power_state: 'stopped', status: 'exited', exit_code: 137 });
    const started = await applied(engine, await engine.plan('container_vm', stopped, webConfig));
    expect(started).toMatchObject({ power_state: 'running', status: 'created', exit_code: null, finished_at: null });
    const again = await applied(engine, await engine.plan('container_vm', started, { ...webConfig, power_state: 'stopped' }));
    expect(again).toMatchObject({ status: 'exited' });
    web = await applied(engine, await engine.plan('container_vm', again, { ...webConfig, memory_mb: 192 }));
    expect(web).toMatchObject({ power_state: 'running', memory_mb: 192, status: 'created', exit_code: null, finished_at: null });
    webConfig = { ...webConfig, memory_mb: 192 };
  });

  it('GIVEN a forceNew change WHEN planned THEN replace; applied THEN a new VM with the same identity', async () => {
    // With a memory change as well: the VM is made again, not power-cycled, and the plan does not say it is.
    const plan = await engine.plan('container_vm', web, { ...webConfig, command: ['--once'] });
    expect(plan.action).toBe('replace');
    expect(plan.requiresReplace).toEqual([['command']]);
    const withMemory = await engine.plan('container_vm', web, { ...webConfig, command: ['--once'], memory_mb: 512 });
    expect(withMemory.action).toBe('replace');
    expect(withMemory.notes).toEqual([]);
    const before = web;
    web = await applied(engine, plan);
    expect(web.id).toBe(before.id);
    expect(web.moid).not.toBe(before.moid);
    expect(web.command).toEqual(['--once']);
    webConfig = { ...webConfig, command: ['--once'] };
  });

  it('GIVEN the image in use WHEN the image is deleted THEN ResourceInUse names the VM', async () => {
    const plan = await engine.plan('image', img, null);
    await expect(engine.apply(plan)).rejects.toThrow(`is in use by 1 container VM(s): web-1 (${String(web.moid)})`);
  });

  it('GIVEN a foreign VM holding the BIOS UUID a container VM needs WHEN planned and applied THEN both refuse, and the VM is untouched', async () => {
    const uuid = containerVmUuid(String(vch.id), 'squatter');
    await createVm(outside, {
      folder: moRef('Folder', String(vch.folder_id)),
      pool: moRef('ResourcePool', String(vch.id)),
      config: { name: 'not-ours', uuid, guestId: 'otherGuest64', files: { vmPathName: '[LocalDS_0]' }, memoryMB: 64, numCPUs: 1 },
    });
    const config: Attrs = { vch_id: vch.id, image_id: img.id, name: 'squatter' };
    // The next command (a fresh engine: every front end uses one per command) sees it at plan time.
    const fresh = await connectTestEngine(sim());
    let plan: PlannedChange;
    try {
      plan = await fresh.plan('container_vm', null, config);
    } finally {
      await fresh.close();
    }
    expect(plan.problems.map((p) => [p.path.join('.'), p.summary])).toEqual([['name', 'BIOS UUID taken']]);
    expect(plan.problems[0].detail).toMatch(
      /^VM not-ours \(vm-\d+\) already has the BIOS UUID [0-9a-f-]{36} that container VM "squatter" in VCH resgroup-\d+ needs, and it was not made by vic-iac\. Choose another name, or remove that VM\.$/,
    );
    // This engine looked at the pool before the VM appeared (one look per command); its apply still refuses.
    await expect(engine.apply({ ...plan, problems: [] })).rejects.toThrow(/was not made by vic-iac; refusing to adopt it/);
    // A refresh that meets it says so instead of taking it over.
    await expect(engine.read([{ type: 'container_vm', state: { id: uuid, vch_id: vch.id, name: 'squatter' } }])).rejects.toThrow(
      /no vic-iac markers; it was not made by vic-iac/,
    );
    const rows = await retrieveFromContainer<{ name: string }>(outside, {
      container: outside.serviceContent.rootFolder,
      select: [{ type: 'VirtualMachine', paths: ['name'] }],
    });
    expect(rows.filter((r) => r.props.name === 'not-ours')).toHaveLength(1);
  });

  it('GIVEN the VM WHEN imported by UUID, MOID or path THEN the state matches', async () => {
    for (const id of [String(web.id), String(web.moid), `/DC0/vm/vch-c/web-1`]) {
      expect(await engine.importState('container_vm', id)).toEqual(web);
    }
  });

  it('GIVEN 1 and then 200 container VMs WHEN refreshed, at once or one by one as Terraform does, THEN the SOAP round trips are the same; read after their VCH and image, 2 (the pool rows, and the snapshot taken meanwhile)', async () => {
    const states: Attrs[] = [];
    const names = Array.from({ length: 199 }, (_, i) => `batch-${i}`);
    // Ten at a time, as an apply with bounded concurrency would.
    for (let i = 0; i < names.length; i += 10) {
      const created = await Promise.all(
        names
          .slice(i, i + 10)
          .map(async (name) => applied(engine, await engine.plan('container_vm', null, { vch_id: vch.id, image_id: img.id, name, power_state: 'stopped' }))),
      );
      states.push(...created);
    }
    const requests = [web, ...states].map((state) => ({ type: 'container_vm' as const, state }));
    // A fresh engine per measure, as Terraform starts a fresh provider process per phase.
    const roundTrips = async (read: (e: Engine) => Promise<unknown>) => {
      const fresh = await connectTestEngine(sim());
      try {
        const stats = (fresh as unknown as { client: VimClient }).client.stats;
        const before = stats.total;
        await read(fresh);
        return stats.total - before;
      } finally {
        await fresh.close();
      }
    };
    const one = await roundTrips(async (e) => expect((await e.read(requests.slice(0, 1))).every((r) => r !== null)).toBe(true));
    const all = await roundTrips(async (e) => expect((await e.read(requests)).every((r) => r !== null)).toBe(true));
    // Terraform's refresh: one ReadResource per resource, ten in flight (-parallelism=10).
    const terraformLike = await roundTrips(async (e) => {
      for (let i = 0; i < requests.length; i += 10) {
        const batch = await Promise.all(requests.slice(i, i + 10).map((r) => e.read([r])));
        expect(batch.every(([r]) => r !== null)).toBe(true);
      }
    });
    expect(one).toBe(1);
    expect(all).toBe(one);
    expect(terraformLike).toBe(one);

    // Terraform reads the VCH first: a pool-only read answers it, and the VM snapshot is taken meanwhile.
    const fresh = await connectTestEngine(sim());
    try {
      const stats = (fresh as unknown as { client: VimClient }).client.stats;
      const before = stats.total;
      const [vchState] = await fresh.read([{ type: 'virtual_container_host', state: vch }]);
      expect(vchState).toMatchObject({ id: vch.id, name: 'vch-c' });
      // The image is read from the same pool rows, whether or not the snapshot has arrived yet.
      const [imageState] = await fresh.read([{ type: 'image', state: img }]);
      expect(imageState).toMatchObject({ id: img.id });
      for (let i = 0; i < requests.length; i += 10) {
        const batch = await Promise.all(requests.slice(i, i + 10).map((r) => fresh.read([r])));
        expect(batch.every(([r]) => r !== null)).toBe(true);
      }
      // The pool rows and the snapshot: 2 SOAP round trips for the VCH, its image and its 200 VMs
      // (the image's own metadata comes from the datastore over HTTP).
      const datastoreHttp = Object.entries(stats.snapshot())
        .filter(([method]) => method.startsWith('HTTP '))
        .reduce((sum, [, n]) => sum + n, 0);
      expect(stats.total - before - datastoreHttp).toBe(2);
      expect(stats.calls('RetrievePropertiesEx')).toBe(2);
    } finally {
      await fresh.close();
    }
  }, 240_000);

  it('GIVEN the snapshot taken in the background while the VCH is read WHEN the VMs are read only after the TTL, over longer than the TTL THEN it serves them all; after 30 s without a read THEN it is taken again', async () => {
    const [other, third] = await Promise.all(['batch-0', 'batch-1'].map((name) => engine.importState('container_vm', `/DC0/vm/vch-c/${name}`)));
    const fresh = await connectTestEngine(sim());
    const realNow = Date.now.bind(Date);
    let offset = 0;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
    try {
      const stats = (fresh as unknown as { client: VimClient }).client.stats;
      const before = stats.calls('RetrievePropertiesEx');
      await fresh.read([{ type: 'virtual_container_host', state: vch }]);
      // The pool rows and the background snapshot with the VMs.
      for (let i = 0; i < 100 && stats.calls('RetrievePropertiesEx') - before < 2; i++) await new Promise((r) => setTimeout(r, 50));
      expect(stats.calls('RetrievePropertiesEx') - before).toBe(2);
      // Terraform plans the VCH and the image and expands the VMs' count first: at thousands of VMs, longer than the TTL.
      offset += 40_000;
      expect(await fresh.read([{ type: 'container_vm', state: web }])).toEqual([web]);
      expect(stats.calls('RetrievePropertiesEx') - before).toBe(2);
      // A walk of thousands of reads on a busy machine: each read comes soon after the last one.
      offset += 20_000;
      expect((await fresh.read([{ type: 'container_vm', state: other }]))[0]).toMatchObject({ id: other.id });
      expect(stats.calls('RetrievePropertiesEx') - before).toBe(2);
      offset += 40_000;
      expect((await fresh.read([{ type: 'container_vm', state: third }]))[0]).toMatchObject({ id: third.id });
      expect(stats.calls('RetrievePropertiesEx') - before).toBe(3);
    } finally {
      clock.mockRestore();
      await fresh.close();
    }
  });

  it('GIVEN the VM deleted WHEN refreshed THEN null', async () => {
    await engine.apply(await engine.plan('container_vm', web, null));
    expect(await engine.read([{ type: 'container_vm', state: web }])).toEqual([null]);
  });

  it('GIVEN a container VM and its image WHEN both deletes start at once (as Terraform destroys a deposed VM beside its image) THEN the image delete waits for the VM delete, and both succeed', async () => {
    // A VCH of its own: the VMs of the tests above still use their image.
    const { own, image } = await vchWithImage('vch-d');
    const vm = await applied(engine, await engine.plan('container_vm', null, { vch_id: own.id, image_id: image.id, name: 'deposed-1' }));
    const vmDelete = engine.apply(await engine.plan('container_vm', vm, null));
    const imageDelete = engine.apply(await engine.plan('image', image, null));
    await expect(Promise.all([vmDelete, imageDelete])).resolves.toEqual([null, null]);
    expect(await engine.read([{ type: 'image', state: image }])).toEqual([null]);
  });

  it('GIVEN an image delete waiting for the image lock WHEN another process makes a container VM from it meanwhile THEN the delete counts that VM and refuses', async () => {
    const { own, image } = await vchWithImage('vch-l');
    const dc = await new Inventory(outside).datacenter('DC0');
    const store = new DatastoreImageStore({ client: outside, datacenter: { ref: dc.ref, path: dc.name }, datastore: 'LocalDS_0', path: 'vch-l' });
    const lock = `${imageLayout(String(image.id)).directory}.lock`;
    expect(await store.createDirectory(lock)).toBe(true);
    const imageDelete = engine.apply(await engine.plan('image', image, null)).then(
      () => 'deleted',
      (err: Error) => err.message,
    );
    const other = await connectTestEngine(sim());
    let vm: Attrs;
    try {
      vm = await applied(other, await other.plan('container_vm', null, { vch_id: own.id, image_id: image.id, name: 'late-1', power_state: 'stopped' }));
    } finally {
      await other.close();
    }
    await store.deleteDirectory(lock);
    // Before: the VMs were those of a snapshot taken before the wait, and the disk went from under late-1.
    expect(await imageDelete).toContain(`is in use by 1 container VM(s): late-1 (${String(vm.moid)})`);
    expect(await store.size(imageLayout(String(image.id)).descriptor)).toBeGreaterThan(0);
    await engine.apply(await engine.plan('container_vm', vm, null));
    expect(await engine.apply(await engine.plan('image', image, null))).toBeNull();
  });
});
