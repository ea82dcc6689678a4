// A virtual container host, an image, a volume and a container VM, each of which a replacement
// finds again under its own identity (the VCH and volume names, the image digest, the container
// name): `pulumi up --replace` creates the replacement first. Plain JavaScript, as in the import
// program.
const pulumi = require('@pulumi/pulumi');
const vic = require('vic-iac/pulumi');

const config = new pulumi.Config();
// Config `vchId`: another stack of this program, with only a volume of the same name in that VCH.
const otherStackOf = config.get('vchId');
if (otherStackOf) {
  exports.volumeId = new vic.Volume('data', { vchId: otherStackOf, name: 'data', sizeMb: 32 }).id;
  return;
}
// Config `deleteFirst`: what the refusals of a VCH's and a container VM's --replace advise.
const deleteFirst = config.getBoolean('deleteFirst') ? { deleteBeforeReplace: true } : {};
const vch = new vic.VirtualContainerHost(
  'replace',
  {
    name: 'vch-replace',
    compute: config.require('resourcePoolId'),
    datastore: config.require('datastoreId'),
    bridgeNetwork: 'VM Network',
  },
  deleteFirst,
);
const image = new vic.Image('app', { vchId: vch.id, reference: config.require('image'), insecureRegistry: true });
const data = new vic.Volume('data', { vchId: vch.id, name: 'data', sizeMb: 32 });
const web = new vic.ContainerVm('web', { vchId: vch.id, imageId: image.id, name: 'web-1' }, deleteFirst);

exports.vchId = vch.id;
exports.imageDigest = image.digest;
exports.volumeId = data.id;
exports.webMoid = web.moid;
