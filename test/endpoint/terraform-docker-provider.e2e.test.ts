/**
 * The Docker Terraform provider (kreuzwerker/docker 4.6, built from Go modules by
 * scripts/peers/72-docker-provider.sh) driving a VCH through its Docker endpoint, with the real
 * `terraform` CLI: examples/terraform-docker applies an image, a volume, a docker network and a
 * container VM on that network, with a published port, a named volume and a file uploaded before its
 * first start. The next plan must show no changes: what the endpoint reads back (NetworkMode, NanoCpus,
 * NetworkSettings.Ports, a volume's Options and Labels) is what the provider asked for, or the
 * provider replaces the container or the volume at every plan. A restart policy changes in place,
 * and the destroy leaves nothing behind.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess, type VicRun } from '../cli/run-vic';
import { REPO, requireTerraform } from '../provider/terraform-cli';
import { busyboxImage, eventually, httpText, useDockerBed } from './docker-env';

const MIRROR = join(REPO, '.cache/terraform-mirror');
const ADDRESS = 'registry.terraform.io/kreuzwerker/docker';
const BOOT_MS = 300_000;

/** The version 72-docker-provider.sh installed, or a failure that says how to get one. */
function installedDockerProvider(): string {
  const dir = join(MIRROR, ADDRESS);
  const versions = existsSync(dir) ? readdirSync(dir) : [];
  if (versions.length === 0) {
    throw new Error(
      `the Docker Terraform provider is not in ${dir}: run "npm run setup" (scripts/peers/72-docker-provider.sh builds kreuzwerker/terraform-provider-docker from Go modules)`,
    );
  }
  return versions.sort().at(-1)!;
}

/** busybox with httpd: the example's container serves the file the provider uploads. */
function webImage() {
  const base = busyboxImage();
  return {
    layers: [...base.layers, { entries: ['httpd', 'mkdir'].map((applet) => ({ type: 'symlink' as const, path: `bin/${applet}`, target: 'busybox' })) }],
    config: { ...base.config, ExposedPorts: { '80/tcp': {} } },
  };
}

describe('the Docker Terraform provider against a VCH', () => {
  // Three guests at once: web, the job and the checked container run side by side (with two, the
  // job can wait for a slot behind two containers that never end, as the CI of 93bb950 found).
  const bed = useDockerBed({ sim: { runGuests: { maxRunning: 3 } }, vchName: 'vch-tfdocker' });
  let dir = '';
  let image = '';
  let version = '';
  const terraformBin = requireTerraform();

  const terraform = (args: string[], timeoutMs = BOOT_MS): Promise<VicRun> =>
    runProcess(
      terraformBin,
      ['-chdir=' + dir, ...args],
      { ...process.env, ...bed().env, TF_CLI_CONFIG_FILE: join(dir, '.terraformrc'), TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', NO_COLOR: '1' },
      { timeoutMs },
    );
  const vars = (...more: string[]) => ['-no-color', '-var', `image=${image}`, ...more.flatMap((v) => ['-var', v])];

  beforeAll(async () => {
    version = installedDockerProvider();
    image = await bed().pushImage(webImage(), 'vic-test/tfweb:1');
    dir = mkdtempSync(join(tmpdir(), 'vic-tf-docker-'));
    cpSync(join(REPO, 'examples/terraform-docker/main.tf'), join(dir, 'main.tf'));
    // The public registry cannot be reached: the provider comes from the mirror, and nothing else.
    writeFileSync(
      join(dir, '.terraformrc'),
      `provider_installation {\n  filesystem_mirror {\n    path    = "${MIRROR}"\n    include = ["${ADDRESS}"]\n  }\n}\n`,
    );
  }, 120_000);

  test('GIVEN the provider in a filesystem mirror WHEN init runs THEN it installs kreuzwerker/docker', async () => {
    const init = await terraform(['init', '-no-color'], 120_000);
    expect([init.code, init.stderr]).toEqual([0, '']);
    expect(init.stdout).toContain(`Installed kreuzwerker/docker v${version} (unauthenticated)`);
  }, 150_000);

  test(
    'GIVEN the example WHEN applied THEN the container VM runs on the network with its volume and port, serves the uploaded file, and the next plan has no changes',
    async () => {
      const apply = await terraform(['apply', '-auto-approve', ...vars('keep_image=false')]);
      expect([apply.code, apply.stderr]).toEqual([0, '']);
      expect(apply.stdout).toContain('Apply complete! Resources: 5 added, 0 changed, 0 destroyed.');

      expect(await bed().dockerOk(['ps', '--filter', 'name=^web$', '--format', '{{.Names}} {{.Networks}} {{.Mounts}}'])).toBe('web app web-data,web-logs');
      expect(await bed().dockerOk(['volume', 'inspect', '-f', '{{.Options}} {{.Status.size_mb}}', 'web-logs'])).toBe('map[size:64MB] 64');
      expect(await bed().dockerOk(['inspect', '-f', '{{.HostConfig.NetworkMode}} {{.HostConfig.RestartPolicy.Name}} {{index .Config.Env 0}}', 'web'])).toBe(
        'bridge unless-stopped GREETING=hello',
      );
      // The host port the simulator picked at the power-on: the provider read it right after its
      // start (a `ports` block without `external`), as from dockerd.
      const port = /^0\.0\.0\.0:(\d+)$/.exec(await bed().dockerOk(['port', 'web', '80/tcp']))?.[1] ?? '';
      expect(port).not.toBe('');
      const recorded = JSON.parse((await terraform(['output', '-json', 'web_ports'])).stdout) as { external: number }[];
      expect(recorded.map((p) => String(p.external))).toEqual([port]);
      let page: string | undefined;
      await eventually(bed(), 'the uploaded page served', async () => (page = await httpText(`http://127.0.0.1:${port}/index.html`)) !== undefined, 120_000);
      expect(page).toBe('hello from terraform\n');
      // Its host block: in /etc/hosts, and read back as given.
      expect(await bed().dockerOk(['exec', 'web', 'cat', '/etc/hosts'])).toMatch(/^10\.0\.0\.5\tdb\.internal$/m);
      expect(await bed().dockerOk(['inspect', '-f', '{{json .HostConfig.ExtraHosts}}', 'web'])).toBe('["db.internal:10.0.0.5"]');

      // Nothing to do, and nothing drifted: what the provider reads back is what it recorded.
      const again = await terraform(['plan', '-detailed-exitcode', ...vars('keep_image=false')]);
      // The plan's text when it has changes: what drifted.
      expect([again.code, again.stderr, again.code === 0 ? '' : again.stdout]).toEqual([0, '', '']);
      expect(again.stdout).toContain('No changes. Your infrastructure matches the configuration.');
    },
    2 * BOOT_MS,
  );

  test('GIVEN another restart policy WHEN applied THEN the same container VM is changed in place', async () => {
    const id = await bed().dockerOk(['inspect', '-f', '{{.Id}}', 'web']);
    const apply = await terraform(['apply', '-auto-approve', ...vars('keep_image=false', 'restart=always')]);
    expect([apply.code, apply.stderr]).toEqual([0, '']);
    expect(apply.stdout).toContain('Apply complete! Resources: 0 added, 1 changed, 0 destroyed.');
    expect(await bed().dockerOk(['inspect', '-f', '{{.Id}} {{.HostConfig.RestartPolicy.Name}}', 'web'])).toBe(`${id} always`);
    const plan = await terraform(['plan', '-detailed-exitcode', ...vars('keep_image=false', 'restart=always')]);
    expect([plan.code, plan.stderr, plan.code === 0 ? '' : plan.stdout]).toEqual([0, '', '']);
  }, 120_000);

  test(
    "GIVEN a one-shot container the provider attaches to, and one it waits on until healthy WHEN applied THEN it has the job's output and exit code, the check passes, and the next plan has no changes",
    async () => {
      writeFileSync(
        join(dir, 'jobs.tf'),
        [
          'resource "docker_container" "job" {',
          '  name     = "job"',
          '  image    = docker_image.web.image_id',
          // stdout and stderr are two pipes, read side by side (as dockerd reads them): lines written
          // at the same moment on both may be kept in either order (a CI run kept stderr's first).
          '  command  = ["sh", "-c", "echo job output; sleep 1; echo to stderr >&2; exit 3"]',
          '  must_run = false',
          '  attach   = true',
          '  logs     = true',
          '}',
          'resource "docker_container" "checked" {',
          '  name     = "checked"',
          '  image    = docker_image.web.image_id',
          '  command  = ["sh", "-c", "while true; do sleep 1; done"]',
          '  hostname = "checked-box"',
          '  memory   = 256',
          // The provider reads NanoCpus back as "2.0": written so, the plan after matches.
          '  cpus     = "2.0"',
          '  healthcheck {',
          '    test     = ["CMD", "true"]',
          '    interval = "2s"',
          '    retries  = 3',
          '  }',
          '  wait         = true',
          '  wait_timeout = 240',
          '}',
          'output "job" {',
          '  value = "${docker_container.job.exit_code}: ${docker_container.job.container_logs}"',
          '}',
          '',
        ].join('\n'),
      );
      try {
        const apply = await terraform(['apply', '-auto-approve', ...vars('keep_image=false', 'restart=always')]);
        expect([apply.code, apply.stderr]).toEqual([0, '']);
        expect(apply.stdout).toContain('Apply complete! Resources: 2 added, 0 changed, 0 destroyed.');
        expect(apply.stdout).toMatch(/job = <<EOT\n3: job output\nto stderr\n\s*EOT/);
        expect(
          await bed().dockerOk(['inspect', '-f', '{{.State.Health.Status}} {{.Config.Hostname}} {{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}', 'checked']),
        ).toBe('healthy checked-box 268435456 2000000000');
        const plan = await terraform(['plan', '-detailed-exitcode', ...vars('keep_image=false', 'restart=always')]);
        expect([plan.code, plan.stderr, plan.code === 0 ? '' : plan.stdout]).toEqual([0, '', '']);
      } finally {
        rmSync(join(dir, 'jobs.tf'));
      }
      const removed = await terraform(['apply', '-auto-approve', ...vars('keep_image=false', 'restart=always')]);
      expect([removed.code, removed.stderr]).toEqual([0, '']);
      expect(removed.stdout).toContain('Apply complete! Resources: 0 added, 0 changed, 2 destroyed.');
      expect(await bed().dockerOk(['ps', '-a', '--filter', 'name=^(job|checked)$', '-q'])).toBe('');
    },
    2 * BOOT_MS,
  );

  test('GIVEN a docker_container asking for what a container VM cannot do WHEN applied THEN the endpoint refuses it by name and makes nothing', async () => {
    writeFileSync(
      join(dir, 'privileged.tf'),
      'resource "docker_container" "root" {\n  name       = "root"\n  image      = docker_image.web.image_id\n  command    = ["true"]\n  privileged = true\n}\n',
    );
    try {
      const apply = await terraform(['apply', '-auto-approve', ...vars('keep_image=false', 'restart=always')]);
      expect(apply.code).toBe(1);
      expect(apply.stderr.replace(/\s+/g, ' ')).toContain(
        'Unable to create container: Error response from daemon: --privileged is not supported by vic-iac: a container VM runs its own kernel',
      );
      expect(await bed().dockerOk(['ps', '-a', '--filter', 'name=^root$', '-q'])).toBe('');
    } finally {
      rmSync(join(dir, 'privileged.tf'));
    }
    const plan = await terraform(['plan', '-detailed-exitcode', ...vars('keep_image=false', 'restart=always')]);
    expect([plan.code, plan.stderr, plan.code === 0 ? '' : plan.stdout]).toEqual([0, '', '']);
  }, 120_000);

  test('GIVEN the applied example WHEN destroyed THEN no container, volume, network or image is left', async () => {
    const destroy = await terraform(['destroy', '-auto-approve', ...vars('keep_image=false', 'restart=always')]);
    expect([destroy.code, destroy.stderr]).toEqual([0, '']);
    expect(destroy.stdout).toContain('Destroy complete! Resources: 5 destroyed.');
    expect(await bed().dockerOk(['ps', '-a', '--format', '{{.Names}}'])).toBe('');
    expect(await bed().dockerOk(['volume', 'ls', '-q'])).toBe('');
    expect(await bed().dockerOk(['network', 'ls', '--filter', 'name=^app$', '-q'])).toBe('');
    expect(await bed().dockerOk(['images', '-q'])).toBe('');
  }, 180_000);
});
