/**
 * The vSphere connection settings every front end shares: plain HTTP needs its opt-in, and a
 * password embedded in the server URL is used for the login but never reaches a log line, an error
 * or the URL the front ends print. The login checks run against a real simulator.
 */
import { connectVsphere } from '../../../src/engine/engine';
import { Attrs, connectionFromEnv, connectionSettings, redactServer } from '../../../src/resources';
import { VimClient, type SoapLogEvent } from '../../../src/vsphere';
import { useSimulator } from '../../helpers/vcsim';

const USER = 'url-user';
const PASSWORD = 'Url-Embedded-S3cret';
const WRONG = 'Wrong-Url-Pa55word';

describe('connectionSettings', () => {
  const base: Attrs = { user: 'u', password: 'p' };

  test.each([
    ['vc.example.com', 'https://vc.example.com/sdk'],
    ['vc.example.com:8443', 'https://vc.example.com:8443/sdk'],
    ['https://vc.example.com', 'https://vc.example.com/sdk'],
    ['https://vc.example.com/', 'https://vc.example.com/sdk'],
    ['https://vc.example.com/sdk/', 'https://vc.example.com/sdk'],
  ])('GIVEN vsphere_server %s THEN the SDK URL is %s', (server, url) => {
    expect(connectionSettings({ ...base, vsphere_server: server }).settings?.url).toBe(url);
  });

  test('GIVEN an http:// server without the opt-in THEN it is refused on vsphere_server, saying why and how to allow it', () => {
    const { settings, problems } = connectionSettings({ ...base, vsphere_server: 'http://127.0.0.1:8989/sdk' });
    expect(settings).toBeUndefined();
    expect(problems).toEqual([
      {
        path: ['vsphere_server'],
        severity: 'error',
        summary: 'Plain HTTP refused for "vsphere_server"',
        detail:
          'vsphere_server = "http://127.0.0.1:8989/sdk" uses plain HTTP: the password and the session cookie would travel in clear text. Use https://, or, only for a local simulator or a trusted tunnel, set allow_plain_http = true (environment: VSPHERE_ALLOW_PLAIN_HTTP=true).',
      },
    ]);
  });

  test.each([
    ['the attribute', { allow_plain_http: true }, {}],
    ['VSPHERE_ALLOW_PLAIN_HTTP', {}, { VSPHERE_ALLOW_PLAIN_HTTP: 'true' }],
  ])('GIVEN an http:// server allowed by %s THEN it is accepted as is', (_how, extra, env) => {
    const { settings, problems } = connectionSettings(connectionFromEnv({ ...base, vsphere_server: 'http://127.0.0.1:8989/sdk', ...extra }, env));
    expect(problems).toEqual([]);
    expect(settings?.url).toBe('http://127.0.0.1:8989/sdk');
  });

  test('GIVEN a server that is no URL, with a password in it THEN the problem names the value without the password, and the accepted forms', () => {
    const { problems } = connectionSettings({ ...base, vsphere_server: 'ftp://admin:Secr3t@vc.example.com' });
    expect(problems.map((p) => p.detail)).toEqual([
      'vsphere_server = "ftp://admin:***@vc.example.com" is not a vSphere address. Use a host name such as "vcenter.example.com", host:port, or a URL such as "https://vcenter.example.com/sdk".',
    ]);
  });

  test('GIVEN credentials in the URL and no user or password THEN they are used, and the URL loses them', () => {
    const { settings, problems } = connectionSettings({ vsphere_server: `https://${USER}:${encodeURIComponent('p@ss/w:rd')}@vc.example.com/sdk` });
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({ url: 'https://vc.example.com/sdk', username: USER, password: 'p@ss/w:rd' });
  });

  test('GIVEN a URL password with a stray "%" THEN it is taken as written, not refused', () => {
    expect(connectionSettings({ vsphere_server: 'https://u:50%zz@vc.example.com' }).settings).toMatchObject({
      url: 'https://vc.example.com/sdk',
      password: '50%zz',
    });
  });

  test('GIVEN credentials in the URL and an explicit user and password THEN the explicit ones win', () => {
    const { settings } = connectionSettings({ vsphere_server: `https://x:y@vc.example.com/sdk`, user: 'u', password: 'p' });
    expect(settings).toMatchObject({ url: 'https://vc.example.com/sdk', username: 'u', password: 'p' });
  });

  test('GIVEN a refused http:// URL with a password in it THEN the message hides the password', () => {
    const { problems } = connectionSettings({ vsphere_server: `http://${USER}:${PASSWORD}@vc.example.com/sdk` });
    expect(problems[0].detail).toContain(`"http://${USER}:***@vc.example.com/sdk"`);
    expect(JSON.stringify(problems)).not.toContain(PASSWORD);
  });

  test.each([
    [`https://u:${PASSWORD}@h/sdk`, 'https://u:***@h/sdk'],
    [`https://u:a@b/${PASSWORD}@h/sdk`, 'https://u:***@h/sdk'],
    [`u:${PASSWORD}@h`, 'u:***@h'],
    ['https://h:8443/sdk', 'https://h:8443/sdk'],
  ])('redactServer(%s) = %s', (server, shown) => {
    expect(redactServer(server)).toBe(shown);
  });
});

describe('GIVEN a simulator WHEN logging in with credentials in the server URL', () => {
  const sim = useSimulator({ username: USER, password: PASSWORD });
  const withCredentials = (password: string) => {
    const url = new URL(sim().url);
    url.username = USER;
    url.password = password;
    return url.href;
  };

  test('THEN the right password logs in, and neither the settings URL nor the logs hold it', async () => {
    const logs: SoapLogEvent[] = [];
    const { settings } = connectionSettings({ vsphere_server: withCredentials(PASSWORD), thumbprint: sim().thumbprint ?? null });
    expect(settings?.url).toBe(new URL(sim().url).href);
    const client = await connectVsphere(settings!, (e) => logs.push(e));
    try {
      expect(client.url.href).not.toContain(PASSWORD);
    } finally {
      await client.close();
    }
    expect(logs.some((l) => l.method === 'Login')).toBe(true);
    expect(JSON.stringify(logs)).not.toContain(PASSWORD);
  });

  test('THEN a wrong password fails with an error that names server and user but not the password', async () => {
    const logs: SoapLogEvent[] = [];
    const { settings } = connectionSettings({ vsphere_server: withCredentials(WRONG), thumbprint: sim().thumbprint ?? null });
    const err = (await connectVsphere(settings!, (e) => logs.push(e)).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(`login to ${new URL(sim().url).href} as ${USER} failed: wrong user name or password`);
    expect(`${String(err)} ${JSON.stringify(err)} ${err.stack} ${JSON.stringify(logs)}`).not.toContain(WRONG);
  });

  test('THEN the client itself, given a URL with a password, keeps it out of its URL, its logs and request bodies', async () => {
    const logs: SoapLogEvent[] = [];
    const err = (await VimClient.connect({
      url: withCredentials(WRONG),
      username: USER,
      password: 'not-this-one',
      thumbprint: sim().thumbprint,
      log: (e) => logs.push(e),
      logBodies: true,
    }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/wrong user name or password/);
    expect(logs.length).toBeGreaterThan(0);
    expect(`${String(err)} ${JSON.stringify(err)} ${JSON.stringify(logs)}`).not.toContain(WRONG);
  });
});
