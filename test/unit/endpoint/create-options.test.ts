/**
 * Which create-body fields the endpoint refuses: the ones it knows it does not carry out, at a value
 * other than the zero the CLI sends for a flag not given; never a field it does not know, which
 * another client (an SDK, compose, a newer CLI) may send with a default of its own.
 */
import { portsOf, unhonouredOption } from '../../../src/endpoint/create-options';

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
    [{ HostConfig: { DnsSearch: ['example.test'] } }, '--dns-search'],
    [{ NetworkingConfig: { EndpointsConfig: { bridge: { IPAMConfig: { IPv4Address: '10.0.0.9' } } } } }, '--ip/--ip6'],
  ])('refuses a known field set by a flag: %j names %s', (body, flag) => {
    const err = unhonouredOption({ Image: 'busybox', ...body });
    expect(err?.message).toContain(flag.endsWith(' are') ? `${flag} not supported by vic-iac` : `${flag} is not supported by vic-iac`);
  });

  it('passes what a container keeps (--stop-signal, --stop-timeout) and what asks for nothing (--no-healthcheck)', () => {
    expect(unhonouredOption({ Image: 'busybox', StopSignal: 'SIGUSR1', StopTimeout: 30, Healthcheck: { Test: ['NONE'] } })).toBeUndefined();
  });

  it('passes network aliases and links, which the peers of a container VM learn through their /etc/hosts (peer-names.ts)', () => {
    const compose = (aliases: string[]) => ({
      Image: 'busybox',
      Labels: { 'com.docker.compose.service': 'web' },
      NetworkingConfig: { EndpointsConfig: { 'VM Network': { Aliases: aliases, Links: ['db:database'] } } },
      HostConfig: { Links: ['/db:/web/db'] },
    });
    expect(unhonouredOption(compose(['proj-web-1', 'web']))).toBeUndefined();
    expect(unhonouredOption(compose(['proj-web-1', 'web', 'api']))).toBeUndefined();
  });

  it('passes fields it does not know, whatever their value', () => {
    expect(unhonouredOption({ Image: 'busybox', SomeFutureOption: 'on', HostConfig: { SomeFutureHostOption: 7 } })).toBeUndefined();
  });
});

describe("portsOf: docker -p as the container VM's ports", () => {
  it('maps each binding, an empty host port to a free one and an empty address to every address, as dockerd', () => {
    expect(
      portsOf({
        '80/tcp': [
          { HostIp: '', HostPort: '8080' },
          { HostIp: '127.0.0.1', HostPort: '' },
        ],
        '53/udp': [{ HostIp: '10.0.0.1', HostPort: '5353' }],
        '443': [{}],
      }),
    ).toEqual([
      // An integer key comes first in a JavaScript object, as in the JSON.parse of the request.
      { internal: 443, protocol: 'tcp', ip: '0.0.0.0' },
      { internal: 80, protocol: 'tcp', ip: '0.0.0.0', external: 8080 },
      { internal: 80, protocol: 'tcp', ip: '127.0.0.1' },
      { internal: 53, protocol: 'udp', ip: '10.0.0.1', external: 5353 },
    ]);
    expect(portsOf(null)).toEqual([]);
    // An address is passed on as it is: the plan's rule for ports[].ip refuses what is not IPv4.
    expect(portsOf({ '80/tcp': [{ HostIp: '::', HostPort: '80' }] })).toEqual([{ internal: 80, protocol: 'tcp', ip: '::', external: 80 }]);
  });

  it.each([
    [{ '80/tcp': [{ HostPort: '8000-8010' }] }, 'host port ranges are not supported for port bindings by vic-iac: give one port, or none for a free one'],
    [{ '80/sctp': [{ HostPort: '80' }] }, '-p 80/sctp: SCTP is not supported by vic-iac: publish tcp or udp ports'],
    [{ '70000/tcp': [{ HostPort: '80' }] }, 'container port "70000/tcp" is not a port number (1 to 65535) with /tcp or /udp'],
  ])('refuses %j with a 400 naming it', (bindings, message) => {
    expect(() => portsOf(bindings)).toThrow(expect.objectContaining({ status: 400, message: expect.stringContaining(message) }));
  });

  it('takes --init (the tether is the init) and --expose as they are', () => {
    expect(unhonouredOption({ Image: 'busybox', HostConfig: { Init: true } })).toBeUndefined();
    expect(unhonouredOption({ Image: 'busybox', ExposedPorts: { '8080/tcp': {} } })).toBeUndefined();
  });

  it('lets the exposed ports the CLI sends with -p through', () => {
    const host = { PortBindings: { '80/tcp': [{ HostPort: '8080' }] } };
    expect(unhonouredOption({ Image: 'busybox', ExposedPorts: { '80/tcp': {} }, HostConfig: host })).toBeUndefined();
  });
});
