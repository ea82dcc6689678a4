/**
 * One state migration for every front end. With a test-only schema version 2 of
 * virtual_container_host (test/helpers/schema-v2.ts: v1 called `force_destroy` "force"), a state
 * written at version 1 is loaded by each front end as its users would: the real terraform CLI with a
 * hand-written v1 terraform.tfstate, bin/vic with a v1 state file, and the Pulumi dynamic provider
 * with v1 outputs. Each must migrate it through migrateState: `force_destroy` is state-only, so
 * without the migration the stored `true` is lost and the plan shows a change.
 */
import { mkdtemp, readFile, rm, writeFile, chmod, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type * as dynamic from '@pulumi/pulumi/dynamic';
import type { Attrs } from '../../src/resources';
import * as engineIndex from '../../src/engine';
import type { Engine } from '../../src/engine';
import { dynamicProviderFor } from '../../pulumi-component/dynamic-provider';
import { STATE_VERSION_PROPERTY } from '../../pulumi-component/provider-host';
import { vsphereEnv } from '../helpers/engine';
import { asVersion1, installVchSchemaV2, schemaV2NodeOptions } from '../helpers/schema-v2';
import { useSimulator } from '../helpers/vcsim';
import { cleanEnv, runVic } from '../cli/run-vic';
import { REPO, VIC_PROVIDER_HCL, requireTerraform } from '../provider/terraform-cli';

// The dynamic provider loads its host by package name, as in a user's program; here that name is
// this checkout's source.
jest.mock('vic-iac/pulumi/provider-host', () => jest.requireActual('../../pulumi-component/provider-host'), { virtual: true });

const run = promisify(execFile);
const PASSWORD = 'migrate-Pa55';
const VCH = { compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0' };

describe('GIVEN a virtual_container_host state written at schema version 1 and a vic-iac at version 2', () => {
  const sim = useSimulator({ username: 'migrate', password: PASSWORD });
  let dir: string;
  let connection: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vic-migrate-'));
    const s = sim();
    connection = vsphereEnv(s);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('WHEN bin/vic plans and applies with a v1 state file THEN the stored value survives (no changes) and the state is rewritten at v2', async () => {
    const ws = join(dir, 'cli');
    await mkdir(ws);
    const specFile = join(ws, 'spec.yaml');
    await writeFile(
      specFile,
      `virtual_container_host:\n  demo:\n    name: vch-migrate-cli\n    compute: ${VCH.compute}\n    datastore: ${VCH.datastore}\n    force_destroy: true\n`,
    );
    const env = cleanEnv({ ...connection, NODE_OPTIONS: schemaV2NodeOptions() });
    const created = await runVic(['apply', '--auto-approve', '-f', specFile], env, { timeoutMs: 90_000 });
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const statePath = join(ws, '.vic', 'state.json');
    const state = JSON.parse(await readFile(statePath, 'utf8')) as { resources: Record<string, { schemaVersion: number; attrs: Attrs }> };
    const entry = state.resources['virtual_container_host.demo'];
    // GIVEN: the entry as the v1 vic wrote it.
    expect(entry).toMatchObject({ schemaVersion: 2, attrs: { force_destroy: true } });
    state.resources['virtual_container_host.demo'] = { ...entry, schemaVersion: 1, attrs: asVersion1(entry.attrs) };
    await writeFile(statePath, JSON.stringify(state, null, 2));

    const plan = await runVic(['plan', '--detailed-exitcode', '-f', specFile], env, { timeoutMs: 90_000 });
    expect({ code: plan.code, stderr: plan.stderr }).toEqual({ code: 0, stderr: '' });
    expect(plan.stdout).toContain('No changes');

    const apply = await runVic(['apply', '--auto-approve', '-f', specFile], env, { timeoutMs: 90_000 });
    expect(apply.code).toBe(0);
    const rewritten = JSON.parse(await readFile(statePath, 'utf8')) as typeof state;
    expect(rewritten.resources['virtual_container_host.demo'].schemaVersion).toBe(2);
    expect(rewritten.resources['virtual_container_host.demo'].attrs).toMatchObject({ force_destroy: true });
    expect(rewritten.resources['virtual_container_host.demo'].attrs).not.toHaveProperty('force');
  }, 240_000);

  it('WHEN terraform plans with a hand-written v1 terraform.tfstate THEN UpgradeResourceState migrates it: no changes, and the refreshed state is at v2', async () => {
    const terraform = requireTerraform();
    const ws = join(dir, 'tf');
    const plugins = join(dir, 'tf-plugins');
    await mkdir(ws);
    await mkdir(plugins);
    // The provider from source (the installed bundle cannot take the test-only v2), through dev_overrides.
    const launcher = join(plugins, 'terraform-provider-vic');
    await writeFile(
      launcher,
      `#!/bin/sh\nexec "${process.execPath}" --import "file://${REPO}/node_modules/tsx/dist/loader.mjs" "${REPO}/provider/main.ts" "$@"\n`,
    );
    await chmod(launcher, 0o755);
    const cliConfig = join(ws, '.terraformrc');
    await writeFile(cliConfig, `provider_installation {\n  dev_overrides {\n    "vic-iac/vic" = "${plugins}"\n  }\n  direct {}\n}\n`);
    await writeFile(
      join(ws, 'main.tf'),
      VIC_PROVIDER_HCL +
        `resource "vic_virtual_container_host" "demo" {\n  name          = "vch-migrate-tf"\n  compute       = "${VCH.compute}"\n  datastore     = "${VCH.datastore}"\n  force_destroy = true\n}\n`,
    );
    const env = {
      ...cleanEnv(connection),
      NODE_OPTIONS: schemaV2NodeOptions(),
      TF_CLI_CONFIG_FILE: cliConfig,
      TF_IN_AUTOMATION: '1',
      CHECKPOINT_DISABLE: '1',
      NO_COLOR: '1',
    };
    const tf = async (...args: string[]) => {
      try {
        const r = await run(terraform, args, { cwd: ws, env, maxBuffer: 16 << 20 });
        return { code: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    };
    const created = await tf('apply', '-auto-approve', '-input=false');
    expect(created.stderr.replace(/╷[\s\S]*?Provider development overrides are in effect[\s\S]*?╵\s*/, '')).toBe('');
    expect(created.code).toBe(0);

    type TfState = { resources: { type: string; instances: { schema_version: number; attributes: Attrs }[] }[] };
    const statePath = join(ws, 'terraform.tfstate');
    const state = JSON.parse(await readFile(statePath, 'utf8')) as TfState;
    const instance = state.resources.find((r) => r.type === 'vic_virtual_container_host')!.instances[0];
    expect(instance).toMatchObject({ schema_version: 2, attributes: { force_destroy: true } });
    // GIVEN: the instance as the v1 provider wrote it.
    instance.schema_version = 1;
    instance.attributes = asVersion1(instance.attributes);
    await writeFile(statePath, JSON.stringify(state, null, 2));

    const plan = await tf('plan', '-detailed-exitcode', '-input=false');
    expect({ code: plan.code, changes: plan.stdout.match(/^\s+[~+-].*$/gm) ?? [] }).toEqual({ code: 0, changes: [] });
    expect(plan.stdout).toContain('No changes');

    const refreshed = await tf('apply', '-refresh-only', '-auto-approve', '-input=false');
    expect(refreshed.code).toBe(0);
    const after = (JSON.parse(await readFile(statePath, 'utf8')) as TfState).resources.find((r) => r.type === 'vic_virtual_container_host')!.instances[0];
    expect(after.schema_version).toBe(2);
    expect(after.attributes).toMatchObject({ force_destroy: true });
    expect(after.attributes).not.toHaveProperty('force');
  }, 300_000);

  describe('WHEN the Pulumi dynamic provider loads v1 outputs', () => {
    let uninstall: () => void;
    const engines: Promise<Engine>[] = [];
    let provider: dynamic.ResourceProvider;
    const inputs = { name: 'vch-migrate-pulumi', ...VCH, forceDestroy: true };

    beforeAll(async () => {
      uninstall = installVchSchemaV2();
      // Observes the engines the provider host connects, to log them out afterwards.
      const connect = engineIndex.connectEngine;
      jest.spyOn(engineIndex, 'connectEngine').mockImplementation((...args) => {
        const engine = connect(...args);
        engines.push(engine);
        return engine;
      });
      provider = dynamicProviderFor('virtual_container_host');
      const config: Record<string, string> = {
        'vic:vsphereServer': sim().url,
        'vic:user': sim().username,
        'vic:password': PASSWORD,
        'vic:thumbprint': sim().thumbprint ?? '',
      };
      await provider.configure!({ config: { get: (key: string) => config[key] as string } } as unknown as dynamic.ConfigureRequest);
    });
    afterAll(async () => {
      uninstall?.();
      jest.restoreAllMocks();
      for (const engine of engines) await (await engine).close();
    });

    it('THEN read and diff see the stored value (no changes) and the outputs come back at v2', async () => {
      const created = await provider.create!(inputs);
      expect(created.outs).toMatchObject({ forceDestroy: true, [STATE_VERSION_PROPERTY]: 2 });
      // GIVEN: the outputs as vic-iac stored them before outputs carried a version (that is v1).
      const { [STATE_VERSION_PROPERTY]: _version, forceDestroy, ...rest } = created.outs as Record<string, unknown>;
      const v1 = { ...rest, force: forceDestroy };

      const diff = await provider.diff!(created.id, v1, inputs);
      expect(diff.changes).toBe(false);

      const read = await provider.read!(created.id, v1);
      expect(read.props).toMatchObject({ forceDestroy: true, [STATE_VERSION_PROPERTY]: 2 });
      expect(read.props).not.toHaveProperty('force');

      // And with the version written out: v1 stated explicitly migrates the same way.
      expect((await provider.diff!(created.id, { ...v1, [STATE_VERSION_PROPERTY]: 1 }, inputs)).changes).toBe(false);
    }, 120_000);
  });
});
