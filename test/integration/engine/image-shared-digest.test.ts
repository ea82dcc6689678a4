/**
 * Two image resources in two states (two Terraform workspaces, a stack and `docker pull`) whose
 * references resolve to one digest share the one disk of that digest in the VCH's store; no plan
 * sees both. Destroying one must leave the disk the other still holds, and the last one deletes it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import { applied, connectTestEngine } from '../../helpers/engine';
import { writeOciLayout } from '../../helpers/oci-layout';
import { useRegistry } from '../../helpers/registry';
import { useSimulator } from '../../helpers/vcsim';

describe('image delete with another reference of its digest in another state', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  let engine: Engine;
  let scratch: string;
  let vch: Attrs;

  beforeAll(async () => {
    engine = await connectTestEngine(sim());
    scratch = await mkdtemp(join(tmpdir(), 'vic-shared-digest-'));
    const layout = await writeOciLayout(join(scratch, 'app'), 'v1', [
      { layers: [{ entries: [{ type: 'file', path: 'app', content: '#!/bin/sh\necho hi\n', mode: 0o755 }] }], config: { Entrypoint: ['/app'] } },
    ]);
    // One manifest under two tags: one digest.
    await registry().push(layout.dir, 'v1', 'test/shared:1.36');
    await registry().push(layout.dir, 'v1', 'test/shared:latest');
    await registry().push(layout.dir, 'v1', 'test/shared:stable');
    vch = await applied(
      engine,
      await engine.plan('virtual_container_host', null, {
        name: 'vch-shared',
        compute: '/DC0/host/DC0_C0',
        datastore: 'LocalDS_0',
        bridge_network: 'VM Network',
      }),
    );
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** An image made by a command of its own, as another workspace's apply makes it. */
  const imageOf = async (reference: string): Promise<Attrs> => {
    const command = engine.forCommand();
    return applied(command, await command.plan('image', null, { vch_id: vch.id, reference, insecure_registry: true }));
  };
  const destroy = async (state: Attrs): Promise<void> => {
    const command = engine.forCommand();
    const plan = await command.plan('image', state, null);
    expect(plan.action).toBe('delete');
    await command.apply(plan);
  };
  const refreshed = async (state: Attrs) => (await engine.forCommand().read([{ type: 'image', state }]))[0];

  it('GIVEN two states holding one digest by a tag and by @digest WHEN one is destroyed THEN the other still reads its image, and destroying it too deletes the disk', async () => {
    const tagged = await imageOf(`${registry().host}/test/shared:1.36`);
    const pinned = await imageOf(`${registry().host}/test/shared@${String(tagged.id)}`);
    expect(pinned.id).toBe(tagged.id);
    expect(pinned.disk_path).toBe(tagged.disk_path);

    await destroy(tagged);
    expect(await refreshed(pinned)).toMatchObject({ id: pinned.id, disk_path: pinned.disk_path, reference: pinned.reference });
    const listed = await engine.forCommand().listIn('image', String(vch.id));
    expect(listed.map((i) => [i.id, i.references])).toEqual([[pinned.id, [pinned.reference]]]);

    await destroy(pinned);
    expect(await refreshed(pinned)).toBeNull();
  });

  it('GIVEN one digest pulled under three tags at once in one process (an endpoint) THEN the store records all three, and each destroy but the last keeps the disk', async () => {
    const first = await imageOf(`${registry().host}/test/shared:1.36`);
    // Two more names of the digest at once: each adds itself to the list the store keeps.
    const [second, third] = await Promise.all([imageOf(`${registry().host}/test/shared:latest`), imageOf(`${registry().host}/test/shared:stable`)]);
    const listed = await engine.forCommand().listIn('image', String(vch.id));
    expect(listed.map((i) => [...(i.references as string[])].sort())).toEqual([[first.reference, second.reference, third.reference].sort()]);
    await destroy(third);
    await destroy(first);
    expect(await refreshed(second)).toMatchObject({ id: second.id });
    await destroy(second);
    expect(await refreshed(second)).toBeNull();
  });

  it('GIVEN two states holding one digest by two tags WHEN the second is destroyed first THEN the first keeps the disk, and is then the last one to delete it', async () => {
    const first = await imageOf(`${registry().host}/test/shared:1.36`);
    const second = await imageOf(`${registry().host}/test/shared:latest`);
    expect(second.id).toBe(first.id);
    await destroy(second);
    expect(await refreshed(first)).toMatchObject({ id: first.id });
    await destroy(first);
    expect(await refreshed(first)).toBeNull();
  });
});
