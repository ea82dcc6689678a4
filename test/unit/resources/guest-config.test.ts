/** Docker's merge rules for the guest config, table-driven. */
import type { Attrs } from '../../../src/resources';
import { decodeGuestConfig, encodeGuestConfig, guestConfig, hostsOf } from '../../../src/resources/guest-config';
import { parseHostEntry } from '../../../src/resources/validators';

const image = { entrypoint: ['/bin/app'], cmd: ['--serve'], env: ['PATH=/bin', 'MODE=prod'], working_dir: '/srv', user: 'app', rootfs_uuid: 'u' };

describe('guestConfig', () => {
  it.each([
    ['image defaults', {}, { entrypoint: ['/bin/app'], cmd: ['--serve'], working_dir: '/srv', user: 'app' }],
    ['command replaces CMD only', { command: ['--once'] }, { entrypoint: ['/bin/app'], cmd: ['--once'] }],
    ['entrypoint drops image CMD', { entrypoint: ['/bin/sh'] }, { entrypoint: ['/bin/sh'], cmd: [] }],
    ['entrypoint and command', { entrypoint: ['/bin/sh'], command: ['-c', 'id'] }, { entrypoint: ['/bin/sh'], cmd: ['-c', 'id'] }],
    ['env overrides by name', { env: { MODE: 'dev', X: '1' } }, { env: ['PATH=/bin', 'MODE=dev', 'X=1'] }],
    [
      'secret_env reaches the guest and overrides the image',
      { env: { X: '1' }, secret_env: { MODE: 's3cret', TOKEN: 't0ken' } },
      { env: ['PATH=/bin', 'MODE=s3cret', 'X=1', 'TOKEN=t0ken'] },
    ],
    ['user and cwd', { user: '1000:1000', working_dir: '/tmp' }, { user: '1000:1000', working_dir: '/tmp' }],
    ['hostname from name', { name: 'Web_1' }, { hostname: 'web-1' }],
    ['restart always', { restart: 'always', max_restarts: 3 }, { restart: { policy: 'always', max_restarts: 3 } }],
    // The tether knows always and on-failure: unless-stopped restarts as always does.
    ['restart unless-stopped', { restart: 'unless-stopped' }, { restart: { policy: 'always' } }],
  ])('GIVEN %s WHEN merged THEN the guest config follows Docker', (_l, attrs, expected) => {
    expect(guestConfig({ name: 'web', ...attrs }, image)).toMatchObject(expected);
  });

  it('GIVEN restart "no" or none THEN the guest config has no restart policy', () => {
    for (const attrs of [{}, { restart: 'no' }] as Attrs[]) expect('restart' in guestConfig({ name: 'web', ...attrs }, image)).toBe(false);
  });

  it('GIVEN tty and stdin_open WHEN merged THEN the guest config asks for them; unset or false, older tethers see no new field', () => {
    expect(guestConfig({ name: 'web', tty: true, stdin_open: true }, image)).toMatchObject({ tty: true, open_stdin: true });
    for (const attrs of [{}, { tty: false, stdin_open: false }] as Attrs[]) {
      const c = guestConfig({ name: 'web', ...attrs }, image);
      expect(['tty' in c, 'open_stdin' in c]).toEqual([false, false]);
    }
  });

  it('GIVEN a config WHEN encoded for guestinfo THEN it decodes to the same document', () => {
    const c = guestConfig({ name: 'web' }, image);
    expect(decodeGuestConfig(encodeGuestConfig(c))).toEqual(c);
    expect(c.rootfs).toEqual({ uuid: 'u', label: 'vic-rootfs' });
  });
});

describe('extra_hosts in the guest config', () => {
  it('GIVEN docker --add-host entries THEN each is an address and its name, IPv6 with or without brackets; what is not one is none', () => {
    expect(parseHostEntry('db.local:10.0.0.5')).toEqual({ name: 'db.local', address: '10.0.0.5' });
    expect(parseHostEntry('v6:fd00::5')).toEqual({ name: 'v6', address: 'fd00::5' });
    expect(parseHostEntry('v6:[fd00::5]')).toEqual({ name: 'v6', address: 'fd00::5' });
    for (const bad of ['db.local', ':10.0.0.5', 'db:10.0.0.300', 'db:host-gateway', 'a b:10.0.0.5', '-db:10.0.0.5'])
      expect(parseHostEntry(bad)).toBeUndefined();
    expect(hostsOf({ extra_hosts: ['db.local:10.0.0.5', 'v6:[fd00::5]'] })).toEqual({
      hosts: [
        { address: '10.0.0.5', names: ['db.local'] },
        { address: 'fd00::5', names: ['v6'] },
      ],
    });
    expect(hostsOf({ extra_hosts: null })).toEqual({});
  });
});
