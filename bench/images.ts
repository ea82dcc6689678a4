/**
 * Benchmark of the image pipeline against the raw tools doing the same steps, in the same run, on
 * the same machine and peers:
 *
 *   pipeline:  buildImage(registry → verified blobs → flatten → mke2fs → VMDK → datastore)
 *   raw tools: skopeo copy docker:// → dir:, tar -x of each layer, mke2fs -d, curl -T (HTTP PUT)
 *
 * The registry is Debian's docker-registry on 127.0.0.1, the datastore is vcsim's LocalDS_0. The
 * image is generated here (small text files, incompressible blobs, compressible data, symlinks).
 * Results: bench/results/images.json, and a table on stdout. Lower ratios are better; 1.0 means
 * as fast as the tools chained by hand (which verify less and apply no whiteouts).
 *
 *   npx tsx bench/images.ts            # VIC_BENCH_SCALE=0.5 halves the image, VIC_BENCH_RUNS=5
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildImage, DatastoreImageStore, type ImageInfo } from '../src/images';
import { startSimulator } from '../src/sim/simulator';
import { datastoreFileUrl, deleteDatastoreFile, datastorePath, Inventory, VimClient } from '../src/vsphere';
import { writeOciLayout, type ImageSpec, type TarEntrySpec } from '../test/helpers/oci-layout';
import { startRegistry } from '../test/helpers/registry';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const SCALE = Number(process.env.VIC_BENCH_SCALE ?? '1');
const RUNS = Number(process.env.VIC_BENCH_RUNS ?? '3');
const DS = 'LocalDS_0';

function benchImage(): { spec: ImageSpec; files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const file = (path: string, content: Buffer): TarEntrySpec => {
    files++;
    bytes += content.length;
    return { type: 'file', path, content, mode: 0o644 };
  };
  const text = (n: number) => Buffer.from(`line ${n}: the quick brown fox jumps over the lazy dog ${'x'.repeat(n % 50)}\n`.repeat(60));
  const small: TarEntrySpec[] = [];
  for (let i = 0; i < Math.round(2000 * SCALE); i++) small.push(file(`usr/share/doc/pkg${i % 100}/file${i}.txt`, text(i)));
  const blobs: TarEntrySpec[] = [];
  for (let i = 0; i < Math.max(1, Math.round(4 * SCALE)); i++) blobs.push(file(`opt/data/blob${i}.bin`, randomBytes(32 * MiB)));
  const compressible: TarEntrySpec[] = [];
  for (let i = 0; i < Math.max(1, Math.round(16 * SCALE)); i++) {
    const chunk = Buffer.concat([randomBytes(64 * 1024), Buffer.alloc(192 * 1024, i)]);
    compressible.push(file(`var/lib/app/part${i}.dat`, Buffer.concat(Array.from({ length: 16 }, () => chunk))));
  }
  const mixed: TarEntrySpec[] = [];
  for (let i = 0; i < Math.round(500 * SCALE); i++) {
    mixed.push(file(`usr/lib/mod${i % 20}/lib${i}.so`, randomBytes(1024 + ((i * 7919) % (256 * 1024)))));
    if (i % 5 === 0) mixed.push({ type: 'symlink', path: `usr/lib/mod${i % 20}/lib${i}.so.1`, target: `lib${i}.so` });
  }
  const spec: ImageSpec = {
    layers: [{ entries: small }, { entries: blobs }, { entries: compressible }, { entries: mixed }],
    config: { Cmd: ['/bin/true'] },
  };
  return { spec, files, bytes };
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = process.hrtime.bigint();
  const value = await work();
  return { value, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main(): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'vic-bench-images-'));
  const registry = await startRegistry();
  const sim = await startSimulator();
  const client = await VimClient.connect({ url: sim.url, username: sim.username, password: sim.password, thumbprint: sim.thumbprint });
  try {
    const dc = await new Inventory(client).datacenter();
    const image = benchImage();
    process.stderr.write(`[bench] generating a ${Math.round(image.bytes / MiB)} MiB image (${image.files} files)…\n`);
    const layout = await writeOciLayout(join(scratch, 'layout'), 'v1', [image.spec]);
    await registry.push(layout.dir, 'v1', 'bench/app:v1');
    const reference = `${registry.host}/bench/app:v1`;
    const compressedBytes = (
      await Promise.all(layout.layerDigests[0].map(async (d) => (await stat(join(layout.dir, 'blobs/sha256', d.slice(7)))).size))
    ).reduce((a, b) => a + b, 0);

    const pipelineRuns: { total: number; pullBuild: number; upload: number; peakRssMb: number; info: ImageInfo }[] = [];
    const rawRuns: { skopeo: number; tar: number; mke2fs: number; curl: number; total: number }[] = [];

    const runPipeline = async (i: number) => {
      const store = new DatastoreImageStore({ client, datacenter: { ref: dc.ref, path: dc.name }, datastore: DS, path: `bench-pipeline-${i}` });
      const workDir = join(scratch, `work-${i}`);
      await mkdir(workDir);
      const rssBefore = process.memoryUsage().rss;
      let peakRss = rssBefore;
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }, 25);
      let uploadStartedAt: bigint | undefined;
      const start = process.hrtime.bigint();
      const info = await buildImage(
        {
          reference,
          insecureRegistry: true,
          workDir,
          onProgress: (e) => {
            if (e.phase === 'upload' && uploadStartedAt === undefined) uploadStartedAt = process.hrtime.bigint();
          },
        },
        store,
      ).finally(() => clearInterval(sampler));
      const end = process.hrtime.bigint();
      const split = uploadStartedAt ?? end;
      pipelineRuns.push({
        total: Number(end - start) / 1e9,
        pullBuild: Number(split - start) / 1e9,
        upload: Number(end - split) / 1e9,
        peakRssMb: (peakRss - rssBefore) / MiB,
        info,
      });
      await deleteDatastoreFile(client, datastorePath(DS, `bench-pipeline-${i}`), dc.ref);
      return info;
    };

    const runRawTools = async (i: number, sizeBytes: number) => {
      const dir = join(scratch, `raw-${i}`);
      const rootfs = join(dir, 'rootfs');
      await mkdir(rootfs, { recursive: true });
      const skopeo = await timed(() =>
        run('skopeo', ['copy', '--quiet', '--insecure-policy', '--src-tls-verify=false', `docker://${reference}`, `dir:${join(dir, 'image')}`]),
      );
      const manifest = JSON.parse(await readFile(join(dir, 'image', 'manifest.json'), 'utf8')) as { layers: { digest: string }[] };
      const tar = await timed(async () => {
        for (const layer of manifest.layers) await run('tar', ['-xpf', join(dir, 'image', layer.digest.slice(7)), '-C', rootfs, '--numeric-owner']);
      });
      const disk = join(dir, 'disk.img');
      const mke2fs = await timed(() => run('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '4096', '-m', '0', '-d', rootfs, disk, `${sizeBytes / 1024}k`]));
      const url = datastoreFileUrl(client, { datacenter: dc.name, datastore: DS, path: `bench-raw-${i}/disk-flat.vmdk` });
      const cookie = client.transport.sessionCookie ?? '';
      const curl = await timed(() =>
        run('curl', ['-sS', '-f', '-k', '-T', disk, '-H', `Cookie: ${cookie}`, '-H', 'Content-Type: application/octet-stream', url.toString()]),
      );
      rawRuns.push({
        skopeo: skopeo.seconds,
        tar: tar.seconds,
        mke2fs: mke2fs.seconds,
        curl: curl.seconds,
        total: skopeo.seconds + tar.seconds + mke2fs.seconds + curl.seconds,
      });
      await rm(dir, { recursive: true, force: true });
      await deleteDatastoreFile(client, datastorePath(DS, `bench-raw-${i}`), dc.ref);
    };

    // A warm-up pipeline run sizes the filesystem for the raw mke2fs, so both write the same bytes.
    const warm = await runPipeline(0);
    pipelineRuns.length = 0;
    for (let i = 1; i <= RUNS; i++) {
      process.stderr.write(`[bench] run ${i}/${RUNS}\n`);
      // Alternate the order so neither side always gets the warmer page cache.
      if (i % 2) {
        await runPipeline(i);
        await runRawTools(i, warm.sizeBytes);
      } else {
        await runRawTools(i, warm.sizeBytes);
        await runPipeline(i);
      }
    }

    const p = {
      total: median(pipelineRuns.map((r) => r.total)),
      pullBuild: median(pipelineRuns.map((r) => r.pullBuild)),
      upload: median(pipelineRuns.map((r) => r.upload)),
      peakRssMb: Math.max(...pipelineRuns.map((r) => r.peakRssMb)),
    };
    const r = {
      skopeo: median(rawRuns.map((x) => x.skopeo)),
      tar: median(rawRuns.map((x) => x.tar)),
      mke2fs: median(rawRuns.map((x) => x.mke2fs)),
      curl: median(rawRuns.map((x) => x.curl)),
      total: median(rawRuns.map((x) => x.total)),
    };
    const rawPullBuild = r.skopeo + r.tar + r.mke2fs;
    const round = (n: number, digits = 3) => Number(n.toFixed(digits));
    const result = {
      benchmark: 'image-pipeline',
      description:
        'buildImage (registry -> verified blobs -> flatten -> mke2fs -> VMDK -> datastore HTTP) vs skopeo copy to dir + tar -x + mke2fs -d + curl -T, same run, medians',
      machine: '2 cores shared, docker-registry and vcsim on 127.0.0.1',
      runs: RUNS,
      image: {
        layers: layout.layerDigests[0].length,
        files: image.files,
        content_mib: round(image.bytes / MiB, 1),
        compressed_mib: round(compressedBytes / MiB, 1),
        disk_mib: round(warm.sizeBytes / MiB, 1),
      },
      pipeline_s: { pull_and_build: round(p.pullBuild), upload: round(p.upload), total: round(p.total) },
      raw_tools_s: { skopeo_copy: round(r.skopeo), tar_extract: round(r.tar), mke2fs: round(r.mke2fs), curl_put: round(r.curl), total: round(r.total) },
      ratio_pipeline_over_raw: {
        pull_and_build: round(p.pullBuild / rawPullBuild, 2),
        upload: round(p.upload / r.curl, 2),
        total: round(p.total / r.total, 2),
      },
      throughput_mib_s: { pipeline: round(image.bytes / MiB / p.total, 1), raw_tools: round(image.bytes / MiB / r.total, 1) },
      pipeline_peak_rss_growth_mib: round(p.peakRssMb, 1),
      measured_at: new Date().toISOString(),
    };
    await mkdir(join(__dirname, 'results'), { recursive: true });
    await writeFile(join(__dirname, 'results', 'images.json'), `${JSON.stringify(result, null, 2)}\n`);

    const rows: [string, string, string, string][] = [
      ['step', 'pipeline (s)', 'raw tools (s)', 'ratio'],
      [
        'pull + flatten + mke2fs',
        p.pullBuild.toFixed(2),
        `${rawPullBuild.toFixed(2)} (skopeo ${r.skopeo.toFixed(2)} + tar ${r.tar.toFixed(2)} + mke2fs ${r.mke2fs.toFixed(2)})`,
        (p.pullBuild / rawPullBuild).toFixed(2),
      ],
      ['upload to datastore', p.upload.toFixed(2), `${r.curl.toFixed(2)} (curl -T)`, (p.upload / r.curl).toFixed(2)],
      ['total', p.total.toFixed(2), r.total.toFixed(2), (p.total / r.total).toFixed(2)],
    ];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
    for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join(' | '));
    console.log(
      `image: ${result.image.content_mib} MiB in ${image.files} files, ${result.image.compressed_mib} MiB compressed, ${result.image.disk_mib} MiB disk; ` +
        `throughput ${result.throughput_mib_s.pipeline} vs ${result.throughput_mib_s.raw_tools} MiB/s; pipeline peak RSS growth ${result.pipeline_peak_rss_growth_mib} MiB; runs ${RUNS} (medians)`,
    );
  } finally {
    await client.close().catch(() => undefined);
    await sim.stop();
    await registry.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
