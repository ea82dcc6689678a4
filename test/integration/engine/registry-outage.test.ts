/**
 * A registry that goes down after its image was stored: the plans of what uses the stored image go
 * on (a user must be able to resize or stop a container VM during an outage), with a warning that
 * names the registry; what needs the registry (a new image, another tag) is still refused with the
 * reason. The same engine path serves Terraform, Pulumi, the vic CLI and the Docker endpoint.
 */
import type { Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import { applied, connectTestEngine, vchWithImage } from '../../helpers/engine';
import { HELLO_IMAGE } from '../../helpers/oci-layout';
import { startRegistry, type RunningRegistry } from '../../helpers/registry';
import { useSimulator } from '../../helpers/vcsim';

describe('image plans while the registry is down', () => {
  const sim = useSimulator();
  let registry: RunningRegistry | undefined;
  let engine: Engine;
  let host: string;
  let vch: Attrs;
  let img: Attrs;
  let web: Attrs;

  beforeAll(async () => {
    registry = await startRegistry();
    host = registry.host;
    await registry.pushImage(HELLO_IMAGE, 'outage/app:1');
    engine = await connectTestEngine(sim());
    ({ vch, img } = await vchWithImage(engine, 'vch-outage', `${host}/outage/app:1`));
    web = await applied(engine, await engine.plan('container_vm', null, { vch_id: vch.id, image_id: img.id, name: 'web-1', power_state: 'stopped' }));
    await registry.stop();
  }, 180_000);
  afterAll(async () => {
    await engine?.close();
    await registry?.stop();
  });

  const imageConfig = (reference: string) => ({ vch_id: String(vch.id), reference, insecure_registry: true });

  it('GIVEN a stored image WHEN its registry is down and the image is planned again THEN no change, with a warning on reference that names the registry, both schemes tried and the way out', async () => {
    const next = engine.forCommand();
    const [now] = await next.read([{ type: 'image', state: img }]);
    const plan = await next.plan('image', now, imageConfig(`${host}/outage/app:1`));
    expect(plan.action).toBe('no-op');
    expect(plan.problems).toHaveLength(1);
    const [warning] = plan.problems;
    expect(warning).toMatchObject({ path: ['reference'], severity: 'warning', summary: 'Registry unreachable: the stored image is kept' });
    expect(warning.detail).toContain(`cannot reach registry ${host} at https://${host} and http://${host}: ECONNREFUSED`);
    expect(warning.detail).toContain(`This plan keeps ${host}/outage/app:1 at ${String(img.digest)}, the image the store holds`);
    expect(warning.detail).toContain('pin the reference by digest');
  });

  it('GIVEN the registry down WHEN a container VM of the stored image is changed THEN it plans and applies', async () => {
    const next = engine.forCommand();
    const plan = await next.plan('container_vm', web, { vch_id: vch.id, image_id: img.id, name: 'web-1', power_state: 'stopped', memory_mb: 256 });
    expect({ action: plan.action, problems: plan.problems }).toEqual({ action: 'update', problems: [] });
    web = await applied(next, plan);
    expect(web.memory_mb).toBe(256);
  });

  it('GIVEN the registry down WHEN an image the store does not hold for this reference is planned (new, or another tag) THEN refused on reference, with the reason', async () => {
    const next = engine.forCommand();
    const fresh = await next.plan('image', null, imageConfig(`${host}/outage/app:2`));
    expect(fresh.problems).toEqual([
      expect.objectContaining({
        path: ['reference'],
        severity: 'error',
        summary: 'Image reference cannot be resolved',
        detail: expect.stringContaining(`cannot reach registry ${host}`),
      }),
    ]);
    // Another command: within one, the two plans would be two resources claiming one reference.
    const later = engine.forCommand();
    const [now] = await later.read([{ type: 'image', state: img }]);
    const retagged = await later.plan('image', now, imageConfig(`${host}/outage/app:2`));
    expect(retagged.problems.map((p) => [p.severity, p.summary])).toEqual([['error', 'Image reference cannot be resolved']]);
  });

  it('GIVEN the registry down (plain HTTP, which a data source has no setting for) WHEN the vic_image data source looks the stored image up by its tag THEN the store answers, without the registry', async () => {
    const found = await engine.forCommand().readDataSource('image', { vch_id: String(vch.id), reference: `${host}/outage/app:1` });
    expect(found).toMatchObject({ id: img.id, digest: img.digest, reference: `${host}/outage/app:1`, vch_id: vch.id, disk_path: img.disk_path });
  });

  it('GIVEN a tag the store does not hold WHEN looked up THEN the error names the store, the names it holds, why the registry could not help, and what to do, with no setting the data source cannot take', async () => {
    const failure = await engine
      .forCommand()
      .readDataSource('image', { vch_id: String(vch.id), reference: `${host}/outage/app:9` })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(failure?.message).toContain(`no image named ${host}/outage/app:9 in the image store [LocalDS_0] vch-outage of VCH ${String(vch.id)}`);
    expect(failure?.message).toContain(`the registry could not say which image it names (cannot reach registry ${host}`);
    expect(failure?.message).toContain(`Names it holds: ${host}/outage/app:1.`);
    expect(failure?.message).toContain('Pull it with a vic_image resource');
    expect(failure?.message).not.toContain('set insecure_registry');
  });
});
