// Adopts an existing VCH with the `import` resource option, as a user would write it. Plain
// JavaScript on purpose: a JS program uses vic-iac/pulumi the same way.
const pulumi = require('@pulumi/pulumi');
const vic = require('vic-iac/pulumi');

const config = new pulumi.Config();
const vch = new vic.VirtualContainerHost(
  'adopted',
  {
    name: config.require('vchName'),
    compute: config.require('resourcePoolId'),
    datacenter: config.get('datacenter'),
    datastore: config.require('datastore'),
    bridgeNetwork: 'VM Network',
    memoryLimitMb: config.requireNumber('memoryLimitMb'),
  },
  { import: config.require('importId') },
);

exports.id = vch.id;
