/**
 * What `vic apply` prints without a terminal while resources are at work: the ApplyReporter over a
 * stream that collects its lines, with a short "still" interval.
 */
import { PassThrough } from 'node:stream';
import { ApplyReporter } from '../../src/cli/apply-progress';
import { stylesFor } from '../../src/cli/terminal';

function plainReporter(stillEveryMs: number): { reporter: ApplyReporter; lines: () => string[] } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString('utf8')));
  const reporter = new ApplyReporter({ out, err: new PassThrough(), styles: stylesFor(false), bars: false, total: 2, stillEveryMs });
  return { reporter, lines: () => text.split('\n').filter((l) => l !== '') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('GIVEN plain output (no terminal)', () => {
  test('WHEN a resource works longer than the interval THEN a "Still ..." line says how long and where it is, until it ends', async () => {
    const { reporter, lines } = plainReporter(40);
    try {
      reporter.start('image.app', 'create');
      reporter.start('container_vm.old', 'delete');
      reporter.progress('image.app', {
        type: 'image',
        name: 'app',
        phase: 'upload',
        current: 0,
        total: 4 * 1024 * 1024,
        message: '[LocalDS_0] vch/images/abc',
      });
      reporter.progress('image.app', { type: 'image', name: 'app', phase: 'upload', current: 1024 * 1024, total: 4 * 1024 * 1024 });
      await sleep(100);
      reporter.finish('container_vm.old', 'delete');
      const before = lines().length;
      await sleep(100);
      expect(lines()).toContainEqual(expect.stringMatching(/^image\.app: Still creating\.\.\. \[\d+s elapsed\] \(upload 1\.0 MiB\/4\.0 MiB\)$/));
      expect(lines()).toContainEqual(expect.stringMatching(/^container_vm\.old: Still destroying\.\.\. \[\d+s elapsed\]$/));
      // Once it ended, a resource has no more "Still" lines.
      expect(
        lines()
          .slice(before)
          .filter((l) => l.startsWith('container_vm.old')),
      ).toEqual([]);
      reporter.finish('image.app', 'create', 'sha256:abc');
      const ended = lines().length;
      await sleep(100);
      expect(lines().length).toBe(ended);
    } finally {
      reporter.stop();
    }
  });

  test('WHEN the apply stops THEN no line follows', async () => {
    const { reporter, lines } = plainReporter(30);
    reporter.start('volume.data', 'create');
    reporter.stop();
    const count = lines().length;
    await sleep(90);
    expect(lines().length).toBe(count);
  });
});

describe('GIVEN a resource that fails', () => {
  test.each([
    ['an empty message', '', 'container_vm.job: failed'],
    ['a message that starts with a blank line', '\n  \nguest exited with 3\nmore', 'container_vm.job: failed: guest exited with 3'],
    ['a message', 'CreateVM_Task refused\nsecond line', 'container_vm.job: failed: CreateVM_Task refused'],
  ])('WHEN it ends with %s THEN the line ends at "failed" or gives the first line that says something, never a dangling colon', (_what, message, line) => {
    const { reporter, lines } = plainReporter(10_000);
    try {
      reporter.start('container_vm.job', 'create');
      reporter.failed('container_vm.job', message);
      expect(lines()).toEqual(['container_vm.job: Creating...', line]);
    } finally {
      reporter.stop();
    }
  });
});
