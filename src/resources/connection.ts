/**
 * The connection to vSphere, declared once like a resource: the Terraform provider block, the
 * Pulumi `vic:*` config keys, the CLI flags and the docs all come from this schema.
 */
import { Attrs, Schema, t } from './schema';
import { validateAttrs, Validated } from './validate';
import { duration, parseDuration } from './validators';

export const connectionSchema: Schema = {
  vsphere_server: { type: t.string, optional: true, env: ['VSPHERE_SERVER'], description: 'vCenter or ESXi host name or URL (https://host/sdk).', example: 'vcenter.example.com' },
  user: { type: t.string, optional: true, env: ['VSPHERE_USER'], description: 'User name for vSphere.', example: 'administrator@vsphere.local' },
  password: { type: t.string, optional: true, sensitive: true, env: ['VSPHERE_PASSWORD'], description: 'Password for vSphere. Sensitive: never shown in plans or logs.' },
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
    description: 'SHA-256 thumbprint of the server certificate (AA:BB:…) to pin instead of verifying against CAs.',
  },
  ca_file: { type: t.string, optional: true, env: ['VSPHERE_CA_FILE'], description: 'PEM file with the CA that signed the server certificate.' },
  datacenter: { type: t.string, optional: true, env: ['VSPHERE_DATACENTER'], description: 'Default datacenter for resources that do not name one.' },
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

/** Fills unset attributes from their environment variables. */
export function connectionFromEnv(config: Attrs, env: NodeJS.ProcessEnv = process.env): Attrs {
  const out: Attrs = { ...config };
  for (const [name, attr] of Object.entries(connectionSchema)) {
    if (out[name] !== undefined && out[name] !== null) continue;
    for (const key of attr.env ?? []) {
      const v = env[key];
      if (v !== undefined && v !== '') {
        out[name] = attr.type.kind === 'bool' ? ['1', 'true', 'yes'].includes(v.toLowerCase()) : v;
        break;
      }
    }
  }
  return out;
}

/** Validates a connection config (after env fallback) and turns it into settings for the client. */
export function connectionSettings(config: Attrs): { settings?: ConnectionSettings; problems: Validated['problems'] } {
  const { attrs, problems } = validateAttrs(connectionSchema, config);
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
  if (problems.length > 0) return { problems };
  const server = String(attrs.vsphere_server);
  const url = /^https?:\/\//.test(server) ? server.replace(/\/?$/, '').replace(/(\/sdk)?$/, '/sdk') : `https://${server}/sdk`;
  return {
    problems,
    settings: {
      url,
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
