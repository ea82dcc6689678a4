/**
 * Boot time of a container VM under the simulator's guest runner: from PowerOnVM_Task to the
 * container's first output line in its console file, p50 over N boots of the same VM (the real
 * launcher, QEMU, bootstrap ISO and tether; KVM when usable, else TCG). Each boot is split into
 * where the time goes: QEMU start to the tether's first line (firmware, boot loader, kernel),
 * the tether to exec (module loading, disk scan, switch root), and exec to the first line.
 *
 *   npx tsx bench/guest-boot.ts [--boots N] [--out DIR]     (default 10 boots, bench/results)
 *
 * Host arrival times come from polling the console file every POLL_MS, so each figure may be
 * late by up to that much. The QEMU process's CPU time (user + system, from /proc) up to the first
 * line is recorded too: on a shared machine it is the figure that other load does not inflate.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine, type Engine } from '../src/engine';
import type { Attrs } from '../src/resources';
import { CONSOLE_FILE } from '../src/resources/console-log';
import { startSimulator } from '../src/sim/simulator';
import { VimClient, moRef } from '../src/vsphere';
import { powerOnVm } from '../src/vsphere/virtual-machine';
import { startRegistry } from '../test/helpers/registry';
import { writeOciLayout } from '../test/helpers/oci-layout';
import { ensureBootstrapIso } from '../test/helpers/qemu';
import { probeImageSpec } from '../test/boot/probe-image';
import { machineInfo } from './machine';
import { percentile, progress, round } from './figures';

const POLL_MS = 25;
const BOOT_TIMEOUT_MS = 180_000;

interface BootSample {
  readonly power_on_to_first_line_ms: number;
  readonly phases_ms: { readonly qemu_start_to_tether: number; readonly tether_to_exec: number; readonly exec_to_first_line: number };
  readonly power_on_to_qemu_ms: number;
  /** CPU time of the guest's QEMU process, user + system, from its start to the first line. */
  readonly qemu_cpu_ms: number;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const boots = Number(args[args.indexOf('--boots') + 1] || 10) || 10;
  const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : join(__dirname, 'results');
  const iso = await ensureBootstrapIso();
  const sim = await startSimulator({ runGuests: { maxRunning: 1 } });
  const registry = await startRegistry();
  const scratch = await mkdtemp(join(tmpdir(), 'vic-bench-boot-'));
  let engine: Engine | undefined;
  let client: VimClient | undefined;
  try {
    client = await VimClient.connect({ url: sim.url, username: sim.username, password: sim.password, thumbprint: sim.thumbprint });
    engine = await connectEngine(
      { url: sim.url, username: sim.username, password: sim.password, insecure: false, thumbprint: sim.thumbprint },
      { bootstrapIsoFile: iso },
    );
    const apply = async (type: Parameters<Engine['plan']>[0], config: Attrs) => (await engine!.apply(await engine!.plan(type, null, config))) as Attrs;
    const layout = await writeOciLayout(join(scratch, 'oci'), 'probe', [probeImageSpec()]);
    await registry.push(layout.dir, 'probe', 'vic-bench/probe:1');
    const vch = await apply('virtual_container_host', { name: 'vch-boot', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' });
    const image = await apply('image', { vch_id: vch.id, reference: `${registry.host}/vic-bench/probe:1`, insecure_registry: true });
    const vm = await apply('container_vm', {
      vch_id: vch.id,
      image_id: image.id,
      name: 'boot',
      entrypoint: ['/bin/sh', '-c', 'echo first line'],
      memory_mb: 256,
      power_state: 'stopped',
    });
    const { accel } = await sim.control.guests();
    const info = await sim.control.info();
    const dsDir = Object.entries(info.datastores).find(([name]) => name === 'LocalDS_0')?.[1];
    if (!dsDir) throw new Error('no local directory for LocalDS_0');
    const vmDir = String(vm.vm_path)
      .replace(/^\[[^\]]+\]\s*/, '')
      .replace(/[^/]*$/, '');
    const consoleFile = join(dsDir, vmDir, CONSOLE_FILE);
    const samples: BootSample[] = [];
    for (let i = 0; i < boots; i++) {
      samples.push(await bootOnce(client, sim, String(vm.moid), consoleFile));
      progress(`guest boot ${i + 1}/${boots}: ${samples.at(-1)!.power_on_to_first_line_ms} ms`);
    }
    const firstLine = samples.map((s) => s.power_on_to_first_line_ms);
    const result = {
      benchmark: 'guest-boot',
      what: "PowerOnVM_Task → the container's first output line in console.log, simulator guest runner, 1 vCPU, 256 MiB, PVSCSI, CD-ROM boot",
      accel,
      boots,
      p50_ms: round(percentile(firstLine, 50), 0),
      p90_ms: round(percentile(firstLine, 90), 0),
      qemu_cpu_p50_ms: round(
        percentile(
          samples.map((s) => s.qemu_cpu_ms),
          50,
        ),
        0,
      ),
      phases_p50_ms: {
        power_on_to_qemu: round(
          percentile(
            samples.map((s) => s.power_on_to_qemu_ms),
            50,
          ),
          0,
        ),
        qemu_start_to_tether: round(
          percentile(
            samples.map((s) => s.phases_ms.qemu_start_to_tether),
            50,
          ),
          0,
        ),
        tether_to_exec: round(
          percentile(
            samples.map((s) => s.phases_ms.tether_to_exec),
            50,
          ),
          0,
        ),
        exec_to_first_line: round(
          percentile(
            samples.map((s) => s.phases_ms.exec_to_first_line),
            50,
          ),
          0,
        ),
      },
      goal_ms: accel === 'kvm' ? 1500 : 4000,
      samples,
      machine: machineInfo(),
    };
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'guest-boot.json'), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      `${JSON.stringify({ accel, p50_ms: result.p50_ms, p90_ms: result.p90_ms, qemu_cpu_p50_ms: result.qemu_cpu_p50_ms, phases_p50_ms: result.phases_p50_ms }, null, 2)}\n`,
    );
  } finally {
    await engine?.close();
    await client?.close();
    await registry.stop();
    await sim.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

async function bootOnce(client: VimClient, sim: Awaited<ReturnType<typeof startSimulator>>, moid: string, consoleFile: string): Promise<BootSample> {
  const from = await stat(consoleFile)
    .then((s) => s.size)
    .catch(() => 0);
  const started = Date.now();
  await powerOnVm(client, moRef('VirtualMachine', moid));
  let qemuAt: number | undefined;
  let pid: number | undefined;
  let cpuMs = 0;
  const seen = new Map<string, number>();
  for (;;) {
    if (Date.now() - started > BOOT_TIMEOUT_MS) throw new Error(`no first line within ${BOOT_TIMEOUT_MS} ms`);
    if (qemuAt === undefined) {
      pid = (await sim.control.guests()).guests.find((g) => g.vm === moid && g.pid)?.pid;
      if (pid) qemuAt = Date.now();
    }
    if (pid) cpuMs = (await processCpuMs(pid)) ?? cpuMs;
    const text = (await readFile(consoleFile).catch(() => Buffer.alloc(0))).subarray(from).toString('utf8');
    for (const line of text.split('\n')) if (line && !seen.has(line.slice(0, 40))) seen.set(line.slice(0, 40), Date.now());
    const at = (prefix: string) => [...seen].find(([l]) => l.startsWith(prefix))?.[1];
    const first = at('vic-stdout ');
    if (first !== undefined) {
      // Wait for the VM to power off before the next boot.
      while ((await sim.control.guests()).guests.some((g) => g.vm === moid)) await sleep(100);
      const tether = at('vic-tether: starting') ?? first;
      const exec = at('vic-tether: exec ') ?? first;
      const qemu = qemuAt ?? started;
      return {
        power_on_to_first_line_ms: first - started,
        power_on_to_qemu_ms: qemu - started,
        qemu_cpu_ms: cpuMs,
        phases_ms: { qemu_start_to_tether: tether - qemu, tether_to_exec: exec - tether, exec_to_first_line: first - exec },
      };
    }
    await sleep(POLL_MS);
  }
}

/** utime + stime of a process (fields 14 and 15 of /proc/PID/stat, in clock ticks of 10 ms); undefined once it is gone. */
async function processCpuMs(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces: count fields from after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
