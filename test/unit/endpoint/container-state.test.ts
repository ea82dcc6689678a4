/** What docker shows of a container VM's state: running, exited, and restarting between two runs of a restart policy. */
import { restarting, statusText } from '../../../src/endpoint/containers';

const NOW = Date.parse('2026-12-07T12:00:10Z');
const vm = (extra: Record<string, unknown>) => ({
  id: 'id',
  name: 'c',
  power_state: 'running',
  status: 'exited',
  exit_code: 1,
  started_at: '2026-12-07T12:00:00Z',
  finished_at: '2026-12-07T12:00:07Z',
  restart: 'on-failure',
  max_restarts: 0,
  restart_count: 2,
  ...extra,
});

describe('restarting', () => {
  it('GIVEN an ended process in a VM that is on WHEN its policy runs it again THEN it is restarting, as dockerd says', () => {
    expect(restarting(vm({}))).toBe(true);
    expect(statusText(vm({}), NOW)).toBe('Restarting (1) 3 seconds ago');
    expect(restarting(vm({ restart: 'always', exit_code: 0 }))).toBe(true);
    expect(restarting(vm({ restart: 'unless-stopped', exit_code: 0 }))).toBe(true);
  });

  it('GIVEN a policy that does not run it again THEN it is not restarting: the guest powers the VM off', () => {
    expect(restarting(vm({ exit_code: 0 }))).toBe(false);
    expect(restarting(vm({ restart: 'no' }))).toBe(false);
    expect(restarting(vm({ max_restarts: 2, restart_count: 2 }))).toBe(false);
    expect(restarting(vm({ max_restarts: 3, restart_count: 2 }))).toBe(true);
  });

  it('GIVEN a process that runs, or a VM that is off THEN it is not restarting', () => {
    expect(restarting(vm({ status: 'running' }))).toBe(false);
    expect(statusText(vm({ status: 'running' }), NOW)).toBe('Up 10 seconds');
    expect(restarting(vm({ power_state: 'stopped' }))).toBe(false);
    expect(statusText(vm({ power_state: 'stopped' }), NOW)).toBe('Exited (1) 3 seconds ago');
  });
});
