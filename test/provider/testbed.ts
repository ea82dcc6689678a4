/**
 * The peers a Terraform end-to-end test needs, started for the calling test file: the simulator
 * with exact credentials, a registry holding a one-program test image, the VSPHERE_* and TF_VAR_*
 * environment for terraform, a client for looking at vSphere from outside, and a `terraform` runner
 * that fails on a non-zero exit and asserts the password never reaches terraform's output.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningSimulator } from '../../src/sim/simulator';
import type { VimClient } from '../../src/vsphere';
import { connectTestClient } from '../helpers/engine';
import { writeOciLayout } from '../helpers/oci-layout';
import { useRegistry, type RunningRegistry } from '../helpers/registry';
import { useSimulator } from '../helpers/vcsim';
import { readState, workspace, type Workspace } from './terraform-cli';

export interface TestbedOptions {
  readonly username: string;
  readonly password: string;
  /** Repository and program of the test image, e.g. `test/app` and `httpd`. */
  readonly repository: string;
  readonly program: string;
  /** VSPHERE_SERVER as the simulator URL (default) or host:port (HashiCorp's provider wants that). */
  readonly server?: 'url' | 'host';
}

export interface Testbed {
  sim(): RunningSimulator;
  registry(): RunningRegistry;
  /** A temporary directory for the test file, removed afterwards. */
  scratch(): string;
  env(): NodeJS.ProcessEnv;
  outside(): VimClient;
  /** Runs terraform in `ws`; `allow` lists exit codes that are not failures (e.g. 2 with -detailed-exitcode). */
  terraform(
    ws: Workspace,
    args: string[],
    opts?: { extraEnv?: NodeJS.ProcessEnv; allow?: number[] },
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  /** A mirror workspace holding the fixture and shared/testbed.tf (the variables this testbed sets), after `terraform init`. */
  initFixture(fixture: string): Promise<Workspace>;
}

/** The attributes of one resource instance in a workspace's local terraform.tfstate ({} when absent). */
export function stateAttributes(ws: Workspace, type: string, name: string, index = 0): Record<string, unknown> {
  return readState(ws.dir).resources.find((r) => r.type === type && r.name === name)?.instances[index]?.attributes ?? {};
}

export function useTerraformTestbed(opts: TestbedOptions): Testbed {
  const sim = useSimulator({ username: opts.username, password: opts.password });
  const registry = useRegistry();
  let scratch: string | undefined;
  let env: NodeJS.ProcessEnv | undefined;
  let outside: VimClient | undefined;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'vic-tf-testbed-'));
    const layout = await writeOciLayout(join(scratch, 'oci'), 'v1', [
      {
        layers: [
          {
            entries: [
              { type: 'dir', path: 'bin' },
              { type: 'file', path: `bin/${opts.program}`, content: `#!/bin/sh\necho ${opts.program}\n`, mode: 0o755 },
            ],
          },
        ],
        config: { Entrypoint: [`/bin/${opts.program}`], Env: ['PATH=/bin'] },
      },
    ]);
    await registry().push(layout.dir, 'v1', `${opts.repository}:v1`);
    env = {
      VSPHERE_SERVER: opts.server === 'host' ? new URL(sim().url).host : sim().url,
      VSPHERE_USER: sim().username,
      VSPHERE_PASSWORD: opts.password,
      VSPHERE_THUMBPRINT: sim().thumbprint,
      TF_VAR_image: `${registry().host}/${opts.repository}:v1`,
      TF_VAR_insecure_registry: 'true',
    };
    outside = await connectTestClient(sim());
  }, 90_000);

  afterAll(async () => {
    await outside?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const get = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`useTerraformTestbed: ${what} is not ready (use it inside a test, after beforeAll)`);
    return v;
  };
  return {
    sim,
    registry,
    scratch: () => get(scratch, 'scratch'),
    env: () => get(env, 'env'),
    outside: () => get(outside, 'outside'),
    async terraform(ws, args, o = {}) {
      const r = await ws.terraform([...args, '-no-color'], { ...get(env, 'env'), ...o.extraEnv });
      if (r.code !== 0 && !(o.allow ?? []).includes(r.code)) throw new Error(`terraform ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
      // The password must never reach terraform's output, whatever the command.
      expect(r.stdout + r.stderr).not.toContain(opts.password);
      return r;
    },
    async initFixture(fixture) {
      const ws = workspace('mirror', { fixture, shared: ['testbed.tf'] });
      await this.terraform(ws, ['init']);
      return ws;
    },
  };
}
