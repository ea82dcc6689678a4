import { ApiError } from '../../../src/endpoint/protocol';
import { signalNumber } from '../../../src/endpoint/signals';

describe('signalNumber', () => {
  test.each([
    ['TERM', 15],
    ['SIGTERM', 15],
    ['sigusr1', 10],
    ['USR2', 12],
    ['KILL', 9],
    ['9', 9],
    ['64', 64],
    ['RTMIN', 34],
    ['RTMIN+3', 37],
    ['RTMAX', 64],
    ['RTMAX-2', 62],
  ])('%s is %i', (text, n) => expect(signalNumber(text)).toBe(n));

  test.each(['NOPE', '0', '65', 'RTMIN+31', '', '-1'])('%j is a 400 that says what is allowed', (text) => {
    let err: unknown;
    try {
      signalNumber(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(400);
    expect((err as ApiError).message).toMatch(/^Invalid signal: .*use a name \(TERM, SIGUSR1, RTMIN\+1\) or a number from 1 to 64$/);
  });
});
