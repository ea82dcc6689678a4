/**
 * The Pulumi provider process's create, when Pulumi plans the resources registered after it while it
 * runs: Pulumi's engine handles registrations in the order their RPCs arrive, so under load a second
 * Image on `app@sha256:…` may be checked and created before the existing Image on `app:v1` is
 * diffed. The existing one's diff is then refused as a duplicate while the create is under way; the
 * create must not stay (before: `pulumi up` failed but had made the second image). Driven here at the
 * provider host, as Pulumi's calls would come, against the simulator and a real registry: the
 * order cannot be forced through the `pulumi` CLI (test/pulumi/safety.test.ts runs the usual one).
 */
import { ProviderHost } from '../../pulumi-component/provider-host';
import type { Engine } from '../../src/engine';
import type { VimClient } from '../../src/vsphere';
import { connectTestClient, connectTestEngine } from '../helpers/engine';
import { APP_IMAGE } from '../helpers/oci-layout';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { connectionConfig, simulatorPlacement } from './project';

describe('pulumi provider host: a create racing its existing twin', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  let outside: VimClient;
  const engines: Engine[] = [];

  /** A provider process as Pulumi starts one per `pulumi up`, on the simulator's settings. */
  function providerProcess(): ProviderHost {
    const host = new ProviderHost(async () => {
      const engine = await connectTestEngine(sim());
      engines.push(engine);
      return engine;
    });
    const config = connectionConfig(sim());
    host.configure((key) => config[key]?.value);
    return host;
  }

  /** A VCH and an Image on race/app:v1 in it, made by one provider process (the `pulumi up` before). */
  async function vchWithApp(name: string, resourceName: string) {
    const { resourcePoolId, datastoreId } = await simulatorPlacement(outside);
    const first = providerProcess();
    const vch = await first.create('virtual_container_host', {
      name,
      compute: resourcePoolId,
      datastore: datastoreId,
      bridgeNetwork: 'VM Network',
      vicResourceName: resourceName,
    });
    const appNews = { vchId: vch.id, reference: `${registry().host}/race/app:v1`, insecureRegistry: true, vicResourceName: 'app' };
    return { vch, appNews, app: await first.create('image', appNews) };
  }

  beforeAll(async () => {
    await registry().pushImage(APP_IMAGE, 'race/app:v1');
    outside = await connectTestClient(sim());
  });
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()));
    await outside?.close();
  });

  it('GIVEN an Image on a tag WHEN a second Image on its digest is created while the first is diffed THEN the diff is refused as a duplicate, the create is undone, and the first image keeps the disk alone', async () => {
    const { vch, appNews, app } = await vchWithApp('vch-race', 'race');
    const digest = String(app.id);

    // The next `pulumi up`, with the second Image registered first.
    const next = providerProcess();
    const pinnedNews = { vchId: vch.id, reference: `${registry().host}/race/app@${digest}`, insecureRegistry: true, vicResourceName: 'app-pinned' };
    expect((await next.checkInputs('image', undefined, pinnedNews)).failures).toEqual([]);
    // The create waits in the image's lock (its first MakeDirectory) while the existing Image is diffed.
    const [held] = await sim().control.addFault({ method: 'MakeDirectory', kind: 'delay', delayMs: 1500, times: 1 });
    const created = next.create('image', pinnedNews);
    created.catch(() => undefined);
    // The existing Image's diff claims its object as it starts, so it only has to start while the create is held.
    for (let i = 0; i < 1500 && (await sim().control.faults()).find((r) => r.id === held.id)?.hits === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await expect(next.diff('image', digest, app.outs, appNews)).rejects.toThrow(/Duplicate image/);

    // Before: the create went on, and the stored image had two holders, one of them outside the stack.
    await expect(created).rejects.toThrow(
      new RegExp(`cannot create image ".*race/app@${digest}":\\n.*Duplicate image: .*both resolve to id = "${digest}"`, 's'),
    );
    // The first Image is the disk's only holder again: its delete (a later `pulumi destroy`) deletes the disk, not only a name.
    const engine = await connectTestEngine(sim());
    engines.push(engine);
    expect((await engine.listIn('image', String(vch.id))).map((i) => i.references)).toEqual([[appNews.reference]]);
    await providerProcess().delete('image', digest, app.outs);
    expect(await engine.listIn('image', String(vch.id))).toEqual([]);
  });

  it('GIVEN an Image on a tag WHEN a second Image on the same reference is created while the first is checked THEN the check is refused as a duplicate, the create fails having added and deleted nothing, and the first image keeps its name', async () => {
    const { vch, appNews, app } = await vchWithApp('vch-race-same', 'race-same');

    // The next `pulumi up`, with the copy registered (checked and created) before the existing Image is checked.
    const next = providerProcess();
    const copyNews = { ...appNews, vicResourceName: 'app-copy' };
    expect((await next.checkInputs('image', undefined, copyNews)).failures).toEqual([]);
    const [held] = await sim().control.addFault({ method: 'MakeDirectory', kind: 'delay', delayMs: 1500, times: 1 });
    const created = next.create('image', copyNews);
    created.catch(() => undefined);
    for (let i = 0; i < 1500 && (await sim().control.faults()).find((r) => r.id === held.id)?.hits === 0; i++) await new Promise((r) => setTimeout(r, 20));
    // The existing Image's check comes now: refused, the identity being the copy's already.
    const late = await next.checkInputs('image', app.outs, appNews);
    expect(late.failures?.map((f) => f.reason).join('\n')).toMatch(/Duplicate image/);

    // Before: only the object's contest was looked at after the create, and the copy stayed.
    await expect(created).rejects.toThrow(/cannot create image ".*race\/app:v1":\n.*Duplicate image/s);
    const engine = await connectTestEngine(sim());
    engines.push(engine);
    expect((await engine.listIn('image', String(vch.id))).map((i) => i.references)).toEqual([[appNews.reference]]);
  });
});
