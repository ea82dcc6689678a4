import {
  InvalidArgumentError,
  Inventory,
  NotFoundError,
  VimClient,
  moRef,
  retrieveFromContainer,
  type Datacenter,
  type ManagedObjectReference,
} from '../../../src/vsphere';
import { useSimulator } from '../../helpers/vcsim';

describe('Inventory lookups against vcsim', () => {
  const sim = useSimulator({ vms: 1, portgroups: 1 });
  let client: VimClient;
  let inventory: Inventory;
  let dc: Datacenter;

  beforeAll(async () => {
    client = await VimClient.connect({ url: sim().url, username: sim().username, password: sim().password, thumbprint: sim().thumbprint });
    inventory = new Inventory(client);
    dc = await inventory.datacenter();
  });
  afterAll(async () => {
    await client?.close();
  });

  it('GIVEN one datacenter WHEN looking it up by nothing, path, name or MOID THEN each gives DC0 with its folders', async () => {
    expect(dc.name).toBe('DC0');
    expect(dc.vmFolder.type).toBe('Folder');
    expect(dc.hostFolder.type).toBe('Folder');
    for (const id of ['/DC0', 'DC0', dc.ref.value, dc.ref]) {
      expect((await inventory.datacenter(id)).ref).toEqual(dc.ref);
    }
  });

  it('GIVEN an unknown datacenter WHEN looking it up THEN the error lists the known ones', async () => {
    await expect(inventory.datacenter('DC9')).rejects.toThrow('datacenter "DC9" not found (known: DC0)');
  });

  it('GIVEN a cluster WHEN looking it up by path, name or MOID THEN each finds it', async () => {
    const byPath = await inventory.cluster(dc, '/DC0/host/DC0_C0');
    expect(byPath).toEqual({ ref: expect.objectContaining({ type: 'ClusterComputeResource' }), name: 'DC0_C0' });
    expect(await inventory.cluster(dc, 'DC0_C0')).toEqual(byPath);
    expect(await inventory.cluster(dc, byPath.ref.value)).toEqual(byPath);
    expect(await inventory.cluster(dc, byPath.ref)).toEqual(byPath);
  });

  it('GIVEN hosts WHEN looking one up by name THEN it is a HostSystem', async () => {
    expect((await inventory.host(dc, 'DC0_C0_H0')).ref.type).toBe('HostSystem');
    await expect(inventory.host(dc, 'nope')).rejects.toThrow(/host "nope" not found in datacenter "DC0" \(known: DC0_C0_H0, .*DC0_H0/);
  });

  it('GIVEN resource pools WHEN looking one up THEN a path or a cluster path finds the root pool, and the ambiguous name "Resources" asks for a path', async () => {
    const root = await inventory.resourcePool(dc, '/DC0/host/DC0_C0/Resources');
    expect(root.ref.type).toBe('ResourcePool');
    expect((await inventory.resourcePool(dc, '/DC0/host/DC0_C0')).ref).toEqual(root.ref);
    const err = await inventory.resourcePool(dc, 'Resources').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(/resource pool name "Resources" is ambiguous in datacenter "DC0" \(.*\); use its inventory path or MOID/);
  });

  it('GIVEN folders WHEN looking up /DC0/vm THEN it is the datacenter VM folder', async () => {
    expect((await inventory.folder(dc, '/DC0/vm')).ref).toEqual(dc.vmFolder);
  });

  it('GIVEN datastores WHEN looking one up THEN a name finds it and a miss lists what exists', async () => {
    const ds = await inventory.datastore(dc, 'LocalDS_0');
    expect(ds.ref.type).toBe('Datastore');
    expect((await inventory.datastore(dc, '/DC0/datastore/LocalDS_0')).ref).toEqual(ds.ref);
    const err = await inventory.datastore(dc, 'LocalDS_9').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toBe('datastore "LocalDS_9" not found in datacenter "DC0" (known: LocalDS_0)');
  });

  it('GIVEN a standard and a DVS portgroup WHEN looking them up THEN the DVS one carries switch UUID and portgroup key', async () => {
    const standard = await inventory.network(dc, 'VM Network');
    expect(standard).toMatchObject({ kind: 'standard', name: 'VM Network', ref: { type: 'Network' } });
    const dvs = await inventory.network(dc, 'DC0_DVPG0');
    expect(dvs.kind).toBe('distributed');
    if (dvs.kind !== 'distributed') return;
    expect(dvs.ref.type).toBe('DistributedVirtualPortgroup');
    expect(dvs.portgroupKey).toBe(dvs.ref.value);
    expect(dvs.switchUuid).toMatch(/^[0-9a-f-]{36}$/);
    expect((await inventory.network(dc, `/DC0/network/DC0_DVPG0`)).ref).toEqual(dvs.ref);
  });

  it('GIVEN a MoRef of the wrong kind or a missing MOID WHEN looking it up THEN the error says which', async () => {
    await expect(inventory.datastore(dc, dc.vmFolder)).rejects.toThrow(`Folder ${dc.vmFolder.value} is not a datastore`);
    await expect(inventory.cluster(dc, moRef('ClusterComputeResource', 'domain-c999'))).rejects.toThrow('cluster domain-c999 not found');
  });

  it('GIVEN a VM BIOS UUID WHEN searching by UUID THEN FindByUuid returns the VM, and an unknown UUID returns undefined', async () => {
    const [vm] = await retrieveFromContainer<{ 'config.uuid': string }>(client, {
      container: dc.vmFolder,
      select: [{ type: 'VirtualMachine', paths: ['config.uuid'] }],
    });
    expect(await inventory.findVmByUuid(vm.props['config.uuid'], dc)).toEqual(vm.ref);
    expect(await inventory.findVmByUuid(vm.props['config.uuid'])).toEqual(vm.ref);
    expect(await inventory.findVmByUuid('00000000-0000-5000-8000-000000000000', dc)).toBeUndefined();
  });
});

describe('Inventory: datacenters in folders', () => {
  const sim = useSimulator({ clusters: 0, standaloneHosts: 0 });
  let client: VimClient;

  beforeAll(async () => {
    client = await VimClient.connect({ url: sim().url, username: sim().username, password: sim().password, thumbprint: sim().thumbprint });
  });
  afterAll(async () => {
    await client?.close();
  });

  it('GIVEN a datacenter two folders down WHEN the datacenters are listed THEN it is there beside DC0, read in one round trip', async () => {
    const root = client.serviceContent.rootFolder ?? moRef('Folder', 'group-d1');
    const outer = await client.call<ManagedObjectReference>('CreateFolder', root, { name: 'region' }, { returns: 'moref' });
    const inner = await client.call<ManagedObjectReference>('CreateFolder', outer, { name: 'site' }, { returns: 'moref' });
    const made = await client.call<ManagedObjectReference>('CreateDatacenter', inner, { name: 'DC-nested' }, { returns: 'moref' });
    const inventory = new Inventory(client);
    const before = client.stats.total;
    const all = await inventory.datacenters();
    expect(client.stats.total - before).toBe(1);
    expect(all.map((d) => d.name).sort()).toEqual(['DC-nested', 'DC0']);
    const nested = all.find((d) => d.name === 'DC-nested');
    expect(nested?.ref).toEqual(made);
    expect(nested?.vmFolder.type).toBe('Folder');
    expect((await inventory.datacenter('/region/site/DC-nested')).ref).toEqual(made);
    await expect(inventory.datacenter()).rejects.toThrow('several datacenters exist (DC-nested, DC0); name the datacenter to use');
  });
});
