/**
 * Which create-body fields the endpoint refuses: the ones it knows it does not carry out, at a value
 * other than the zero the CLI sends for a flag not given; never a field it does not know, which
 * another client (an SDK, compose, a newer CLI) may send with a default of its own.
 */
import { unhonouredOption } from '../../../src/endpoint/create-options';

describe('unhonouredOption', () => {
  it('passes the zero values the docker CLI sends for flags not given', () => {
    const body = {
      Image: 'busybox',
      Cmd: ['true'],
      ExposedPorts: {},
      StopSignal: '',
      HostConfig: { Privileged: false, CapAdd: null, Dns: [], LogConfig: { Type: '', Config: {} }, MemorySwappiness: -1, RestartPolicy: { Name: 'no' } },
      NetworkingConfig: { EndpointsConfig: { bridge: { IPAMConfig: null, Aliases: [] } } },
    };
    expect(unhonouredOption(body)).toBeUndefined();
  });

  it.each([
    [{ HostConfig: { Privileged: true } }, '--privileged'],
    [{ HostConfig: { CapAdd: ['NET_ADMIN'] } }, '--cap-add'],
    [{ HostConfig: { ExtraHosts: ['a:1.2.3.4'] } }, '--add-host'],
    [{ StopSignal: 'SIGUSR1' }, '--stop-signal'],
    [{ NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: ['db'] } } } }, '--network-alias'],
  ])('refuses a known field set by a flag: %j names %s', (body, flag) => {
    const err = unhonouredOption({ Image: 'busybox', ...body });
    expect(err?.message).toContain(`${flag} is not supported by vic-iac`);
  });

  it('passes the aliases compose gives every container: its own name and its service, nothing else', () => {
    const compose = (aliases: string[]) => ({
      Image: 'busybox',
      Labels: { 'com.docker.compose.service': 'web' },
      NetworkingConfig: { EndpointsConfig: { 'VM Network': { Aliases: aliases } } },
    });
    expect(unhonouredOption(compose(['proj-web-1', 'web']), 'proj-web-1')).toBeUndefined();
    expect(unhonouredOption(compose(['web']))).toBeUndefined();
    expect(unhonouredOption(compose(['proj-web-1', 'web', 'db']), 'proj-web-1')?.message).toContain('--network-alias is not supported by vic-iac');
    expect(unhonouredOption({ Image: 'busybox', NetworkingConfig: { EndpointsConfig: { n: { Aliases: ['web'] } } } }, 'other')?.message).toContain(
      '--network-alias',
    );
  });

  it('passes fields it does not know, whatever their value', () => {
    expect(unhonouredOption({ Image: 'busybox', SomeFutureOption: 'on', HostConfig: { SomeFutureHostOption: 7 } })).toBeUndefined();
  });
});
