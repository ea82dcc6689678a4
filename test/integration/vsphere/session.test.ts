import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InvalidArgumentError,
  InvalidLoginError,
  NotFoundError,
  TlsVerificationError,
  TransientError,
  VimClient,
  createFolder,
  moRef,
  normalizeThumbprint,
  type SoapLogEvent,
  type VimClientOptions,
} from '../../../src/vsphere';
import { useSimulator } from '../../helpers/vcsim';

// A distinctive password, so the leak check below cannot pass by accident.
const USER = 'vic-admin';
const PASSWORD = 'S3cr3t-Pa55w0rd-XyZ';
const FAST_RETRY = { attempts: 4, initialDelayMs: 10, maxDelayMs: 50, factor: 2 };

describe('vSphere session and transport against vcsim', () => {
  const sim = useSimulator({ username: USER, password: PASSWORD });
  const logs: SoapLogEvent[] = [];
  const errors: unknown[] = [];
  let client: VimClient;

  const options = (extra: Partial<VimClientOptions> = {}): VimClientOptions => ({
    url: sim().url,
    username: USER,
    password: PASSWORD,
    thumbprint: sim().thumbprint,
    retry: FAST_RETRY,
    log: (event) => logs.push(event),
    logBodies: true,
    ...extra,
  });

  async function expectRejection<T>(promise: Promise<T>): Promise<Error> {
    try {
      await promise;
    } catch (err) {
      errors.push(err);
      return err as Error;
    }
    throw new Error('expected the call to fail, but it succeeded');
  }

  beforeAll(async () => {
    client = await VimClient.connect(options());
  });
  afterAll(async () => {
    await client?.close();
  });
  afterEach(async () => {
    await sim().control.clearFaults();
  });

  it('GIVEN the pinned thumbprint WHEN connecting THEN the session is up and calls are counted per method', async () => {
    expect(client.serviceContent.about.apiType).toBe('VirtualCenter');
    expect(client.serviceContent.rootFolder.type).toBe('Folder');
    expect(client.stats.calls('RetrieveServiceContent')).toBe(1);
    expect(client.stats.calls('Login')).toBe(1);
    const before = client.stats.calls('CurrentTime');
    await client.call('CurrentTime', moRef('ServiceInstance', 'ServiceInstance'), {}, { returns: 'string' });
    expect(client.stats.calls('CurrentTime')).toBe(before + 1);
  });

  it('GIVEN a CA file with the server certificate WHEN connecting THEN TLS verifies against it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vic-ca-'));
    try {
      const caFile = join(dir, 'ca.pem');
      writeFileSync(caFile, sim().certPem ?? '');
      const pinned = await VimClient.connect(options({ thumbprint: undefined, caFile }));
      expect(pinned.serviceContent.about.apiVersion).toBeTruthy();
      await pinned.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('GIVEN no pin and a self-signed certificate WHEN connecting THEN it is refused by default, naming the actual thumbprint', async () => {
    const err = await expectRejection(VimClient.connect(options({ thumbprint: undefined })));
    expect(err).toBeInstanceOf(TlsVerificationError);
    expect(err.message).toMatch(/not trusted/);
    expect(err.message).toContain(normalizeThumbprint(sim().thumbprint ?? ''));
    // What to do, in the names the user sets: the provider attributes and their environment variables.
    expect(err.message).toMatch(/thumbprint = ".*" \(VSPHERE_THUMBPRINT\).*ca_file \(VSPHERE_CA_FILE\).*allow_unverified_ssl \(VSPHERE_ALLOW_UNVERIFIED_SSL\)/);
  });

  it('GIVEN a wrong pinned thumbprint WHEN connecting THEN it is refused, naming expected and actual', async () => {
    const wrong = 'AB:'.repeat(31) + 'AB';
    const err = await expectRejection(VimClient.connect(options({ thumbprint: wrong })));
    expect(err).toBeInstanceOf(TlsVerificationError);
    expect(err.message).toContain(`expected ${wrong}`);
    expect(err.message).toContain(`got ${normalizeThumbprint(sim().thumbprint ?? '')}`);
  });

  it('GIVEN insecure explicitly WHEN connecting THEN an unverified certificate is accepted', async () => {
    const insecure = await VimClient.connect(options({ thumbprint: undefined, insecure: true }));
    await insecure.close();
  });

  it('GIVEN a wrong password WHEN connecting THEN InvalidLogin says so clearly without the password', async () => {
    const err = await expectRejection(VimClient.connect(options({ password: 'wrong-password-123' })));
    expect(err).toBeInstanceOf(InvalidLoginError);
    expect(err.message).toBe(`login to ${sim().url} as ${USER} failed: wrong user name or password`);
  });

  it('GIVEN the server dropped every session WHEN the next call runs THEN the client logs in again once and the call succeeds', async () => {
    const logins = client.stats.calls('Login');
    const generation = client.sessionGeneration;
    await sim().control.expireSessions();
    const folder = await createFolder(client, await datacenterVmFolder(client), `after-relogin-${Date.now()}`);
    expect(folder.type).toBe('Folder');
    expect(client.stats.calls('Login')).toBe(logins + 1);
    expect(client.sessionGeneration).toBe(generation + 1);
  });

  it('GIVEN an expired session and 10 calls in flight WHEN they all see NotAuthenticated THEN one shared re-login serves them all', async () => {
    const logins = client.stats.calls('Login');
    await sim().control.expireSessions();
    const times = await Promise.all(
      Array.from({ length: 10 }, () => client.call<string>('CurrentTime', moRef('ServiceInstance', 'ServiceInstance'), {}, { returns: 'string' })),
    );
    expect(times.every((t) => !Number.isNaN(Date.parse(t)))).toBe(true);
    expect(client.stats.calls('Login')).toBe(logins + 1);
  });

  it('GIVEN a short request timeout WHEN a call hangs once THEN it times out as transient and the retry succeeds, while WaitForUpdatesEx may wait longer', async () => {
    const impatient = await VimClient.connect(options({ requestTimeoutMs: 1500 }));
    try {
      await sim().control.addFault({ method: 'CurrentTime', kind: 'delay', delayMs: 3000, times: 1 });
      const before = impatient.stats.calls('CurrentTime');
      await impatient.call('CurrentTime', moRef('ServiceInstance', 'ServiceInstance'), {}, { returns: 'string' });
      expect(impatient.stats.calls('CurrentTime')).toBe(before + 2);
      // The long-timeout connection outlives both the request timeout and Node's 5 s keep-alive default.
      const { UpdateCollector } = await import('../../../src/vsphere');
      const collector = await UpdateCollector.create(impatient);
      try {
        await collector.addFilter([impatient.serviceContent.rootFolder], [{ type: 'Folder', paths: ['name'] }]);
        expect(await collector.waitForUpdates(1)).toBeDefined();
        const started = Date.now();
        expect(await collector.waitForUpdates(3)).toBeUndefined();
        expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
      } finally {
        await collector.destroy();
      }
    } finally {
      await impatient.close();
    }
  });

  it('GIVEN HTTP 503 twice WHEN calling THEN the call is retried with backoff and succeeds', async () => {
    const [rule] = await sim().control.addFault({ method: 'CurrentTime', kind: 'http', httpStatus: 503, times: 2 });
    const before = client.stats.calls('CurrentTime');
    await client.call('CurrentTime', moRef('ServiceInstance', 'ServiceInstance'), {}, { returns: 'string' });
    expect(client.stats.calls('CurrentTime')).toBe(before + 3);
    const hits = (await sim().control.faults()).find((f) => f.id === rule.id)?.hits;
    expect(hits).toBe(2);
  });

  it('GIVEN an answer that is no SOAP envelope WHEN calling THEN the error quotes its start and asks whether the URL is an SDK endpoint', async () => {
    await sim().control.addFault({ method: 'CurrentTime', kind: 'http', httpStatus: 200, message: '<html><body>proxy login</body></html>', times: 1 });
    const err = await expectRejection(client.call('CurrentTime', moRef('ServiceInstance', 'ServiceInstance')));
    expect(err.message).toMatch(/answered HTTP 200 without a SOAP envelope \("<html><body>proxy login<\/body><\/html>/);
    expect(err.message).toMatch(/is https?:\/\/.* a vSphere SDK endpoint\?$/);
  });

  it('GIVEN a dropped connection WHEN calling THEN the call is retried and succeeds', async () => {
    await sim().control.addFault({ method: 'CurrentTime', kind: 'drop', times: 1 });
    const before = client.stats.calls('CurrentTime');
    await client.call('CurrentTime', moRef('ServiceInstance', 'ServiceInstance'), {}, { returns: 'string' });
    expect(client.stats.calls('CurrentTime')).toBe(before + 2);
  });

  it('GIVEN a server that keeps answering 503 WHEN calling THEN the retries are bounded and a TransientError names method and object', async () => {
    await sim().control.addFault({ method: 'CurrentTime', kind: 'http', httpStatus: 503, times: -1 });
    const before = client.stats.calls('CurrentTime');
    const err = await expectRejection(client.call('CurrentTime', moRef('ServiceInstance', 'ServiceInstance')));
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toMatch(/^CurrentTime on ServiceInstance:ServiceInstance got HTTP 503/);
    expect(client.stats.calls('CurrentTime')).toBe(before + FAST_RETRY.attempts);
  });

  it('GIVEN a non-transient fault WHEN calling THEN it is raised typed and NOT retried', async () => {
    const vmFolder = await datacenterVmFolder(client);
    const [rule] = await sim().control.addFault({ method: 'CreateFolder', kind: 'soap', fault: 'InvalidArgument', message: 'bad name', times: -1 });
    const err = await expectRejection(createFolder(client, vmFolder, 'never'));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err).toMatchObject({ faultName: 'InvalidArgument', method: 'CreateFolder', object: vmFolder });
    expect(err.message).toContain(`CreateFolder on Folder:${vmFolder.value}`);
    const hits = (await sim().control.faults()).find((f) => f.id === rule.id)?.hits;
    expect(hits).toBe(1);
  });

  it('GIVEN a missing object WHEN calling a method on it THEN NotFoundError names method and object', async () => {
    const err = await expectRejection(client.call('Destroy_Task', moRef('VirtualMachine', 'vm-424242')));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ method: 'Destroy_Task', object: { type: 'VirtualMachine', value: 'vm-424242' } });
    expect(err.message).toContain('Destroy_Task on VirtualMachine:vm-424242');
  });

  it('GIVEN all of the above WHEN reading every log line and error THEN the password appears nowhere', () => {
    expect(logs.some((l) => l.method === 'Login' && l.requestXml?.includes('<password>***</password>'))).toBe(true);
    const everything = JSON.stringify(logs) + errors.map((e) => `${String(e)} ${JSON.stringify(e)} ${(e as Error).stack}`).join('\n');
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain('wrong-password-123');
  });

  it('GIVEN nothing listening WHEN connecting THEN the refusal is reported at once (not retried) with what to check', async () => {
    const started = Date.now();
    const err = await expectRejection(VimClient.connect(options({ url: 'https://127.0.0.1:1/sdk', retry: { attempts: 4, initialDelayMs: 1000 } })));
    expect(err).not.toBeInstanceOf(TransientError);
    expect(err.message).toBe(
      'RetrieveServiceContent on ServiceInstance:ServiceInstance: connection to 127.0.0.1:1 refused; check the server address and that vSphere (or the simulator) is running',
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('GIVEN a closed client WHEN calling THEN it says the client is closed', async () => {
    const other = await VimClient.connect(options());
    await other.close();
    const err = await expectRejection(other.call('CurrentTime', moRef('ServiceInstance', 'ServiceInstance')));
    expect(err.message).toMatch(/closed/);
  });
});

async function datacenterVmFolder(client: VimClient) {
  const { Inventory } = await import('../../../src/vsphere');
  return (await new Inventory(client).datacenter()).vmFolder;
}
