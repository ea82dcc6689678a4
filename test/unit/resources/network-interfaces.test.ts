/** container_vm's network_interfaces: the guest's report of its NICs (guestinfo.vic.networks), read while the VM is on for its process. */
import { KEYS, STATUS_KEYS, networkInterfaces } from '../../../src/resources/container-vm.lifecycle';
import type { VmRow } from '../../../src/resources/snapshot';

function vm(report: string | undefined, extra: Partial<VmRow> = {}, more: Record<string, string> = {}): VmRow {
  const extraConfig = new Map<string, string>(Object.entries(more));
  if (report !== undefined) extraConfig.set(STATUS_KEYS.networks, report);
  return { moid: 'vm-1', name: 'web-1', powerState: 'poweredOn', extraConfig, numCpu: 1, memoryMb: 128, ipAddresses: [], ...extra };
}

const MAC = '00:0c:29:35:31:63';
const empty = { ip_address: '', prefix_length: 0, gateway: '', mac_address: '' };

describe('container_vm network_interfaces', () => {
  test('GIVEN the report of two NICs THEN each is its address, prefix length, gateway and MAC address, in NIC order', () => {
    expect(networkInterfaces(vm(`1;10.0.3.15/24;;00:0c:29:00:00:01,0;10.0.2.15/24;10.0.2.2;${MAC}`))).toEqual([
      { ip_address: '10.0.2.15', prefix_length: 24, gateway: '10.0.2.2', mac_address: MAC },
      { ip_address: '10.0.3.15', prefix_length: 24, gateway: '', mac_address: '00:0c:29:00:00:01' },
    ]);
  });

  test('GIVEN a NIC without a report between two with one THEN it keeps its place, with empty fields', () => {
    expect(networkInterfaces(vm(`0;10.0.2.15/24;10.0.2.2;${MAC},2;10.0.4.9/20;10.0.4.2;`))).toEqual([
      { ip_address: '10.0.2.15', prefix_length: 24, gateway: '10.0.2.2', mac_address: MAC },
      empty,
      { ip_address: '10.0.4.9', prefix_length: 20, gateway: '10.0.4.2', mac_address: '' },
    ]);
  });

  test.each([
    ['no report', undefined],
    ['an empty report', ''],
    ['an entry without a prefix length', '0;10.0.2.15;10.0.2.2;'],
    ['an entry without an index', ';10.0.2.15/24;;'],
    ['an index beyond the NICs a VM can have', '12;10.0.2.15/24;;'],
  ])('GIVEN %s THEN there is nothing to show', (_label, report) => {
    expect(networkInterfaces(vm(report))).toEqual([]);
  });

  test('GIVEN a VM that is off, or on for a maintenance boot THEN its last report is not shown', () => {
    const report = `0;10.0.2.15/24;10.0.2.2;${MAC}`;
    expect(networkInterfaces(vm(report, { powerState: 'poweredOff' }))).toEqual([]);
    expect(networkInterfaces(vm(report, {}, { [KEYS.maintenance]: 'ab12', [STATUS_KEYS.status]: 'exited' }))).toEqual([]);
    expect(networkInterfaces(vm(report, {}, { [STATUS_KEYS.status]: 'running' }))).toHaveLength(1);
  });
});
