/**
 * The connection to vSphere, declared once like a resource: the Terraform provider block, the
 * Pulumi `vic:*` config keys, the CLI flags and the docs all come from this schema.
 */
import { accessSync, constants } from 'node:fs';
import { Attrs, Problem, Schema, isUnknown, t } from './schema';
import { validateAttrs, Validated } from './validate-attrs';
import { duration, nonEmpty, parseDuration, redactServer, serverAddress, sha256Thumbprint } from './validators';

export { parseDuration, redactServer };

export const connectionSchema: Schema = {
  vsphere_server: {
    type: t.string,
    optional: true,
    env: ['VSPHERE_SERVER'],
    validate: [serverAddress],
    description:
      'vCenter or ESXi host name or URL (https://host/sdk). A URL may carry `user:password@`, used when `user` and `password` are unset and never logged; `http://` is refused unless `allow_plain_http` is set.',
    example: 'vcenter.example.com',
  },
  user: { type: t.string, optional: true, env: ['VSPHERE_USER'], description: 'User name for vSphere.', example: 'administrator@vsphere.local' },
  password: {
    type: t.string,
    optional: true,
    sensitive: true,
    env: ['VSPHERE_PASSWORD'],
    description: 'Password for vSphere. Sensitive: never shown in plans or logs.',
  },
  allow_unverified_ssl: {
    type: t.bool,
    optional: true,
    env: ['VSPHERE_ALLOW_UNVERIFIED_SSL'],
    description: 'Skip TLS certificate verification. Off by default; prefer `thumbprint` for self-signed certificates.',
  },
  thumbprint: {
    type: t.string,
    optional: true,
    env: ['VSPHERE_THUMBPRINT'],
    validate: [sha256Thumbprint],
    description: 'SHA-256 thumbprint of the server certificate (AA:BB:…) to pin instead of verifying against CAs.',
  },
  allow_plain_http: {
    type: t.bool,
    optional: true,
    env: ['VSPHERE_ALLOW_PLAIN_HTTP'],
    description:
      'Allow an `http://` vsphere_server. Off by default: over plain HTTP the password and the session travel in clear text. Only for a local simulator or a trusted tunnel.',
  },
  ca_file: { type: t.string, optional: true, env: ['VSPHERE_CA_FILE'], description: 'PEM file with the CA that signed the server certificate.' },
  datacenter: {
    type: t.string,
    optional: true,
    env: ['VSPHERE_DATACENTER'],
    validate: [nonEmpty('Use a datacenter name, inventory path or MOID, or leave datacenter out when vSphere has only one.')],
    description: 'Default datacenter for resources that do not name one.',
  },
  task_timeout: {
    type: t.string,
    optional: true,
    env: ['VIC_TASK_TIMEOUT'],
    validate: [duration],
    description:
      'How long vic waits for one vSphere task (create, power on or off, reconfigure, destroy) before it gives up, e.g. `90s`, `45m`, `1h`. Default `30m`. The task itself goes on in vSphere; the next plan or apply picks up what it did.',
    example: '45m',
  },
};

export interface ConnectionSettings {
  url: string;
  username: string;
  password: string;
  insecure: boolean;
  thumbprint?: string;
  caFile?: string;
  datacenter?: string;
  /** The deadline of each vSphere task wait, in ms; unset: the client's default. */
  taskTimeoutMs?: number;
}

/** The words a boolean setting may be written as in text (an environment variable, a config string). */
const BOOL_WORDS: Readonly<Record<string, boolean>> = { true: true, false: false, '1': true, '0': false, yes: true, no: false };

/** A boolean written as text, or undefined when it is none (`maybe`, `ture`): never guessed. */
export function parseBoolText(text: string): boolean | undefined {
  return BOOL_WORDS[text.trim().toLowerCase()];
}

/**
 * Fills unset attributes from their environment variables. A boolean variable that holds no
 * boolean (`VSPHERE_ALLOW_UNVERIFIED_SSL=maybe`) is kept as its text, and connectionSettings
 * refuses it: read as false, it would turn a setting the user meant on silently off.
 */
export function connectionFromEnv(config: Attrs, env: NodeJS.ProcessEnv = process.env): Attrs {
  const out: Attrs = { ...config };
  for (const [name, attr] of Object.entries(connectionSchema)) {
    if (out[name] !== undefined && out[name] !== null) continue;
    for (const key of attr.env ?? []) {
      const v = env[key];
      if (v !== undefined && v !== '') {
        out[name] = attr.type.kind === 'bool' ? (parseBoolText(v) ?? v) : v;
        break;
      }
    }
  }
  return out;
}

/**
 * A boolean setting given as text that is no boolean: refused with the value, the variable it may
 * come from and what is allowed, instead of the schema's plain type error.
 */
function notABoolean(name: string, value: string): Problem {
  const vars = connectionSchema[name].env ?? [];
  return {
    path: [name],
    severity: 'error',
    summary: `Invalid value for "${name}"`,
    detail:
      `${name} is ${JSON.stringify(value)}${vars.length > 0 ? ` (from the setting or the ${vars.join(' or ')} environment variable)` : ''}, which is not a boolean: ` +
      `write true or false (1 or 0 also work), or unset it. vic-iac refuses it rather than read it as false.`,
  };
}

/**
 * Problems of the connection settings, each saying so when its value came from an environment
 * variable rather than from `config`: the message would otherwise point at a setting nobody wrote.
 */
export function namingEnvSources<P extends Problem>(config: Attrs, problems: readonly P[], env: NodeJS.ProcessEnv = process.env): P[] {
  return problems.map((p) => {
    const name = typeof p.path[0] === 'string' ? p.path[0] : undefined;
    if (!name || (config[name] !== undefined && config[name] !== null)) return p;
    const key = connectionSchema[name]?.env?.find((k) => env[k] !== undefined && env[k] !== '');
    return key ? { ...p, detail: `${p.detail} (This value comes from the ${key} environment variable: correct or unset it there.)` } : p;
  });
}

/** The server as a URL (`https://host/sdk` for a bare host name), or undefined when it is not one. */
function serverUrl(server: string): URL | undefined {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `https://${server}`);
    if (url.pathname === '/' || url.pathname === '') url.pathname = '/sdk';
    return url;
  } catch {
    return undefined;
  }
}

/** URL userinfo as typed: percent-escapes decoded, a stray "%" kept as is. */
function decodeUserinfo(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Checks that span attributes or need the server parsed: the scheme against allow_plain_http.
 * Unknown values (a Terraform plan) are skipped; every problem names vsphere_server.
 */
export function connectionProblems(config: Attrs): Problem[] {
  const server = config.vsphere_server;
  if (typeof server !== 'string' || server === '') return [];
  const shown = JSON.stringify(redactServer(server));
  const url = serverUrl(server);
  // A server that is no address at all is reported by its validator (serverAddress).
  if (!url) return [];
  const rawPlain = config.allow_plain_http;
  if (typeof rawPlain === 'string' && parseBoolText(rawPlain) === undefined) return [notABoolean('allow_plain_http', rawPlain)];
  const allowPlain = typeof rawPlain === 'string' ? parseBoolText(rawPlain) : rawPlain;
  if (url.protocol === 'http:' && allowPlain !== true && !isUnknown(allowPlain)) {
    return [
      {
        path: ['vsphere_server'],
        severity: 'error',
        summary: 'Plain HTTP refused for "vsphere_server"',
        detail: `vsphere_server = ${shown} uses plain HTTP: the password and the session cookie would travel in clear text. Use https://, or, only for a local simulator or a trusted tunnel, set allow_plain_http = true (environment: VSPHERE_ALLOW_PLAIN_HTTP=true).`,
      },
    ];
  }
  return [];
}

/** Validates a connection config (after env fallback) and turns it into settings for the client. */
export function connectionSettings(config: Attrs): { settings?: ConnectionSettings; problems: Validated['problems'] } {
  // Booleans written as text (a Pulumi config string, an environment variable): the words
  // parseBoolText knows, and a clear refusal for anything else.
  const typed: Attrs = { ...config };
  const notBooleans: Problem[] = [];
  for (const [name, attr] of Object.entries(connectionSchema)) {
    const v = typed[name];
    if (attr.type.kind !== 'bool' || typeof v !== 'string') continue;
    const b = parseBoolText(v);
    if (b === undefined) notBooleans.push(notABoolean(name, v));
    else typed[name] = b;
  }
  const validated = validateAttrs(connectionSchema, typed);
  const problems = [...validated.problems.filter((p) => !notBooleans.some((n) => n.path[0] === p.path[0])), ...notBooleans];
  const attrs = { ...validated.attrs };
  if (problems.length === 0) problems.push(...connectionProblems(attrs));
  const url = typeof attrs.vsphere_server === 'string' ? serverUrl(attrs.vsphere_server) : undefined;
  // Credentials in the URL (govc style) fill what is unset, then leave the URL: it is logged.
  if (url && (url.username || url.password)) {
    if (attrs.user === null || attrs.user === '') attrs.user = decodeUserinfo(url.username);
    if (attrs.password === null || attrs.password === '') attrs.password = decodeUserinfo(url.password);
    url.username = '';
    url.password = '';
  }
  for (const name of ['vsphere_server', 'user', 'password']) {
    if (attrs[name] === null || attrs[name] === undefined || attrs[name] === '') {
      const env = connectionSchema[name].env?.[0];
      problems.push({
        path: [name],
        severity: 'error',
        summary: `Missing vSphere connection setting "${name}"`,
        detail: `Set "${name}" in the provider configuration or the ${env} environment variable.`,
      });
    }
  }
  const caFile = attrs.ca_file;
  if (typeof caFile === 'string' && caFile !== '') {
    // Read when the provider is configured, not at validate: the file lives where the plan runs.
    try {
      accessSync(caFile, constants.R_OK);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
      problems.push({
        path: ['ca_file'],
        severity: 'error',
        summary: 'Cannot read "ca_file"',
        detail: `ca_file = ${JSON.stringify(caFile)} ${why}. Give the path of a PEM file with the CA certificate that signed the vSphere server certificate, or pin the server with thumbprint instead.`,
      });
    }
  }
  if (problems.length > 0 || !url) return { problems };
  url.pathname = url.pathname.replace(/\/?$/, '').replace(/(\/sdk)?$/, '/sdk');
  return {
    problems,
    settings: {
      url: url.href,
      username: String(attrs.user),
      password: String(attrs.password),
      insecure: attrs.allow_unverified_ssl === true,
      thumbprint: (attrs.thumbprint as string | null) ?? undefined,
      caFile: (attrs.ca_file as string | null) ?? undefined,
      datacenter: (attrs.datacenter as string | null) ?? undefined,
      taskTimeoutMs: typeof attrs.task_timeout === 'string' ? parseDuration(attrs.task_timeout) : undefined,
    },
  };
}
