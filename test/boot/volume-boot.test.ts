/**
 * Data on a volume survives the container VM: against the real launcher with its guest runner on,
 * a container VM writes to a volume, the volume grows, the VM is replaced by a new image, and the
 * new VM reads the data back (and sees the filesystem grown). Two TCG boots, so every assertion
 * about a boot is made on that boot.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../src/engine';
import { connectEngine } from '../../src/engine';
import type { Attrs } from '../../src/resources';
import { OutputLineReader, consoleLogPath } from '../../src/resources/console-log';
import { moRef, type VimClient } from '../../src/vsphere';
import { readDatastoreFileFrom } from '../../src/vsphere/datastore-http';
import { retrieveObject } from '../../src/vsphere/property-collector';
import { connectTestClient, settingsFor } from '../helpers/engine';
import { writeOciLayout } from '../helpers/oci-layout';
import { ensureBootstrapIso } from '../helpers/qemu';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { PROBE_USER, probeImageSpec } from './probe-image';

const BOOT_MS = 180_000;

describe('data on a volume survives its container VM', () => {
  const sim = useSimulator({ runGuests: { maxRunning: 1 } });
  const registry = useRegistry();
  let engine: Engine;
  let outside: VimClient;
  let scratch: string;
  let vch: Attrs;
  const images: Attrs[] = [];

  beforeAll(async () => {
    const iso = await ensureBootstrapIso();
    engine = await connectEngine(settingsFor(sim()), { bootstrapIsoFile: iso });
    outside = await connectTestClient(sim());
    scratch = await mkdtemp(join(tmpdir(), 'vic-volume-boot-'));
    // Two tags with different digests: the second differs only in a label.
    for (const [tag, label] of [
      ['1', 'first'],
      ['2', 'second'],
    ]) {
      const spec = probeImageSpec();
      const layout = await writeOciLayout(join(scratch, `oci-${tag}`), tag, [{ ...spec, config: { ...spec.config, Labels: { build: label } } }]);
      await registry().push(layout.dir, tag, `vic-test/volume-probe:${tag}`);
    }
    vch = await apply('virtual_container_host', null, { name: 'vch-vol', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' });
    for (const tag of ['1', '2']) {
      images.push(await apply('image', null, { vch_id: vch.id, reference: `${registry().host}/vic-test/volume-probe:${tag}`, insecure_registry: true }));
    }
    expect(images[0].id).not.toBe(images[1].id);
  }, 240_000);

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

  async function poweredOff(vm: Attrs): Promise<Attrs> {
    const deadline = Date.now() + BOOT_MS;
    for (;;) {
      const props = await retrieveObject<Record<string, unknown>>(outside, moRef('VirtualMachine', String(vm.moid)), ['runtime.powerState']);
      if (props['runtime.powerState'] === 'poweredOff') break;
      if (Date.now() > deadline) throw new Error(`container VM ${String(vm.name)} still runs after ${BOOT_MS} ms; launcher log:\n${sim().logTail()}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const [now] = await engine.read([{ type: 'container_vm', state: vm }]);
    return now as Attrs;
  }

  /** The console file: the container's lines, and the tether's own lines as written. */
  async function consoleOf(vm: Attrs): Promise<{ lines: string[]; raw: string }> {
    const { data } = await readDatastoreFileFrom(outside, { datacenter: 'DC0', ...consoleLogPath(String(vm.vm_path)) }, 0);
    const reader = new OutputLineReader();
    const raw = data.toString('utf8');
    return { lines: [...reader.push(raw), ...reader.end()].map((l) => l.text), raw };
  }

  test(
    'GIVEN a container VM that writes to a volume WHEN the volume grows and the VM is replaced by a new image THEN the new VM reads the data back, as the image user, on the grown filesystem',
    async () => {
      let volume = await apply('volume', null, { vch_id: vch.id, name: 'counter', size_mb: 32 });
      const script = [
        'echo "user: $(id -u)"',
        'n=$(cat /srv/state/count 2>/dev/null || echo 0)',
        'n=$((n + 1))',
        'echo "$n" > /srv/state/count || exit 3',
        'echo "count: $n"',
        'test -e /srv/state/note && echo "note: $(cat /srv/state/note)"',
        'echo "written by image $IMAGE_TAG" > /srv/state/note',
        'exit 0',
      ].join('\n');
      const config = (imageId: Attrs[string], tag: string): Attrs => ({
        vch_id: vch.id,
        image_id: imageId,
        name: 'counter',
        entrypoint: ['/bin/sh', '-c', script],
        env: { IMAGE_TAG: tag },
        memory_mb: 256,
        volumes: [{ volume_id: volume.id, path: '/srv/state' }],
      });

      // First boot: the fresh volume is mounted, owned by the image user, and written.
      let vm = await apply('container_vm', null, config(images[0].id, '1'));
      vm = await poweredOff(vm);
      const first = await consoleOf(vm);
      expect({ status: vm.status, exit_code: vm.exit_code, lines: first.lines }).toEqual({
        status: 'exited',
        exit_code: 0,
        lines: [`user: ${PROBE_USER.uid}`, 'count: 1'],
      });
      expect(first.raw).toMatch(/volume \/dev\/sd[a-z]+ \(ext4 UUID [0-9a-f-]+\) mounted read-write on \/srv\/state/);

      // The volume grows in place; the image changes, which replaces the VM.
      const grow = await engine.plan('volume', volume, { vch_id: vch.id, name: 'counter', size_mb: 64 });
      expect(grow.action).toBe('update');
      volume = (await engine.apply(grow)) as Attrs;
      const replace = await engine.plan('container_vm', vm, config(images[1].id, '2'));
      expect(replace.action).toBe('replace');
      vm = (await engine.apply(replace)) as Attrs;
      vm = await poweredOff(vm);
      const second = await consoleOf(vm);
      expect({ status: vm.status, exit_code: vm.exit_code, lines: second.lines.slice(-3) }).toEqual({
        status: 'exited',
        exit_code: 0,
        lines: [`user: ${PROBE_USER.uid}`, 'count: 2', 'note: written by image 1'],
      });
      expect(second.raw).toMatch(/filesystem grown from 8192 to 16384 blocks/);
    },
    2 * BOOT_MS + 120_000,
  );

  test(
    'GIVEN a running container VM that writes to its volume when told to stop WHEN its state asks power_state = "stopped" THEN its process gets SIGTERM and ends, and what it wrote is on the volume',
    async () => {
      const volume = await apply('volume', null, { vch_id: vch.id, name: 'stopped', size_mb: 32 });
      const script = ["trap 'echo stopped-cleanly > /srv/state/stop; echo got TERM; exit 0' TERM", 'echo ready', 'while true; do sleep 1; done'].join('\n');
      const config: Attrs = {
        vch_id: vch.id,
        image_id: images[0].id,
        name: 'stopper',
        entrypoint: ['/bin/sh', '-c', script],
        memory_mb: 256,
        volumes: [{ volume_id: volume.id, path: '/srv/state' }],
        // A stop's SIGTERM keeps the policy from running it again (before: run again, then powered off under it 10 s later, 137).
        restart: 'always',
      };
      let vm = await apply('container_vm', null, config);
      const deadline = Date.now() + BOOT_MS;
      const said = (v: Attrs) =>
        consoleOf(v).then(
          (c) => c.lines.at(-1),
          () => undefined,
        );
      while ((await said(vm)) !== 'ready') {
        if (Date.now() > deadline) throw new Error(`container VM stopper never said ready; launcher log:\n${sim().logTail()}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      [vm] = (await engine.read([{ type: 'container_vm', state: vm }])) as Attrs[];
      expect(vm.status).toBe('running');
      // Before: a power-off, the process killed (137) and its last writes lost.
      const stopped = await apply('container_vm', vm, { ...config, power_state: 'stopped' });
      expect({ power_state: stopped.power_state, status: stopped.status, exit_code: stopped.exit_code }).toEqual({
        power_state: 'stopped',
        status: 'exited',
        exit_code: 0,
      });
      expect((await consoleOf(stopped)).lines.slice(-1)).toEqual(['got TERM']);
      await engine.apply(await engine.plan('container_vm', stopped, null));

      // A run-once job reads it back.
      const readerConfig: Attrs = { ...config, name: 'stop-reader', entrypoint: ['/bin/sh', '-c', 'cat /srv/state/stop'], must_run: false, restart: 'no' };
      const reader = await poweredOff(await apply('container_vm', null, readerConfig));
      expect({ exit_code: reader.exit_code, lines: (await consoleOf(reader)).lines.slice(-1) }).toEqual({ exit_code: 0, lines: ['stopped-cleanly'] });

      // The next command plans the ended job and a new service on the same volume, read-write:
      // the job holds the volume no more (before: refused, as two running read-write users).
      const command = await connectEngine(settingsFor(sim()), { bootstrapIsoFile: await ensureBootstrapIso() });
      try {
        const [job] = (await command.read([{ type: 'container_vm', state: reader }])) as Attrs[];
        const again = await command.plan('container_vm', job, readerConfig);
        expect([again.action, again.problems]).toEqual(['no-op', []]);
        const service = await command.plan('container_vm', null, { ...config, name: 'after-job' });
        expect(service.problems).toEqual([]);
        // Imported again (its state lost), the ended job is what was asked: no change, not run again.
        const imported = await command.importState('container_vm', String(reader.id));
        expect(imported).toMatchObject({ power_state: 'running', must_run: false, status: 'exited' });
        expect((await command.plan('container_vm', imported, readerConfig)).action).toBe('no-op');
      } finally {
        await command.close();
      }
    },
    2 * BOOT_MS + 120_000,
  );
});
