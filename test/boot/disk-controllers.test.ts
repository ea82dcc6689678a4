/**
 * The tether finds the container disk on whichever controller carries it: PVSCSI at once (the
 * other boot tests), virtio at once, and SATA after loading its on-demand drivers.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootContainerVm, createOverlay, describeBoot, ensureBootstrapIso, reportedExitStatus, tetherLines } from '../helpers/qemu';
import { buildProbeImageDisk, PROBE_ENTRYPOINT } from './probe-image';

const ROOTFS_UUID = '5b2e9f70-4c13-8d26-b8e1-7a9c0d1e2f3a';
const BOOT_TIMEOUT_MS = 150_000;

describe('container disk on other controllers', () => {
  let work: string;
  let iso: string;
  let image: string;
  beforeAll(async () => {
    iso = await ensureBootstrapIso();
    work = await mkdtemp(join(tmpdir(), 'vic-controllers-'));
    image = join(work, 'image.raw');
    await buildProbeImageDisk(image, ROOTFS_UUID);
  }, 180_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  test.each([
    ['virtio', 'vda', false],
    ['sata', 'sda', true],
  ] as const)(
    'GIVEN the image disk on %s WHEN the VM boots THEN the tether finds it as /dev/%s and the entrypoint runs',
    async (bus, device, needsOnDemandDrivers) => {
      const overlay = join(work, `${bus}.qcow2`);
      await createOverlay(image, overlay);
      const config = join(work, `${bus}.json`);
      await writeFile(config, JSON.stringify({ version: 1, name: bus, entrypoint: [PROBE_ENTRYPOINT], cmd: [bus], rootfs: { uuid: ROOTFS_UUID } }));

      const boot = await bootContainerVm({ iso, disk: overlay, configFile: config, diskBus: bus, timeoutMs: BOOT_TIMEOUT_MS });

      expect({ exitCode: boot.exitCode, timedOut: boot.timedOut, context: describeBoot(boot) }).toMatchObject({ exitCode: 0, timedOut: false });
      expect(tetherLines(boot)).toContain(`container filesystem: /dev/${device} (ext4 UUID ${ROOTFS_UUID}, label "vic-rootfs")`);
      expect(tetherLines(boot).some((l) => l.startsWith('no container disk on PVSCSI or virtio'))).toBe(needsOnDemandDrivers);
      expect(boot.lines.map((l) => l.text)).toContain(`probe-arg: [${bus}]`);
      expect(reportedExitStatus(boot)).toBe(0);
    },
    BOOT_TIMEOUT_MS + 30_000,
  );
});
