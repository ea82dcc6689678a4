/**
 * The bed of a test that drives the real `terraform` CLI against container VMs that really boot: a
 * simulator whose guest runner runs them, a registry holding the probe image (probe-image.ts) under
 * `tag`, and a workspace with `mainTf`, whose `image` variable names that image. The connection and
 * the bootstrap ISO come from the environment, as a user's do.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SimulatorOptions } from '../../src/sim/simulator';
import { writeOciLayout } from '../helpers/oci-layout';
import { ensureBootstrapIso } from '../helpers/qemu';
import { useRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { workspace, type Workspace } from '../provider/terraform-cli';
import { probeImageSpec } from './probe-image';

export interface GuestTerraform {
  readonly sim: ReturnType<typeof useSimulator>;
  /** Runs terraform in the workspace (with `-no-color`); a non-zero exit fails with its output. */
  terraform(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

export function useGuestTerraform(mainTf: string, tag: string, sim: SimulatorOptions = { runGuests: true }): GuestTerraform {
  const simulator = useSimulator(sim);
  const registry = useRegistry();
  let ws: Workspace | undefined;
  let env: NodeJS.ProcessEnv = {};
  let scratch: string | undefined;

  beforeAll(async () => {
    const iso = await ensureBootstrapIso();
    scratch = await mkdtemp(join(tmpdir(), 'vic-tf-guest-'));
    const layout = await writeOciLayout(join(scratch, 'oci'), 'probe', [probeImageSpec()]);
    await registry().push(layout.dir, 'probe', `vic-test/probe:${tag}`);
    ws = workspace('mirror');
    ws.write('main.tf', mainTf);
    const s = simulator();
    env = {
      VSPHERE_SERVER: s.url,
      VSPHERE_USER: s.username,
      VSPHERE_PASSWORD: s.password,
      VSPHERE_THUMBPRINT: s.thumbprint,
      VIC_BOOTSTRAP_ISO: iso,
      TF_VAR_image: `${registry().host}/vic-test/probe:${tag}`,
    };
  }, 180_000);

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  return {
    sim: simulator,
    async terraform(args) {
      if (!ws) throw new Error('useGuestTerraform: the workspace is not ready (use it inside a test, after beforeAll)');
      const r = await ws.terraform([...args, '-no-color'], env);
      if (r.code !== 0) throw new Error(`terraform ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
      return r;
    },
  };
}
