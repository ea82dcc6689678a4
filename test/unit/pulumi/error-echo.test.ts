/**
 * Which stderr lines of Pulumi's dynamic-provider server are echoes of our own errors, left out
 * because Pulumi shows their message already (the whole path: test/pulumi/preview-errors.test.ts).
 */
import { isEchoOfOurError } from '../../../pulumi-component/provider-host';

/** What the server prints for an error: `${e}: ${e.stack}`. */
const echo = (e: Error) => `${String(e)}: ${e.stack ?? ''}`;

class ResourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResourceError';
  }
}

describe('isEchoOfOurError', () => {
  it('takes the echo of a "vic: …" error, one line or several, and of a named error of the engine', () => {
    expect(isEchoOfOurError(echo(new Error('vic: cannot plan image "x":\nreference: not found')))).toBe(true);
    expect(isEchoOfOurError(echo(new Error('vic: cannot connect to vSphere at https://h/sdk as u: refused')))).toBe(true);
    expect(isEchoOfOurError(echo(new ResourceError('container VM "web-1" no longer exists')))).toBe(true);
  });

  it("leaves a bug's echo (a JavaScript error, an unnamed Error) and anything else printed", () => {
    expect(isEchoOfOurError(echo(new TypeError("Cannot read properties of undefined (reading 'x')")))).toBe(false);
    expect(isEchoOfOurError(echo(new Error('something broke')))).toBe(false);
    expect(isEchoOfOurError('warning: vic: kept the image for its replacement')).toBe(false);
    expect(isEchoOfOurError(`Error: vic: a: Error: vic: b\n    at x (y.js:1:1)`)).toBe(false);
  });
});
