/** docker commit's --change, applied to a config as dockerd applies Dockerfile instructions (src/endpoint/commit-changes.ts). */
import { applyChanges, commitBase, type CommitConfig } from '../../../src/endpoint/commit-changes';
import { ApiError } from '../../../src/endpoint/protocol';

const base: CommitConfig = {
  entrypoint: [],
  cmd: ['sh', '-c', 'tail -f /dev/null'],
  env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'],
  working_dir: '/srv',
  user: '',
  exposed_ports: ['80/tcp'],
  labels: { team: 'a' },
};

/** The 400 a change is refused with: its message. */
function refusal(changes: string[]): string {
  try {
    applyChanges(base, changes);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(400);
    return (err as Error).message;
  }
  throw new Error(`${JSON.stringify(changes)} was not refused`);
}

describe('docker commit --change', () => {
  it('GIVEN no change THEN the config is the container’s, as a copy', () => {
    const out = applyChanges(base, []);
    expect(out).toEqual(base);
    expect(out.env).not.toBe(base.env);
  });

  it('GIVEN ENV in its old form and in key=value form THEN each variable is set or replaced, quotes and $VAR as in a Dockerfile', () => {
    const out = applyChanges(base, ['ENV TEST commitEnvTest', 'ENV HOME=/home/app A="x y" B=\'$HOME\' C=$HOME/bin D=${MISSING:-dflt} E=${HOME:+set}']);
    expect(out.env).toEqual([
      'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
      'TEST=commitEnvTest',
      'HOME=/home/app',
      'A=x y',
      'B=$HOME',
      'C=/root/bin',
      'D=dflt',
      'E=set',
    ]);
  });

  it('GIVEN CMD and ENTRYPOINT in exec and shell form THEN exec form is kept as given and shell form runs through /bin/sh -c', () => {
    expect(applyChanges(base, ['CMD ["echo", "a b"]']).cmd).toEqual(['echo', 'a b']);
    expect(applyChanges(base, ['cmd echo "hi there" && ls']).cmd).toEqual(['/bin/sh', '-c', 'echo "hi there" && ls']);
    // ENTRYPOINT without a CMD among the changes drops the command, as in a Dockerfile; after one it keeps it.
    expect(applyChanges(base, ['ENTRYPOINT ["/bin/app"]'])).toMatchObject({ entrypoint: ['/bin/app'], cmd: [] });
    expect(applyChanges(base, ['CMD ["--help"]', 'ENTRYPOINT /bin/app'])).toMatchObject({ entrypoint: ['/bin/sh', '-c', '/bin/app'], cmd: ['--help'] });
  });

  it('GIVEN LABEL, EXPOSE, USER, WORKDIR, VOLUME and STOPSIGNAL THEN each sets its field, WORKDIR relative to the one before', () => {
    const out = applyChanges(base, [
      'LABEL version=2 "the owner"="ops team"',
      'EXPOSE 443 53/udp 8000-8002',
      'USER app:app',
      'WORKDIR data',
      'VOLUME ["/data", "/logs"]',
      'VOLUME /cache',
      'STOPSIGNAL SIGINT',
    ]);
    expect(out.labels).toEqual({ team: 'a', version: '2', 'the owner': 'ops team' });
    expect(out.exposed_ports).toEqual(['443/tcp', '53/udp', '80/tcp', '8000/tcp', '8001/tcp', '8002/tcp']);
    expect([out.user, out.working_dir, out.volumes, out.stop_signal]).toEqual(['app:app', '/srv/data', ['/data', '/logs', '/cache'], 'SIGINT']);
  });

  it('GIVEN HEALTHCHECK with options, in shell and exec form, and NONE THEN the config has the check in nanoseconds, or NONE', () => {
    expect(applyChanges(base, ['HEALTHCHECK --interval=5s --timeout=1m30s --retries=2 CMD wget -q -O- localhost']).healthcheck).toEqual({
      Test: ['CMD-SHELL', 'wget -q -O- localhost'],
      Interval: 5e9,
      Timeout: 90e9,
      Retries: 2,
    });
    expect(applyChanges(base, ['HEALTHCHECK CMD ["true"]']).healthcheck).toEqual({ Test: ['CMD', 'true'] });
    expect(applyChanges(base, ['HEALTHCHECK NONE']).healthcheck).toEqual({ Test: ['NONE'] });
  });

  it('GIVEN several instructions in one change, a line each, with a continued line and a comment THEN each is applied', () => {
    expect(applyChanges(base, ['# set up\nENV A=1\nENV B=\\\n2']).env.slice(-2)).toEqual(['A=1', 'B=2']);
  });

  it("GIVEN RUN, COPY or FROM THEN dockerd's refusal names the instruction, lower-cased, and what is taken", () => {
    expect(refusal(['RUN apt-get install nginx'])).toBe(
      'run is not a valid change command (docker commit --change takes CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)',
    );
    expect(refusal(['ENV A=1', 'COPY . /app'])).toMatch(/^copy is not a valid change command/);
    expect(refusal(['ONBUILD RUN make'])).toMatch(/ONBUILD triggers/);
  });

  it('GIVEN an instruction without what it needs, or a bad value THEN the 400 names the change and what to write', () => {
    expect(refusal(['ENV TEST'])).toBe('--change "ENV TEST": ENV TEST has no value: write ENV TEST=value');
    expect(refusal(['EXPOSE 70000'])).toMatch(/"70000" is not a port/);
    expect(refusal(['STOPSIGNAL SIGNOPE'])).toMatch(/Invalid signal: SIGNOPE/);
    expect(refusal(['HEALTHCHECK --interval=5 CMD true'])).toMatch(/--interval=5 is not a duration/);
    expect(refusal(['HEALTHCHECK --every=5s CMD true'])).toMatch(/no option --every/);
    expect(refusal(['HEALTHCHECK NONE --retries=1'])).toMatch(/NONE takes no options/);
    expect(refusal(['WORKDIR'])).toMatch(/WORKDIR needs a path/);
  });
});

describe('what a commit starts from', () => {
  const inspected = {
    Cmd: ['sh'],
    Entrypoint: null,
    Env: ['A=1'],
    WorkingDir: '/w',
    User: 'u',
    Labels: { mine: 'yes', 'vic-iac.docker.origin': 'docker', 'vic-iac.docker.image': 'busybox' },
    Volumes: { '/data': {} },
    StopSignal: 'SIGINT',
  };

  it("GIVEN a container's inspected config THEN the commit's base keeps its fields, the image's ports, and none of vic-iac's own labels", () => {
    expect(commitBase(inspected, ['80/tcp'])).toEqual({
      entrypoint: [],
      cmd: ['sh'],
      env: ['A=1'],
      working_dir: '/w',
      user: 'u',
      exposed_ports: ['80/tcp'],
      labels: { mine: 'yes' },
      volumes: ['/data'],
      stop_signal: 'SIGINT',
    });
  });

  it("GIVEN an API client's Config in the body THEN what it sets is taken over the container's", () => {
    expect(commitBase(inspected, [], { Cmd: ['run'], User: null, ExposedPorts: { '9/udp': {} } })).toMatchObject({
      cmd: ['run'],
      user: 'u',
      exposed_ports: ['9/udp'],
    });
  });

  it("GIVEN a container that exposes ports of its own (--expose) THEN the image has them with the image's", () => {
    expect(commitBase({ ...inspected, ExposedPorts: { '9000/tcp': {}, '80/tcp': {} } }, ['80/tcp']).exposed_ports).toEqual(['80/tcp', '9000/tcp']);
  });
});
