/**
 * The stats document built from a VM's quick stats, computed the way the docker CLI computes its
 * columns (a pure function: its input is what vSphere's read gives).
 */
import { dockerStats } from '../../src/endpoint/stats';
import type { VmUsage } from '../../src/resources';

const on: VmUsage = {
  powerState: 'poweredOn',
  cpuMhz: 1147,
  cpuMaxMhz: 4588,
  numCpu: 2,
  memoryMb: 512,
  guestMemoryMb: 128,
  hostMemoryMb: 200,
  uptimeSeconds: 60,
};

/** The CLI's CPU % (calculateCPUPercentUnix) and memory % from one document. */
interface Cpu {
  cpu_usage: { total_usage: number };
  system_cpu_usage: number;
  online_cpus: number;
}
function cliColumns(raw: Record<string, unknown>): { cpu: number; mem: number } {
  const doc = raw as { cpu_stats: Cpu; precpu_stats: Cpu; memory_stats: { usage: number; limit: number } };
  const cpuDelta = doc.cpu_stats.cpu_usage.total_usage - doc.precpu_stats.cpu_usage.total_usage;
  const systemDelta = doc.cpu_stats.system_cpu_usage - doc.precpu_stats.system_cpu_usage;
  return { cpu: (cpuDelta / systemDelta) * doc.cpu_stats.online_cpus * 100, mem: (doc.memory_stats.usage / doc.memory_stats.limit) * 100 };
}

test('GIVEN half a vCPU in use on a 2-vCPU VM WHEN the CLI computes its columns THEN CPU is 50 % (of one vCPU, as docker counts a core) and memory 25 %', () => {
  const doc = dockerStats({ id: 'abc', name: 'web' }, on, new Date('2026-12-04T10:00:00Z'));
  const { cpu, mem } = cliColumns(doc);
  expect(cpu).toBeCloseTo(50, 5);
  expect(mem).toBeCloseTo(25, 5);
  expect([doc.name, doc.id, doc.read, doc.preread]).toEqual(['/web', 'abc', '2026-12-04T10:00:00.000Z', '2026-12-04T09:59:59.000Z']);
  expect(doc.memory_stats).toEqual({ usage: 128 * 1024 * 1024, limit: 512 * 1024 * 1024, stats: {} });
});

test('GIVEN both vCPUs busy WHEN the CLI computes CPU THEN 200 %, as docker shows two cores kept busy', () => {
  expect(cliColumns(dockerStats({ id: 'a', name: 'b' }, { ...on, cpuMhz: 4588 }, new Date())).cpu).toBeCloseTo(200, 5);
});

test('GIVEN a VM that is off WHEN its stats are built THEN CPU and memory use are zero against its memory, and no process is counted', () => {
  const doc = dockerStats({ id: 'a', name: 'b' }, { ...on, powerState: 'poweredOff', cpuMhz: 0, cpuMaxMhz: 0, guestMemoryMb: 0 }, new Date());
  expect(cliColumns(doc)).toEqual({ cpu: 0, mem: 0 });
  expect(doc.memory_stats).toEqual({ usage: 0, limit: 512 * 1024 * 1024, stats: {} });
  expect(doc.pids_stats).toEqual({});
});
