/** The CLI state file: private modes, atomic writes, a lock that refuses a live holder and takes over a dead one. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY_STATE } from '../../src/engine/stack';
import { StateFileError, defaultStatePath, lockState, readState, writeState } from '../../src/cli/state-file';

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
    const state = { version: 1 as const, resources: { 'image.a': { type: 'image' as const, name: 'a', schemaVersion: 1, attrs: { id: 'sha256:00' }, dependsOn: [] } } };
    writeState(path, state);
    expect(readState(path)).toEqual(state);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, '.vic')).mode & 0o777).toBe(0o700);
    expect(readFileSync(path, 'utf8')).toMatch(/^\{\n/);
    expect(existsSync(`${path}.${process.pid}.tmp`)).toBe(false);
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

  it('GIVEN a lock held by a live process WHEN locked again THEN refused with its pid; after release it can be taken', () => {
    const path = join(dir, 'state.json');
    const release = lockState(path);
    expect(() => lockState(path)).toThrow(`state ${path} is locked by vic process ${process.pid}`);
    release();
    lockState(path)();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('GIVEN a lock left by a process that died WHEN locked THEN it is taken over', () => {
    const path = join(dir, 'state.json');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(`${path}.lock`, dead);
    const release = lockState(path);
    expect(readFileSync(`${path}.lock`, 'utf8')).toBe(String(process.pid));
    release();
  });
});
