/**
 * docker container prune, image prune, network prune and system prune, as a user's cleanup runs
 * them: what docker made and no longer uses goes, with dockerd's filters; a running container,
 * an image in use and whatever an IaC state made stay.
 */
import type { Attrs } from '../../src/resources';
import { busyboxImage, useDockerBed, waitUntilProcessRuns } from './docker-env';

const BOOT_MS = 300_000;

describe('docker prune', () => {
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 1 } }, pull: true, vchName: 'vch-prune' });
  const names = async (): Promise<string[]> => (await bed().dockerOk(['ps', '-a', '--format', '{{.Names}}'])).split('\n').filter(Boolean).sort();
  let iacVm: Attrs | undefined;

  beforeAll(async () => {
    const [image] = await bed().engine.listIn('image', String(bed().vch.id));
    const plan = await bed().engine.plan('container_vm', null, { vch_id: bed().vch.id, image_id: image?.id, name: 'prune-iac', power_state: 'stopped' });
    expect(plan.problems).toEqual([]);
    iacVm = (await bed().engine.apply(plan)) as Attrs;
  }, 120_000);

  test(
    'GIVEN stopped, never started, labelled and running containers WHEN docker container prune runs THEN the stopped ones docker made go, as the filters say; the running one and the IaC one stay',
    async () => {
      await bed().dockerOk(['create', '--name', 'prune-created', bed().image]);
      await bed().dockerOk(['create', '--name', 'prune-db', '--label', 'tier=db', bed().image]);
      await bed().dockerOk(['run', '-d', '--name', 'prune-running', bed().image, 'sleep', '600']);
      await waitUntilProcessRuns(bed(), 'prune-running');

      // Made just now: not before an hour ago.
      const old = await bed().dockerOk(['container', 'prune', '-f', '--filter', 'until=1h']);
      expect(old).toBe('Total reclaimed space: 0B');
      const notDb = await bed().dockerOk(['container', 'prune', '-f', '--filter', 'label!=tier=db']);
      expect(notDb).toMatch(/^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: 0B$/);
      expect(await names()).toEqual(['prune-db', 'prune-iac', 'prune-running']);

      const rest = await bed().dockerOk(['container', 'prune', '-f']);
      expect(rest).toContain('Deleted Containers:');
      expect(await names()).toEqual(['prune-iac', 'prune-running']);
      const refused = await bed().docker(['container', 'prune', '-f', '--filter', 'status=exited']);
      expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining("invalid filter 'status'")]);
    },
    BOOT_MS,
  );

  test('GIVEN images WHEN docker image prune runs THEN none is dangling; -a removes those no container uses and no state holds', async () => {
    const base = busyboxImage();
    const unused = await bed().pushImage({ ...base, config: { ...base.config, Labels: { unused: 'yes' } } }, 'vic-test/prune-unused:1');
    const held = await bed().pushImage({ ...base, config: { ...base.config, Labels: { held: 'yes' } } }, 'vic-test/prune-held:1');
    expect((await bed().docker(['pull', unused], { timeoutMs: 180_000 })).code).toBe(0);
    await bed().dockerOk(['tag', unused, 'prune-alias:1']);
    const plan = await bed().engine.plan('image', null, { vch_id: bed().vch.id, reference: held, insecure_registry: true });
    expect(plan.problems).toEqual([]);
    await bed().engine.apply(plan);

    expect(await bed().dockerOk(['image', 'prune', '-f'])).toBe('Total reclaimed space: 0B');
    const all = await bed().dockerOk(['image', 'prune', '-a', '-f']);
    expect(all).toContain(`untagged: ${unused}`);
    expect(all).toContain('untagged: prune-alias:1');
    expect(all).toMatch(/deleted: sha256:[0-9a-f]{64}/);
    const left = (await bed().dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}'])).split('\n').sort();
    // bed().image: prune-running and prune-iac use it; held: a state pulled it.
    expect(left).toEqual([bed().image, held].sort());
  });

  test('GIVEN docker system prune -a --volumes THEN every step answers, so the command ends with 0; network prune removes no port group', async () => {
    await bed().dockerOk(['create', '--name', 'prune-sys', '-v', '/data', bed().image]);
    const network = await bed().dockerOk(['network', 'prune', '-f']);
    expect(network).toBe('');
    const r = await bed().docker(['system', 'prune', '-a', '--volumes', '-f'], { timeoutMs: 180_000 });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain('Deleted Containers:');
    expect(r.stdout).toContain('Deleted Volumes:');
    expect(await names()).toEqual(['prune-iac', 'prune-running']);
    expect(await bed().dockerOk(['volume', 'ls', '-q'])).toBe('');
    expect(await bed().dockerOk(['network', 'ls', '--format', '{{.Name}}'])).toContain('bridge');
    // The IaC container is where its state left it.
    const still = await bed().engine.forCommand().findIn('container_vm', String(bed().vch.id), { name: 'prune-iac' });
    expect(still?.id).toBe(iacVm?.id);
    await bed().dockerOk(['rm', '-f', 'prune-running']);
  });
});
