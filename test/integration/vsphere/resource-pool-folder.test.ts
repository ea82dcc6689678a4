import {
  DuplicateNameError,
  Inventory,
  NotFoundError,
  VimClient,
  addCustomFieldDef,
  createFolder,
  createResourcePool,
  customFieldsOf,
  destroyFolder,
  destroyResourcePool,
  ensureCustomFieldDef,
  listCustomFieldDefs,
  retrieveObject,
  setCustomField,
  updateResourcePool,
  type Datacenter,
  type ManagedObjectReference,
} from '../../../src/vsphere';
import { useSimulator } from '../../helpers/vcsim';

interface PoolConfig {
  name: string;
  'config.cpuAllocation': { reservation: number; expandableReservation: boolean; limit: number; shares: { shares: number; level: string } };
  'config.memoryAllocation': { reservation: number; expandableReservation: boolean; limit: number; shares: { shares: number; level: string } };
}
const POOL_PATHS = ['name', 'config.cpuAllocation', 'config.memoryAllocation'];

describe('Resource pools, folders and custom fields against vcsim', () => {
  const sim = useSimulator();
  let client: VimClient;
  let dc: Datacenter;
  let rootPool: ManagedObjectReference;
  let pool: ManagedObjectReference;
  let folder: ManagedObjectReference;

  beforeAll(async () => {
    client = await VimClient.connect({ url: sim().url, username: sim().username, password: sim().password, thumbprint: sim().thumbprint });
    const inventory = new Inventory(client);
    dc = await inventory.datacenter();
    rootPool = (await inventory.resourcePool(dc, '/DC0/host/DC0_C0')).ref;
  });
  afterAll(async () => {
    await client?.close();
  });

  it('GIVEN a partial allocation WHEN creating a pool THEN the rest gets vSphere defaults and the values read back typed', async () => {
    pool = await createResourcePool(client, rootPool, 'vch-1', {
      cpuAllocation: { limit: 2000 },
      memoryAllocation: { reservation: 512, expandableReservation: false, shares: { level: 'high' } },
    });
    const config = await retrieveObject<PoolConfig>(client, pool, POOL_PATHS);
    expect(config.name).toBe('vch-1');
    expect(config['config.cpuAllocation']).toMatchObject({ reservation: 0, expandableReservation: true, limit: 2000, shares: { level: 'normal' } });
    expect(config['config.memoryAllocation']).toMatchObject({ reservation: 512, expandableReservation: false, limit: -1, shares: { level: 'high' } });
  });

  it('GIVEN an existing pool name WHEN creating it again THEN DuplicateNameError names the call', async () => {
    const err = await createResourcePool(client, rootPool, 'vch-1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateNameError);
    expect((err as Error).message).toContain(`CreateResourcePool on ResourcePool:${rootPool.value}`);
  });

  it('GIVEN the pool WHEN updating only the CPU limit and the name THEN the rest is unchanged', async () => {
    await updateResourcePool(client, pool, { name: 'vch-1-renamed', cpuAllocation: { limit: 3000 } });
    const config = await retrieveObject<PoolConfig>(client, pool, POOL_PATHS);
    expect(config.name).toBe('vch-1-renamed');
    expect(config['config.cpuAllocation'].limit).toBe(3000);
    expect(config['config.memoryAllocation']).toMatchObject({ reservation: 512, expandableReservation: false });
  });

  it('GIVEN a VM folder WHEN creating it twice THEN the second is DuplicateName', async () => {
    folder = await createFolder(client, dc.vmFolder, 'vch-1');
    expect(folder.type).toBe('Folder');
    await expect(createFolder(client, dc.vmFolder, 'vch-1')).rejects.toThrow(DuplicateNameError);
  });

  it('GIVEN custom field definitions WHEN marking the pool and folder as ours THEN the values read back by name', async () => {
    const owner = await ensureCustomFieldDef(client, 'vic.owner');
    expect(owner.name).toBe('vic.owner');
    expect(await ensureCustomFieldDef(client, 'vic.owner')).toEqual(owner);
    await expect(addCustomFieldDef(client, 'vic.owner')).rejects.toThrow(DuplicateNameError);
    expect((await listCustomFieldDefs(client)).map((d) => d.name)).toContain('vic.owner');

    await setCustomField(client, pool, owner.key, 'vch-1');
    await setCustomField(client, folder, owner.key, 'vch-1');
    await setCustomField(client, folder, owner.key, 'vch-1b');
    for (const [entity, expected] of [
      [pool, 'vch-1'],
      [folder, 'vch-1b'],
    ] as const) {
      const props = await retrieveObject<{ customValue: unknown; availableField: unknown }>(client, entity, ['customValue', 'availableField']);
      expect(customFieldsOf(props.customValue, props.availableField)).toEqual({ 'vic.owner': expected });
    }
  });

  it('GIVEN the pool and folder WHEN destroying them THEN they are gone', async () => {
    await destroyResourcePool(client, pool);
    await expect(retrieveObject(client, pool, ['name'])).rejects.toThrow(NotFoundError);
    await destroyFolder(client, folder);
    await expect(retrieveObject(client, folder, ['name'])).rejects.toThrow(NotFoundError);
  });
});
