/**
 * The same ISO boots on EFI firmware (OVMF) through its GRUB EFI image, not only on BIOS through
 * isolinux: vSphere VMs may use either.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootContainerVm, createOverlay, describeBoot, ensureBootstrapIso, reportedExitStatus } from '../helpers/qemu';
import { buildProbeImageDisk, PROBE_ENTRYPOINT } from './probe-image';

const ROOTFS_UUID = '8d0e3c55-2a71-8b94-a6c0-5e1f2a3b4c6d';
const BOOT_TIMEOUT_MS = 150_000;

describe('container VM boot on EFI firmware', () => {
  let work: string;
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  test(
    'GIVEN OVMF firmware WHEN the VM boots the ISO THEN GRUB starts the kernel, the entrypoint runs and the VM powers off',
    async () => {
      const iso = await ensureBootstrapIso();
      work = await mkdtemp(join(tmpdir(), 'vic-efi-'));
      const image = join(work, 'image.raw');
      await buildProbeImageDisk(image, ROOTFS_UUID);
      const overlay = join(work, 'efi.qcow2');
      await createOverlay(image, overlay);
      const config = join(work, 'config.json');
      await writeFile(config, JSON.stringify({ version: 1, name: 'efi', entrypoint: [PROBE_ENTRYPOINT], cmd: ['on-efi'], rootfs: { uuid: ROOTFS_UUID } }));

      const boot = await bootContainerVm({ iso, disk: overlay, configFile: config, firmware: 'efi', timeoutMs: BOOT_TIMEOUT_MS });

      expect({ exitCode: boot.exitCode, timedOut: boot.timedOut, context: describeBoot(boot) }).toMatchObject({ exitCode: 0, timedOut: false });
      expect(boot.console).toContain('UEFI QEMU DVD-ROM');
      expect(boot.lines.map((l) => l.text)).toContain('probe-arg: [on-efi]');
      expect(reportedExitStatus(boot)).toBe(0);
    },
    BOOT_TIMEOUT_MS + 60_000,
  );
});
