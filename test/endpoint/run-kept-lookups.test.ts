/**
 * The endpoint keeps some lookups across requests (the VCH's marker, its networks, its images and
 * their metadata) so that `docker run -d` costs little more than the VM's create and power-on. What
 * others change behind it must still show at once: containers made by the engine (as Terraform and
 * the vic CLI make them), VMs destroyed through the vSphere API, an image deleted outside, a
 * session the server dropped. No guest runs here: created and powered-on VMs are enough.
 */
import { declarationFor, type Attrs } from '../../src/resources';
import { moRef } from '../../src/vsphere';
import { destroyVm, powerOffVm } from '../../src/vsphere/virtual-machine';
import { networkId } from '../../src/endpoint/networks';
import { runProcess } from '../cli/run-vic';
import { connectTestClient } from '../helpers/engine';
import { loggedEngine, readsVmsInBulk, useDockerBed } from './docker-env';

/** A call that reads VMs without naming them (a container view of VMs, or a traversal from a pool or folder to its VMs). */
describe('docker run -d with lookups kept across requests', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-kept' });

  const ok = (args: string[]) => bed().dockerOk(args);
  const names = async () => (await ok(['ps', '-a', '--format', '{{.Names}}'])).split('\n').filter(Boolean);

  /** Applies a change through the bed's engine, as Terraform or `vic apply` would. */
  async function applied(type: 'container_vm' | 'image', prior: Attrs | null, config: Attrs | null): Promise<Attrs | null> {
    const engine = bed().engine.forCommand();
    const plan = await engine.plan(type, prior, config);
    expect(plan.problems).toEqual([]);
    return engine.apply(plan);
  }

  test('GIVEN an endpoint that has run a container WHEN its image is deleted outside THEN docker run finds no such image (and the CLI pulls it again) instead of making a VM over the deleted disk', async () => {
    // The first test of the file: no container uses the image yet, so it can be deleted.
    await ok(['run', '-d', '--name', 'warm-image', bed().image]);
    await ok(['rm', '-f', 'warm-image']);
    const [image] = await bed().engine.listIn('image', String(bed().vch.id));
    await applied('image', image, null);
    expect(await bed().engine.listIn('image', String(bed().vch.id))).toEqual([]);

    // The endpoint answers 404 No such image; the docker CLI then pulls the image and creates again.
    const r = await bed().docker(['run', '-d', '--name', 'after-rmi', bed().image]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 0,
      stderr: expect.stringContaining(`Unable to find image '${bed().image}' locally`) as unknown,
    });
    expect(await bed().engine.listIn('image', String(bed().vch.id))).toHaveLength(1);
    expect(await ok(['inspect', '--format', '{{.State.Running}}', 'after-rmi'])).toBe('true');
  });

  test('GIVEN an endpoint that has run a container WHEN the engine makes a container VM named "iac-made" THEN docker ps lists it and docker create of that name is a conflict naming it', async () => {
    await ok(['run', '-d', '--name', 'warm-iac', bed().image]);
    const imageId = await ok(['image', 'inspect', '--format', '{{.Id}}', bed().image]);
    const made = await applied('container_vm', null, { vch_id: bed().vch.id, image_id: imageId, name: 'iac-made', power_state: 'stopped' });
    expect(made).not.toBeNull();

    expect(await names()).toContain('iac-made');
    const id = await ok(['inspect', '--format', '{{.Id}}', 'iac-made']);
    const r = await bed().docker(['run', '-d', '--name', 'iac-made', bed().image]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`The container name "/iac-made" is already in use by container "${id}"`);
  });

  test('GIVEN a container the endpoint made WHEN its VM is destroyed through the vSphere API THEN docker ps no longer lists it and its name is free', async () => {
    // Created, not started: a powered-on VM is not destroyed by Destroy_Task.
    await ok(['create', '--name', 'destroyed-outside', bed().image]);
    const moid = await ok(['inspect', '--format', '{{.VSphere.Moid}}', 'destroyed-outside']);
    expect(await names()).toContain('destroyed-outside');
    const outside = await connectTestClient(bed().sim);
    try {
      await destroyVm(outside, moRef('VirtualMachine', moid));
    } finally {
      await outside.close();
    }
    expect(await names()).not.toContain('destroyed-outside');
    await ok(['run', '-d', '--name', 'destroyed-outside', bed().image]);
    expect(await ok(['inspect', '--format', '{{.VSphere.Moid}}', 'destroyed-outside'])).not.toBe(moid);
  });

  test('GIVEN an endpoint that has run a container WHEN the simulator drops every session THEN the next docker run -d logs in again and still refuses a name in use', async () => {
    await ok(['run', '-d', '--name', 'before-expiry', bed().image]);
    await bed().sim.control.expireSessions();
    await ok(['run', '-d', '--name', 'after-expiry', bed().image]);
    expect(await ok(['inspect', '--format', '{{.State.Running}}', 'after-expiry'])).toBe('true');
    const r = await bed().docker(['create', '--name', 'before-expiry', bed().image]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The container name "/before-expiry" is already in use');
  });

  test('GIVEN docker wait on a running container WHEN its VM is powered off through the vSphere API THEN the wait ends, its looks having read that container alone, never the VCH', async () => {
    const sim = bed().sim;
    const { calls, engine } = await loggedEngine(sim);
    const pollMs = 200;
    const served = await bed().serve({
      engine,
      pollMs,
    });
    try {
      const docker = (args: string[]) => runProcess('docker', args, { ...bed().env, DOCKER_HOST: `tcp://127.0.0.1:${served.port}` }, { timeoutMs: 60_000 });
      const id = (await docker(['run', '-d', '--name', 'waited-on', bed().image])).stdout.trim();
      const moid = (await docker(['inspect', '--format', '{{.VSphere.Moid}}', id])).stdout.trim();
      calls.length = 0;
      const waiting = docker(['wait', id]);
      // A few looks while it still runs, then the power-off the next look sees.
      await new Promise((resolve) => setTimeout(resolve, 4 * pollMs));
      const outside = await connectTestClient(sim);
      try {
        await powerOffVm(outside, moRef('VirtualMachine', moid));
      } finally {
        await outside.close();
      }
      const waited = await waiting;
      expect({ code: waited.code, stdout: waited.stdout.trim(), stderr: waited.stderr }).toEqual({ code: 0, stdout: '0', stderr: '' });
      const vmReads = calls.filter((c) => /^RetrieveProperties/.test(c.method) && (c.requestXml ?? '').includes(`>${moid}</obj>`));
      expect(vmReads.length).toBeGreaterThanOrEqual(2);
      expect(calls.filter(readsVmsInBulk).map((c) => c.method)).toEqual([]);
    } finally {
      await served.close();
      await engine.close();
    }
  });

  test('GIVEN an endpoint that has run a container WHEN docker run -d runs again THEN it reads neither the VCH, its image store, its networks nor the custom fields again: the VM is made, marked and powered on', async () => {
    const sim = bed().sim;
    const { calls, engine } = await loggedEngine(sim);
    const served = await bed().serve({ engine });
    try {
      const docker = (args: string[]) => runProcess('docker', args, { ...bed().env, DOCKER_HOST: `tcp://127.0.0.1:${served.port}` }, { timeoutMs: 60_000 });
      expect((await docker(['run', '-d', '--name', 'kept-first', bed().image])).code).toBe(0);
      calls.length = 0;
      const r = await docker(['run', '-d', '--name', 'kept-second', bed().image]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const read = (type: string) => calls.filter((c) => /^RetrieveProperties/.test(c.method) && (c.requestXml ?? '').includes(`<type>${type}</type>`)).length;
      expect({
        pools: read('ResourcePool'),
        datastores: read('Datastore'),
        networks: read('Network'),
        customFields: read('CustomFieldsManager'),
        storeListings: calls.filter((c) => c.method.startsWith('SearchDatastore')).length,
      }).toEqual({ pools: 0, datastores: 0, networks: 0, customFields: 0, storeListings: 0 });
      expect(calls.filter((c) => ['CreateVM_Task', 'SetField', 'PowerOnVM_Task'].includes(c.method)).map((c) => c.method)).toEqual([
        'CreateVM_Task',
        'SetField',
        'PowerOnVM_Task',
      ]);
      // The name lookup asks who holds the BIOS UUID; the create, applied right after its plan,
      // takes that answer (nobody) instead of asking again.
      expect(calls.filter((c) => c.method === 'FindByUuid')).toHaveLength(1);
      // The start reads no VM (the create hands the VM it made on to it, and the power-on's success
      // is the new state); the wait the CLI opens before the start takes the state the create just
      // left, and reads nothing either.
      expect(read('VirtualMachine')).toBe(0);
    } finally {
      await served.close();
      await engine.close();
    }
  });

  test("GIVEN an endpoint that keeps its lookups 300 ms WHEN the VCH's bridge network is changed in place through the engine THEN a docker run after that time joins the new one", async () => {
    const engine = bed().engine;
    const served = await bed().serve({
      engine,
      keptLookupsMs: 300,
    });
    try {
      const docker = async (args: string[]) => {
        const r = await runProcess('docker', args, { ...bed().env, DOCKER_HOST: `tcp://127.0.0.1:${served.port}` }, { timeoutMs: 60_000 });
        expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
        return r.stdout.trim();
      };
      // docker's default network (`bridge`, as dockerd keys it), and the port group it is.
      const networksOf = (name: string) =>
        docker(['inspect', '--format', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.NetworkID}} {{end}}', name]);
      await docker(['run', '-d', '--name', 'bridge-before', bed().image]);
      expect(await networksOf('bridge-before')).toBe(`bridge=${networkId('VM Network')}`);

      const command = engine.forCommand();
      const [vch] = await command.read([{ type: 'virtual_container_host', state: bed().vch }]);
      const schema = declarationFor('virtual_container_host').schema;
      const inputs = Object.fromEntries(Object.entries(vch!).filter(([k, v]) => v !== null && !(schema[k]?.computed && !schema[k]?.optional)));
      const plan = await command.plan('virtual_container_host', vch, { ...inputs, bridge_network: 'DC0_DVPG0' });
      expect({ action: plan.action, problems: plan.problems }).toEqual({ action: 'update', problems: [] });
      await command.apply(plan);
      await new Promise((resolve) => setTimeout(resolve, 400));

      await docker(['run', '-d', '--name', 'bridge-after', bed().image]);
      expect(await networksOf('bridge-after')).toBe(`bridge=${networkId('DC0_DVPG0')}`);
    } finally {
      await served.close();
    }
  });
});
