import { request } from 'undici';
import { useSimulator } from '../../helpers/vcsim';
import { SoapSession, elementText, faultType, findVm, powerTask, readTaskInfo } from './soap';

const CURRENT_TIME = '<CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime>';

describe('vcsim control API: fault rules', () => {
  const sim = useSimulator({ vms: 1 });
  let soap: SoapSession;
  let hostVm: string;
  let clusterVm: string;

  beforeAll(async () => {
    soap = new SoapSession(sim());
    await soap.login();
    hostVm = await findVm(soap, 'DC0/vm/DC0_H0_VM0');
    clusterVm = await findVm(soap, 'DC0/vm/DC0_C0_RP0_VM0');
  });
  afterEach(() => sim().control.clearFaults());
  afterAll(() => soap.close());

  test('GIVEN a soap rule WHEN the method is called twice THEN the first call gets the genuine fault envelope, the second the real answer', async () => {
    const [rule] = await sim().control.addFault({ method: 'CurrentTime', fault: 'InvalidState', message: 'injected state' });
    expect(rule).toMatchObject({ id: expect.any(Number), method: 'CurrentTime', kind: 'soap', fault: 'InvalidState', times: 1, hits: 0 });

    const faulted = await soap.call(CURRENT_TIME);
    expect(faulted.status).toBe(500);
    expect(faulted.body).toContain('<faultcode>ServerFaultCode</faultcode>');
    expect(elementText(faulted.body, 'faultstring')).toBe('injected state');
    expect(faulted.body).toContain('<InvalidStateFault xmlns="urn:vim25" xsi:type="InvalidState">');
    expect(faultType(faulted.body)).toBe('InvalidState');

    const normal = await soap.call(CURRENT_TIME);
    expect(normal.status).toBe(200);
    expect(await sim().control.faults()).toEqual([expect.objectContaining({ id: rule.id, hits: 1 })]);
  });

  test('GIVEN detailXml WHEN the fault is sent THEN its fields went through the real vim25 type (unknown elements dropped)', async () => {
    await sim().control.addFault({
      method: 'CurrentTime',
      fault: 'DuplicateName',
      detailXml: '<name>vch-1</name><object type="Folder">group-d1</object><notAField>x</notAField>',
    });
    const reply = await soap.call(CURRENT_TIME);
    expect(faultType(reply.body)).toBe('DuplicateName');
    expect(reply.body).toContain('<name>vch-1</name>');
    expect(reply.body).toContain('<object type="Folder">group-d1</object>');
    expect(reply.body).not.toContain('notAField');
  });

  test('GIVEN a rule without a fault WHEN it fires THEN it is a SystemError whose reason is the message', async () => {
    await sim().control.addFault({ method: 'CurrentTime', message: 'disk on fire' });
    const reply = await soap.call(CURRENT_TIME);
    expect(faultType(reply.body)).toBe('SystemError');
    expect(elementText(reply.body, 'reason')).toBe('disk on fire');
  });

  test('GIVEN a rule on one VM (this) WHEN both VMs are powered off THEN only that VM faults, every time (times -1)', async () => {
    await sim().control.addFault({ method: 'PowerOffVM_Task', this: hostVm, fault: 'InvalidState', times: -1 });
    for (let i = 0; i < 3; i++) {
      const reply = await soap.call(`<PowerOffVM_Task xmlns="urn:vim25"><_this type="VirtualMachine">${hostVm}</_this></PowerOffVM_Task>`);
      expect(faultType(reply.body)).toBe('InvalidState');
    }
    const other = await soap.call(`<PowerOffVM_Task xmlns="urn:vim25"><_this type="VirtualMachine">${clusterVm}</_this></PowerOffVM_Task>`);
    expect(other.status).toBe(200);
    expect(elementText(other.body, 'returnval')).toMatch(/^task-\d+$/);
    const [rule] = await sim().control.faults();
    expect(rule).toMatchObject({ this: hostVm, times: -1, hits: 3 });
    // put the cluster VM back on for the other tests
    await powerTask(soap, 'PowerOnVM_Task', clusterVm);
  });

  test('GIVEN an http rule with times 2 WHEN called three times THEN 503, 503, then the real answer', async () => {
    await sim().control.addFault({ method: 'CurrentTime', kind: 'http', times: 2, message: 'maintenance' });
    const statuses: number[] = [];
    let firstBody = '';
    for (let i = 0; i < 3; i++) {
      const reply = await soap.call(CURRENT_TIME);
      statuses.push(reply.status);
      if (i === 0) firstBody = reply.body;
    }
    expect(statuses).toEqual([503, 503, 200]);
    expect(firstBody).toBe('maintenance');
  });

  test('GIVEN an http rule with a status WHEN it fires THEN that bare status comes back', async () => {
    await sim().control.addFault({ kind: 'http', httpStatus: 429 });
    expect((await soap.call(CURRENT_TIME)).status).toBe(429);
  });

  test('GIVEN a drop rule WHEN the method is called THEN the connection is closed without a response', async () => {
    await sim().control.addFault({ method: 'CurrentTime', kind: 'drop' });
    await expect(soap.call(CURRENT_TIME)).rejects.toMatchObject({ code: expect.stringMatching(/UND_ERR_SOCKET|ECONNRESET/) });
    expect((await soap.call(CURRENT_TIME)).status).toBe(200);
  });

  test('GIVEN a lose-reply rule WHEN a folder is created THEN the connection closes without an answer, yet the folder exists', async () => {
    const create = (name: string) => `<CreateFolder xmlns="urn:vim25"><_this type="Folder">group-d1</_this><name>${name}</name></CreateFolder>`;
    await sim().control.addFault({ method: 'CreateFolder', kind: 'lose-reply' });
    await expect(soap.call(create('lost-reply-folder'))).rejects.toMatchObject({ code: expect.stringMatching(/UND_ERR_SOCKET|ECONNRESET/) });
    // The server acted: creating it again is a DuplicateName.
    expect(faultType((await soap.call(create('lost-reply-folder'))).body)).toBe('DuplicateName');
  });

  test('GIVEN a lose-reply rule on "HTTP PUT" WHEN a datastore file is uploaded THEN the connection closes, yet the file is written', async () => {
    const file = `${sim().url.replace(/\/sdk$/, '')}/folder/lost-reply/a.txt?dcPath=DC0&dsName=LocalDS_0`;
    await sim().control.addFault({ method: 'HTTP PUT', this: 'lost-reply/a.txt', kind: 'lose-reply' });
    await expect(request(file, { method: 'PUT', body: 'hello', dispatcher: soap.dispatcher })).rejects.toMatchObject({
      code: expect.stringMatching(/UND_ERR_SOCKET|ECONNRESET/),
    });
    const read = await request(file, { method: 'GET', dispatcher: soap.dispatcher });
    expect(read.statusCode).toBe(200);
    expect(await read.body.text()).toBe('hello');
  });

  test('GIVEN a delay rule WHEN the method is called THEN the real answer comes after the delay', async () => {
    await sim().control.addFault({ method: 'CurrentTime', kind: 'delay', delayMs: 400 });
    const started = Date.now();
    const reply = await soap.call(CURRENT_TIME);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBe(200);
    expect(elementText(reply.body, 'returnval')).toMatch(/^\d{4}-/);
  });

  test('GIVEN a task rule WHEN a *_Task is called THEN it returns a registered task in error carrying that fault', async () => {
    await sim().control.addFault({ method: 'PowerOnVM_Task', this: hostVm, kind: 'task', fault: 'InsufficientResourcesFault', message: 'no CPU left' });
    const task = await powerTask(soap, 'PowerOnVM_Task', hostVm);
    const info = await readTaskInfo(soap, task);
    expect(info).toMatchObject({ state: 'error', errorType: 'InsufficientResourcesFault', localizedMessage: 'no CPU left' });
  });

  test('GIVEN a rule WHEN a caller without a session calls THEN the injected fault still answers (no session check)', async () => {
    await sim().control.addFault({ method: 'CurrentTime', fault: 'InvalidState' });
    const anonymous = new SoapSession(sim());
    try {
      expect(faultType((await anonymous.call(CURRENT_TIME)).body)).toBe('InvalidState');
      expect(faultType((await anonymous.call(CURRENT_TIME)).body)).toBe('NotAuthenticated');
    } finally {
      await anonymous.close();
    }
  });

  test('GIVEN two rules for one method WHEN called THEN the first live rule answers, then the next', async () => {
    const added = await sim().control.addFault([
      { method: 'CurrentTime', fault: 'InvalidState' },
      { method: 'CurrentTime', fault: 'NotFound' },
    ]);
    expect(added.map((r) => r.id)).toEqual([added[0].id, added[0].id! + 1]);
    expect(faultType((await soap.call(CURRENT_TIME)).body)).toBe('InvalidState');
    expect(faultType((await soap.call(CURRENT_TIME)).body)).toBe('NotFound');
    expect((await soap.call(CURRENT_TIME)).status).toBe(200);
  });

  test('GIVEN rules WHEN cleared THEN the list is empty and calls pass through', async () => {
    await sim().control.addFault({ method: '*', fault: 'InvalidState', times: -1 });
    expect(await sim().control.faults()).toHaveLength(1);
    await sim().control.clearFaults();
    expect(await sim().control.faults()).toEqual([]);
    expect((await soap.call(CURRENT_TIME)).status).toBe(200);
  });

  test.each([
    [{ fault: 'NoSuchFault' }, /"NoSuchFault" is not a vim25 fault type/],
    [{ kind: 'explode' as never }, /kind "explode"/],
    [{ kind: 'task' as const, method: 'CurrentTime' }, /must be a \*_Task method/],
    [{ kind: 'delay' as const }, /needs delayMs/],
    [{ kind: 'soap' as const, method: 'HTTP PUT' }, /kind soap cannot answer "HTTP PUT"/],
    [{ times: 0 }, /times 0/],
    [{ fault: 'NotFound', detailXml: '<faultMessage>' }, /detailXml for NotFound does not decode/],
  ])('GIVEN an invalid rule %j WHEN added THEN the API answers 400 naming the problem', async (rule, message) => {
    await expect(sim().control.addFault(rule)).rejects.toThrow(message);
    expect(await sim().control.faults()).toEqual([]);
  });
});
