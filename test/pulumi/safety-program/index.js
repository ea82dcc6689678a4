// A virtual container host, an image on a tag and a container VM that uses it; with config `twins`
// two more container VMs that share one name, with `twinImage` a second image resource with the same
// reference, with `digestTwin` a second image resource on another reference (the same digest as
// @sha256:…), with `imageSizeMb` an image size (a replacement that keeps the digest). Plain JavaScript, as in the import program.
const pulumi = require('@pulumi/pulumi');
const vic = require('vic-iac/pulumi');

const config = new pulumi.Config();
const vch = new vic.VirtualContainerHost('safety', {
  name: 'vch-safety',
  compute: config.require('resourcePoolId'),
  datastore: config.require('datastoreId'),
  bridgeNetwork: 'VM Network',
});
const image = new vic.Image('app', { vchId: vch.id, reference: config.require('image'), insecureRegistry: true, sizeMb: config.getNumber('imageSizeMb') });
const web = new vic.ContainerVm('web', { vchId: vch.id, imageId: image.id, name: 'web-1' });
if (config.getBoolean('twinImage')) {
  new vic.Image('app-copy', { vchId: vch.id, reference: config.require('image'), insecureRegistry: true, sizeMb: config.getNumber('imageSizeMb') });
}
if (config.get('digestTwin')) {
  new vic.Image('app-pinned', { vchId: vch.id, reference: config.require('digestTwin'), insecureRegistry: true });
}
if (config.getBoolean('twins')) {
  for (const twin of ['twin-a', 'twin-b']) new vic.ContainerVm(twin, { vchId: vch.id, imageId: image.id, name: 'twin' });
}

exports.imageDigest = image.digest;
exports.webImageId = web.imageId;
exports.webMoid = web.moid;
