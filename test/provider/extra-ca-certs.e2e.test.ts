/**
 * A vCenter whose CA a user trusts through NODE_EXTRA_CA_CERTS (a corporate CA), as `terraform plan`
 * meets it through each launcher Terraform may run: the installed one (a filesystem mirror) and
 * bin/terraform-provider-vic (dev_overrides). The launchers hand the variable to the provider as
 * VIC_EXTRA_CA_CERTS (src/extra-ca-certs.ts), so this passes only if the provider rebuilds the trust
 * itself. No thumbprint and no CA file: the simulator's certificate is trusted through the variable
 * alone, and without it the same plan is refused.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../src/engine';
import { connectTestEngine, vsphereEnv } from '../helpers/engine';
import { useSimulator } from '../helpers/vcsim';
import { workspace, type Workspace } from './terraform-cli';

describe('GIVEN a vCenter certificate trusted only through NODE_EXTRA_CA_CERTS', () => {
  const sim = useSimulator();
  let engine: Engine;
  let env: NodeJS.ProcessEnv;
  let caFile: string;

  beforeAll(async () => {
    engine = await connectTestEngine(sim());
    await engine.apply(await engine.plan('virtual_container_host', null, { name: 'vch-corp-ca', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0' }));
    const { VSPHERE_THUMBPRINT: _pinned, ...unpinned } = vsphereEnv(sim());
    env = { ...unpinned, TF_VAR_vch_name: 'vch-corp-ca', VIC_EXTRA_CA_CERTS: undefined };
  }, 60_000);

  afterAll(async () => {
    await engine?.close();
  });

  const plan = (ws: Workspace, extraCa: string | undefined) => ws.terraform(['plan', '-no-color'], { ...env, NODE_EXTRA_CA_CERTS: extraCa });

  describe.each([
    ['the installed launcher (filesystem mirror)', 'mirror'],
    ['bin/terraform-provider-vic (dev_overrides)', 'dev'],
  ] as const)('WHEN terraform runs %s', (_launcher, mode) => {
    let ws: Workspace;
    beforeAll(async () => {
      ws = workspace(mode, { fixture: 'data-sources/lookup' });
      caFile = join(ws.dir, 'corp-ca.pem');
      writeFileSync(caFile, sim().certPem ?? '');
      if (mode === 'mirror') {
        const init = await ws.terraform(['init', '-no-color'], env);
        expect([init.code, init.stderr]).toEqual([0, '']);
      }
    }, 120_000);

    test('THEN the plan logs in and reads the VCH', async () => {
      const r = await plan(ws, caFile);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toContain('data.vic_virtual_container_host.apps: Read complete after');
    }, 60_000);

    test('THEN without it the plan is refused as untrusted, naming what was checked and the ways out', async () => {
      const r = await plan(ws, undefined);
      expect(r.code).toBe(1);
      expect(r.stderr.replace(/\s+/g, ' ')).toMatch(/is not trusted \(.*checked against system CAs\); pin it with thumbprint = "/);
    }, 60_000);
  });
});
