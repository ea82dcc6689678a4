/**
 * The connection to vSphere, declared once like a resource: the Terraform provider block, the
 * Pulumi `vic:*` config keys, the CLI flags and the docs all come from this schema.
 */
import { accessSync, constants } from 'node:fs';
import { Attrs, Schema, t } from './schema';
import { validateAttrs, Validated } from './validate';
import { nonEmpty, serverAddress, sha256Thumbprint } from './validators';

export const connectionSchema: Schema = {
  vsphere_server: { type: t.string, optional: true, env: ['VSPHERE_SERVER'], validate: [serverAddress], description: 'vCenter or ESXi host name or URL (https://host/sdk).', example: 'vcenter.example.com' },
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
    validate: [sha256Thumbprint],
    description: 'SHA-256 thumbprint of the server certificate (AA:BB:…) to pin instead of verifying against CAs.',
  },
  ca_file: { type: t.string, optional: true, env: ['VSPHERE_CA_FILE'], description: 'PEM file with the CA that signed the server certificate.' },
  datacenter: {
    type: t.string,
    optional: true,
    env: ['VSPHERE_DATACENTER'],
    validate: [nonEmpty('Use a datacenter name, inventory path or MOID, or leave datacenter out when vSphere has only one.')],
    description: 'Default datacenter for resources that do not name one.',
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
    },
  };
}
