/**
 * Through the real `terraform` CLI: the image store an image's refresh and destroy follow is the one
 * in the state. Someone rewrites the VCH pool's `vic-iac.vch` marker to point at a complete copy of
 * the image in another directory; the refresh keeps disk_path, and the destroy (which refreshes
 * first) deletes the image the state names and leaves the copy.
 */
import { Inventory } from '../../src/vsphere/inventory';
import { datastoreDirectoryExists } from '../../src/vsphere/datastore-browser';
import { statDatastoreFile } from '../../src/vsphere/datastore-http';
import { plantImageCopy, rewriteVchMarker } from '../helpers/vch-marker';
import { Workspace, stateAttributes } from './terraform-cli';
import { useTerraformTestbed } from './testbed';

const PASSWORD = 'ImgOwn-e2e-S3cret!';

describe('image ownership through terraform', () => {
  const bed = useTerraformTestbed({ username: 'terraform', password: PASSWORD, repository: 'test/img-own', program: 'app' });
  let ws: Workspace;
  const tf = (args: string[], allow?: number[]) => bed.terraform(ws, args, { allow });
  const attributes = (name: string) => stateAttributes(ws.dir, name);

  beforeAll(async () => {
    ws = await bed.initFixture('image-ownership');
  }, 120_000);

  it("GIVEN the pool marker rewritten to point at a copy of the image WHEN terraform refreshes and destroys THEN disk_path stays, the state's image is deleted and the copy stays", async () => {
    const apply = await tf(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 2 added, 0 changed, 0 destroyed.');
    const image = attributes('app');
    const hex = String(image.id).slice('sha256:'.length);
    expect(image.disk_path).toBe(`[LocalDS_0] vch-img-tf/images/${hex}/${hex}.vmdk`);

    const outside = bed.outside();
    await plantImageCopy(outside, 'vch-img-tf', 'decoy-tf', hex, Number(image.size_bytes));
    await rewriteVchMarker(outside, String(attributes('this').id), { image_store_path: 'decoy-tf' });

    const plan = await tf(['plan', '-detailed-exitcode']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).not.toContain('changed outside of Terraform');
    await tf(['apply', '-refresh-only', '-auto-approve']);
    expect(attributes('app').disk_path).toBe(image.disk_path);

    const destroy = await tf(['destroy', '-auto-approve']);
    expect(destroy.stdout).toContain('Destroy complete! Resources: 2 destroyed.');
    const dc = await new Inventory(outside).datacenter('DC0');
    const ds = await new Inventory(outside).datastore(dc, 'LocalDS_0');
    expect(await datastoreDirectoryExists(outside, ds.ref, `[LocalDS_0] vch-img-tf/images/${hex}`)).toBe(false);
    expect(await datastoreDirectoryExists(outside, ds.ref, `[LocalDS_0] decoy-tf/images/${hex}`)).toBe(true);
    expect(await statDatastoreFile(outside, { datacenter: 'DC0', datastore: 'LocalDS_0', path: `decoy-tf/images/${hex}/metadata.json` })).toBeDefined();
  }, 300_000);
});
