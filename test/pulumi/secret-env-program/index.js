// A container VM whose secretEnv is a plain string, not a pulumi.secret: the resource's schema
// alone must make it a secret. It comes from the environment, not from stack config: Pulumi keeps
// plain (not --secret) stack config in cleartext whatever the resource does with it. Plain
// JavaScript, as in the import test program.
const pulumi = require('@pulumi/pulumi');
const vic = require('vic-iac/pulumi');

const config = new pulumi.Config();
const vch = new vic.VirtualContainerHost('vch', {
  name: 'vch-secret-env',
  compute: config.require('resourcePoolId'),
  datastore: config.require('datastoreId'),
});
const image = new vic.Image('img', { vchId: vch.id, reference: config.require('image'), insecureRegistry: true });
const app = new vic.ContainerVm('app', {
  vchId: vch.id,
  imageId: image.id,
  name: 'secret-app',
  powerState: 'stopped',
  env: { MODE: 'prod' },
  secretEnv: { API_TOKEN: process.env.VIC_TEST_TOKEN },
});

exports.secretEnv = app.secretEnv;
exports.env = app.env;
