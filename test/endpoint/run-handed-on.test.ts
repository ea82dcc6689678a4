/**
 * `docker run -d` sends a create and, a moment later, a start of the container it made. The create
 * hands the VM it made on to that start (CommandOptions.handedOn), which powers the VM on without
 * reading it first. What happens to the VM in between must still show: a VM powered on or destroyed
 * through the vSphere API, a hand-on older than the window, another request over the container.
 * Guests off: created and powered-on VMs are enough.
 */
import type { ServeOptions } from '../../src/endpoint/serve';
import { moRef, type SoapLogEvent, type VimClient } from '../../src/vsphere';
import { destroyVm, powerOnVm } from '../../src/vsphere/virtual-machine';
import { connectTestClient } from '../helpers/engine';
import { loggedEngine, useDockerBed } from './docker-env';

const API = '/v1.45';

/** SOAP reads of VMs (a task's reads name a Task). */
const vmReads = (calls: readonly SoapLogEvent[]) =>
  calls.filter((c) => /^RetrieveProperties/.test(c.method) && (c.requestXml ?? '').includes('<type>VirtualMachine</type>')).length;
/** Every call but property reads, in order. */
const methods = (calls: readonly SoapLogEvent[]) => calls.map((c) => c.method).filter((m) => !/^(Continue)?RetrieveProperties/.test(m));

describe('docker run -d: the create hands its VM on to the start', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-handed' });

  /** An endpoint of its own on a logging engine, to count what each request asks of vSphere. */
  async function loggedEndpoint(options: Partial<ServeOptions> = {}) {
    const { calls, engine } = await loggedEngine(bed().sim);
    const served = await bed().serve({ engine, ...options });
    const call = (method: string, path: string, body?: unknown) => bed().call(method, `${API}${path}`, body, served.port);
    return {
      calls,
      call,
      async create(name: string): Promise<{ id: string; moid: string }> {
        const r = await call('POST', `/containers/create?name=${name}`, { Image: bed().image, HostConfig: { NetworkMode: 'default' } });
        expect({ status: r.status, body: r.body }).toEqual({ status: 201, body: expect.stringContaining('"Id"') as unknown });
        const { Id } = JSON.parse(r.body) as { Id: string };
        // Looked at through the bed's own endpoint: this one's hand-on stays untouched.
        const moid = await bed().dockerOk(['inspect', '--format', '{{.VSphere.Moid}}', Id]);
        return { id: Id, moid };
      },
      /** The start's answer and the calls it made. */
      async start(id: string): Promise<{ status: number; body: string; calls: SoapLogEvent[] }> {
        calls.length = 0;
        const r = await call('POST', `/containers/${id}/start`);
        return { status: r.status, body: r.body, calls: [...calls] };
      },
      async close() {
        await served.close();
        await engine.close();
      },
    };
  }

  async function outside(work: (client: VimClient) => Promise<void>): Promise<void> {
    const client = await connectTestClient(bed().sim);
    try {
      await work(client);
    } finally {
      await client.close();
    }
  }

  const running = async (id: string) => bed().dockerOk(['inspect', '--format', '{{.State.Running}}', id]);

  test('GIVEN a container just created WHEN it is started THEN the start powers its VM on without reading it or looking it up, and the container runs', async () => {
    const e = await loggedEndpoint();
    try {
      const { id } = await e.create('handed-plain');
      const started = await e.start(id);
      expect(started.status).toBe(204);
      expect({ methods: methods(started.calls), vmReads: vmReads(started.calls) }).toEqual({ methods: ['PowerOnVM_Task'], vmReads: 0 });
      expect(await running(id)).toBe('true');
    } finally {
      await e.close();
    }
  });

  test('GIVEN a container just created WHEN its VM is powered on through the vSphere API before the start THEN the refused power-on is followed by a read and the start still succeeds with the container running', async () => {
    const e = await loggedEndpoint();
    try {
      const { id, moid } = await e.create('handed-on-outside');
      await outside((client) => powerOnVm(client, moRef('VirtualMachine', moid)));
      const started = await e.start(id);
      expect(started.status).toBe(204);
      // The power-on, refused (InvalidPowerState), then the VM read: its state is the answer.
      expect(methods(started.calls)).toEqual(['PowerOnVM_Task']);
      expect(vmReads(started.calls)).toBeGreaterThanOrEqual(1);
      expect(await running(id)).toBe('true');
      // And the endpoint knows it runs: a second start is docker's 304.
      expect((await e.start(id)).status).toBe(304);
    } finally {
      await e.close();
    }
  });

  test('GIVEN a container just created WHEN its VM is destroyed through the vSphere API before the start THEN the start answers 404 No such container, as when it reads first', async () => {
    const e = await loggedEndpoint();
    try {
      const { id, moid } = await e.create('handed-destroyed');
      await outside((client) => destroyVm(client, moRef('VirtualMachine', moid)));
      const started = await e.start(id);
      expect({ status: started.status, body: started.body }).toEqual({ status: 404, body: expect.stringContaining(`No such container: ${id}`) as unknown });
      // The power-on was tried on the handed-on VM, then the container looked for afresh.
      expect(methods(started.calls)[0]).toBe('PowerOnVM_Task');
      expect(vmReads(started.calls)).toBeGreaterThanOrEqual(1);
    } finally {
      await e.close();
    }
  });

  test('GIVEN an endpoint whose hand-on lasts 300 ms WHEN a container is started 600 ms after its create THEN the start reads its VM first, and the container runs', async () => {
    const e = await loggedEndpoint({ handedOnMs: 300 });
    try {
      const { id } = await e.create('handed-late');
      await new Promise((resolve) => setTimeout(resolve, 600));
      const started = await e.start(id);
      expect(started.status).toBe(204);
      expect(methods(started.calls)).toEqual(['PowerOnVM_Task']);
      expect(vmReads(started.calls)).toBe(1);
      expect(await running(id)).toBe('true');
    } finally {
      await e.close();
    }
  });

  test('GIVEN a container just created WHEN another request looks it up before its start (docker inspect) THEN the start reads its VM first: the hand-on goes to the next request over the container only', async () => {
    const e = await loggedEndpoint();
    try {
      const { id } = await e.create('handed-inspected');
      const inspected = await e.call('GET', `/containers/${id}/json`);
      expect(inspected.status).toBe(200);
      const started = await e.start(id);
      expect(started.status).toBe(204);
      expect(vmReads(started.calls)).toBe(1);
      expect(await running(id)).toBe('true');
    } finally {
      await e.close();
    }
  });
});
