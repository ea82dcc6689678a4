/**
 * One app in one block: a virtual container host, its image and its container VM.
 *
 * The placement inputs are plain managed object ids, exactly what @pulumi/vsphere outputs. With
 * @pulumi/vsphere installed you would write:
 *
 *   const dc = vsphere.getDatacenterOutput({ name: 'DC0' });
 *   const cluster = vsphere.getComputeClusterOutput({ name: 'DC0_C0', datacenterId: dc.id });
 *   const datastore = vsphere.getDatastoreOutput({ name: 'LocalDS_0', datacenterId: dc.id });
 *   ... compute: cluster.resourcePoolId, datastore: datastore.id ...
 *
 * Here the same strings come from stack config (resgroup-NN, datastore-NN), so the stack runs
 * without @pulumi/vsphere.
 */
import * as pulumi from '@pulumi/pulumi';
import * as vic from 'vic-iac/pulumi';

const config = new pulumi.Config();
const registryUser = config.get('registryUser');

const app = new vic.ContainerApp('web', {
  host: {
    name: config.get('vchName') ?? 'vch-web',
    compute: config.require('resourcePoolId'),
    datastore: config.require('datastoreId'),
    bridgeNetwork: config.get('network') ?? 'VM Network',
    memoryLimitMb: config.getNumber('memoryLimitMb') ?? 4096,
  },
  images: {
    hello: {
      reference: config.require('image'),
      insecureRegistry: config.getBoolean('insecureRegistry') ?? false,
      registryAuth: registryUser ? { username: registryUser, password: config.requireSecret('registryPassword') } : undefined,
    },
  },
  containers: {
    // A process that keeps running (must_run starts one that ended again at the next up).
    'web-1': { image: 'hello', command: config.getObject<string[]>('command') ?? ['sh', '-c', 'while true; do date; sleep 60; done'], memoryMb: 256 },
  },
});

export const vchId = app.vchId;
export const containerIds = app.containerIds;
export const webMoid = app.containers['web-1'].moid;
export const imageDigest = app.images.hello.digest;
