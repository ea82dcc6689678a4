/**
 * bootstrap.iso is reproducible: a second build of the same sources and Debian packages is
 * byte-identical, so the VCH's content-addressed upload skips an unchanged ISO.
 */
import { execFile } from 'node:child_process';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureBootstrapIso, projectRoot } from '../helpers/qemu';

const execFileAsync = promisify(execFile);

describe('bootstrap.iso build', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'vic-iso-'));
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('GIVEN the cached ISO WHEN the ISO is built again from the same inputs THEN the two are byte-identical', async () => {
    const cached = await ensureBootstrapIso();
    const again = join(work, 'bootstrap.iso');
    await execFileAsync('bash', [join(projectRoot(), 'scripts', 'build-bootstrap-iso.sh'), again], {
      cwd: projectRoot(),
      maxBuffer: 16 * 1024 * 1024,
    });
    const [a, b] = await Promise.all([readFile(cached), readFile(again)]);
    expect(b.length).toBe(a.length);
    expect(b.equals(a)).toBe(true);
  }, 240_000);

  test('GIVEN the ISO WHEN its manifest is read THEN it lists the kernel, the drivers loaded at every boot and on demand, and the tether', async () => {
    const versions = await readFile(`${await ensureBootstrapIso()}.versions`, 'utf8');
    expect(versions).toMatch(/^kernel \d+\.\d+\.\d+-\d+-amd64$/m);
    const atEveryBoot = /^modules (.*)$/m.exec(versions)?.[1].split(' ') ?? [];
    for (const m of ['vmw_pvscsi.ko', 'vmxnet3.ko', 'virtio_blk.ko', 'virtio_pci.ko', 'virtio_scsi.ko', 'ext4.ko', 'qemu_fw_cfg.ko', 'sd_mod.ko']) {
      expect(atEveryBoot).toContain(m);
    }
    const onDemand = /^modules-on-demand (.*)$/m.exec(versions)?.[1].split(' ') ?? [];
    for (const m of ['ata_piix.ko', 'ahci.ko', 'sr_mod.ko', 'isofs.ko']) {
      expect(onDemand).toContain(m);
    }
    expect(versions).toMatch(/^tether sha256:[0-9a-f]{64}$/m);
    expect(versions).toMatch(/^busybox-static /m);
  }, 120_000);
});
