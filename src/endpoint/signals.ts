/** Signal names as docker stop --signal and kill -s take them, to the Linux numbers the guest uses. */
import { badRequest } from './protocol';

const NUMBERS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
};

export const SIGKILL = 9;
export const SIGTERM = 15;

/** `TERM`, `SIGTERM`, `15`, `RTMIN+3` → the number; a bad name is a 400 that says what is allowed. */
export function signalNumber(text: string): number {
  const name = text.trim().toUpperCase().replace(/^SIG/, '');
  if (/^\d+$/.test(name) && Number(name) >= 1 && Number(name) <= 64) return Number(name);
  if (name in NUMBERS) return NUMBERS[name];
  const rt = /^RTMIN(?:\+(\d+))?$|^RTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const n = rt[0].startsWith('RTMIN') ? 34 + Number(rt[1] ?? 0) : 64 - Number(rt[2] ?? 0);
    if (n >= 34 && n <= 64) return n;
  }
  throw badRequest(`Invalid signal: ${text}: use a name (TERM, SIGUSR1, RTMIN+1) or a number from 1 to 64`);
}
