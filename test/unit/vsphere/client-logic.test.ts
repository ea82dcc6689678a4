import {
  DEFAULT_RETRY_POLICY,
  DuplicateNameError,
  FileAlreadyExistsError,
  InvalidArgumentError,
  InvalidLoginError,
  InvalidPowerStateError,
  NotAuthenticatedError,
  NotFoundError,
  ResourceInUseError,
  TaskFailedError,
  TransientError,
  VimFault,
  backoffDelayMs,
  encodeVmConfigSpec,
  faultFromName,
  fullAllocation,
  isNotFound,
  isResourceInUse,
  isTransient,
  moRef,
  normalizeSdkUrl,
  normalizeThumbprint,
  redactXml,
  retryTransient,
} from '../../../src/vsphere';
import { encodeElement } from '../../../src/vsphere/xml';

const VM = moRef('VirtualMachine', 'vm-1');

describe('GIVEN a vim25 fault name WHEN it becomes an error THEN the class matches its meaning', () => {
  const cases: Array<[string, new (...args: never[]) => VimFault]> = [
    ['ManagedObjectNotFound', NotFoundError],
    ['NotFound', NotFoundError],
    ['FileNotFound', NotFoundError],
    ['DuplicateName', DuplicateNameError],
    ['InvalidArgument', InvalidArgumentError],
    ['ResourceInUse', ResourceInUseError],
    ['InvalidPowerState', InvalidPowerStateError],
    ['NotAuthenticated', NotAuthenticatedError],
    ['InvalidLogin', InvalidLoginError],
    ['FileAlreadyExists', FileAlreadyExistsError],
    ['SystemError', VimFault],
  ];
  it.each(cases)('THEN %s is a %p naming method and object', (faultName, ErrorClass) => {
    const err = faultFromName({ faultName, method: 'Destroy_Task', object: VM });
    expect(err).toBeInstanceOf(ErrorClass);
    expect(err.faultName).toBe(faultName);
    expect(err.message).toBe(`Destroy_Task on VirtualMachine:vm-1 failed with ${faultName}`);
  });

  it('THEN only NotFound kinds are "not found", including a failed task with FileNotFound', () => {
    const task = new TaskFailedError({ faultName: 'FileNotFound', method: 'DeleteDatastoreFile_Task', task: moRef('Task', 'task-1') });
    expect(isNotFound(task)).toBe(true);
    expect(isNotFound(faultFromName({ faultName: 'NotFound', method: 'm' }))).toBe(true);
    expect(isNotFound(faultFromName({ faultName: 'SystemError', method: 'm' }))).toBe(false);
    expect(isNotFound(new TransientError({ faultName: 'HTTP503', method: 'm' }))).toBe(false);
    expect(isResourceInUse(new TaskFailedError({ faultName: 'ResourceInUse', method: 'Destroy_Task', task: moRef('Task', 'task-2') }))).toBe(true);
  });

  it('THEN a failed task message names task, method, entity and fault, but not vcsim\'s "*types.X" noise', () => {
    const err = new TaskFailedError({
      faultName: 'InsufficientResourcesFault',
      method: 'PowerOnVM_Task',
      object: VM,
      serverMessage: '*types.InsufficientResourcesFault',
      task: moRef('Task', 'task-9'),
      entity: VM,
      entityName: 'web-1',
    });
    expect(err.message).toBe('task task-9 (PowerOnVM_Task) on VirtualMachine:vm-1 ("web-1") failed with InsufficientResourcesFault');
  });
});

describe('GIVEN a retry policy WHEN failures happen THEN only transient ones are retried, boundedly', () => {
  const policy = { attempts: 3, initialDelayMs: 1, maxDelayMs: 4, factor: 2 };

  it.each([
    [1, 250],
    [2, 500],
    [3, 1000],
    [5, 4000],
    [9, 4000],
  ])('THEN the delay after attempt %i is %i ms (without jitter)', (attempt, expected) => {
    expect(backoffDelayMs(DEFAULT_RETRY_POLICY, attempt, () => 0.5)).toBe(expected);
  });

  it('THEN a transient failure is retried until it succeeds', async () => {
    let calls = 0;
    const result = await retryTransient(policy, async () => {
      calls++;
      if (calls < 3) throw new TransientError({ faultName: 'HTTP503', method: 'm' });
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('THEN a transient failure stops after the bound', async () => {
    let calls = 0;
    const err = await retryTransient(policy, async () => {
      calls++;
      throw new TransientError({ faultName: 'HTTP503', method: 'm' });
    }).catch((e: unknown) => e);
    expect(isTransient(err)).toBe(true);
    expect(calls).toBe(3);
  });

  it('THEN a real fault is thrown at once', async () => {
    let calls = 0;
    await expect(
      retryTransient(policy, async () => {
        calls++;
        throw new InvalidArgumentError({ faultName: 'InvalidArgument', method: 'm' });
      }),
    ).rejects.toThrow(InvalidArgumentError);
    expect(calls).toBe(1);
  });
});

describe('GIVEN connection settings WHEN normalised THEN they are canonical and credential-free', () => {
  it.each([
    ['https://vc.example.com', 'https://vc.example.com/sdk'],
    ['https://user:pw@vc.example.com/sdk', 'https://vc.example.com/sdk'],
    ['https://127.0.0.1:8989/sdk', 'https://127.0.0.1:8989/sdk'],
  ])('THEN url %s becomes %s', (input, expected) => {
    expect(normalizeSdkUrl(input).href).toBe(expected);
  });

  it.each([
    ['aa:bb:cc', 'AA:BB:CC'],
    ['AABBCC', 'AA:BB:CC'],
    ['aa bb-cc', 'AA:BB:CC'],
  ])('THEN thumbprint %s becomes %s', (input, expected) => {
    expect(normalizeThumbprint(input)).toBe(expected);
  });

  it('THEN redaction removes the password element and the password string wherever it is', () => {
    const xml = '<Login><userName>u</userName><password>p&amp;ss</password></Login><x>hunter2</x>';
    expect(redactXml(xml, ['hunter2'])).toBe('<Login><userName>u</userName><password>***</password></Login><x>***</x>');
  });
});

describe('GIVEN typed specs WHEN encoded THEN the XML follows WSDL order and carries xsi:type', () => {
  it('THEN a VM config spec puts fields in WSDL order and types extraConfig values', () => {
    const spec = encodeVmConfigSpec({
      extraConfig: { 'vic.a': '1' },
      memoryMB: 512,
      name: 'c1',
      annotation: 'x',
      files: { vmPathName: '[ds]' },
    });
    expect(encodeElement('config', spec).join('')).toBe(
      '<config><name>c1</name><annotation>x</annotation><files><vmPathName>[ds]</vmPathName></files><memoryMB>512</memoryMB>' +
        '<extraConfig xsi:type="OptionValue"><key>vic.a</key><value xsi:type="xsd:string">1</value></extraConfig></config>',
    );
  });

  it('THEN a pool allocation is complete, with the share value of its level', () => {
    expect(fullAllocation({ limit: 100, shares: { level: 'high' } }, 'memory')).toEqual({
      reservation: 0,
      expandableReservation: true,
      limit: 100,
      shares: { shares: 327680, level: 'high' },
    });
  });
});
