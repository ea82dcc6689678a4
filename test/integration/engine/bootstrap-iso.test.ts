/**
 * A VCH that names no bootstrap_iso gets the local ISO uploaded into its image store, once per
 * content: an unchanged ISO is not uploaded again, a changed one shows in the plan and is.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine, type Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import { VimClient, downloadDatastoreFile } from '../../../src/vsphere';
import { useSimulator } from '../../helpers/vcsim';
import { connectTestClient, settingsFor } from '../../helpers/engine';

async function download(client: VimClient, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await downloadDatastoreFile(client, { datacenter: 'DC0', datastore: 'LocalDS_0', path })) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('bootstrap ISO upload', () => {
  const sim = useSimulator();
  let engine: Engine;
  let outside: VimClient;
  let dir: string;
  let iso: string;
  let vch: Attrs;
  const config = { name: 'vch-iso', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0' };
  const puts = () => (engine as unknown as { client: VimClient }).client.stats.calls('HTTP PUT /folder');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vic-iso-test-'));
    iso = join(dir, 'bootstrap.iso');
    await writeFile(iso, Buffer.alloc(256 * 1024, 7));
    engine = await connectEngine(settingsFor(sim()), { bootstrapIsoFile: iso });
    outside = await connectTestClient(sim());
  });
  afterAll(async () => {
    await engine?.close();
    await outside?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('GIVEN a local ISO WHEN a VCH without bootstrap_iso is created THEN the ISO is in its image store', async () => {
    vch = (await engine.apply(await engine.plan('virtual_container_host', null, config))) as Attrs;
    expect(vch.bootstrap_iso).toBe('[LocalDS_0] vch-iso/bootstrap.iso');
    expect((await download(outside, 'vch-iso/bootstrap.iso')).equals(Buffer.alloc(256 * 1024, 7))).toBe(true);
  });

  it('GIVEN the same ISO WHEN planned again THEN no changes and nothing uploaded', async () => {
    const before = puts();
    const [read] = await engine.read([{ type: 'virtual_container_host', state: vch }]);
    const plan = await engine.plan('virtual_container_host', read, config);
    expect(plan.action).toBe('no-op');
    expect(puts()).toBe(before);
  });

  it('GIVEN the VCH marker read by the refresh (the plans of its images and container VMs need it too) WHEN the VCH is planned THEN it comes from the memo: the plan only lists the datacenters', async () => {
    // A command of its own, as a `terraform plan` is: nothing in its memo yet.
    const command = await connectEngine(settingsFor(sim()), { bootstrapIsoFile: iso });
    try {
      const client = (command as unknown as { client: VimClient }).client;
      const [read] = await command.read([{ type: 'virtual_container_host', state: vch }]);
      const before = client.stats.snapshot();
      const plan = await command.plan('virtual_container_host', read, config);
      expect(plan.action).toBe('no-op');
      const after = client.stats.snapshot();
      const made = Object.fromEntries(
        Object.keys(after)
          .map((m) => [m, after[m] - (before[m] ?? 0)])
          .filter(([, n]) => n !== 0),
      );
      // The only datacenter, as the VCH names none (one traversal of the folders); the marker (a
      // RetrievePropertiesEx of the pool) is not read again.
      expect(made).toEqual({ RetrievePropertiesEx: 1 });
    } finally {
      await command.close();
    }
  });

  it('GIVEN a rebuilt ISO WHEN planned THEN an update that says why; applied THEN the new content is uploaded once', async () => {
    await writeFile(iso, Buffer.alloc(128 * 1024, 9));
    const plan = await engine.plan('virtual_container_host', vch, config);
    expect(plan.action).toBe('update');
    expect(plan.reasons).toEqual([expect.stringMatching(/^bootstrap ISO: the local ISO changed \(sha256 [0-9a-f]{12}…\); it will be uploaded again$/)]);
    const before = puts();
    vch = (await engine.apply(plan)) as Attrs;
    expect(puts() - before).toBe(2); // the ISO, then its sha256 record
    expect((await download(outside, 'vch-iso/bootstrap.iso')).equals(Buffer.alloc(128 * 1024, 9))).toBe(true);
    expect((await engine.plan('virtual_container_host', vch, config)).action).toBe('no-op');
  });
});
