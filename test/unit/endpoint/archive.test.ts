/**
 * docker cp's pure parts: the guest's request from an archive call, the exit codes as API errors,
 * and the exec's output cut into the stat line and the tar however its frames split them (the whole
 * path runs with the docker CLI in test/endpoint/1-44-cp.test.ts).
 */
import { ArchiveOutput, archiveFailure, archiveRequest, pathStatHeader } from '../../../src/endpoint/archive';
import type { OutputLine } from '../../../src/resources/console-log';

const line = (stream: OutputLine['stream'], data: string | Buffer): OutputLine => {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
  return { stream, time: '2026-12-05T00:00:00Z', data: bytes, text: bytes.toString() };
};

describe('archiveRequest', () => {
  test('HEAD is a stat, GET a get, PUT a put with its flags as the CLI sends them', () => {
    expect(archiveRequest('HEAD', new URLSearchParams('path=/etc/'))).toEqual({ op: 'stat', path: '/etc/' });
    expect(archiveRequest('GET', new URLSearchParams('path=a%20b'))).toEqual({ op: 'get', path: 'a b' });
    expect(archiveRequest('PUT', new URLSearchParams('path=/tmp&noOverwriteDirNonDir=true&copyUIDGID=1'))).toEqual({
      op: 'put',
      path: '/tmp',
      no_overwrite_dir_non_dir: true,
      copy_uid_gid: true,
    });
    expect(archiveRequest('PUT', new URLSearchParams('path=/tmp&noOverwriteDirNonDir=false'))).toEqual({ op: 'put', path: '/tmp' });
  });

  test('no path is a 400 saying what to give', () => {
    expect(() => archiveRequest('GET', new URLSearchParams(''))).toThrow(
      expect.objectContaining({ status: 400, message: expect.stringContaining('give ?path=') }),
    );
  });
});

describe('archiveFailure', () => {
  test.each([
    [2, '', 404, 'Could not find the file /x in container web-1'],
    [3, 'extraction point is not a directory: /x\n', 400, 'extraction point is not a directory: /x'],
    [137, '', 409, 'container web-1 stopped during docker cp of /x'],
    [1, 'archiving /x: permission denied', 500, 'docker cp of web-1:/x failed in the container VM (exit 1): archiving /x: permission denied'],
  ])('exit %d', (code, stderr, status, message) => {
    expect(archiveFailure(code, stderr, '/x', 'web-1')).toEqual(expect.objectContaining({ status, message }));
  });
});

describe('ArchiveOutput', () => {
  test("get: the stat line, however the frames cut it, then the tar's bytes in order; stderr apart", () => {
    const heads: string[] = [];
    const body: Buffer[] = [];
    const out = new ArchiveOutput({ head: (s) => heads.push(s), body: (b) => body.push(b) });
    out.write([line('stdout', '{"name":"a",'), line('stderr', 'noise\n')]);
    expect(heads).toEqual([]);
    out.write([line('stdout', '"size":1}\nTAR'), line('stdout', Buffer.from([0, 1, 10, 2]))]);
    expect(heads).toEqual(['{"name":"a","size":1}']);
    expect(Buffer.concat(body)).toEqual(Buffer.concat([Buffer.from('TAR'), Buffer.from([0, 1, 10, 2])]));
    expect(out.stderr).toBe('noise\n');
    expect(out.statJson()).toBe('{"name":"a","size":1}');
  });

  test('stat: the whole stdout is the JSON; the header is its base64', () => {
    const out = new ArchiveOutput({});
    out.write([line('stdout', '{"name":'), line('stdout', '"hostname"}')]);
    expect(out.statJson()).toBe('{"name":"hostname"}');
    expect(Buffer.from(pathStatHeader(out.statJson() ?? ''), 'base64').toString()).toBe('{"name":"hostname"}');
  });
});
