/**
 * A connection problem whose value came from an environment variable says so: the provider block
 * the diagnostic points at may not hold the setting at all.
 */
import { connectionFromEnv, connectionSettings, namingEnvSources } from '../../../src/resources';

describe('connection settings from the environment', () => {
  const env = { VSPHERE_SERVER: 'https://vc.example.com/sdk', VSPHERE_USER: 'u', VSPHERE_PASSWORD: 'p', VSPHERE_THUMBPRINT: 'AB:CD' };

  it('GIVEN a bad VSPHERE_THUMBPRINT and an empty provider block WHEN checked THEN the problem names the variable', () => {
    const { problems } = connectionSettings(connectionFromEnv({}, env));
    const named = namingEnvSources({}, problems, env);
    expect(named).toHaveLength(1);
    expect(named[0].path).toEqual(['thumbprint']);
    expect(named[0].detail).toContain('This value comes from the VSPHERE_THUMBPRINT environment variable: correct or unset it there.');
  });

  it('GIVEN the same bad value in the provider block WHEN checked THEN the problem does not blame the environment', () => {
    const config = { thumbprint: 'AB:CD' };
    const { problems } = connectionSettings(connectionFromEnv(config, env));
    const named = namingEnvSources(config, problems, env);
    expect(named).toHaveLength(1);
    expect(named[0].detail).not.toContain('environment variable');
  });

  /** The same settings with a thumbprint that passes, so only the value under test is wrong. */
  const valid = { ...env, VSPHERE_THUMBPRINT: Array.from({ length: 32 }, () => 'AB').join(':') };

  it.each(['maybe', 'ture', 'on?'])(
    'GIVEN VSPHERE_ALLOW_UNVERIFIED_SSL=%s WHEN checked THEN refused, naming the setting, the variable, the value and what is allowed; never read as false',
    (value) => {
      const { settings, problems } = connectionSettings(connectionFromEnv({}, { ...valid, VSPHERE_ALLOW_UNVERIFIED_SSL: value }));
      expect(settings).toBeUndefined();
      expect(problems).toHaveLength(1);
      expect(problems[0].path).toEqual(['allow_unverified_ssl']);
      expect(problems[0].detail).toContain(`allow_unverified_ssl is ${JSON.stringify(value)}`);
      expect(problems[0].detail).toContain('VSPHERE_ALLOW_UNVERIFIED_SSL');
      expect(problems[0].detail).toContain('write true or false (1 or 0 also work)');
    },
  );

  it('GIVEN VSPHERE_ALLOW_PLAIN_HTTP=maybe with an http:// server WHEN checked THEN the value is refused, not the scheme as if the flag were off', () => {
    const { problems } = connectionSettings(
      connectionFromEnv({}, { ...valid, VSPHERE_SERVER: 'http://127.0.0.1:8989/sdk', VSPHERE_ALLOW_PLAIN_HTTP: 'maybe' }),
    );
    expect(problems.map((p) => p.path[0])).toEqual(['allow_plain_http']);
    expect(problems[0].detail).toContain('allow_plain_http is "maybe"');
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('GIVEN VSPHERE_ALLOW_UNVERIFIED_SSL=%s WHEN checked THEN it reads as %s', (value, insecure) => {
    const { settings, problems } = connectionSettings(connectionFromEnv({}, { ...valid, VSPHERE_ALLOW_UNVERIFIED_SSL: value }));
    expect(problems).toEqual([]);
    expect(settings?.insecure).toBe(insecure);
  });

  it('GIVEN a boolean setting given as text (a Pulumi config string) WHEN checked THEN the same words work and anything else is refused', () => {
    expect(connectionSettings(connectionFromEnv({ allow_unverified_ssl: '1' }, valid)).settings?.insecure).toBe(true);
    const { problems } = connectionSettings(connectionFromEnv({ allow_unverified_ssl: 'maybe' }, valid));
    expect(problems.map((p) => p.detail)).toEqual([expect.stringContaining('allow_unverified_ssl is "maybe"')]);
  });
});
