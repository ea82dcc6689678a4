/**
 * GIVEN one bad input (a row of bad-inputs.ts) WHEN the engine plans it against the simulator THEN
 * the plan reports exactly the row's problems (path, summary, and a detail naming the value, what
 * is allowed and what to do), applying that plan is refused, and the simulator's inventory (pools
 * and their allocations, folders, VMs, datastore files) is what it was before.
 */
import { connectEngine, type Engine } from '../../src/engine';
import { type Attrs, type Problem, connectionSettings, formatPath } from '../../src/resources';
import type { VimClient } from '../../src/vsphere';
import { connectTestClient, connectTestEngine } from '../helpers/engine';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { COMPUTE, FIXTURE_VCH, badInputs, type BadInput, type Expected, type Fixtures } from './bad-inputs';
import { inventoryOf, prepareFixtures } from './fixtures';

const byPath = (a: Expected, b: Expected) => a[0].localeCompare(b[0]);
const triples = (problems: readonly Problem[]): Expected[] => problems.map((p) => [formatPath(p.path), p.summary, p.detail] as Expected).sort(byPath);

describe('bad inputs through the engine', () => {
  // Credentials no message may contain; the default "pass" is a word messages use.
  const sim = useSimulator({ username: 'vic-admin', password: 'Sim-Pw-8f3k2' });
  const registry = useRegistry();
  let engine: Engine;
  let outside: VimClient;
  let fx: Fixtures;
  let fixtureVch: Attrs;
  let baseline: string[];

  const connection = (): Attrs => ({ vsphere_server: sim().url, user: sim().username, password: sim().password, thumbprint: sim().thumbprint ?? null });

  beforeAll(async () => {
    engine = await connectTestEngine(sim());
    outside = await connectTestClient(sim());
    const prepared = await prepareFixtures(engine, outside, registry());
    fx = prepared.fixtures;
    fixtureVch = prepared.vch;
    baseline = await inventoryOf(sim(), outside);
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await outside?.close();
  });

  it('GIVEN the table WHEN counted THEN it covers every resource and the provider with at least 60 rows', () => {
    expect(badInputs.length).toBeGreaterThanOrEqual(60);
    expect(new Set(badInputs.map((r) => r.name)).size).toBe(badInputs.length);
    for (const type of ['virtual_container_host', 'image', 'volume', 'container_vm'])
      expect(badInputs.filter((r) => r.resource === type && !r.provider).length).toBeGreaterThan(5);
    expect(badInputs.filter((r) => r.provider).length).toBeGreaterThan(5);
  });

  /** Plans the row; returns its problems (provider rows stop at the connection settings when those are bad). */
  async function problemsOf(row: BadInput): Promise<readonly Problem[]> {
    if (!row.provider) {
      // An engine per row, as every front end has one per command: an engine remembers which
      // resource claimed which container VM name, and the rows reuse names.
      const own = await connectTestEngine(sim());
      try {
        const plan = await own.plan(row.resource, row.updatesFixtureVch ? fixtureVch : null, row.config(fx));
        if (plan.problems.length > 0) await expect(own.apply(plan)).rejects.toThrow(/has errors; nothing was changed/);
        return plan.problems;
      } finally {
        await own.close();
      }
    }
    const { settings, problems } = connectionSettings({ ...connection(), ...row.provider });
    if (problems.length > 0 || !settings) return problems;
    const own = await connectEngine(settings);
    try {
      const plan = await own.plan(row.resource, null, row.config(fx));
      if (plan.problems.length > 0) await expect(own.apply(plan)).rejects.toThrow(/has errors; nothing was changed/);
      return plan.problems;
    } finally {
      await own.close();
    }
  }

  it.each(badInputs.map((r) => [r.name, r] as const))('GIVEN %s WHEN planned THEN exactly its problems, and nothing is created', async (_name, row) => {
    const problems = await problemsOf(row);
    expect(triples(problems)).toEqual([...row.expected(fx)].sort(byPath));
    expect(problems.every((p) => (p.severity ?? 'error') === 'error')).toBe(true);
    for (const secret of [sim().password, 'Secr3t']) expect(JSON.stringify(problems)).not.toContain(secret);
    expect(await inventoryOf(sim(), outside)).toEqual(baseline);
  });

  // Controls: the same checks pass on good input, so the rows above fail for their reason alone.
  it.each<[string, 'virtual_container_host' | 'container_vm', (f: Fixtures) => Attrs]>([
    [
      'a VCH with an ISO that is on the datastore and reservations that fit',
      'virtual_container_host',
      () => ({
        name: 'vch-ok',
        compute: COMPUTE,
        datastore: 'LocalDS_0',
        bridge_network: 'VM Network',
        bootstrap_iso: '[LocalDS_0] vch-fx/bootstrap.iso',
        cpu_reservation_mhz: 4121,
        cpu_limit_mhz: 4121,
        memory_reservation_mb: 961,
      }),
    ],
    [
      'a container VM with a user, a working dir, an entrypoint, labels and networks that exist',
      'container_vm',
      (f) => ({
        vch_id: f.vchId,
        image_id: f.imageId,
        name: 'web-ok',
        user: 'www-data:1000',
        working_dir: '/srv',
        entrypoint: [],
        command: ['/bin/app', ''],
        labels: { 'com.example.tier': 'web' },
        networks: ['VM Network', 'DC0_DVPG0'],
      }),
    ],
  ])('GIVEN %s WHEN planned THEN no problems', async (_label, type, config) => {
    const plan = await engine.plan(type, null, config(fx));
    expect(plan.problems).toEqual([]);
    expect(plan.action).toBe('create');
  });

  it('GIVEN the fixture VCH WHEN its reservation grows within what the cluster has left THEN no problems', async () => {
    const plan = await engine.plan('virtual_container_host', fixtureVch, { ...FIXTURE_VCH, memory_reservation_mb: 961, cpu_reservation_mhz: 4121 });
    expect(plan.problems).toEqual([]);
    expect(plan.action).toBe('update');
  });

  // Last: it changes the inventory the rows compare against.
  it('GIVEN a good VCH WHEN applied THEN the inventory fingerprint sees its pool, folder and datastore directories', async () => {
    await engine.apply(await engine.plan('virtual_container_host', null, { name: 'vch-made', compute: COMPUTE, datastore: 'LocalDS_0' }));
    const after = await inventoryOf(sim(), outside);
    const added = after.filter((line) => !baseline.includes(line));
    expect(added).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ResourcePool resgroup-\d+ .*"vch-made"/),
        expect.stringMatching(/^Folder group-\d+ .*"vch-made"/),
        '[LocalDS_0] vch-made/images/',
      ]),
    );
  });
});

describe('bad inputs that need another inventory', () => {
  const sim = useSimulator({ datacenters: 2 });

  it('GIVEN two datacenters and a VCH that names none WHEN planned THEN the problem says where a datacenter can be named', async () => {
    const engine = await connectTestEngine(sim());
    const outside = await connectTestClient(sim());
    try {
      const before = await inventoryOf(sim(), outside);
      const plan = await engine.plan('virtual_container_host', null, { name: 'vch-x', compute: COMPUTE, datastore: 'LocalDS_0' });
      expect(triples(plan.problems)).toEqual([
        [
          'datacenter',
          'Cannot resolve "datacenter"',
          'several datacenters exist (DC0, DC1); name the datacenter to use. Set datacenter on this resource, or a default datacenter in the provider configuration.',
        ],
      ]);
      await expect(engine.apply(plan)).rejects.toThrow(/nothing was changed/);
      expect(await inventoryOf(sim(), outside)).toEqual(before);
    } finally {
      await engine.close();
      await outside.close();
    }
  });
});
