/**
 * The RPCs that need no vSphere: validation diagnostics, state upgrades with migrations, and the
 * coalescing of concurrent reads into one batch. Everything goes through the real codec.
 */
import { Attrs, t, validateAttrs } from '../../src/resources';
import type { ReadRequest } from '../../src/engine/types';
import { decodeMsgpack, encodeMsgpack } from '../../provider/codec';
import { VicProvider, type EngineConnector } from '../../provider/provider';
import { ReadCoalescer } from '../../provider/read-coalescer';
import { twiceMigratedResource } from '../helpers/synthetic-resource';
import { problemDiagnostics } from '../../provider/diagnostics';
import { buildProviderSchemas, providerSchemas } from '../../provider/schema';
import { Logger, levelFromEnv, stderrLogger } from '../../provider/log';

const lines: string[] = [];
const logger: Logger = { log: (level, message, fields) => lines.push(JSON.stringify({ level, message, ...fields })) };
const noEngine = () => Promise.reject(new Error('no vSphere in unit tests'));

function provider(schemas = providerSchemas()) {
  return new VicProvider({ connect: noEngine, logger, schemas, env: {} });
}

function config(typeName: string, attrs: Attrs, kind: 'resource' | 'data' | 'provider' = 'resource') {
  const s = providerSchemas();
  const type = kind === 'provider' ? s.provider.type : (kind === 'data' ? s.dataSources : s.resources).get(typeName)!.type;
  return { msgpack: Buffer.from(encodeMsgpack(type, attrs)) };
}

describe('ValidateResourceConfig / ValidateDataResourceConfig / ValidateProviderConfig', () => {
  const cvm = { vch_id: 'resgroup-1', image_id: `sha256:${'a'.repeat(64)}`, name: 'web-1' };
  it.each<[string, string, Attrs, 'resource' | 'data', object[], string]>([
    [
      'a map key',
      'vic_container_vm',
      { ...cvm, env: { '1BAD': 'x' } },
      'resource',
      [{ attribute_name: 'env' }, { element_key_string: '1BAD' }],
      'not a valid environment variable name',
    ],
    [
      'a list element',
      'vic_container_vm',
      { ...cvm, command: ['a', 'b'], memory_mb: 1023 },
      'resource',
      [{ attribute_name: 'memory_mb' }],
      'not a multiple of 4',
    ],
    [
      'a nested block',
      'vic_image',
      { vch_id: 'resgroup-1', reference: '127.0.0.1:5000/busybox:1', registry_auth: { username: 'u', password: null } },
      'resource',
      [{ attribute_name: 'registry_auth' }, { attribute_name: 'password' }],
      'is required',
    ],
    [
      'a data source argument',
      'vic_image',
      { vch_id: 'resgroup-1', reference: 'Busybox!!' },
      'data',
      [{ attribute_name: 'reference' }],
      'is not an image reference',
    ],
  ])('GIVEN a bad value at %s WHEN validated THEN the diagnostic points at it', (_label, typeName, attrs, kind, steps, detail) => {
    const p = provider();
    const res =
      kind === 'data'
        ? p.validateDataResourceConfig({ type_name: typeName, config: config(typeName, attrs, 'data') })
        : p.validateResourceConfig({ type_name: typeName, config: config(typeName, attrs) });
    expect(res.diagnostics).toHaveLength(1);
    expect(res.diagnostics[0]).toMatchObject({ severity: 'ERROR', attribute: { steps } });
    expect(res.diagnostics[0].detail).toContain(detail);
  });

  it('GIVEN values not known yet WHEN validated THEN they pass (checked again at plan)', () => {
    const res = provider().validateResourceConfig({
      type_name: 'vic_container_vm',
      config: {
        msgpack: Buffer.from(
          encodeMsgpack(providerSchemas().resources.get('vic_container_vm')!.type, { ...cvm, vch_id: Symbol.for('vic-iac.unknown') as never }),
        ),
      },
    });
    expect(res.diagnostics).toEqual([]);
  });

  it('GIVEN a problem at a sensitive attribute that quotes its value WHEN turned into a diagnostic THEN the value is redacted', () => {
    const kind = providerSchemas().provider;
    const problem = {
      path: ['password'],
      severity: 'error' as const,
      summary: 'Invalid value for "password"',
      detail: 'password = "hunter2" is too short (hunter2).',
    };
    const [d] = problemDiagnostics(kind, [problem], { password: 'hunter2' });
    expect(d.detail).toBe('password = (sensitive value) is too short ((sensitive value)).');
    const [plain] = problemDiagnostics(kind, [{ ...problem, path: ['user'], detail: 'user = "hunter2"' }], { user: 'hunter2' });
    expect(plain.detail).toBe('user = "hunter2"');
  });

  it('GIVEN an unknown resource type WHEN validated THEN the diagnostic lists the known ones', () => {
    const res = provider().validateResourceConfig({ type_name: 'vic_nope', config: undefined });
    expect(res.diagnostics[0]).toMatchObject({ summary: 'Unknown resource type "vic_nope"' });
    expect(res.diagnostics[0].detail).toContain('vic_container_vm');
  });
});

describe('ConfigureProvider', () => {
  it('GIVEN no server, user or password and no environment WHEN configured THEN each missing one is a diagnostic at its attribute', () => {
    const s = providerSchemas();
    const empty = Object.fromEntries(Object.keys(s.provider.schema).map((k) => [k, null]));
    const res = provider().configureProvider({ config: { msgpack: Buffer.from(encodeMsgpack(s.provider.type, empty)) } });
    expect(res.diagnostics.map((d) => d.attribute?.steps)).toEqual([
      [{ attribute_name: 'vsphere_server' }],
      [{ attribute_name: 'user' }],
      [{ attribute_name: 'password' }],
    ]);
    expect(res.diagnostics[0].detail).toContain('VSPHERE_SERVER');
  });
});

describe('ConfigureProvider connects early', () => {
  const configured = (connect: EngineConnector) => {
    const s = providerSchemas();
    const p = new VicProvider({ connect, logger, env: { VSPHERE_SERVER: 'vcenter.example', VSPHERE_USER: 'u', VSPHERE_PASSWORD: 'p' } });
    const empty = Object.fromEntries(Object.keys(s.provider.schema).map((k) => [k, null]));
    expect(p.configureProvider({ config: { msgpack: Buffer.from(encodeMsgpack(s.provider.type, empty)) } }).diagnostics).toEqual([]);
    return p;
  };
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
  const vchState = {
    msgpack: Buffer.from(encodeMsgpack(providerSchemas().resources.get('vic_virtual_container_host')!.type, { id: 'resgroup-1', name: 'v' })),
  };

  it('GIVEN a configured provider WHEN no resource was asked for yet THEN it is already logging in, once', async () => {
    let attempts = 0;
    const p = configured(() => {
      attempts++;
      return new Promise(() => undefined);
    });
    expect(attempts).toBe(0); // not before the ConfigureProvider answer is sent
    await nextTurn();
    expect(attempts).toBe(0); // nor before its trailers, which leave in the next turn
    await nextTurn();
    expect(attempts).toBe(1);
    void p.readResource({ type_name: 'vic_virtual_container_host', current_state: vchState });
    await nextTurn();
    expect(attempts).toBe(1);
  });

  it('GIVEN an early login that fails WHEN resources are read THEN the first read reports it and the next one tries again', async () => {
    let attempts = 0;
    const p = configured(() => {
      attempts++;
      return Promise.reject(new Error('incorrect user name or password'));
    });
    await nextTurn();
    const first = await p.readResource({ type_name: 'vic_virtual_container_host', current_state: vchState });
    expect(first.diagnostics[0].detail).toMatch(/cannot connect to vSphere at .*incorrect user name or password/);
    expect(attempts).toBe(1);
    await p.readResource({ type_name: 'vic_virtual_container_host', current_state: vchState });
    expect(attempts).toBe(2);
  });
});

describe('UpgradeResourceState', () => {
  const synthetic = twiceMigratedResource({ added_in_v2: { type: t.string, optional: true, description: 'New attribute.' } });
  const schemas = buildProviderSchemas([synthetic]);
  const type = schemas.resources.get('vic_container_vm')!.type;
  const upgrade = (version: number, json: object) =>
    provider(schemas).upgradeResourceState({ type_name: 'vic_container_vm', version, raw_state: { json: Buffer.from(JSON.stringify(json, null, 2)) } });

  it('GIVEN a state written at version 0 WHEN upgraded THEN every migration ran in order and new attributes are null', () => {
    const res = upgrade(0, { id: 'vm-1', mem: '512' });
    expect(res.diagnostics).toEqual([]);
    expect(decodeMsgpack(type, res.upgraded_state!.msgpack)).toEqual({ id: 'vm-1', memory: 512, added_in_v2: null });
  });

  it('GIVEN a state at the current version WHEN upgraded THEN it passes through, shaped to the schema', () => {
    const res = upgrade(2, { id: 'vm-1', memory: 256 });
    expect(decodeMsgpack(type, res.upgraded_state!.msgpack)).toEqual({ id: 'vm-1', memory: 256, added_in_v2: null });
  });

  it('GIVEN a state from a newer provider WHEN upgraded THEN the diagnostic says to upgrade the provider', () => {
    const res = upgrade(3, { id: 'vm-1' });
    expect(res.diagnostics[0]).toMatchObject({ severity: 'ERROR', summary: 'State of vic_container_vm is from a newer provider' });
    expect(res.diagnostics[0].detail).toContain('terraform init -upgrade');
  });

  it('GIVEN the real declarations WHEN a current state is upgraded THEN it round-trips', () => {
    const kind = providerSchemas().resources.get('vic_virtual_container_host')!;
    const state = Object.fromEntries(Object.keys(kind.schema).map((k) => [k, null])) as Attrs;
    Object.assign(state, { id: 'resgroup-9', name: 'vch-demo', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', cpu_limit_mhz: -1 });
    const res = provider().upgradeResourceState({
      type_name: kind.typeName,
      version: kind.declaration!.schemaVersion,
      raw_state: { json: Buffer.from(JSON.stringify(state)) },
    });
    expect(decodeMsgpack(kind.type, res.upgraded_state!.msgpack)).toEqual(state);
  });
});

describe('ReadCoalescer', () => {
  it('GIVEN reads that arrive in one event-loop turn WHEN served THEN they go out as ONE batch at the end of that turn, answers in order', async () => {
    const batches: ReadRequest[][] = [];
    const reads = new ReadCoalescer(async (reqs) => {
      batches.push([...reqs]);
      return reqs.map((r) => ({ ...r.state, seen: true }));
    });
    const results = Promise.all(['a', 'b', 'c'].map((id) => reads.read({ type: 'container_vm', state: { id } })));
    // setImmediate callbacks run in order: the flush queued by the first read has run before this one.
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches.map((b) => b.map((r) => r.state.id))).toEqual([['a', 'b', 'c']]);
    expect((await results).map((r) => r?.id)).toEqual(['a', 'b', 'c']);
  });

  it('GIVEN reads in different turns WHEN served THEN each turn is its own batch', async () => {
    let calls = 0;
    const reads = new ReadCoalescer(async (reqs) => {
      calls++;
      return reqs.map(() => null);
    });
    await reads.read({ type: 'image', state: { id: 'x' } });
    await reads.read({ type: 'image', state: { id: 'y' } });
    expect(calls).toBe(2);
  });

  it('GIVEN a batch that fails WHEN served THEN every waiting read gets the error', async () => {
    const reads = new ReadCoalescer(() => Promise.reject(new Error('collector down')));
    await expect(Promise.all([reads.read({ type: 'image', state: {} }), reads.read({ type: 'image', state: {} })])).rejects.toThrow('collector down');
  });
});

describe('provider log level', () => {
  it.each([
    [{}, 'warn'],
    [{ TF_LOG: 'DEBUG' }, 'debug'],
    [{ TF_LOG: 'json' }, 'trace'],
    [{ TF_LOG: 'verbose' }, 'trace'],
    [{ TF_LOG: 'trace', TF_LOG_PROVIDER: 'error' }, 'error'],
    [{ TF_LOG: 'off' }, 'off'],
  ])('GIVEN %j WHEN the provider starts THEN it logs at %s', (env, level) => {
    expect(levelFromEnv(env)).toBe(level);
  });

  it('GIVEN no TF_LOG WHEN a resource is planned THEN no debug line reaches stderr, but a warning does', () => {
    const written: string[] = [];
    const log = stderrLogger({}, (line) => written.push(line));
    log.log('debug', 'planned', { type: 'vic_container_vm' });
    log.log('warn', 'engine close failed');
    expect(written.map((l) => (JSON.parse(l) as { '@message': string })['@message'])).toEqual(['engine close failed']);
  });
});

describe('a destroy run (terraform destroy, plan -destroy, apply -destroy)', () => {
  const cvm = { vch_id: 'resgroup-1', image_id: `sha256:${'a'.repeat(64)}`, name: 'web-1', memory_mb: 100 };
  const inRun = (destroyRun: boolean) => new VicProvider({ connect: noEngine, logger, env: {}, destroyRun: () => destroyRun });
  const cvmType = () => providerSchemas().resources.get('vic_container_vm')!.type;

  it('GIVEN a value the provider refuses WHEN validated in a destroy run THEN it is a warning that says the destroy goes on, and an error otherwise', () => {
    const destroying = inRun(true).validateResourceConfig({ type_name: 'vic_container_vm', config: config('vic_container_vm', cvm) });
    expect(destroying.diagnostics).toHaveLength(1);
    expect(destroying.diagnostics[0]).toMatchObject({ severity: 'WARNING', attribute: { steps: [{ attribute_name: 'memory_mb' }] } });
    expect(destroying.diagnostics[0].detail).toContain('This does not stop the destroy');
    const applying = inRun(false).validateResourceConfig({ type_name: 'vic_container_vm', config: config('vic_container_vm', cvm) });
    expect(applying.diagnostics[0]).toMatchObject({ severity: 'ERROR' });
  });

  it('GIVEN a configured resource WHEN planned in a destroy run THEN the configuration is planned as it is, without vSphere; outside one the plan needs vSphere', async () => {
    const req = { type_name: 'vic_container_vm', config: config('vic_container_vm', cvm), proposed_new_state: config('vic_container_vm', cvm) };
    const destroying = await inRun(true).planResourceChange(req);
    expect(destroying.diagnostics).toEqual([]);
    const planned = decodeMsgpack(cvmType(), (destroying as { planned_state: { msgpack: Buffer } }).planned_state.msgpack) as Attrs;
    expect(planned).toMatchObject({ name: 'web-1', memory_mb: 100 });
    const applying = await inRun(false).planResourceChange(req);
    expect(applying.diagnostics[0]).toMatchObject({ severity: 'ERROR' });
    expect(applying.diagnostics[0].detail).toContain('the provider is not configured');
  });
});

describe('a data source lookup that fails', () => {
  const inRun = (destroyRun: boolean) => new VicProvider({ connect: noEngine, logger, env: {}, destroyRun: () => destroyRun });
  const req = { type_name: 'vic_virtual_container_host', config: config('vic_virtual_container_host', { name: 'vch-gone' }, 'data') };

  it('GIVEN a destroy run WHEN the lookup fails THEN it reads as its arguments with the rest null, and the failure is a warning', async () => {
    const res = await inRun(true).readDataSource(req);
    expect(res.diagnostics).toHaveLength(1);
    expect(res.diagnostics[0]).toMatchObject({ severity: 'WARNING' });
    const type = providerSchemas().dataSources.get('vic_virtual_container_host')!.type;
    const state = decodeMsgpack(type, (res as { state: { msgpack: Buffer } }).state.msgpack) as Attrs;
    expect(state).toMatchObject({ name: 'vch-gone', id: null });
  });

  it('GIVEN no destroy run WHEN the lookup fails THEN it is an error', async () => {
    const res = await inRun(false).readDataSource(req);
    expect(res.diagnostics[0]).toMatchObject({ severity: 'ERROR' });
    expect('state' in res).toBe(false);
  });
});

describe('values Terraform sends twice in a plan', () => {
  const s = providerSchemas();
  const kind = s.resources.get('vic_container_vm')!;
  const cvm = { vch_id: 'resgroup-1', image_id: `sha256:${'a'.repeat(64)}`, name: 'web-1', memory_mb: 128 };
  const wire = (attrs: Attrs | null) => ({ msgpack: Buffer.from(encodeMsgpack(kind.type, attrs)) });

  /** A provider whose engine records what it was asked to plan, and answers with the configuration. */
  function recording() {
    const plans: { prior: Attrs | null; config: Attrs | null; options: { validated?: unknown } }[] = [];
    const reads: Attrs[] = [];
    const engine = {
      inState: () => undefined,
      read: (requests: readonly ReadRequest[]) => Promise.resolve(requests.map((r) => (reads.push(r.state), r.state))),
      plan: (_type: string, prior: Attrs | null, config: Attrs | null, options: { validated?: unknown }) => {
        plans.push({ prior, config, options });
        return Promise.resolve({ action: 'no-op', planned: prior ?? config, changes: [], requiresReplace: [], reasons: [], notes: [], problems: [] });
      },
      close: () => Promise.resolve(),
    };
    const p = new VicProvider({
      connect: () => Promise.resolve(engine as never),
      logger,
      env: { VSPHERE_SERVER: 'vcenter.example', VSPHERE_USER: 'u', VSPHERE_PASSWORD: 'p' },
    });
    const empty = Object.fromEntries(Object.keys(s.provider.schema).map((k) => [k, null]));
    expect(p.configureProvider({ config: { msgpack: Buffer.from(encodeMsgpack(s.provider.type, empty)) } }).diagnostics).toEqual([]);
    return { p, plans, reads };
  }

  it('GIVEN a configuration Terraform validated WHEN it plans the same bytes THEN the plan takes what validating gave; other bytes are validated by the plan', async () => {
    const { p, plans } = recording();
    const config = wire(cvm);
    expect(p.validateResourceConfig({ type_name: kind.typeName, config }).diagnostics).toEqual([]);
    await p.planResourceChange({ type_name: kind.typeName, config: wire(cvm), proposed_new_state: config });
    expect(plans[0].options.validated).toEqual(validateAttrs(kind.schema, decodeMsgpack(kind.type, config.msgpack) as Attrs));
    expect(plans[0].config).toEqual(decodeMsgpack(kind.type, config.msgpack));
    // Taken once: the same bytes planned again, or other bytes, are validated by the engine.
    await p.planResourceChange({ type_name: kind.typeName, config, proposed_new_state: config });
    await p.planResourceChange({ type_name: kind.typeName, config: wire({ ...cvm, name: 'web-2' }), proposed_new_state: config });
    expect(plans.slice(1).map((x) => x.options.validated)).toEqual([undefined, undefined]);
    expect(plans[2].config).toMatchObject({ name: 'web-2' });
  });

  it('GIVEN a state upgraded, then refreshed WHEN planned THEN each step works on the value the step before sent, decoded as Terraform holds it', async () => {
    const { p, plans, reads } = recording();
    const state = Object.fromEntries(Object.keys(kind.schema).map((k) => [k, null])) as Attrs;
    Object.assign(state, cvm, { id: '4211c0de-0000-4000-8000-000000000001' });
    const upgraded = p.upgradeResourceState({
      type_name: kind.typeName,
      version: kind.declaration!.schemaVersion,
      raw_state: { json: Buffer.from(JSON.stringify(state)) },
    });
    const read = await p.readResource({ type_name: kind.typeName, current_state: upgraded.upgraded_state });
    expect(reads[0]).toEqual(state);
    const refreshed = (read as { new_state: { msgpack: Buffer } }).new_state;
    expect(decodeMsgpack(kind.type, refreshed.msgpack)).toEqual(state);
    await p.planResourceChange({ type_name: kind.typeName, prior_state: refreshed, config: wire(cvm), proposed_new_state: refreshed });
    expect(plans[0].prior).toEqual(state);
    // Another type's value with the very same bytes is not that value.
    const vch = s.resources.get('vic_virtual_container_host')!;
    expect(p.validateResourceConfig({ type_name: kind.typeName, config: wire(cvm) }).diagnostics).toEqual([]);
    const other = p.validateResourceConfig({ type_name: vch.typeName, config: wire(cvm) });
    expect(other.diagnostics.length).toBeGreaterThan(0);
  });

  it('GIVEN more validated configurations than it keeps WHEN the first is planned THEN the plan validates it itself', async () => {
    const { p, plans } = recording();
    const first = wire(cvm);
    p.validateResourceConfig({ type_name: kind.typeName, config: first });
    for (let i = 0; i < 4096; i++) p.validateResourceConfig({ type_name: kind.typeName, config: wire({ ...cvm, name: `other-${i}` }) });
    await p.planResourceChange({ type_name: kind.typeName, config: first, proposed_new_state: first });
    expect(plans[0].options.validated).toBeUndefined();
    await p.planResourceChange({ type_name: kind.typeName, config: wire({ ...cvm, name: 'other-4095' }), proposed_new_state: first });
    expect(plans[1].options.validated).toBeDefined();
  });
});
