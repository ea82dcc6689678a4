import { useSimulator } from '../../helpers/vcsim';
import { SoapSession, awaitTask, elementText, findVm, powerTask, readTaskInfo } from './soap';

async function powerState(soap: SoapSession, vm: string): Promise<string | undefined> {
  const reply = await soap.call(
    '<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">propertyCollector</_this><specSet>' +
      `<propSet><type>VirtualMachine</type><pathSet>runtime.powerState</pathSet></propSet><objectSet><obj type="VirtualMachine">${vm}</obj></objectSet>` +
      '</specSet><options></options></RetrievePropertiesEx>',
  );
  return elementText(reply.body, 'val');
}

describe('vcsim control API: asynchronous tasks', () => {
  const sim = useSimulator({ vms: 1 });
  let soap: SoapSession;
  let vm: string;

  beforeAll(async () => {
    soap = new SoapSession(sim());
    await soap.login();
    vm = await findVm(soap, 'DC0/vm/DC0_H0_VM0');
  });
  afterEach(async () => {
    await sim().control.clearFaults();
    await sim().control.setDelay({ asyncTaskMs: 0 });
  });
  afterAll(() => soap.close());

  test('GIVEN an async rule WHEN PowerOffVM_Task is called THEN the task goes queued -> running -> 25/50/75 -> success and the VM is off', async () => {
    expect(await powerState(soap, vm)).toBe('poweredOn');
    await sim().control.addFault({ method: 'PowerOffVM_Task', this: vm, kind: 'async', delayMs: 1000 });

    const started = Date.now();
    const task = await powerTask(soap, 'PowerOffVM_Task', vm);
    // THEN the call answers at once with a queued task, and the real call has not run yet
    expect((await readTaskInfo(soap, task)).state).toBe('queued');
    expect(await powerState(soap, vm)).toBe('poweredOn');

    const { final, seen } = await awaitTask(soap, task);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(seen).toEqual(['queued', 'running', 'running 25', 'running 50', 'running 75', 'success']);
    expect(final.progress).toBe(100);
    expect(await powerState(soap, vm)).toBe('poweredOff');
  });

  test('GIVEN an async task WHEN a client waits with a filter and WaitForUpdatesEx THEN it sees each state and progress change', async () => {
    if ((await powerState(soap, vm)) !== 'poweredOn') await awaitTask(soap, await powerTask(soap, 'PowerOnVM_Task', vm));
    await sim().control.addFault({ method: 'PowerOffVM_Task', this: vm, kind: 'async', delayMs: 1000 });
    const task = await powerTask(soap, 'PowerOffVM_Task', vm);

    const collector = elementText(
      (await soap.call('<CreatePropertyCollector xmlns="urn:vim25"><_this type="PropertyCollector">propertyCollector</_this></CreatePropertyCollector>')).body,
      'returnval',
    );
    expect(collector).toBeDefined();
    const filter = await soap.call(
      `<CreateFilter xmlns="urn:vim25"><_this type="PropertyCollector">${collector}</_this><spec>` +
        '<propSet><type>Task</type><pathSet>info.state</pathSet><pathSet>info.progress</pathSet></propSet>' +
        `<objectSet><obj type="Task">${task}</obj></objectSet></spec><partialUpdates>false</partialUpdates></CreateFilter>`,
    );
    expect(filter.status).toBe(200);

    const changes: string[] = [];
    let version = '';
    const deadline = Date.now() + 10_000;
    while (!changes.includes('state=success') && Date.now() < deadline) {
      const reply = await soap.call(
        `<WaitForUpdatesEx xmlns="urn:vim25"><_this type="PropertyCollector">${collector}</_this><version>${version}</version>` +
          '<options><maxWaitSeconds>5</maxWaitSeconds></options></WaitForUpdatesEx>',
      );
      expect(reply.status).toBe(200);
      version = elementText(reply.body, 'version') ?? version;
      for (const change of reply.body.matchAll(/<changeSet><name>info\.(state|progress)<\/name><op>\w+<\/op>(?:<val[^>]*>([^<]*)<\/val>)?/g)) {
        const label = `${change[1]}=${change[2] ?? ''}`;
        if (changes[changes.length - 1] !== label && !(change[1] === 'progress' && change[2] === undefined)) changes.push(label);
      }
    }
    // THEN the first report is queued and the client sees running, each progress step, then success
    expect(changes[0]).toBe('state=queued');
    expect(changes).toEqual(expect.arrayContaining(['state=running', 'progress=25', 'progress=50', 'progress=75', 'state=success']));
    expect(changes.indexOf('progress=75')).toBeLessThan(changes.indexOf('state=success'));
  });

  test('GIVEN an async rule WHEN the real call fails THEN its fault becomes the task error', async () => {
    // the VM is off after the previous test (or powered off here), so powering off again is InvalidPowerState
    if ((await powerState(soap, vm)) !== 'poweredOff') await awaitTask(soap, await powerTask(soap, 'PowerOffVM_Task', vm));
    await sim().control.addFault({ method: 'PowerOffVM_Task', kind: 'async', delayMs: 250 });

    const { final, seen } = await awaitTask(soap, await powerTask(soap, 'PowerOffVM_Task', vm));
    expect(seen[0]).toBe('queued');
    expect(final).toMatchObject({ state: 'error', errorType: 'InvalidPowerState', progress: 100 });
  });

  test('GIVEN asyncTaskMs WHEN any *_Task is called THEN it runs asynchronously, and 0 turns that off', async () => {
    const delays = await sim().control.setDelay({ asyncTaskMs: 300 });
    expect(delays).toMatchObject({ asyncTaskMs: 300 });

    const slow = await powerTask(soap, 'PowerOnVM_Task', vm);
    expect((await readTaskInfo(soap, slow)).state).toBe('queued');
    const { final, seen } = await awaitTask(soap, slow);
    expect(seen).toContain('running 50');
    expect(final.state).toBe('success');
    expect(await powerState(soap, vm)).toBe('poweredOn');

    await sim().control.setDelay({ asyncTaskMs: 0 });
    const fast = await powerTask(soap, 'PowerOffVM_Task', vm);
    const { seen: fastSeen } = await awaitTask(soap, fast);
    expect(fastSeen).not.toContain('queued');
  });

  test('GIVEN asyncTaskMs and a matching rule WHEN called THEN the rule wins', async () => {
    await sim().control.setDelay({ asyncTaskMs: 5000 });
    await sim().control.addFault({ method: 'PowerOnVM_Task', kind: 'task', fault: 'InvalidState' });
    const info = await readTaskInfo(soap, await powerTask(soap, 'PowerOnVM_Task', vm));
    expect(info).toMatchObject({ state: 'error', errorType: 'InvalidState' });
  });
});
