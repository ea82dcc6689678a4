/**
 * docs/cli.md stays true to the program: every command and every long option that --help shows
 * is documented there. A flag added without a word in the docs fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main';

const DOC = readFileSync(join(__dirname, '../../docs/cli.md'), 'utf8');

function walk(cmd: Command, path: string[] = []): Array<{ command: string; flag?: string }> {
  const here = [...path, cmd.name()].slice(1).join(' ');
  const out: Array<{ command: string; flag?: string }> = here ? [{ command: here }] : [];
  for (const o of cmd.options) if (o.long && !['--help', '--version'].includes(o.long)) out.push({ command: here, flag: o.long });
  for (const sub of cmd.commands) out.push(...walk(sub, [...path, cmd.name()]));
  return out;
}

describe('docs/cli.md', () => {
  const entries = walk(buildProgram({ code: 0 }));

  it('GIVEN the program WHEN walked THEN it has every documented command', () => {
    expect(entries.filter((e) => !e.flag).map((e) => e.command)).toEqual([
      'plan',
      'apply',
      'destroy',
      'ls',
      'import',
      'state',
      'state list',
      'state rm',
      'state mv',
      'logs',
      'endpoint',
      'endpoint serve',
      'endpoint certs',
      'endpoint env',
      'sim',
      'sim start',
      'sim status',
      'sim stop',
      'provider',
      'provider install',
      'version',
    ]);
  });

  it.each(entries.filter((e) => !e.flag).map((e) => e.command))('GIVEN the command "%s" WHEN the docs are read THEN they show it', (command) => {
    expect(DOC).toContain(`vic ${command}`);
  });

  it.each([...new Set(entries.filter((e) => e.flag).map((e) => e.flag as string))])('GIVEN the flag %s WHEN the docs are read THEN they mention it', (flag) => {
    expect(DOC).toContain(flag);
  });
});
