/**
 * The attach's input on its own: batches in order, the end of input only where it closes the
 * process's stdin, and the detach keys of a terminal. The client's connection is a PassThrough
 * stream and the engine's input a recording function: the pure flow between them is what is tested
 * (the whole path runs with the docker CLI in test/endpoint/tty.test.ts and 1-38-exec.test.ts).
 */
import { PassThrough } from 'node:stream';
import { AttachedInput, DEFAULT_DETACH_KEYS, parseDetachKeys } from '../../../src/endpoint/input';

const settle = () => new Promise((r) => setTimeout(r, 20));

function attached(o: { closeOnEnd?: boolean; detach?: boolean; ready?: Promise<boolean> } = {}) {
  const socket = new PassThrough();
  const sent: { data: string; eof: boolean }[] = [];
  let detached = 0;
  new AttachedInput({
    socket,
    ready: o.ready ?? Promise.resolve(true),
    closeOnEnd: o.closeOnEnd ?? true,
    send: async (data, eof) => {
      sent.push({ data: data.toString('latin1'), eof });
    },
    refused: () => undefined,
    detach: o.detach ? { keys: DEFAULT_DETACH_KEYS, detached: () => detached++ } : undefined,
  });
  return { socket, sent, detachedCount: () => detached };
}

describe('AttachedInput', () => {
  test('GIVEN input before the process runs THEN it waits, then goes in order; the end goes last, once', async () => {
    let run!: (ok: boolean) => void;
    const a = attached({ ready: new Promise<boolean>((r) => (run = r)) });
    a.socket.write('one ');
    a.socket.write('two');
    a.socket.end();
    await settle();
    expect(a.sent).toEqual([]);
    run(true);
    await settle();
    expect(a.sent.map((s) => s.data).join('')).toBe('one two');
    expect(a.sent.filter((s) => s.eof)).toHaveLength(1);
    expect(a.sent[a.sent.length - 1].eof).toBe(true);
  });

  test('GIVEN a container not made to close its stdin at the end THEN the end of the client input is not sent', async () => {
    const a = attached({ closeOnEnd: false });
    a.socket.end('last');
    await settle();
    expect(a.sent).toEqual([{ data: 'last', eof: false }]);
  });

  test('GIVEN a process that never runs THEN nothing is sent', async () => {
    const a = attached({ ready: Promise.resolve(false) });
    a.socket.end('lost');
    await settle();
    expect(a.sent).toEqual([]);
  });

  test('GIVEN a terminal WHEN Ctrl-P Ctrl-Q comes, split across writes THEN what came before goes on, nothing after, and the client is detached once', async () => {
    const a = attached({ detach: true, closeOnEnd: false });
    a.socket.write('ls\r\x10');
    await settle();
    a.socket.write('\x11after');
    a.socket.write('more');
    await settle();
    expect(a.sent.map((s) => s.data).join('')).toBe('ls\r');
    expect(a.detachedCount()).toBe(1);
  });

  test('GIVEN a terminal WHEN Ctrl-P is followed by another key THEN both go on', async () => {
    const a = attached({ detach: true, closeOnEnd: false });
    a.socket.write('\x10');
    await settle();
    a.socket.write('x\x10\x10');
    a.socket.end('\x11');
    await settle();
    expect(a.sent.map((s) => s.data).join('')).toBe('\x10x\x10');
    expect(a.detachedCount()).toBe(1);
  });
});

describe('parseDetachKeys', () => {
  test.each([
    ['ctrl-p,ctrl-q', [0x10, 0x11]],
    ['ctrl-a,x', [0x01, 0x78]],
    ['ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_', [0, 27, 28, 29, 30, 31]],
    ['CTRL-Z', [0x1a]],
  ])('%s → its bytes', (text, bytes) => {
    expect([...(parseDetachKeys(text) as Buffer)]).toEqual(bytes);
  });

  test('GIVEN a key that is neither a character nor ctrl-<key> THEN a message naming it and the form', () => {
    expect(parseDetachKeys('ctrl-p,esc')).toBe('--detach-keys ctrl-p,esc: esc is neither one character nor ctrl-<key> (e.g. ctrl-p,ctrl-q)');
    expect(parseDetachKeys('ctrl-1')).toMatch(/^--detach-keys ctrl-1: ctrl-1 is no control key; use ctrl-<a-z>/);
  });
});
