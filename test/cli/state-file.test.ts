/** The CLI state file: private modes, atomic writes, a lock that refuses (or waits for) a live holder and takes over a dead one exactly once. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY_STATE } from '../../src/engine/stack';
import { StateFileError, defaultStatePath, lockState, ownedBy, readState, stateOwnerConflict, writeState } from '../../src/cli/state-file';

describe('state file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vic-state-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('GIVEN a spec path WHEN the default state is asked for THEN it is .vic/state.json beside the spec', () => {
    expect(defaultStatePath('/srv/app/spec.yaml')).toBe('/srv/app/.vic/state.json');
  });

  it('GIVEN no state file WHEN read THEN the empty state', () => {
    expect(readState(join(dir, 'none.json'))).toEqual(EMPTY_STATE);
  });

  it('GIVEN a state WHEN written THEN it reads back, with mode 0600 in a 0700 directory and no temp file left', () => {
    const path = join(dir, '.vic', 'state.json');
    const state = {
      version: 1 as const,
      resources: { 'image.a': { type: 'image' as const, name: 'a', schemaVersion: 1, attrs: { id: 'sha256:00' }, dependsOn: [] } },
    };
    writeState(path, state);
    expect(readState(path)).toEqual(state);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, '.vic')).mode & 0o777).toBe(0o700);
    expect(readFileSync(path, 'utf8')).toMatch(/^\{\n/);
    expect(readdirSync(join(dir, '.vic'))).toEqual(['state.json']);
  });

  describe('whose state it is: two specs in one folder share the default state file', () => {
    const entry = (type: 'image' | 'virtual_container_host', name: string) => ({ type, name, schemaVersion: 1, attrs: { id: name }, dependsOn: [] });
    const devState = {
      version: 1 as const,
      resources: { 'virtual_container_host.dev': entry('virtual_container_host', 'dev'), 'image.app': entry('image', 'app') },
    };

    it('GIVEN a state written for dev.yaml THEN it names dev.yaml from its own folder, and reads back so', () => {
      const path = defaultStatePath(join(dir, 'dev.yaml'));
      writeState(path, ownedBy(devState, path, join(dir, 'dev.yaml')));
      expect(readState(path)).toEqual({ ...devState, spec: '../dev.yaml' });
      expect(stateOwnerConflict(path, readState(path), join(dir, 'dev.yaml'), ['virtual_container_host.dev'], 'apply')).toBeUndefined();
    });

    it('GIVEN dev.yaml wrote the state WHEN prod.yaml would plan against it THEN refused: whose it is, what it holds, that nothing changed, and both ways out', () => {
      const path = defaultStatePath(join(dir, 'dev.yaml'));
      const state = ownedBy(devState, path, join(dir, 'dev.yaml'));
      const message = stateOwnerConflict(path, state, join(dir, 'prod.yaml'), ['virtual_container_host.prod'], 'apply');
      expect(message).toContain(
        `the state file ${path} belongs to the spec dev.yaml (${join(dir, 'dev.yaml')}), which wrote it: image.app, virtual_container_host.dev.`,
      );
      expect(message).toContain('prod.yaml would destroy them all, so vic apply stopped before reading vSphere; nothing was changed');
      expect(message).toContain(`--state ${join(dir, '.vic', 'prod.state.json')}`);
      expect(message).toContain(`name the state file: vic apply -f ${join(dir, 'prod.yaml')} --state ${path}`);
      // Even when prod.yaml declares the same addresses: the state is dev's.
      expect(stateOwnerConflict(path, state, join(dir, 'prod.yaml'), Object.keys(devState.resources), 'apply')).toBeDefined();
    });

    it('GIVEN the folder moved elsewhere with its spec and state THEN the state still belongs to its spec', () => {
      const path = join(dir, 'moved', '.vic', 'state.json');
      const state = { ...devState, spec: '../dev.yaml' };
      expect(stateOwnerConflict(path, state, join(dir, 'moved', 'dev.yaml'), undefined, 'plan')).toBeUndefined();
    });

    it('GIVEN a state from before owners were recorded THEN refused only when the spec declares none of what it holds', () => {
      const path = join(dir, '.vic', 'state.json');
      expect(stateOwnerConflict(path, devState, join(dir, 'prod.yaml'), ['virtual_container_host.prod'], 'plan')).toContain(
        'holds only resources that prod.yaml does not declare',
      );
      expect(stateOwnerConflict(path, devState, join(dir, 'dev.yaml'), ['virtual_container_host.dev'], 'plan')).toBeUndefined();
      // A spec that cannot be read (a destroy of a broken spec) is not second-guessed.
      expect(stateOwnerConflict(path, devState, join(dir, 'prod.yaml'), undefined, 'destroy')).toBeUndefined();
    });

    it('GIVEN an empty state THEN any spec may take it', () => {
      const path = join(dir, '.vic', 'state.json');
      expect(stateOwnerConflict(path, { version: 1, resources: {}, spec: '../dev.yaml' }, join(dir, 'prod.yaml'), [], 'apply')).toBeUndefined();
    });
  });

  it.each([
    ['not JSON', '{', /is not valid JSON/],
    ['another format', '{"version":2,"resources":{}}', /has an unknown format \(version 2\); this vic reads version 1/],
  ])('GIVEN a state file that is %s WHEN read THEN a StateFileError says what to do', (_what, content, message) => {
    const path = join(dir, 'state.json');
    writeFileSync(path, content);
    expect(() => readState(path)).toThrow(StateFileError);
    expect(() => readState(path)).toThrow(message);
  });

  it('GIVEN a lock held by a live process WHEN locked again THEN refused with its pid and command; after release it can be taken', async () => {
    const path = join(dir, 'state.json');
    const release = await lockState(path, { command: 'vic apply' });
    await expect(lockState(path)).rejects.toThrow(StateFileError);
    await expect(lockState(path)).rejects.toThrow(`state ${path} is locked by vic process ${process.pid} (vic apply, since `);
    await expect(lockState(path)).rejects.toThrow('pass --lock-timeout to wait for it');
    release();
    (await lockState(path))();
    expect(existsSync(`${path}.lock`)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('GIVEN a held lock WHEN another run waits with a timeout THEN it gets the lock once the holder releases it', async () => {
    const path = join(dir, 'state.json');
    const release = await lockState(path);
    setTimeout(release, 300);
    const started = Date.now();
    const second = await lockState(path, { timeoutMs: 10_000, pollMs: 20 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    second();
  });

  it('GIVEN a held lock WHEN another run waits past its timeout THEN it fails saying how long it waited', async () => {
    const path = join(dir, 'state.json');
    const release = await lockState(path);
    await expect(lockState(path, { timeoutMs: 1200, pollMs: 50 })).rejects.toThrow(
      /is locked by vic process \d+ after waiting 1 s; wait for it to finish\. Remove/,
    );
    release();
  });

  it.each([
    ['its pid alone (an older vic)', (pid: string) => pid],
    ['a full record', (pid: string) => JSON.stringify({ pid: Number(pid), host: hostname(), nonce: 'dead1234' })],
  ])('GIVEN a lock holding %s of a process that died WHEN locked THEN it is taken over', async (_what, content) => {
    const path = join(dir, 'state.json');
    writeFileSync(`${path}.lock`, content(deadPid()));
    const release = await lockState(path);
    expect(JSON.parse(readFileSync(`${path}.lock`, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('GIVEN a stale lock WHEN eight processes race to take it, five times over THEN exactly one holds it at a time', async () => {
    const path = join(dir, 'state.json');
    const log = join(dir, 'holders.log');
    const rounds = 5;
    // Each child waits at a barrier (the file go-<round>), so all eight find the stale lock at once,
    // takes the lock, records enter/leave around a short hold, and releases it.
    const child = `
      const { appendFileSync, existsSync } = require('node:fs');
      const { lockState } = require(${JSON.stringify(join(__dirname, '../../src/cli/state-file.ts'))});
      (async () => {
        for (let round = 1; round <= ${rounds}; round++) {
          while (!existsSync(${JSON.stringify(dir)} + '/go-' + round)) await new Promise((r) => setImmediate(r));
          const release = await lockState(${JSON.stringify(path)}, { timeoutMs: 20000, pollMs: 2 });
          appendFileSync(${JSON.stringify(log)}, 'enter ' + process.pid + '\\n');
          await new Promise((r) => setTimeout(r, 5));
          appendFileSync(${JSON.stringify(log)}, 'leave ' + process.pid + '\\n');
          release();
        }
      })().catch((err) => { console.error(err.message); process.exitCode = 1; });`;
    const tsx = join(__dirname, '../../node_modules/tsx/dist/cjs/index.cjs');
    const runs = Array.from({ length: 8 }, () => spawnAsync(process.execPath, ['--require', tsx, '-e', child]));
    for (let round = 1; round <= rounds; round++) {
      writeFileSync(`${path}.lock`, deadPid());
      // give every child time to load and reach the barrier before the first round
      if (round === 1) await new Promise((r) => setTimeout(r, 4000));
      writeFileSync(join(dir, `go-${round}`), '');
      const until = Date.now() + 20_000;
      while ((existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').length : 0) < 16 * round && Date.now() < until)
        await new Promise((r) => setTimeout(r, 20));
    }
    expect(await Promise.all(runs)).toEqual(Array(8).fill(0));
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(16 * rounds);
    for (let i = 0; i < lines.length; i += 2) {
      // enter and leave of one holder are adjacent: nobody entered while another held the lock
      expect([lines[i].split(' ')[0], lines[i + 1].split(' ')[0], lines[i + 1].split(' ')[1]]).toEqual(['enter', 'leave', lines[i].split(' ')[1]]);
    }
    expect(existsSync(`${path}.lock`)).toBe(false);
  }, 90_000);

  it("GIVEN temp files of a writer that died WHEN the lock is taken THEN they are removed, and a live writer's are kept", async () => {
    const path = join(dir, 'state.json');
    const dead = `${path}.${deadPid()}.0a1b2c.tmp`;
    const live = `${path}.${process.pid}.0a1b2c.tmp`;
    writeFileSync(dead, '{');
    writeFileSync(live, '{');
    (await lockState(path))();
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});

function deadPid(): string {
  return spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
}

function spawnAsync(command: string, args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('close', resolve);
  });
}
