/**
 * VIC Group1 1-39 stats, with guests that really run: `docker stats` shows each container VM's CPU
 * and memory as vSphere's quick stats of the VM report them (the simulator's guest runner fills
 * them from the VM's QEMU process), against the memory the container was given; a stopped
 * container shows zeros, an unknown one is refused by name, and the stream goes on until the client
 * leaves.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { certificateFiles } from '../../src/endpoint/certs';
import { useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 240_000;

describe('1-39 docker stats', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 2 } }, pull: true, vchName: 'vch-stats' });

  /** The --no-stream line of one container, once its memory shows (the runner samples every 2 s). */
  async function statsLine(name: string, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let line = '';
    while (Date.now() < deadline) {
      const r = await bed().docker(['stats', '--no-stream', '--format', '{{.Name}}|{{.ID}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.PIDs}}', name]);
      expect([r.code, r.stderr]).toEqual([0, '']);
      line = r.stdout.trim();
      if (!/\|0B \//.test(line)) return line;
      await new Promise((r) => setTimeout(r, 1000));
    }
    return line;
  }

  test(
    'GIVEN a running and a created container WHEN docker stats --no-stream runs THEN the running one shows its memory against its limit, the created one zeros, -a lists both and an unknown name is refused',
    async () => {
      const run = await bed().docker(['run', '-d', '-m', '256m', '--name', 'stats-1', bed().image, 'sh', '-c', 'while true; do sleep 1; done'], {
        timeoutMs: BOOT_MS,
      });
      expect(run.code).toBe(0);
      const id = run.stdout.trim();
      await waitUntilProcessRuns(bed(), 'stats-1');
      expect((await bed().docker(['create', '-m', '128m', '--name', 'stats-2', bed().image, 'true'])).code).toBe(0);

      const line = await statsLine('stats-1');
      const [name, shortId, cpu, mem, memPerc, pids] = line.split('|');
      expect([name, shortId]).toEqual(['stats-1', id.slice(0, 12)]);
      expect(cpu).toMatch(/^\d+\.\d\d%$/);
      // The guest's memory, read from its QEMU process, against the 256 MiB it was given.
      expect(mem).toMatch(/^\d+(\.\d+)?MiB \/ 256MiB$/);
      const usedMib = Number(/^([\d.]+)MiB/.exec(mem)?.[1]);
      expect(usedMib).toBeGreaterThan(0);
      expect(usedMib).toBeLessThanOrEqual(256);
      expect(Number(memPerc.replace('%', ''))).toBeCloseTo((usedMib / 256) * 100, 0);
      expect(pids).toBe('1');

      const stopped = await bed().docker(['stats', '--no-stream', '--format', '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}', 'stats-2']);
      expect([stopped.code, stopped.stdout.trim()]).toEqual([0, 'stats-2|0.00%|0B / 128MiB']);

      const all = await bed().docker(['stats', '--no-stream', '-a', '--format', '{{.Name}}']);
      expect(all.code).toBe(0);
      expect(all.stdout.split('\n').filter(Boolean).sort()).toEqual(['stats-1', 'stats-2']);

      const fake = await bed().docker(['stats', '--no-stream', 'fake']);
      expect(fake.code).toBe(1);
      expect(fake.stderr).toMatch(/No such container: fake/);

      // The API answer a script reads (VIC's "Stats API Memory Validation"): bytes, against the limit.
      const api = await bed().call('GET', `/containers/${id}/stats?stream=false`);
      expect(api.status).toBe(200);
      const doc = JSON.parse(api.body) as {
        id: string;
        name: string;
        memory_stats: { usage: number; limit: number };
        cpu_stats: { online_cpus: number; system_cpu_usage: number; cpu_usage: { total_usage: number } };
        precpu_stats: { system_cpu_usage: number; cpu_usage: { total_usage: number } };
      };
      expect([doc.id, doc.name, doc.memory_stats.limit, doc.cpu_stats.online_cpus]).toEqual([id, '/stats-1', 256 * 1024 * 1024, 1]);
      expect(doc.memory_stats.usage).toBeGreaterThan(0);
      expect(doc.cpu_stats.system_cpu_usage - doc.precpu_stats.system_cpu_usage).toBe(1e9);
      expect(doc.cpu_stats.cpu_usage.total_usage).toBeGreaterThanOrEqual(doc.precpu_stats.cpu_usage.total_usage);
    },
    BOOT_MS * 2,
  );

  test('GIVEN a running container WHEN its stats stream THEN a fresh sample comes each second until the client leaves, and the docker CLI shows them', async () => {
    // The API stream, read as a script would: one JSON document a line, each read anew.
    const client = certificateFiles(bed().certDir).clientDir;
    const reads: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: bed().endpoint.port,
          path: '/containers/stats-1/stats',
          ca: readFileSync(join(client, 'ca.pem')),
          cert: readFileSync(join(client, 'cert.pem')),
          key: readFileSync(join(client, 'key.pem')),
          servername: 'localhost',
        },
        (res) => {
          let buffered = '';
          res.on('data', (d: Buffer) => {
            buffered += d.toString('utf8');
            for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
              reads.push((JSON.parse(buffered.slice(0, nl)) as { read: string }).read);
              buffered = buffered.slice(nl + 1);
            }
            if (reads.length >= 3) {
              req.destroy();
              resolve();
            }
          });
          res.on('end', () => reject(new Error(`the stream ended after ${reads.length} samples`)));
        },
      );
      req.on('error', (err) => (reads.length >= 3 ? resolve() : reject(err)));
      req.end();
    });
    const times = reads.map((r) => Date.parse(r));
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(900);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(900);

    const child = spawn('docker', ['stats', '--format', '{{.Name}} {{.MemUsage}}', 'stats-1'], { env: bed().env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const samples = () => out.split('\n').filter((l) => /stats-1 [\d.]+MiB \/ 256MiB/.test(l)).length;
    const deadline = Date.now() + 20_000;
    while (samples() < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    expect(samples()).toBeGreaterThanOrEqual(3);
  }, 40_000);
});
