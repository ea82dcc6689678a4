/** container_vm's static address: validated at plan time, carried in the guest config for the first NIC. */
import { declarationFor, formatPath, validateAttrs } from '../../../src/resources';
import { guestConfig } from '../../../src/resources/guest-config';

const cvm = { vch_id: 'resgroup-1', image_id: `sha256:${'a'.repeat(64)}`, name: 'web-1' };
const image = { entrypoint: ['/bin/app'], rootfs_uuid: 'u' };

function problemsOf(extra: Record<string, unknown>): string[] {
  return validateAttrs(declarationFor('container_vm').schema, { ...cvm, ...extra }).problems.map((p) => `${formatPath(p.path)}: ${p.detail}`);
}

describe('container_vm ip_address and gateway', () => {
  it.each([
    ['an address and a gateway on its subnet', { ip_address: '10.0.2.50/24', gateway: '10.0.2.2' }],
    ['an address alone', { ip_address: '192.168.7.9/16' }],
    ['neither (DHCP)', {}],
  ])('GIVEN %s WHEN validated THEN nothing is reported', (_label, extra) => {
    expect(problemsOf(extra)).toEqual([]);
  });

  it.each([
    [
      'an address without a prefix',
      { ip_address: '10.0.2.50' },
      'ip_address: ip_address = "10.0.2.50" is not an IPv4 address with a prefix length from 8 to 30. Write it as address/prefix, e.g. "10.0.2.50/24".',
    ],
    [
      'an octet above 255',
      { ip_address: '10.0.2.256/24' },
      'ip_address: ip_address = "10.0.2.256/24" is not an IPv4 address with a prefix length from 8 to 30. Write it as address/prefix, e.g. "10.0.2.50/24".',
    ],
    [
      'a network address',
      { ip_address: '10.0.2.0/24' },
      'ip_address: ip_address = "10.0.2.0/24" is the network or broadcast address of its /24. Use an address between them.',
    ],
    [
      'a gateway outside the subnet',
      { ip_address: '10.0.2.50/24', gateway: '10.0.3.1' },
      `gateway: gateway = "10.0.3.1" is outside ip_address = "10.0.2.50/24"'s subnet. Use a gateway on the same subnet as the address.`,
    ],
    [
      'a gateway without an address',
      { gateway: '10.0.2.2' },
      'gateway: gateway = "10.0.2.2" is set without ip_address; a DHCP lease brings its own gateway. Set ip_address too, or remove the gateway.',
    ],
    [
      'a gateway that is not an address',
      { ip_address: '10.0.2.50/24', gateway: 'router' },
      'gateway: gateway = "router" is not an IPv4 address. Write it as four numbers from 0 to 255, e.g. "10.0.2.2".',
    ],
    [
      "the container's own address as gateway",
      { ip_address: '10.0.2.50/24', gateway: '10.0.2.50' },
      `gateway: gateway = "10.0.2.50" is the container's own address. Use the address of the network's router.`,
    ],
  ])('GIVEN %s WHEN validated THEN the problem names the attribute, the value and what to do', (_label, extra, message) => {
    expect(problemsOf(extra)).toEqual([message]);
  });

  it('GIVEN a static address WHEN the guest config is made THEN the first NIC gets it and DHCP is the default', () => {
    expect(guestConfig({ name: 'web', ip_address: '10.0.2.50/24', gateway: '10.0.2.2' }, image).networks).toEqual([
      { address: '10.0.2.50/24', gateway: '10.0.2.2' },
    ]);
    expect(guestConfig({ name: 'web', ip_address: '10.0.2.50/24' }, image).networks).toEqual([{ address: '10.0.2.50/24' }]);
    expect(guestConfig({ name: 'web' }, image)).not.toHaveProperty('networks');
  });
});
