import {
  Inventory,
  UpdateCollector,
  NotFoundError,
  VimClient,
  addDevice,
  createVirtualDisk,
  createVm,
  datastorePath,
  destroyVm,
  devicesOfType,
  extraConfigOf,
  fileSerialPort,
  isInvalidPowerState,
  isoCdrom,
  makeDirectory,
  networkAdapter,
  powerOffVm,
  powerOnVm,
  pvscsiController,
  reconfigureVm,
  removeDevice,
  retrieveObject,
  shutdownGuest,
  uploadDatastoreFile,
  virtualDisk,
  type Datacenter,
  type ManagedObjectReference,
  type NetworkTarget,
  type OptionValue,
  type VirtualDevice,
  type VirtualDisk,
} from '../../../src/vsphere';
import { useSimulator } from '../../helpers/vcsim';

const DS = 'LocalDS_0';
const BIOS_UUID = '4c6f0a6e-7f0c-5a3b-9d2e-0123456789ab';

interface VmReadback {
  name: string;
  'config.uuid': string;
  'config.annotation': string;
  'config.hardware.device': VirtualDevice[];
  'config.hardware.memoryMB': number;
  'config.extraConfig': OptionValue[];
  'runtime.powerState': string;
  network: ManagedObjectReference[];
}
const READBACK = [
  'name',
  'config.uuid',
  'config.annotation',
  'config.hardware.device',
  'config.hardware.memoryMB',
  'config.extraConfig',
  'runtime.powerState',
  'network',
];

describe('Virtual machine operations against vcsim', () => {
  const sim = useSimulator({ portgroups: 1 });
  let client: VimClient;
  let inventory: Inventory;
  let dc: Datacenter;
  let pool: ManagedObjectReference;
  let standard: NetworkTarget;
  let distributed: NetworkTarget;
  let vm: ManagedObjectReference;

  beforeAll(async () => {
    client = await VimClient.connect({ url: sim().url, username: sim().username, password: sim().password, thumbprint: sim().thumbprint });
    inventory = new Inventory(client);
    dc = await inventory.datacenter();
    pool = (await inventory.resourcePool(dc, '/DC0/host/DC0_C0')).ref;
    standard = await inventory.network(dc, 'VM Network');
    distributed = await inventory.network(dc, 'DC0_DVPG0');
    // The image disk the container's delta disk sits on, and the bootstrap ISO.
    await makeDirectory(client, datastorePath(DS, 'vch/images/img1'), dc.ref);
    await createVirtualDisk(client, datastorePath(DS, 'vch/images/img1/img1.vmdk'), dc.ref, { capacityKB: 1024 * 1024 });
    await uploadDatastoreFile(client, { datacenter: 'DC0', datastore: DS, path: 'vch/bootstrap.iso' }, Buffer.alloc(4096));
  });
  afterAll(async () => {
    await client?.close();
  });

  it('GIVEN a container VM spec with every device WHEN creating it THEN the VM has them, typed, with its UUID, annotation and extraConfig', async () => {
    const progress: number[] = [];
    vm = await createVm(
      client,
      {
        folder: dc.vmFolder,
        pool,
        config: {
          name: 'container-1',
          uuid: BIOS_UUID,
          guestId: 'otherGuest64',
          annotation: 'created by vic-iac',
          files: { vmPathName: `[${DS}]` },
          numCPUs: 1,
          memoryMB: 512,
          deviceChange: [
            addDevice(pvscsiController(-100)),
            addDevice(
              virtualDisk({
                key: -101,
                controllerKey: -100,
                unitNumber: 0,
                fileName: `[${DS}] container-1/container-1.vmdk`,
                capacityKB: 1024 * 1024,
                parentFileName: `[${DS}] vch/images/img1/img1.vmdk`,
              }),
              'create',
            ),
            addDevice(isoCdrom({ key: -102, isoFileName: `[${DS}] vch/bootstrap.iso` })),
            addDevice(networkAdapter({ key: -103, model: 'vmxnet3', network: standard })),
            addDevice(networkAdapter({ key: -104, model: 'e1000', network: distributed })),
            addDevice(fileSerialPort({ key: -105, fileName: `[${DS}] container-1/console.log` })),
          ],
          extraConfig: { 'vic.owner': 'vch-1', 'guestinfo.vic.config': 'eyJhIjoxfQ==', 'vic.note': 'a < b & "c"' },
        },
      },
      { onProgress: (p) => progress.push(p) },
    );
    expect(vm.type).toBe('VirtualMachine');
    expect(progress).toContain(100);

    const props = await retrieveObject<VmReadback>(client, vm, READBACK);
    expect(props.name).toBe('container-1');
    expect(props['config.uuid']).toBe(BIOS_UUID);
    expect(props['config.annotation']).toBe('created by vic-iac');
    expect(extraConfigOf(props['config.extraConfig'])).toMatchObject({
      'vic.owner': 'vch-1',
      'guestinfo.vic.config': 'eyJhIjoxfQ==',
      'vic.note': 'a < b & "c"',
    });

    const devices = props['config.hardware.device'];
    const [scsi] = devicesOfType(devices, 'ParaVirtualSCSIController');
    expect(scsi).toBeDefined();
    const [disk] = devicesOfType<VirtualDisk>(devices, 'VirtualDisk');
    expect(disk.controllerKey).toBe(scsi.key);
    expect(disk.backing?.parent?.fileName).toBe(`[${DS}] vch/images/img1/img1.vmdk`);
    expect(disk.backing?.fileName).toBe(`[${DS}] container-1/container-1.vmdk`);
    const [cdrom] = devicesOfType(devices, 'VirtualCdrom');
    expect(cdrom.backing).toMatchObject({ $type: 'VirtualCdromIsoBackingInfo', fileName: `[${DS}] vch/bootstrap.iso` });
    const [vmxnet3] = devicesOfType(devices, 'VirtualVmxnet3');
    expect(vmxnet3.backing).toMatchObject({ $type: 'VirtualEthernetCardNetworkBackingInfo', deviceName: 'VM Network' });
    const [e1000] = devicesOfType(devices, 'VirtualE1000');
    expect(e1000.backing).toMatchObject({ $type: 'VirtualEthernetCardDistributedVirtualPortBackingInfo', port: { portgroupKey: distributed.ref.value } });
    const [serial] = devicesOfType(devices, 'VirtualSerialPort');
    expect(serial.backing).toMatchObject({ $type: 'VirtualSerialPortFileBackingInfo', fileName: `[${DS}] container-1/console.log` });
    expect(props.network.map((n) => n.value).sort()).toEqual([standard.ref.value, distributed.ref.value].sort());
  });

  it('GIVEN the VM WHEN finding it by its BIOS UUID THEN it is found (crash-safe adoption)', async () => {
    expect(await inventory.findVmByUuid(BIOS_UUID, dc)).toEqual(vm);
  });

  it('GIVEN the VM WHEN reconfiguring annotation, memory and extraConfig and removing the CD-ROM THEN only those change', async () => {
    const before = await retrieveObject<VmReadback>(client, vm, READBACK);
    const [cdrom] = devicesOfType(before['config.hardware.device'], 'VirtualCdrom');
    await reconfigureVm(client, vm, {
      annotation: 'changed',
      memoryMB: 1024,
      extraConfig: { 'vic.owner': 'vch-2' },
      deviceChange: [removeDevice(cdrom)],
    });
    const after = await retrieveObject<VmReadback>(client, vm, READBACK);
    expect(after['config.annotation']).toBe('changed');
    expect(after['config.hardware.memoryMB']).toBe(1024);
    expect(extraConfigOf(after['config.extraConfig'])).toMatchObject({ 'vic.owner': 'vch-2', 'guestinfo.vic.config': 'eyJhIjoxfQ==' });
    expect(devicesOfType(after['config.hardware.device'], 'VirtualCdrom')).toEqual([]);
    expect(devicesOfType(after['config.hardware.device'], 'VirtualDisk')).toHaveLength(1);
  });

  it('GIVEN the VM WHEN powering on, asking the guest to shut down and powering off THEN the power state follows', async () => {
    await powerOnVm(client, vm);
    expect((await retrieveObject<VmReadback>(client, vm, ['runtime.powerState']))['runtime.powerState']).toBe('poweredOn');
    const whileOn = await destroyVm(client, vm).catch((e: unknown) => e);
    expect(isInvalidPowerState(whileOn)).toBe(true);
    await shutdownGuest(client, vm);
    // ShutdownGuest returns once the guest accepted the request; the VM goes off a moment later.
    const collector = await UpdateCollector.create(client);
    try {
      await collector.addFilter([vm], [{ type: 'VirtualMachine', paths: ['runtime.powerState'] }]);
      let state: unknown;
      while (state !== 'poweredOff') {
        const batch = await collector.waitForUpdates(10);
        if (!batch) throw new Error('the VM did not power off within 10 s of ShutdownGuest');
        for (const change of batch.objects.flatMap((o) => o.changeSet)) state = change.val;
      }
    } finally {
      await collector.destroy();
    }
    const again = await powerOffVm(client, vm).catch((e: unknown) => e);
    expect(isInvalidPowerState(again)).toBe(true);
  });

  it('GIVEN a powered-off VM WHEN destroying it THEN it is gone and reading it is NotFound', async () => {
    await destroyVm(client, vm);
    await expect(retrieveObject(client, vm, ['name'])).rejects.toThrow(NotFoundError);
    expect(await inventory.findVmByUuid(BIOS_UUID, dc)).toBeUndefined();
  });
});
