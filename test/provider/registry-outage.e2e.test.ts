/**
 * Through the real `terraform` CLI: the registry of a stored image goes down. A plan of what uses
 * the stored image goes on, with a warning on `reference` that names the registry and the way out,
 * a container VM of it can still be resized, and the `vic_image` data source finds the image by
 * its tag in the image store. What needs the registry (another tag) is refused with the reason.
 */
import { Workspace, stateAttributes } from './terraform-cli';
import { useTerraformTestbed } from './testbed';

const PASSWORD = 'Outage-e2e-S3cret!';

describe('terraform plans while the registry is down', () => {
  const bed = useTerraformTestbed({ username: 'terraform', password: PASSWORD, repository: 'test/outage', program: 'app' });
  let ws: Workspace;
  const tf = (args: string[], opts: { allow?: number[]; extraEnv?: NodeJS.ProcessEnv } = {}) => bed.terraform(ws, args, opts);
  const flat = (s: string) => s.replace(/\s+/g, ' ');

  beforeAll(async () => {
    ws = await bed.initFixture('registry-outage');
    const apply = await tf(['apply', '-auto-approve']);
    expect(apply.stdout).toContain('Apply complete! Resources: 3 added, 0 changed, 0 destroyed.');
    await bed.registry().stop();
  }, 240_000);

  it('GIVEN the applied stack and the registry down WHEN planned THEN no changes, a warning on reference naming the registry and the way out, and the data source reads the stored digest', async () => {
    const image = stateAttributes(ws.dir, 'app');
    const host = bed.registry().host;
    const plan = await tf(['plan', '-detailed-exitcode']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('No changes.');
    const text = flat(plan.stdout + plan.stderr);
    expect(text).toContain('Warning: Registry unreachable: the stored image is kept');
    expect(text).toContain(`cannot reach registry ${host}`);
    expect(text).toContain(`keeps ${host}/test/outage:v1 at ${String(image.digest)}`);
    expect(text).toContain('pin the reference by digest');
    expect(plan.stdout).toContain('data.vic_image.by_tag: Read complete after');
    const out = await tf(['output', '-raw', 'looked_up_digest']);
    expect(out.stdout).toBe(String(image.digest));
  }, 120_000);

  it('GIVEN the registry down WHEN the container VM is resized THEN it applies in place', async () => {
    const apply = await tf(['apply', '-auto-approve', '-var', 'memory_mb=256']);
    expect(apply.stdout).toContain('Apply complete! Resources: 0 added, 1 changed, 0 destroyed.');
    expect(stateAttributes(ws.dir, 'web').memory_mb).toBe(256);
  }, 120_000);

  it('GIVEN the registry down WHEN the image is moved to another tag THEN the plan fails on reference with the reason, and nothing changes', async () => {
    const host = bed.registry().host;
    const plan = await tf(['plan', '-var', `image=${host}/test/outage:v2`], { allow: [1] });
    expect(plan.code).toBe(1);
    const text = flat(plan.stderr);
    expect(text).toContain('Error: Image reference cannot be resolved');
    expect(text).toContain(`cannot reach registry ${host}`);
    expect(text).toContain('with vic_image.app');
    const after = await tf(['plan', '-detailed-exitcode', '-var', 'memory_mb=256']);
    expect(after.code).toBe(0);
  }, 120_000);
});
