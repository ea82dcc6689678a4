/** Health checks as a create sends them, and what ps shows of them (health.ts). */
import { healthSuffix, parseHealthcheck, probeArgv } from '../../../src/endpoint/health';

describe('parseHealthcheck', () => {
  it('GIVEN no check, or NONE (--no-healthcheck) THEN there is none', () => {
    for (const value of [undefined, null, {}, { Test: [] }, { Test: ['NONE'] }]) expect(parseHealthcheck(value)).toBeUndefined();
  });

  it('GIVEN CMD or CMD-SHELL with durations THEN they are kept, a zero duration or retry count meaning the default', () => {
    expect(parseHealthcheck({ Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 1e9, Timeout: 0, StartPeriod: 5e9, Retries: 0 })).toEqual({
      Test: ['CMD-SHELL', 'curl -f localhost'],
      Interval: 1e9,
      StartPeriod: 5e9,
    });
    expect(parseHealthcheck({ Test: ['CMD', 'true'], Retries: 5 })).toEqual({ Test: ['CMD', 'true'], Retries: 5 });
  });

  it.each([
    [{ Test: ['RUN', 'x'] }, /--health-cmd: the health check's test \["RUN","x"\] is not one of/],
    [{ Test: ['CMD'] }, /--health-cmd/],
    [{ Test: ['CMD', 'true'], Interval: 500 }, /--health-interval 500ns: give a duration of at least 1ms/],
    [{ Test: ['CMD', 'true'], Timeout: -1 }, /--health-timeout -1ns/],
    [{ Test: ['CMD', 'true'], Retries: 1.5 }, /--health-retries 1.5: give a whole number/],
  ])('GIVEN %j THEN it is refused naming the flag', (value, message) => {
    expect(() => parseHealthcheck(value)).toThrow(message);
  });

  it('GIVEN a test THEN CMD runs as given and CMD-SHELL through /bin/sh -c; ps words each status as dockerd', () => {
    expect(probeArgv(['CMD', 'pg_isready', '-U', 'app'])).toEqual(['pg_isready', '-U', 'app']);
    expect(probeArgv(['CMD-SHELL', 'test -f /ready'])).toEqual(['/bin/sh', '-c', 'test -f /ready']);
    expect(healthSuffix(undefined)).toBe('');
    expect(healthSuffix({ Status: 'starting', FailingStreak: 0, Log: [] })).toBe(' (health: starting)');
    expect(healthSuffix({ Status: 'unhealthy', FailingStreak: 3, Log: [] })).toBe(' (unhealthy)');
  });
});
