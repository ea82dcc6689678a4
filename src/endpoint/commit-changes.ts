/**
 * docker commit's `--change` (`-c`): Dockerfile instructions applied to the committed image's
 * config, as dockerd applies them. Each change is one instruction (or several, a line each); the
 * instructions that change a config are taken, the others refused as dockerd refuses them
 * (`run is not a valid change command`), before anything is made.
 *
 *   CMD, ENTRYPOINT     exec form (a JSON array) or shell form (`/bin/sh -c …`); ENTRYPOINT without
 *                       a CMD among the changes drops the container's command, as in a Dockerfile
 *   ENV, LABEL          `key=value …` (quotes and escapes as in a Dockerfile) or `key value`
 *   EXPOSE              `port[/tcp|udp|sctp]`, a range `8000-8002`
 *   USER, WORKDIR       WORKDIR relative to the one before
 *   VOLUME              a JSON array or paths
 *   STOPSIGNAL          a signal's name or number
 *   HEALTHCHECK         `[--interval=D --timeout=D --start-period=D --start-interval=D --retries=N] CMD …`, or `NONE`
 *
 * `$VAR` and `${VAR}` (`${VAR:-word}`, `${VAR:+word}`) in ENV, LABEL, EXPOSE, USER, WORKDIR, VOLUME
 * and STOPSIGNAL are the config's environment so far, as in a Dockerfile.
 */
import { posix } from 'node:path';
import type { CommitImageOptions } from '../engine';
import type { HealthConfig } from './health';
import { OWN_LABEL_PREFIX } from './containers';
import { badRequest } from './protocol';
import { signalNumber } from './signals';

/** The committed image's config (the image store's field names). */
export type CommitConfig = CommitImageOptions['config'];

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const VALID = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];
const SECOND_NS = 1e9;
const DURATION_NS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: SECOND_NS, m: 60 * SECOND_NS, h: 3600 * SECOND_NS };

/** The config with the changes applied in order; a change that is not one is a 400 naming it. */
export function applyChanges(config: CommitConfig, changes: readonly string[]): CommitConfig {
  const out: Mutable<CommitConfig> = {
    ...config,
    entrypoint: [...config.entrypoint],
    cmd: [...config.cmd],
    env: [...config.env],
    exposed_ports: [...config.exposed_ports],
    labels: { ...config.labels },
    volumes: [...(config.volumes ?? [])],
  };
  let cmdSet = false;
  for (const line of changes.flatMap(instructionLines)) {
    const match = /^(\S+)(?:\s+([\s\S]*))?$/.exec(line);
    if (!match) continue;
    const keyword = match[1].toUpperCase();
    const rest = (match[2] ?? '').trim();
    const fail = (what: string): never => {
      throw badRequest(`--change ${JSON.stringify(line)}: ${what}`);
    };
    if (!VALID.includes(keyword)) {
      if (keyword === 'ONBUILD') fail('vic-iac builds no images, so an image keeps no ONBUILD triggers; leave it out of the commit');
      throw badRequest(`${match[1].toLowerCase()} is not a valid change command (docker commit --change takes ${VALID.join(', ')})`);
    }
    const expand = (text: string) => expandVariables(text, out.env);
    switch (keyword) {
      case 'CMD':
        out.cmd = commandOf(rest);
        cmdSet = true;
        break;
      case 'ENTRYPOINT':
        out.entrypoint = rest === '' ? [] : commandOf(rest);
        if (!cmdSet) out.cmd = [];
        break;
      case 'ENV':
        for (const [key, value] of pairsOf(rest, out.env, 'ENV', fail)) {
          out.env = [...out.env.filter((e) => e.split('=')[0] !== key), `${key}=${value}`];
        }
        break;
      case 'LABEL':
        for (const [key, value] of pairsOf(rest, out.env, 'LABEL', fail)) out.labels[key] = value;
        break;
      case 'EXPOSE':
        if (rest === '') fail('EXPOSE needs a port, e.g. EXPOSE 80/tcp');
        for (const word of words(rest, out.env)) {
          for (const port of exposedPorts(word, fail)) if (!out.exposed_ports.includes(port)) out.exposed_ports.push(port);
        }
        out.exposed_ports.sort();
        break;
      case 'USER':
        if (rest === '') fail('USER needs a user, e.g. USER nobody or USER 1000:1000');
        out.user = expand(rest);
        break;
      case 'WORKDIR': {
        if (rest === '') fail('WORKDIR needs a path, e.g. WORKDIR /srv');
        out.working_dir = posix.resolve(out.working_dir || '/', expand(rest));
        break;
      }
      case 'VOLUME': {
        const paths = jsonArray(rest) ?? words(rest, out.env);
        if (paths.length === 0 || paths.some((p) => p.trim() === '')) fail('VOLUME needs one path or more, e.g. VOLUME /data or VOLUME ["/data"]');
        for (const p of paths) if (!out.volumes?.includes(p)) out.volumes = [...(out.volumes ?? []), p];
        break;
      }
      case 'STOPSIGNAL': {
        const signal = expand(rest);
        if (signal === '' || /\s/.test(signal)) fail('STOPSIGNAL takes one signal, e.g. STOPSIGNAL SIGTERM');
        signalNumber(signal);
        out.stop_signal = signal;
        break;
      }
      case 'HEALTHCHECK': {
        const check = healthcheckOf(rest, fail);
        out.healthcheck = { ...check, Test: [...check.Test] };
        break;
      }
    }
  }
  if (out.volumes?.length === 0) delete out.volumes;
  return out;
}

/** A change's instructions: a line each, `\` at a line's end continuing it, comments and blank lines left out. */
function instructionLines(change: string): string[] {
  return change
    .replace(/\\\r?\n/g, '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** A JSON array of strings (the exec form), or undefined when the text is not one. */
function jsonArray(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) && parsed.every((p) => typeof p === 'string') ? (parsed as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** CMD's and ENTRYPOINT's argument: the exec form as it is, the shell form through /bin/sh -c. */
function commandOf(text: string): string[] {
  return jsonArray(text) ?? ['/bin/sh', '-c', text];
}

/**
 * The words of an instruction's argument as a Dockerfile reads them: whitespace separates them,
 * double quotes keep whitespace (and take `\` escapes), single quotes keep everything, a `\` outside
 * quotes escapes the next character; `$VAR` expands outside single quotes.
 */
function words(text: string, env: readonly string[]): string[] {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (/\s/.test(c)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      const stop = end < 0 ? text.length : end;
      word += text.slice(i + 1, stop);
      i = stop;
    } else if (c === '"') {
      let j = i + 1;
      let quoted = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        quoted += text[j];
        j++;
      }
      word += expandVariables(quoted, env);
      i = j;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
    } else if (c === '$') {
      const m = /^\$(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i));
      if (m) {
        word += expandVariables(m[0], env);
        i += m[0].length - 1;
      } else word += c;
    } else word += c;
  }
  if (inWord) out.push(word);
  return out;
}

/** `$VAR`, `${VAR}`, `${VAR:-word}` and `${VAR:+word}` from `env` (KEY=value entries); an unset one is empty. */
function expandVariables(text: string, env: readonly string[]): string {
  const value = (name: string) => {
    const entry = [...env].reverse().find((e) => e.split('=')[0] === name);
    return entry === undefined ? undefined : entry.slice(name.length + 1);
  };
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_m, braced: string, op: string, word: string, bare: string) => {
      const v = value(braced ?? bare);
      if (op === '-') return v === undefined || v === '' ? word : v;
      if (op === '+') return v === undefined || v === '' ? '' : word;
      return v ?? '';
    },
  );
}

/** ENV's and LABEL's pairs: `key=value …`, or one `key value` (the rest of the line its value). */
function pairsOf(text: string, env: readonly string[], keyword: string, fail: (what: string) => never): Array<[string, string]> {
  const all = words(text, env);
  if (all.length === 0) fail(`${keyword} needs a key and a value, e.g. ${keyword} key=value`);
  if (!all[0].includes('=')) {
    // The old form: the first word is the key, the rest of the line the value.
    const value = text
      .trim()
      .slice(text.trim().search(/\s/) + 1)
      .trim();
    if (all.length < 2) fail(`${keyword} ${all[0]} has no value: write ${keyword} ${all[0]}=value`);
    return [[all[0], words(value, env).join(' ')]];
  }
  return all.map((w) => {
    const at = w.indexOf('=');
    if (at <= 0) fail(`${JSON.stringify(w)} is not key=value`);
    return [w.slice(0, at), w.slice(at + 1)];
  });
}

/** EXPOSE's word as the config's ports: `80` → 80/tcp; a range gives each port. */
function exposedPorts(word: string, fail: (what: string) => never): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(word);
  const from = Number(m?.[1]);
  const to = m?.[2] === undefined ? from : Number(m[2]);
  if (!m || from < 1 || to > 65535 || to < from)
    fail(`${JSON.stringify(word)} is not a port: give port[/tcp|udp|sctp] or a range such as 8000-8002, ports 1 to 65535`);
  const protocol = (m?.[3] ?? 'tcp').toLowerCase();
  return Array.from({ length: to - from + 1 }, (_, i) => `${from + i}/${protocol}`);
}

/** A Go duration (`30s`, `1m30s`, `500ms`) in nanoseconds. */
function durationNs(text: string, flag: string, fail: (what: string) => never): number {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text))
    fail(`--${flag}=${text} is not a duration: write a number with a unit (ms, s, m, h), e.g. --${flag}=30s`);
  let ns = 0;
  for (const [, amount, , unit] of text.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ns += Number(amount) * DURATION_NS[unit];
  return Math.round(ns);
}

/** HEALTHCHECK's argument as the config's Healthcheck: NONE turns the image's off. */
function healthcheckOf(text: string, fail: (what: string) => never): HealthConfig {
  let rest = text;
  const flags: Record<string, string> = {};
  for (let m = /^--([a-z-]+)=(\S*)\s*/.exec(rest); m; m = /^--([a-z-]+)=(\S*)\s*/.exec(rest)) {
    flags[m[1]] = m[2];
    rest = rest.slice(m[0].length);
  }
  const [kind, ...more] = rest.split(/\s+/);
  if (kind?.toUpperCase() === 'NONE') {
    if (Object.keys(flags).length > 0 || more.length > 0) fail('HEALTHCHECK NONE takes no options or command');
    return { Test: ['NONE'] };
  }
  if (kind?.toUpperCase() !== 'CMD' || more.length === 0) fail('HEALTHCHECK takes [OPTIONS] CMD command, or NONE');
  const command = rest.slice(kind.length).trim();
  const exec = jsonArray(command);
  const check: Mutable<HealthConfig> = { Test: exec ? ['CMD', ...exec] : ['CMD-SHELL', command] };
  const durations: Array<[string, 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval']> = [
    ['interval', 'Interval'],
    ['timeout', 'Timeout'],
    ['start-period', 'StartPeriod'],
    ['start-interval', 'StartInterval'],
  ];
  for (const [flag, key] of durations) if (flags[flag] !== undefined) check[key] = durationNs(flags[flag], flag, fail);
  if (flags.retries !== undefined) {
    if (!/^\d+$/.test(flags.retries) || Number(flags.retries) < 1) fail(`--retries=${flags.retries}: give a whole number, 1 or more`);
    check.Retries = Number(flags.retries);
  }
  const unknown = Object.keys(flags).filter((f) => !['interval', 'timeout', 'start-period', 'start-interval', 'retries'].includes(f));
  if (unknown.length > 0) fail(`HEALTHCHECK has no option --${unknown[0]} (it takes --interval, --timeout, --start-period, --start-interval, --retries)`);
  return check;
}

/**
 * What a commit starts from, as dockerd takes it: the container's config as inspect shows it (its
 * command, environment, user, working directory, labels, volumes, stop signal and health check;
 * vic-iac's own labels left out), its and the image's exposed ports, and what the request's body sets
 * over them (an API client's Config; the docker CLI sends none).
 */
export function commitBase(inspected: Record<string, unknown>, imageExposedPorts: readonly string[], body: Record<string, unknown> = {}): CommitConfig {
  const pick = (key: string): unknown => (body[key] !== undefined && body[key] !== null ? body[key] : inspected[key]);
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  const keys = (v: unknown): string[] => (v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v).sort() : []);
  const labels = Object.fromEntries(
    Object.entries((pick('Labels') ?? {}) as Record<string, unknown>)
      .filter(([k, v]) => !k.startsWith(OWN_LABEL_PREFIX) && typeof v === 'string')
      .map(([k, v]) => [k, String(v)]),
  );
  const stopSignal = pick('StopSignal');
  const health = pick('Healthcheck') as { Test?: unknown } | undefined;
  const volumes = keys(pick('Volumes'));
  return {
    entrypoint: strings(pick('Entrypoint')),
    cmd: strings(pick('Cmd')),
    env: strings(pick('Env')),
    working_dir: typeof pick('WorkingDir') === 'string' ? String(pick('WorkingDir')) : '',
    user: typeof pick('User') === 'string' ? String(pick('User')) : '',
    exposed_ports: [...new Set([...imageExposedPorts, ...keys(inspected.ExposedPorts), ...keys(body.ExposedPorts)])].sort(),
    labels,
    ...(volumes.length > 0 ? { volumes } : {}),
    ...(typeof stopSignal === 'string' && stopSignal !== '' ? { stop_signal: stopSignal } : {}),
    ...(health && Array.isArray(health.Test) && health.Test.length > 0 ? { healthcheck: { ...(health as object), Test: health.Test.map(String) } } : {}),
  };
}
