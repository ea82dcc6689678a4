/** `vic ls`: a container VM's POWER and PROCESS columns from its attributes, the same with -f and with --all. */
import { processOf, vmPowerOf } from '../../../src/cli/inventory';

describe('vic ls: power and process of a container VM', () => {
  it.each([
    ['running, its process up', { power_state: 'running', must_run: true, status: 'running' }, 'poweredOn', 'running'],
    ['stopped', { power_state: 'stopped', must_run: true, status: 'exited', exit_code: 0 }, 'poweredOff', 'exited (0)'],
    // A user's report: after a memory change the VM was on, its guest waiting for a slot, and -f said poweredOff.
    [
      'powered on again, its guest queued, the last run exited',
      { power_state: 'running', must_run: true, status: 'exited', exit_code: 137, guest_queued: true },
      'poweredOn',
      'queued (the guest waits for a free slot)',
    ],
    [
      'a run-once job that ended (must_run false): asked running, VM off',
      { power_state: 'running', must_run: false, status: 'exited', exit_code: 0 },
      'poweredOff',
      'exited (0)',
    ],
    [
      'a run-once job queued again',
      { power_state: 'running', must_run: false, status: 'exited', exit_code: 0, guest_queued: true },
      'poweredOn',
      'queued (the guest waits for a free slot)',
    ],
    [
      'a must_run container whose process exited while its VM is on',
      { power_state: 'running', must_run: true, status: 'exited', exit_code: 1 },
      'poweredOn',
      'exited (1)',
    ],
  ])('GIVEN a container VM %s THEN POWER %s and PROCESS %s', (_what, attrs, power, process) => {
    expect(vmPowerOf(attrs)).toBe(power);
    expect(processOf(attrs)).toBe(process);
  });
});
