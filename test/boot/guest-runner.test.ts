/**
 * The simulator runs container VMs for real (src/sim/runner): a container_vm applied through the
 * engine, against the real launcher with its guest runner on, boots our bootstrap ISO and tether
 * in QEMU. Boots are slow under TCG, so each test boots as few guests as it can and checks
 * everything that boot shows.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../src/engine';
import { connectEngine } from '../../src/engine';
import type { Attrs } from '../../src/resources';
import { OutputLineReader, consoleLogPath, type OutputLine } from '../../src/resources/console-log';
import type { GuestProcess } from '../../src/sim/control';
import { startSimulator } from '../../src/sim/simulator';
import { moRef, type VimClient } from '../../src/vsphere';
import { readDatastoreFileFrom } from '../../src/vsphere/datastore-http';
import { UpdateCollector, retrieveObject } from '../../src/vsphere/property-collector';
import { powerOffVm, powerOnVm } from '../../src/vsphere/virtual-machine';
import { connectTestClient, settingsFor } from '../helpers/engine';
import { writeOciLayout } from '../helpers/oci-layout';
import { ensureBootstrapIso } from '../helpers/qemu';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { probeImageSpec } from './probe-image';
import { cleanEnv, runVic } from '../cli/run-vic';

const BOOT_MS = 150_000;

describe('the simulator runs container VMs in QEMU', () => {
  const sim = useSimulator({ runGuests: { maxRunning: 2 } });
  const registry = useRegistry();
  let engine: Engine;
  let outside: VimClient;
  let scratch: string;
  let vch: Attrs;
  let image: Attrs;

  beforeAll(async () => {
    const iso = await ensureBootstrapIso();
    engine = await connectEngine(settingsFor(sim()), { bootstrapIsoFile: iso });
    outside = await connectTestClient(sim());
    scratch = await mkdtemp(join(tmpdir(), 'vic-runner-test-'));
    const layout = await writeOciLayout(join(scratch, 'oci'), 'probe', [probeImageSpec()]);
    await registry().push(layout.dir, 'probe', 'vic-test/probe:1');
    vch = await apply('virtual_container_host', null, { name: 'vch-run', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' });
    image = await apply('image', null, { vch_id: vch.id, reference: `${registry().host}/vic-test/probe:1`, insecure_registry: true });
  }, 180_000);

  afterAll(async () => {
    await engine?.close();
    await outside?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  async function apply(type: Parameters<Engine['plan']>[0], prior: Attrs | null, config: Attrs | null): Promise<Attrs> {
    const plan = await engine.plan(type, prior, config);
    expect(plan.problems).toEqual([]);
    return (await engine.apply(plan)) as Attrs;
  }

  async function refreshed(vm: Attrs): Promise<Attrs> {
    const [now] = await engine.read([{ type: 'container_vm', state: vm }]);
    if (!now) throw new Error(`container VM ${String(vm.name)} is gone`);
    return now;
  }

  /** Waits, through WaitForUpdatesEx, until the VM has the power state. */
  async function waitForPowerState(moid: string, want: 'poweredOn' | 'poweredOff', timeoutMs: number): Promise<void> {
    const collector = await UpdateCollector.create(outside);
    const deadline = Date.now() + timeoutMs;
    try {
      await collector.addFilter([moRef('VirtualMachine', moid)], [{ type: 'VirtualMachine', paths: ['runtime.powerState'] }]);
      for (;;) {
        const left = Math.ceil((deadline - Date.now()) / 1000);
        if (left <= 0) throw new Error(`VM ${moid} did not become ${want} within ${timeoutMs} ms; guests: ${JSON.stringify(await sim().control.guests())}`);
        const batch = await collector.waitForUpdates(Math.min(left, 30));
        const states = (batch?.objects ?? []).flatMap((o) => o.changeSet.filter((c) => c.name === 'runtime.powerState').map((c) => c.val));
        if (states.includes(want)) return;
      }
    } finally {
      await collector.destroy();
    }
  }

  async function guestOf(moid: string): Promise<GuestProcess | undefined> {
    return (await sim().control.guests()).guests.find((g) => g.vm === moid);
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; the runner holds ${JSON.stringify(await sim().control.guests())}; launcher log:\n${sim().logTail()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async function output(vm: Attrs): Promise<OutputLine[]> {
    const file = consoleLogPath(String(vm.vm_path));
    const { data } = await readDatastoreFileFrom(outside, { datacenter: 'DC0', ...file }, 0);
    const reader = new OutputLineReader();
    return [...reader.push(data.toString('utf8')), ...reader.end()];
  }

  function vic(args: string[]) {
    const s = sim();
    return runVic(args, cleanEnv({ VSPHERE_SERVER: s.url, VSPHERE_USER: s.username, VSPHERE_PASSWORD: s.password, VSPHERE_THUMBPRINT: s.thumbprint }), {
      timeoutMs: BOOT_MS,
    });
  }

  function pidAlive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  test(
    'GIVEN a container that writes to stdout and stderr and exits 1 WHEN applied THEN QEMU runs it, the VM powers itself off, status, exit code and the split logs are recorded; WHEN powered on again THEN its writes survived and it exits 0',
    async () => {
      const script = [
        'if [ -e /data/mark ]; then echo "again: $(cat /data/mark)"; exit 0; fi',
        'echo first > /data/mark',
        'echo "to stdout"',
        'echo "to stderr" >&2',
        // No newline and no pause before the exit: the line must still reach the log.
        'printf "last words"',
        'exit 1',
      ].join('\n');
      let vm = await apply('container_vm', null, { vch_id: vch.id, image_id: image.id, name: 'once', entrypoint: ['/bin/sh', '-c', script], memory_mb: 256 });
      const moid = String(vm.moid);
      expect(vm.power_state).toBe('running');
      const guest = await until('a QEMU process for the VM', async () => ((await guestOf(moid))?.pid ? await guestOf(moid) : undefined), 30_000);
      expect(guest).toMatchObject({ name: 'once', state: 'running' });

      await waitForPowerState(moid, 'poweredOff', BOOT_MS);
      vm = await refreshed(vm);
      expect(vm).toMatchObject({ power_state: 'stopped', status: 'exited', exit_code: 1 });
      expect(Date.parse(String(vm.finished_at))).toBeGreaterThanOrEqual(Date.parse(String(vm.started_at)));
      expect(await guestOf(moid)).toBeUndefined();
      expect(pidAlive(guest.pid!)).toBe(false);
      const first = await output(vm);
      // Each stream keeps its own order; between the two there is none (two pipes, as in Docker).
      const stream = (name: string) => first.filter((l) => l.stream === name).map((l) => l.text);
      expect(first).toHaveLength(3);
      expect(stream('stdout')).toEqual(['to stdout', 'last words']);
      expect(stream('stderr')).toEqual(['to stderr']);
      const props = await retrieveObject<Record<string, unknown>>(outside, moRef('VirtualMachine', moid), ['runtime.powerState']);
      expect(props['runtime.powerState']).toBe('poweredOff');

      // The CLI shows the same: streams apart, the tail, times, and the exit code in vic ls. The
      // bytes as written: the last words had no newline, and get none.
      const logs = await vic(['logs', 'once']);
      expect(logs).toMatchObject({ code: 0, stdout: 'to stdout\nlast words', stderr: 'to stderr\n' });
      const last = first[first.length - 1];
      const tail = await vic(['logs', '--tail', '1', 'once']);
      expect({ stdout: tail.stdout, stderr: tail.stderr }).toEqual(
        last.stream === 'stdout' ? { stdout: last.data.toString('utf8'), stderr: '' } : { stdout: '', stderr: last.data.toString('utf8') },
      );
      const stamped = await vic(['logs', '--timestamps', 'once']);
      expect(stamped.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z to stdout\n/);
      expect((await vic(['ls', '--all'])).stdout).toMatch(/^CONTAINER VM +once +vm-\d+ +poweredOff +exited \(1\) /m);
      const unknown = await vic(['logs', 'nobody']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('no container VM named "nobody"; known: once (vch-run)');

      // The plan sees the VM stopped and powers it on again: the same overlay, so /data/mark is there.
      vm = await apply('container_vm', vm, { vch_id: vch.id, image_id: image.id, name: 'once', entrypoint: ['/bin/sh', '-c', script], memory_mb: 256 });
      await waitForPowerState(moid, 'poweredOff', BOOT_MS);
      vm = await refreshed(vm);
      expect(vm).toMatchObject({ status: 'exited', exit_code: 0 });
      const both = await output(vm);
      expect(both.slice(first.length).map((l) => l.text)).toEqual(['again: first']);
    },
    2 * BOOT_MS + 60_000,
  );

  test(
    'GIVEN a running container WHEN its QEMU is killed from outside THEN the simulator reports the VM poweredOff and the container exited 137',
    async () => {
      let vm = await apply('container_vm', null, {
        vch_id: vch.id,
        image_id: image.id,
        name: 'sleeper',
        entrypoint: ['/bin/sh', '-c', 'echo up; exec sleep 600'],
        memory_mb: 256,
      });
      const moid = String(vm.moid);
      vm = await until(
        'the container to run',
        async () => {
          const now = await refreshed(vm);
          return now.status === 'running' ? now : undefined;
        },
        BOOT_MS,
      );
      expect(vm.exit_code).toBeNull();
      expect((await vic(['ls', '--all'])).stdout).toMatch(/^CONTAINER VM +sleeper +vm-\d+ +poweredOn +running /m);
      const guest = await guestOf(moid);
      expect(guest?.pid).toBeGreaterThan(0);
      // A follower started while it runs ends by itself once the VM is off.
      const following = vic(['logs', '--follow', 'sleeper']);
      await new Promise((r) => setTimeout(r, 3000));
      process.kill(guest!.pid!, 'SIGKILL');
      await waitForPowerState(moid, 'poweredOff', 30_000);
      expect(await following).toMatchObject({ code: 0, stdout: 'up\n', stderr: '' });
      vm = await refreshed(vm);
      expect(vm).toMatchObject({ power_state: 'stopped', status: 'exited', exit_code: 137 });
      expect((await output(vm)).map((l) => l.text)).toEqual(['up']);
    },
    BOOT_MS + 60_000,
  );

  test(
    'GIVEN a container that serves HTTP on its exposed port WHEN it runs THEN its NIC got an address by DHCP on its port group, reported as ip_addresses, its host files are written, the host reaches it on the published port, and another container on the port group reaches it; the port group network ends with its guests',
    async () => {
      const script = [
        'mkdir -p /tmp/www',
        'echo "served by $(hostname)" > /tmp/www/index.html',
        'cat /etc/hosts /etc/resolv.conf',
        'exec httpd -f -p 80 -h /tmp/www',
      ].join('\n');
      let vm = await apply('container_vm', null, {
        vch_id: vch.id,
        image_id: image.id,
        name: 'web-net',
        user: '0:0',
        entrypoint: ['/bin/sh', '-c', script],
        memory_mb: 256,
      });
      vm = await until(
        'the container to run with an address',
        async () => {
          const now = await refreshed(vm);
          return now.status === 'running' && (now.ip_addresses as string[]).length > 0 ? now : undefined;
        },
        BOOT_MS,
      );
      // The bridge network is the first port group the runner met: 10.0.2.0/24.
      const [ip] = vm.ip_addresses as string[];
      expect(vm.ip_addresses).toEqual([expect.stringMatching(/^10\.0\.2\.\d+$/)]);
      // With its prefix length, the gateway of its lease (the runner's .2) and the MAC address vSphere gave the card.
      expect(vm.network_interfaces).toEqual([
        { ip_address: ip, prefix_length: 24, gateway: '10.0.2.2', mac_address: expect.stringMatching(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/) },
      ]);
      const published = (await guestOf(String(vm.moid)))?.ports?.['80/tcp'];
      expect(published).toMatch(/^127\.0\.0\.1:\d+$/);
      const body = await until(
        'an HTTP answer',
        async () => {
          try {
            const response = await fetch(`http://${published}/index.html`, { signal: AbortSignal.timeout(3000) });
            return response.ok ? await response.text() : undefined;
          } catch {
            return undefined;
          }
        },
        60_000,
      );
      expect(body).toBe('served by web-net\n');
      const lines = (await output(vm)).map((l) => l.text);
      expect(lines).toEqual(expect.arrayContaining(['127.0.0.1\tlocalhost', `${ip}\tweb-net`, 'nameserver 10.0.2.3']));

      // A second container on the same port group fetches the page from the first one's address.
      const client = await apply('container_vm', null, {
        vch_id: vch.id,
        image_id: image.id,
        name: 'client-net',
        entrypoint: ['/bin/sh', '-c', `wget -q -O - http://${ip}/index.html`],
        memory_mb: 256,
      });
      await waitForPowerState(String(client.moid), 'poweredOff', BOOT_MS);
      // One refresh of both (the engine serves each resource once from a refresh's snapshot).
      const [clientNow, webNow] = await engine.read([
        { type: 'container_vm', state: client },
        { type: 'container_vm', state: vm },
      ]);
      expect(clientNow).toMatchObject({ status: 'exited', exit_code: 0 });
      expect(webNow).toMatchObject({ status: 'running', ip_addresses: [ip] });
      expect((await output(client)).map((l) => l.text)).toEqual(['served by web-net']);

      const network = (await sim().control.guests()).networks?.find((n) => n.portGroup === 'VM Network');
      expect(network).toMatchObject({ subnet: '10.0.2.0/24', guests: 1 });
      await powerOffVm(outside, moRef('VirtualMachine', String(vm.moid)));
      expect(await refreshed(vm)).toMatchObject({ power_state: 'stopped', status: 'exited', exit_code: 137, ip_addresses: [], network_interfaces: [] });
      await until(
        'the port group network to end with its last guest',
        async () => ((await sim().control.guests()).networks?.length === 0 && !pidAlive(network?.pid ?? 0) ? true : undefined),
        15_000,
      );
    },
    BOOT_MS + 90_000,
  );

  test(
    'GIVEN a container with a static ip_address and gateway WHEN it runs THEN the tether applies them, reports the address, and the host reaches it on the published port',
    async () => {
      let vm = await apply('container_vm', null, {
        vch_id: vch.id,
        image_id: image.id,
        name: 'web-static',
        user: '0:0',
        entrypoint: ['/bin/sh', '-c', 'mkdir -p /tmp/www && echo static > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www'],
        ip_address: '10.0.2.200/24',
        gateway: '10.0.2.2',
        memory_mb: 256,
      });
      vm = await until(
        'the container to run with its address',
        async () => {
          const now = await refreshed(vm);
          return now.status === 'running' && (now.ip_addresses as string[]).length > 0 ? now : undefined;
        },
        BOOT_MS,
      );
      expect(vm.ip_addresses).toEqual(['10.0.2.200']);
      expect(vm.network_interfaces).toEqual([
        { ip_address: '10.0.2.200', prefix_length: 24, gateway: '10.0.2.2', mac_address: expect.stringMatching(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/) },
      ]);
      const published = (await guestOf(String(vm.moid)))?.ports?.['80/tcp'];
      const body = await until(
        'an HTTP answer',
        async () => {
          try {
            const response = await fetch(`http://${published}/index.html`, { signal: AbortSignal.timeout(3000) });
            return response.ok ? await response.text() : undefined;
          } catch {
            return undefined;
          }
        },
        60_000,
      );
      expect(body).toBe('static\n');
      const consoleFile = await readDatastoreFileFrom(outside, { datacenter: 'DC0', ...consoleLogPath(String(vm.vm_path)) }, 0);
      expect(consoleFile.data.toString('utf8')).toContain('vic-tether: network: eth0 10.0.2.200/24 (static, gateway 10.0.2.2');
      await powerOffVm(outside, moRef('VirtualMachine', String(vm.moid)));
    },
    BOOT_MS + 90_000,
  );

  test(
    'GIVEN restart policies on-failure (at most 2) and always (at most 1) WHEN the processes exit THEN the tether restarts them inside the VM, without a power cycle, and then the VM powers off',
    async () => {
      const run = (name: string, restart: string, max: number, script: string) =>
        apply('container_vm', null, {
          vch_id: vch.id,
          image_id: image.id,
          name,
          entrypoint: ['/bin/sh', '-c', script],
          memory_mb: 128,
          restart,
          max_restarts: max,
        });
      let failing = await run('on-failure', 'on-failure', 2, 'echo "run at $(cat /proc/uptime)"; exit 3');
      let fine = await run('always', 'always', 1, 'echo run; exit 0');
      expect(failing).toMatchObject({ restart: 'on-failure', max_restarts: 2 });
      const pids = await Promise.all([failing, fine].map((vm) => until('QEMU', async () => (await guestOf(String(vm.moid)))?.pid, 30_000)));
      await Promise.all([failing, fine].map((vm) => waitForPowerState(String(vm.moid), 'poweredOff', BOOT_MS)));
      failing = await refreshed(failing);
      fine = await refreshed(fine);
      expect(failing).toMatchObject({ status: 'exited', exit_code: 3, restart: 'on-failure', max_restarts: 2, restart_count: 2 });
      expect(fine).toMatchObject({ status: 'exited', exit_code: 0, restart_count: 1 });
      expect(pids.filter(pidAlive)).toEqual([]);
      // The guest's uptime only grows across the three runs: one boot, restarts inside it.
      const uptimes = (await output(failing)).map((l) => Number(/^run at ([0-9.]+)/.exec(l.text)?.[1]));
      expect(uptimes).toHaveLength(3);
      expect(uptimes[1]).toBeGreaterThan(uptimes[0]);
      expect(uptimes[2]).toBeGreaterThan(uptimes[1]);
      expect((await output(fine)).map((l) => l.text)).toEqual(['run', 'run']);
    },
    BOOT_MS + 60_000,
  );

  test('GIVEN running guests WHEN one is powered off over SOAP, one is reset and the simulator stops THEN no QEMU process outlives its VM or the simulator', async () => {
    const long = (name: string) =>
      apply('container_vm', null, { vch_id: vch.id, image_id: image.id, name, entrypoint: ['/bin/sh', '-c', 'exec sleep 600'], memory_mb: 128 });
    const a = await long('leak-a');
    const b = await long('leak-b');
    const pidOf = (moid: string) => until(`QEMU of ${moid}`, async () => (await guestOf(moid))?.pid, 30_000);
    const pidA = await pidOf(String(a.moid));
    const pidB = await pidOf(String(b.moid));

    await powerOffVm(outside, moRef('VirtualMachine', String(a.moid)));
    await until('QEMU of the powered-off VM to end', async () => (pidAlive(pidA) || (await guestOf(String(a.moid))) ? undefined : true), 15_000);

    await outside.call('ResetVM_Task', moRef('VirtualMachine', String(b.moid)));
    const newPidB = await until(
      'a new QEMU after the reset',
      async () => {
        const g = await guestOf(String(b.moid));
        return g?.pid && g.pid !== pidB ? g.pid : undefined;
      },
      30_000,
    );
    expect(pidAlive(pidB)).toBe(false);

    // Powered on again: a fresh QEMU for A, then the simulator goes away under both.
    await powerOnVm(outside, moRef('VirtualMachine', String(a.moid)));
    const newPidA = await until(
      'QEMU of A again',
      async () => {
        const g = await guestOf(String(a.moid));
        return g?.pid && g.pid !== pidA ? g.pid : undefined;
      },
      30_000,
    );
    const networkPids = ((await sim().control.guests()).networks ?? []).map((n) => n.pid);
    expect(networkPids).toHaveLength(1);
    await sim().stop();
    expect([newPidA, newPidB, ...networkPids].filter(pidAlive)).toEqual([]);
  }, 120_000);
});

describe('a simulator killed with SIGKILL', () => {
  const registry = useRegistry();

  test('GIVEN a running guest WHEN its launcher is killed with SIGKILL THEN the kernel ends its QEMU and its port group network QEMU too', async () => {
    const iso = await ensureBootstrapIso();
    const sim = await startSimulator({ runGuests: true });
    const scratch = await mkdtemp(join(tmpdir(), 'vic-runner-kill-'));
    let engine: Engine | undefined;
    try {
      engine = await connectEngine(settingsFor(sim), { bootstrapIsoFile: iso });
      const apply = async (type: Parameters<Engine['plan']>[0], config: Attrs) => (await engine!.apply(await engine!.plan(type, null, config))) as Attrs;
      const layout = await writeOciLayout(join(scratch, 'oci'), 'probe', [probeImageSpec()]);
      await registry().push(layout.dir, 'probe', 'vic-test/probe:kill');
      const vch = await apply('virtual_container_host', {
        name: 'vch-kill',
        compute: '/DC0/host/DC0_C0',
        datastore: 'LocalDS_0',
        bridge_network: 'VM Network',
      });
      const image = await apply('image', { vch_id: vch.id, reference: `${registry().host}/vic-test/probe:kill`, insecure_registry: true });
      const vm = await apply('container_vm', {
        vch_id: vch.id,
        image_id: image.id,
        name: 'orphan',
        entrypoint: ['/bin/sh', '-c', 'exec sleep 600'],
        memory_mb: 128,
      });
      let pid: number | undefined;
      for (let i = 0; i < 60 && !pid; i++) {
        pid = (await sim.control.guests()).guests.find((g) => g.vm === vm.moid)?.pid;
        if (!pid) await new Promise((r) => setTimeout(r, 500));
      }
      expect(pid).toBeGreaterThan(0);
      const pids = [pid!, ...((await sim.control.guests()).networks ?? []).map((n) => n.pid)];
      expect(pids).toHaveLength(2);
      process.kill(sim.pid, 'SIGKILL');
      const isAlive = (p: number) => {
        try {
          process.kill(p, 0);
          return true;
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 50 && pids.some(isAlive); i++) await new Promise((r) => setTimeout(r, 100));
      expect(pids.filter(isAlive)).toEqual([]);
    } finally {
      await engine?.close().catch(() => undefined);
      await sim.stop();
      await rm(scratch, { recursive: true, force: true });
    }
  }, 180_000);
});
