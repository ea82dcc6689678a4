// A container VM whose labels (an attribute vic-iac updates in place) come from config, and config
// `replaceOnChanges` that names properties for the resource option of the same name. Plain
// JavaScript, as in the import program.
const pulumi = require('@pulumi/pulumi');
const vic = require('vic-iac/pulumi');

const config = new pulumi.Config();
const replaceOnChanges = config.getObject('replaceOnChanges') ?? [];
const vch = new vic.VirtualContainerHost('roc', {
  name: 'vch-roc',
  compute: config.require('resourcePoolId'),
  datastore: config.require('datastoreId'),
  bridgeNetwork: 'VM Network',
});
const image = new vic.Image('app', { vchId: vch.id, reference: config.require('image'), insecureRegistry: true });
const web = new vic.ContainerVm(
  'web',
  { vchId: vch.id, imageId: image.id, name: 'web-roc', powerState: 'stopped', labels: { tier: config.require('tier') } },
  { replaceOnChanges },
);

exports.webMoid = web.moid;
exports.webLabels = web.labels;
