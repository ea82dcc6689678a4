import { useSimulator } from '../../helpers/vcsim';
import { SoapSession, faultType } from './soap';

const CURRENT_TIME = '<CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime>';
const SERVICE_CONTENT = '<RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveServiceContent>';

async function timed(soap: SoapSession, body: string): Promise<{ ms: number; status: number }> {
  const started = Date.now();
  const reply = await soap.call(body);
  return { ms: Date.now() - started, status: reply.status };
}

describe('vcsim control API: delays and sessions', () => {
  const sim = useSimulator({});
  let soap: SoapSession;

  beforeAll(async () => {
    soap = new SoapSession(sim());
    await soap.login();
  });
  afterEach(() => sim().control.setDelay({ delay: 0, methodDelay: {}, jitter: 0, asyncTaskMs: 0 }));
  afterAll(() => soap.close());

  test('GIVEN a global delay WHEN any method is called THEN it answers after the delay', async () => {
    const current = await sim().control.setDelay({ delay: 300 });
    expect(current).toEqual({ delay: 300, methodDelay: {}, jitter: 0, asyncTaskMs: 0 });
    const call = await timed(soap, CURRENT_TIME);
    expect(call.status).toBe(200);
    expect(call.ms).toBeGreaterThanOrEqual(300);
  });

  test('GIVEN a method delay WHEN two methods are called THEN only the named one is slow', async () => {
    await sim().control.setDelay({ methodDelay: { CurrentTime: 500 } });
    expect((await timed(soap, CURRENT_TIME)).ms).toBeGreaterThanOrEqual(500);
    expect((await timed(soap, SERVICE_CONTENT)).ms).toBeLessThan(400);
  });

  test('GIVEN a partial update WHEN set THEN other values stay and methodDelay is replaced as a whole', async () => {
    await sim().control.setDelay({ delay: 5, methodDelay: { Login: 10, CurrentTime: 20 }, jitter: 0.5 });
    const current = await sim().control.setDelay({ methodDelay: { CurrentTime: 30 } });
    expect(current).toEqual({ delay: 5, methodDelay: { CurrentTime: 30 }, jitter: 0.5, asyncTaskMs: 0 });
  });

  test('GIVEN negative values WHEN set THEN the API answers 400 listing each problem', async () => {
    await expect(sim().control.setDelay({ delay: -1, methodDelay: { Login: -2 } })).rejects.toThrow(
      /delay -1 must not be negative; methodDelay Login -2 must not be negative/,
    );
  });

  test('GIVEN two logged-in sessions WHEN sessions are expired THEN both get NotAuthenticated and a new login works', async () => {
    const other = new SoapSession(sim());
    try {
      await other.login();
      expect((await soap.call(CURRENT_TIME)).status).toBe(200);
      expect((await other.call(CURRENT_TIME)).status).toBe(200);

      await sim().control.expireSessions();

      for (const session of [soap, other]) {
        const reply = await session.call(CURRENT_TIME);
        expect(reply.status).toBe(500);
        expect(faultType(reply.body)).toBe('NotAuthenticated');
      }
      await soap.login();
      expect((await soap.call(CURRENT_TIME)).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});
