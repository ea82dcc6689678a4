/**
 * docker run -d looks containers up by name and id instead of listing the VCH: what it asks
 * vSphere does not grow with the containers present, and the lookups still see what changed in
 * vSphere behind the endpoint (a renamed container's name is taken, a VM deleted outside is gone).
 * No guest runs here: created and powered-on VMs are enough.
 */
import { moRef } from '../../src/vsphere';
import { destroyVm, powerOffVm } from '../../src/vsphere/virtual-machine';
import { runProcess } from '../cli/run-vic';
import { connectTestClient } from '../helpers/engine';
import { loggedEngine, readsVmsInBulk, useDockerBed } from './docker-env';

/**
 * A call that reads VMs without naming them: a container view of VMs, or a property read that
 * traverses from a pool or folder to VirtualMachine objects. Its cost grows with what it finds.
 */
/** What src/vsphere/tasks.ts calls to wait for a task: how many depends on how fast the simulator finishes it, not on N. */
const TASK_WAIT_METHODS = new Set(['RetrieveProperties', 'CreatePropertyCollector', 'CreateFilter', 'WaitForUpdatesEx', 'DestroyPropertyCollector']);

const POLL_MS = 300;

describe('docker run -d by lookups', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-lookups' });

  const ok = (args: string[]) => bed().dockerOk(args);

  /**
   * The SOAP calls of one `docker run -d`, task waits left out; the fewer of two runs, since a run
   * sometimes counts one read more whatever N is (seen at 2 and at 8 containers alike).
   */
  async function runCalls(name: string): Promise<Record<string, number>> {
    const once = async (suffix: string) => {
      await bed().sim.control.resetStats();
      await ok(['run', '-d', '--name', `${name}-${suffix}`, bed().image]);
      const stats = await bed().sim.control.resetStats();
      return Object.fromEntries(Object.entries(stats.calls).filter(([method]) => !TASK_WAIT_METHODS.has(method)));
    };
    const total = (calls: Record<string, number>) => Object.values(calls).reduce((a, b) => a + b, 0);
    const [a, b] = [await once('a'), await once('b')];
    return total(b) < total(a) ? b : a;
  }

  test('GIVEN 2 and then 8 containers in the VCH WHEN docker run -d runs THEN it makes the same SOAP calls, one CreateVM_Task and one PowerOnVM_Task each', async () => {
    for (const i of [1, 2]) await ok(['create', '--name', `few-${i}`, bed().image]);
    const withTwo = await runCalls('run-at-2');
    for (const i of [3, 4, 5, 6]) await ok(['create', '--name', `few-${i}`, bed().image]);
    // 8 before the first run of the second pair
    expect((await ok(['ps', '-a', '-q'])).split('\n')).toHaveLength(8);
    const withEight = await runCalls('run-at-8');
    expect(withTwo).toMatchObject({ CreateVM_Task: 1, PowerOnVM_Task: 1 });
    expect(withEight).toEqual(withTwo);
    expect(await ok(['inspect', '--format', '{{.State.Status}}', 'run-at-8-a'])).toBe('running');
  });

  test('GIVEN a container renamed to a name WHEN docker create takes that name THEN it is a conflict naming that container', async () => {
    await ok(['create', '--name', 'before', bed().image]);
    const id = await ok(['inspect', '--format', '{{.Id}}', 'before']);
    await ok(['rename', 'before', 'after']);
    const r = await bed().docker(['create', '--name', 'after', bed().image]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`The container name "/after" is already in use by container "${id}"`);
    // and the first name is free again
    await ok(['create', '--name', 'before', bed().image]);
  });

  test('GIVEN a container the endpoint made WHEN its VM is deleted through the vSphere API THEN docker start by its id says it is gone', async () => {
    const id = await ok(['create', '--name', 'deleted-outside', bed().image]);
    const moid = await ok(['inspect', '--format', '{{.VSphere.Moid}}', id]);
    const outside = await connectTestClient(bed().sim);
    try {
      await destroyVm(outside, moRef('VirtualMachine', moid));
    } finally {
      await outside.close();
    }
    const r = await bed().docker(['start', id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No such container/);
    // its name is free for a new container
    await ok(['create', '--name', 'deleted-outside', bed().image]);
  });

  test('GIVEN a running container WHEN it is powered off through the vSphere API THEN docker start by its id starts it again', async () => {
    const id = await ok(['run', '-d', '--name', 'off-outside', bed().image]);
    const moid = await ok(['inspect', '--format', '{{.VSphere.Moid}}', id]);
    const outside = await connectTestClient(bed().sim);
    try {
      await powerOffVm(outside, moRef('VirtualMachine', moid));
    } finally {
      await outside.close();
    }
    expect(await ok(['inspect', '--format', '{{.State.Running}}', id])).toBe('false');
    await ok(['start', id]);
    expect(await ok(['inspect', '--format', '{{.State.Running}}', id])).toBe('true');
  });

  test("GIVEN an endpoint whose SOAP calls are logged WHEN docker run -d runs THEN no call reads the VCH's VMs in bulk: each VM read is named", async () => {
    const sim = bed().sim;
    const { calls, engine } = await loggedEngine(sim);
    const served = await bed().serve({
      engine,
      pollMs: POLL_MS,
    });
    try {
      const docker = (args: string[]) => runProcess('docker', args, { ...bed().env, DOCKER_HOST: `tcp://127.0.0.1:${served.port}` }, { timeoutMs: 120_000 });
      // The detector sees a listing: docker ps reads the pool's VMs in one traversal.
      calls.length = 0;
      expect((await docker(['ps', '-a'])).code).toBe(0);
      expect(calls.filter(readsVmsInBulk)).not.toHaveLength(0);

      calls.length = 0;
      const r = await docker(['run', '-d', '--name', 'named-reads', bed().image]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      // The CLI opens a wait before the start and drops it after: no look of the VCH for it either.
      await new Promise((resolve) => setTimeout(resolve, 2 * POLL_MS));
      expect(calls.map((c) => c.method)).toContain('CreateVM_Task');
      expect(calls.filter(readsVmsInBulk).map((c) => `${c.method}: ${c.requestXml ?? ''}`)).toEqual([]);
    } finally {
      await served.close();
      await engine.close();
    }
  });
});
