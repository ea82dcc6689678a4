/**
 * secret_env through the engine against the simulator: the values reach the guest config (where the
 * guest must read them), the vic.spec marker holds only salted hashes, refresh keeps the state's
 * values, a change made in vSphere is still seen as drift, import recovers the values, and no plan
 * reason ever shows a value.
 */
import type { Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import { SECRET_UNREADABLE, secretEnvHash } from '../../../src/resources/container-vm.lifecycle';
import { decodeGuestConfig, encodeGuestConfig } from '../../../src/resources/guest-config';
import { extraConfigMap } from '../../../src/resources/snapshot';
import { VimClient, moRef } from '../../../src/vsphere';
import { retrieveObject } from '../../../src/vsphere/property-collector';
import { reconfigureVm } from '../../../src/vsphere/virtual-machine';
import { applied, connectTestClient, connectTestEngine } from '../../helpers/engine';
import { useRegistry } from '../../helpers/registry';
import { useSimulator } from '../../helpers/vcsim';

const TOKEN = 'Tok3n-Secret-Value-9f1';
const OTHER = 'Changed-Outside-7c2';

describe('GIVEN a VCH and an image in the simulator', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  let engine: Engine;
  let outside: VimClient;
  let vch: Attrs;
  let img: Attrs;
  let vm: Attrs;
  let config: Attrs;

  const extraConfig = async (moid: string) => {
    const props = await retrieveObject<Record<string, unknown>>(outside, moRef('VirtualMachine', moid), ['config.extraConfig']);
    return extraConfigMap(props['config.extraConfig']);
  };

  beforeAll(async () => {
    engine = await connectTestEngine(sim());
    outside = await connectTestClient(sim());
    await registry().pushImage(
      {
        layers: [
          {
            entries: [
              { type: 'dir', path: 'bin' },
              { type: 'file', path: 'bin/app', content: '#!/bin/sh\n', mode: 0o755 },
            ],
          },
        ],
        config: { Entrypoint: ['/bin/app'], Env: ['PATH=/bin'] },
      },
      'test/secret:v1',
    );
    vch = await applied(
      engine,
      await engine.plan('virtual_container_host', null, { name: 'vch-s', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' }),
    );
    img = await applied(engine, await engine.plan('image', null, { vch_id: vch.id, reference: `${registry().host}/test/secret:v1`, insecure_registry: true }));
  }, 90_000);
  afterAll(async () => {
    await engine?.close();
    await outside?.close();
  });

  it('WHEN a name is in both env and secret_env THEN the plan refuses it on secret_env.<name>, without showing a value', async () => {
    const plan = await engine.plan('container_vm', null, { vch_id: vch.id, image_id: img.id, name: 'both', env: { TOKEN: 'plain' }, secret_env: { TOKEN } });
    expect(plan.problems).toEqual([
      {
        path: ['secret_env', 'TOKEN'],
        severity: 'error',
        summary: 'Variable in both env and secret_env',
        detail:
          '"TOKEN" is set in both env and secret_env, so it is unclear which value the container gets. Keep it in one of them: secret_env if its value is a secret.',
      },
    ]);
  });

  it('WHEN a container VM with secret_env is applied THEN the guest config has the value, vic.spec only its salted hash, and the state the value', async () => {
    config = { vch_id: vch.id, image_id: img.id, name: 'app-1', env: { MODE: 'dev' }, secret_env: { TOKEN }, power_state: 'stopped' };
    vm = await applied(engine, await engine.plan('container_vm', null, config));
    expect(vm.secret_env).toEqual({ TOKEN });

    const x = await extraConfig(String(vm.moid));
    expect(decodeGuestConfig(x.get('guestinfo.vic.config') ?? '').env).toEqual(expect.arrayContaining(['MODE=dev', `TOKEN=${TOKEN}`]));
    const spec = JSON.parse(x.get('vic.spec') ?? '{}');
    expect(spec.env).toEqual({ MODE: 'dev' });
    expect(spec.secret_env).toEqual({ TOKEN: secretEnvHash(String(vm.id), 'TOKEN', TOKEN) });
    // Nothing but the guest config holds the value in clear.
    for (const [key, value] of x) if (key !== 'guestinfo.vic.config') expect(value).not.toContain(TOKEN);
    // Salted by the VM: the same secret on another VM would hash differently.
    expect(secretEnvHash('00000000-0000-0000-0000-000000000000', 'TOKEN', TOKEN)).not.toBe(spec.secret_env.TOKEN);
  });

  it('WHEN refreshed THEN the state keeps the value and the plan is a no-op', async () => {
    const [read] = await engine.read([{ type: 'container_vm', state: vm }]);
    expect(read?.secret_env).toEqual({ TOKEN });
    expect((await engine.plan('container_vm', read, config)).action).toBe('no-op');
  });

  it('WHEN the value changes in the configuration THEN the plan replaces, and its reason names secret_env without either value', async () => {
    const plan = await engine.plan('container_vm', vm, { ...config, secret_env: { TOKEN: OTHER } });
    expect(plan.action).toBe('replace');
    expect(plan.reasons).toEqual(['secret_env: (sensitive value) changed (forces replacement)']);
    expect(JSON.stringify(plan.reasons)).not.toMatch(new RegExp(`${TOKEN}|${OTHER}`));
  });

  it('WHEN the state is imported THEN secret_env comes back from the guest config, checked against the hash', async () => {
    const imported = await engine.importState('container_vm', String(vm.id));
    expect(imported.secret_env).toEqual({ TOKEN });
  });

  it('WHEN the secret is changed in vSphere (guest config and hash) THEN refresh sees drift and the plan replaces', async () => {
    const ref = moRef('VirtualMachine', String(vm.moid));
    const x = await extraConfig(String(vm.moid));
    const guest = decodeGuestConfig(x.get('guestinfo.vic.config') ?? '');
    guest.env = guest.env.map((kv) => (kv.startsWith('TOKEN=') ? `TOKEN=${OTHER}` : kv));
    const spec = JSON.parse(x.get('vic.spec') ?? '{}');
    spec.secret_env = { TOKEN: secretEnvHash(String(vm.id), 'TOKEN', OTHER) };
    await reconfigureVm(outside, ref, { extraConfig: { 'guestinfo.vic.config': encodeGuestConfig(guest), 'vic.spec': JSON.stringify(spec) } });

    const [read] = await engine.read([{ type: 'container_vm', state: vm }]);
    expect(read?.secret_env).toEqual({ TOKEN: OTHER });
    const plan = await engine.plan('container_vm', read, config);
    expect(plan.action).toBe('replace');
    expect(plan.reasons).toEqual(['secret_env: (sensitive value) changed (forces replacement)']);
  });

  it('WHEN only the hash is changed in vSphere THEN the value reads as unreadable, and the plan replaces', async () => {
    const x = await extraConfig(String(vm.moid));
    const spec = JSON.parse(x.get('vic.spec') ?? '{}');
    spec.secret_env = { TOKEN: 'sha256:0000' };
    await reconfigureVm(outside, moRef('VirtualMachine', String(vm.moid)), { extraConfig: { 'vic.spec': JSON.stringify(spec) } });
    const [read] = await engine.read([{ type: 'container_vm', state: vm }]);
    expect(read?.secret_env).toEqual({ TOKEN: SECRET_UNREADABLE });
    const plan = await engine.plan('container_vm', read, config);
    expect(plan.action).toBe('replace');
    const replaced = await applied(engine, plan);
    expect(replaced.secret_env).toEqual({ TOKEN });
    vm = replaced;
  });

  it('WHEN the VCH is listed (vic ls, the Docker endpoint) THEN secret_env names its variables but shows no value', async () => {
    const listed = (await engine.inventory()).containerVms.find((c) => c.name === 'app-1');
    expect(listed?.secret_env).toEqual({ TOKEN: SECRET_UNREADABLE });
  });
});
