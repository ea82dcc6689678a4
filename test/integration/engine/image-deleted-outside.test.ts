/**
 * A container VM planned over an image whose disk is then deleted outside vic-iac: vSphere (and the
 * launcher, as ESX does) refuses a VM whose child disk names a parent that is gone. The create path
 * Terraform, Pulumi and the vic CLI share turns that refusal into an error naming the image and what
 * to do, and leaves nothing behind.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import { containerVmUuid } from '../../../src/resources/container-vm.lifecycle';
import type { VimClient } from '../../../src/vsphere';
import { deleteDatastoreFile } from '../../../src/vsphere/file-manager';
import { Inventory } from '../../../src/vsphere/inventory';
import { applied, connectTestClient, connectTestEngine, vchWithImage } from '../../helpers/engine';
import { writeOciLayout } from '../../helpers/oci-layout';
import { useRegistry } from '../../helpers/registry';
import { useSimulator } from '../../helpers/vcsim';

describe('container_vm create over an image deleted outside vic-iac', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  let engine: Engine;
  let outside: VimClient;
  let scratch: string;
  let vch: Attrs;
  let img: Attrs;

  beforeAll(async () => {
    engine = await connectTestEngine(sim());
    outside = await connectTestClient(sim());
    scratch = await mkdtemp(join(tmpdir(), 'vic-image-gone-'));
    const layout = await writeOciLayout(join(scratch, 'app'), 'v1', [
      { layers: [{ entries: [{ type: 'file', path: 'app', content: '#!/bin/sh\necho hi\n', mode: 0o755 }] }], config: { Entrypoint: ['/app'] } },
    ]);
    await registry().push(layout.dir, 'v1', 'test/gone:v1');
    ({ vch, img } = await vchWithImage(engine, 'vch-gone', `${registry().host}/test/gone:v1`));
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await outside?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const hex = () => String(img.id).slice('sha256:'.length);
  const deleteImageDisk = async () => {
    const dc = await new Inventory(outside).datacenter('DC0');
    await deleteDatastoreFile(outside, `[LocalDS_0] vch-gone/images/${hex()}`, dc.ref);
  };
  const noVmNamed = async (name: string) => {
    expect(await new Inventory(outside).findVmByUuid(containerVmUuid(String(vch.id), name))).toBeUndefined();
    expect((await engine.listIn('container_vm', String(vch.id))).map((vm) => vm.name)).not.toContain(name);
  };

  it('GIVEN a container VM planned over an image WHEN the image disk is deleted through the vSphere API before the apply THEN the apply fails on image_id, naming the image and what to do, and no VM is made', async () => {
    const plan = await engine.plan('container_vm', null, { vch_id: vch.id, image_id: img.id, name: 'before-apply', power_state: 'running' });
    expect({ action: plan.action, problems: plan.problems }).toEqual({ action: 'create', problems: [] });
    await deleteImageDisk();

    const failure = await engine.apply(plan).then(
      () => undefined,
      (e: unknown) => e as Error & { attribute?: string },
    );
    expect(failure?.attribute).toBe('image_id');
    expect(failure?.message).toBe(
      `image ${String(img.id)} is not in the image store [LocalDS_0] vch-gone of VCH "vch-gone". Create it with a vic_image resource on this VCH first.`,
    );
    await noVmNamed('before-apply');
  });

  it('GIVEN a container VM being created WHEN its image disk is deleted through the vSphere API while its CreateVM_Task is on its way THEN vSphere refuses the VM and the apply fails on image_id, naming the image and what to do, and no VM is made', async () => {
    // The image again, by the next command (the test before deleted it): the same digest is pulled and uploaded anew.
    const next = engine.forCommand();
    img = await applied(next, await next.plan('image', null, { vch_id: vch.id, reference: `${registry().host}/test/gone:v1`, insecure_registry: true }));
    const plan = await engine.plan('container_vm', null, { vch_id: vch.id, image_id: img.id, name: 'during-create', power_state: 'running' });
    expect(plan.problems).toEqual([]);
    // The create checks the image store just before it asks for the VM: the disk goes in between.
    const [rule] = await sim().control.addFault({ method: 'CreateVM_Task', kind: 'delay', delayMs: 1500 });
    try {
      const applying = engine.apply(plan).then(
        () => undefined,
        (e: unknown) => e as Error & { attribute?: string },
      );
      for (let i = 0; i < 100 && !(await sim().control.faults()).some((r) => r.id === rule.id && (r.hits ?? 0) > 0); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await deleteImageDisk();
      const failure = await applying;
      expect(failure?.attribute).toBe('image_id');
      expect(failure?.message).toContain(`image ${String(img.id)} is no longer in the image store [LocalDS_0] vch-gone of VCH "vch-gone"`);
      expect(failure?.message).toContain('vSphere refused to make container VM "during-create" over its disk');
      // vSphere's own refusal, for whoever looks for the task in vCenter.
      expect(failure?.message).toContain('failed with InvalidDeviceSpec');
      expect(failure?.message).toContain('Nothing was created. Create the image again');
    } finally {
      await sim().control.clearFaults();
    }
    await noVmNamed('during-create');
  });
});
