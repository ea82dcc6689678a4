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
});
