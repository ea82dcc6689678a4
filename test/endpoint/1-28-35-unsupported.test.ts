/**
 * VIC Group1 1-28 secret, 1-29 checkpoint, 1-30 deploy, 1-31 node, 1-32 plugin, 1-33 service,
 * 1-34 stack and 1-35 swarm: commands of swarm, plugins and experimental features, which VIC refused
 * each with a sentence of its own. vic-iac does not support them either (docs/endpoint.md, "Not
 * supported"): each exits 1 with a refusal that says so and what to use instead, and leaves nothing
 * behind (no container, image, volume or network). The endpoint answers as a dockerd outside a swarm
 * and without experimental features (`docker info`, `docker version`), so the CLI refuses some of
 * them itself, as it would against such a dockerd: checkpoints and `stack deploy`. `docker deploy`
 * is no command of the docker CLI any more; its successor `docker stack deploy` is what is run here.
 * No guest boots in this file.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useDockerBed, type DockerBed } from './docker-env';

const SWARM_REFUSED = 'Error response from daemon: swarm is not supported by vic-iac: a VCH is one Docker host; use Terraform or Pulumi to run many';
const PLUGIN_REFUSED = 'Error response from daemon: docker plugin is not supported by vic-iac: there is nothing to install, as vSphere is the runtime';

/** What the VCH holds, as the docker CLI lists it: a refused command must leave all of it as it was. */
async function holdings(bed: DockerBed): Promise<Record<string, string>> {
  return {
    containers: await bed.dockerOk(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.Status}}']),
    images: await bed.dockerOk(['images', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}']),
    volumes: await bed.dockerOk(['volume', 'ls', '-q']),
    networks: await bed.dockerOk(['network', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Name}}']),
  };
}

describe('1-28 to 1-35: swarm, plugin and experimental commands', () => {
  const bed = useDockerBed({ pull: true, vchName: 'vch-swarmish' });
  let scratch = '';
  let before: Record<string, string> = {};

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'vic-swarmish-'));
    await writeFile(join(scratch, 'secret.file'), 'test\n');
    await writeFile(join(scratch, 'stack.yml'), `services:\n  web:\n    image: ${bed().image}\n    command: ["sleep", "600"]\n`);
    await mkdir(join(scratch, 'plugin', 'rootfs'), { recursive: true });
    await writeFile(join(scratch, 'plugin', 'config.json'), '{}\n');
    // One container, made and never started, for the checkpoint commands to name (VIC's test-busybox).
    await bed().dockerOk(['create', '--name', 'test-busybox', bed().image, 'sleep', '600']);
    before = await holdings(bed());
  }, 120_000);

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /**
   * Runs a command (words split on spaces; SECRET_FILE, PLUGIN_DIR and BED_IMAGE stand for the
   * scratch files and the bed's image) that must be refused: exit 1, `says` on stderr, and nothing
   * made on stdout (inspect prints an empty list before its error, as against dockerd).
   */
  async function refused(command: string, says: string): Promise<void> {
    const stands: Record<string, string> = { SECRET_FILE: join(scratch, 'secret.file'), PLUGIN_DIR: join(scratch, 'plugin'), BED_IMAGE: bed().image };
    const args = command.split(' ').map((word) => stands[word] ?? word);
    const r = await bed().docker(args);
    expect({ args, code: r.code }).toEqual({ args, code: 1 });
    expect(r.stderr).toContain(says);
    expect(['', '[]']).toContain(r.stdout.trim());
  }

  test('GIVEN the endpoint WHEN docker info and docker version run THEN they say what a dockerd outside a swarm, without experimental features, says', async () => {
    expect(await bed().dockerOk(['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.NodeID}}'])).toBe('inactive false');
    expect(await bed().dockerOk(['version', '--format', '{{.Server.Experimental}}'])).toBe('false');
  });

  describe('1-28 docker secret', () => {
    test.each(['secret ls', 'secret create mysecret SECRET_FILE', 'secret inspect my_secret', 'secret rm my_secret'])(
      'GIVEN no swarm WHEN docker %s runs THEN it exits 1 saying swarm is not supported by vic-iac',
      async (command) => {
        await refused(command, SWARM_REFUSED);
      },
    );
  });

  describe('1-29 docker checkpoint', () => {
    test.each(['checkpoint create test-busybox new-checkpoint', 'checkpoint ls test-busybox', 'checkpoint rm test-busybox new-checkpoint'])(
      'GIVEN a container WHEN docker %s runs THEN the CLI refuses it, the endpoint having no experimental features',
      async (command) => {
        await refused(command, `docker ${command.split(' ').slice(0, 2).join(' ')} is only supported on a Docker daemon with experimental features enabled`);
      },
    );

    test('GIVEN a client that sends a checkpoint request all the same WHEN the endpoint gets it THEN it answers 501, not supported by vic-iac, and the container is as it was', async () => {
      const id = await bed().dockerOk(['inspect', '--format', '{{.Id}}', 'test-busybox']);
      const r = await bed().call('POST', `/containers/${id}/checkpoints`, { CheckpointID: 'new-checkpoint' });
      expect(r.status).toBe(501);
      expect((JSON.parse(r.body) as { message: string }).message).toContain(
        'docker checkpoint is not supported by vic-iac: stop the container and start it again',
      );
      expect(await bed().dockerOk(['inspect', '--format', '{{.State.Status}}', 'test-busybox'])).toBe('created');
    });
  });

  describe('1-30 docker deploy, 1-34 docker stack', () => {
    test('GIVEN a stack file WHEN docker stack deploy runs THEN the CLI refuses it as this node is not a swarm manager, and no container or network is made', async () => {
      const r = await bed().docker(['stack', 'deploy', '--compose-file', join(scratch, 'stack.yml'), 'vicstack']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('this node is not a swarm manager');
      expect(await holdings(bed())).toEqual(before);
    });

    test.each(['stack ls', 'stack ps test-stack', 'stack rm test-stack', 'stack services test-stack'])(
      'GIVEN no swarm WHEN docker %s runs THEN it exits 1 saying swarm is not supported by vic-iac',
      async (command) => {
        await refused(command, SWARM_REFUSED);
      },
    );
  });

  describe('1-31 docker node', () => {
    test.each(['node demote self', 'node ls', 'node promote self', 'node rm self', 'node update self', 'node ps', 'node inspect self'])(
      'GIVEN no swarm WHEN docker %s runs THEN it exits 1 saying swarm is not supported by vic-iac',
      async (command) => {
        await refused(command, SWARM_REFUSED);
      },
    );
  });

  describe('1-32 docker plugin', () => {
    test.each([
      'plugin install vieux/sshfs',
      'plugin create test-plugin PLUGIN_DIR',
      'plugin enable test-plugin',
      'plugin disable test-plugin',
      'plugin inspect test-plugin',
      'plugin ls',
      'plugin push test-plugin',
      'plugin rm test-plugin',
      'plugin set test-plugin DEBUG=1',
    ])('GIVEN a VCH WHEN docker %s runs THEN it exits 1 saying docker plugin is not supported by vic-iac', async (command) => {
      await refused(command, PLUGIN_REFUSED);
    });
  });

  describe('1-33 docker service', () => {
    test.each([
      'service create test-service',
      'service create --name web BED_IMAGE sleep 600',
      'service ls',
      'service ps test-service',
      'service rm test-service',
      'service scale test-service=3',
      'service update test-service',
      'service logs test',
    ])('GIVEN no swarm WHEN docker %s runs THEN it exits 1 saying swarm is not supported by vic-iac', async (command) => {
      await refused(command, SWARM_REFUSED);
    });
  });

  describe('1-35 docker swarm', () => {
    test.each([
      'swarm init',
      'swarm join 127.0.0.1:2375',
      'swarm join-token worker',
      'swarm join-token manager',
      'swarm leave',
      'swarm unlock-key',
      'swarm update --autolock',
    ])('GIVEN no swarm WHEN docker %s runs THEN it exits 1 saying swarm is not supported by vic-iac', async (command) => {
      await refused(command, SWARM_REFUSED);
    });

    test('GIVEN swarm init was refused THEN docker info still says the endpoint is in no swarm', async () => {
      expect(await bed().dockerOk(['info', '--format', '{{.Swarm.LocalNodeState}}'])).toBe('inactive');
    });
  });

  describe('afterwards', () => {
    test('GIVEN every refusal above WHEN the VCH is listed again THEN its containers, images, volumes and networks are what they were', async () => {
      expect(await holdings(bed())).toEqual(before);
    });
  });
});
