/**
 * The connection flags, derived from the connection schema (the same one the Terraform provider
 * block and the Pulumi config use): `--vsphere-server`, `--user`, … each falling back to its
 * VSPHERE_* environment variable.
 */
import { Command, Option } from 'commander';
import type { Engine } from '../engine';
import { CliError, EXIT } from './context';
import { Attrs, camelCase, connectionFromEnv, connectionSchema, connectionSettings, formatPath, type ConnectionSettings } from '../resources';

export function flagOf(attribute: string): string {
  return `--${attribute.replace(/_/g, '-')}`;
}

export function addConnectionOptions(command: Command): Command {
  for (const [name, attr] of Object.entries(connectionSchema)) {
    const env = attr.env?.length ? ` [env: ${attr.env.join(', ')}]` : '';
    const caution = attr.sensitive ? ' Prefer the environment variable: a flag shows in the process list.' : '';
    const flag = attr.type.kind === 'bool' ? flagOf(name) : `${flagOf(name)} <value>`;
    command.addOption(new Option(flag, `${attr.description}${caution}${env}`).helpGroup('vSphere connection:'));
  }
  return command;
}

export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
}

/** Flags first, then the environment; every missing or invalid setting in one message. */
export function connectionFromOptions(options: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): ConnectionSettings {
  const config: Attrs = {};
  for (const name of Object.keys(connectionSchema)) {
    const v = options[camelCase(name)];
    if (v !== undefined) config[name] = v as string | boolean;
  }
  const { settings, problems } = connectionSettings(connectionFromEnv(config, env));
  if (!settings) {
    const lines = problems.map((p) => {
      const name = formatPath(p.path);
      const attr = connectionSchema[name];
      const how = attr ? `pass ${flagOf(name)} or set ${attr.env?.join(' or ') ?? 'it'}` : p.detail;
      if (/^Missing vSphere connection setting/.test(p.summary)) return `  ${name}: missing; ${how}`;
      // A value that is there but wrong: say what is wrong with it, and where it came from (a flag
      // wins over its variable, as connectionFromEnv reads them).
      const fromEnv = attr && config[name] === undefined ? attr.env?.find((k) => env[k] !== undefined && env[k] !== '') : undefined;
      return `  ${name}: ${p.detail} (from ${fromEnv ? `the environment variable ${fromEnv}` : attr ? flagOf(name) : 'the settings'})`;
    });
    throw new ConnectionError(`cannot connect to vSphere:\n${lines.join('\n')}\nFor the embedded simulator: eval "$(vic sim start)"`);
  }
  return settings;
}

/**
 * Why connecting to vSphere failed, as the CLI says it: what failed first (`cannot connect to
 * vSphere at <url>`), then the cause. The SOAP layer leads its messages with the call and object
 * (`RetrieveServiceContent on ServiceInstance:ServiceInstance:`), which at connect is always the
 * first call and tells a user nothing; a failed login names itself already.
 */
export function connectFailure(url: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && err.name === 'InvalidLoginError') return message;
  return `cannot connect to vSphere at ${url}: ${message.replace(/^RetrieveServiceContent on \S+: /, '')}`;
}

/** The engine over a vSphere session: every CLI command that talks to vSphere connects here. */
export async function connectCli(settings: ConnectionSettings): Promise<Engine> {
  // The engine (SOAP client, image pipeline) loads only for commands that talk to vSphere.
  const { connectEngine } = await import('../engine');
  try {
    return await connectEngine(settings);
  } catch (err) {
    throw new CliError(connectFailure(settings.url, err), EXIT.failure);
  }
}
