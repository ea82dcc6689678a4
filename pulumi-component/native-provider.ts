/**
 * pulumi-resource-vic: the `vic` resource provider plugin, for Pulumi programs in Python and YAML
 * (and any language with an SDK generated from its schema) and for `pulumi import`.
 *
 * It serves the package schema of schema.ts and runs every CRUD call through the same ProviderHost
 * the dynamic providers use (provider-host.ts): one engine, one translation between Pulumi property
 * bags and engine attributes, one place for state migration and identity claims. What this module
 * adds is only what the plugin protocol differs in: type tokens and URNs instead of one provider
 * object per type, secret values arriving wrapped (the dynamic host unwraps them for its providers),
 * provider config from Configure, and Read without prior state for import.
 */
import * as pulumi from '@pulumi/pulumi';
import type * as provider from '@pulumi/pulumi/provider';
import { ResourceDeclaration, declarations } from '../src/resources';
import { RESOURCE_NAME_PROPERTY, STACK_PROPERTY, pulumiSecretNames } from './attribute-mapping';
import { ConfigReader, ProviderHost, providerHost } from './provider-host';
import { PACKAGE_NAME, declarationForToken, packageSchema, packageVersion, tokenFor } from './schema';

/** How the plugin protocol marks a secret value (@pulumi/pulumi runtime/rpc `specialSigKey`). */
const SIG_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';

type PropertyBag = Record<string, unknown>;

function isSecretValue(v: unknown): v is { value: unknown } {
  return typeof v === 'object' && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** The plain values of a property bag: the engine decides on values; secrecy is Pulumi's to keep. */
export function revealSecrets(v: unknown): unknown {
  if (isSecretValue(v)) return revealSecrets(v.value);
  if (Array.isArray(v)) return v.map(revealSecrets);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, revealSecrets(e)]));
  return v;
}

/** Marks the declaration's sensitive properties secret, so the state holds them only encrypted. */
export function protectSecrets(decl: ResourceDeclaration, bag: PropertyBag | undefined): PropertyBag | undefined {
  if (!bag) return bag;
  const out = { ...bag };
  for (const name of pulumiSecretNames(decl)) {
    if (out[name] !== undefined && !isSecretValue(out[name])) out[name] = { [SIG_KEY]: SECRET_SIG, value: out[name] };
  }
  return out;
}

/** `urn:pulumi:<stack>::<project>::<type>::<name>` (a parent's type may precede `$`). */
export function parseUrn(urn: string): { token: string; name: string; stack: string } {
  const parts = urn.split('::');
  if (parts.length < 4) throw new Error(`vic: malformed resource URN "${urn}"`);
  const types = parts[2].split('$');
  return { token: types[types.length - 1], name: parts.slice(3).join('::'), stack: `${parts[1]}/${parts[0].replace(/^urn:pulumi:/, '')}` };
}

/**
 * The provider config Pulumi sends to Configure: `vic:config:<name>` variables (secrets already
 * decrypted), read by the same keys (`vic:<name>`) the dynamic providers read from stack config.
 */
export function configFromVariables(variables: ReadonlyMap<string, string> | Map<string, string>): ConfigReader {
  return (key) => variables.get(key.replace(`${PACKAGE_NAME}:`, `${PACKAGE_NAME}:config:`));
}

export class VicProvider implements provider.Provider {
  readonly version = packageVersion();
  readonly schema = JSON.stringify(packageSchema());

  constructor(private readonly host: ProviderHost) {}

  private resource(urn: string): { decl: ResourceDeclaration } {
    const { token } = parseUrn(urn);
    const decl = declarationForToken(token);
    if (!decl) throw new Error(`vic: unknown resource type "${token}": this provider serves ${declarations.map(tokenFor).join(', ')}`);
    return { decl };
  }

  /** The plain bag the host works on, with the resource's name for the engine's identity claims. */
  private bag(urn: string, props: unknown): PropertyBag {
    const { name, stack } = parseUrn(urn);
    return { ...(revealSecrets(props ?? {}) as PropertyBag), [RESOURCE_NAME_PROPERTY]: name, [STACK_PROPERTY]: stack };
  }

  async check(urn: string, olds: unknown, news: PropertyBag): Promise<provider.CheckResult> {
    const { decl } = this.resource(urn);
    // A resource to create (no old inputs) is checked against what it refers to, as the dynamic providers do.
    const creating = olds === undefined || olds === null || Object.keys(olds).length === 0;
    const { failures } = await this.host.checkInputs(decl.type, creating ? undefined : this.bag(urn, olds), this.bag(urn, news));
    // The inputs go back as they came: secret values stay secret in the state.
    return { inputs: protectSecrets(decl, news), failures };
  }

  async diff(id: string, urn: string, olds: unknown, news: unknown): Promise<provider.DiffResult> {
    const { decl } = this.resource(urn);
    return this.host.diff(decl.type, id, this.bag(urn, olds), this.bag(urn, news));
  }

  async create(urn: string, inputs: unknown): Promise<provider.CreateResult> {
    const { decl } = this.resource(urn);
    const { id, outs } = await this.host.create(decl.type, this.bag(urn, inputs));
    return { id, outs: protectSecrets(decl, outs as PropertyBag) };
  }

  /** Refresh when Pulumi has the object's state; `pulumi import` and `.get()` when it has only an ID. */
  async read(id: string, urn: string, props?: PropertyBag): Promise<provider.ReadResult> {
    const { decl } = this.resource(urn);
    const known = Object.keys(props ?? {}).length > 0;
    const result = known ? await this.host.read(decl.type, id, this.bag(urn, props)) : await this.host.importState(decl.type, id);
    return {
      ...result,
      props: protectSecrets(decl, result.props as PropertyBag | undefined),
      inputs: protectSecrets(decl, result.inputs as PropertyBag | undefined),
    };
  }

  async update(id: string, urn: string, olds: unknown, news: unknown): Promise<provider.UpdateResult> {
    const { decl } = this.resource(urn);
    const { outs } = await this.host.update(decl.type, id, this.bag(urn, olds), this.bag(urn, news));
    return { outs: protectSecrets(decl, outs as PropertyBag) };
  }

  async delete(id: string, urn: string, props: unknown): Promise<void> {
    const { decl } = this.resource(urn);
    await this.host.delete(decl.type, id, this.bag(urn, props));
  }

  async cancel(): Promise<void> {
    this.host.cancel('Pulumi cancelled the operation');
  }
}

interface GrpcCall<R> {
  request: R;
}
interface ConfigureRequest {
  getVariablesMap(): Map<string, string>;
}
interface ReadRequest {
  getProperties(): unknown;
  setProperties(value: unknown): void;
}
type Handler<R> = (call: GrpcCall<R>, callback: unknown) => void;
interface ProviderService {
  configure?: Handler<ConfigureRequest>;
  read?: Handler<ReadRequest>;
}

/**
 * Two gaps of @pulumi/pulumi's provider server (provider/server.js), closed where the server
 * registers its handlers, each then answering as before:
 * - Configure: the server answers it itself and passes no config to the implementation. The config
 *   is how a Python or YAML program reaches vSphere, so the host gets the variables first.
 * - Read: `pulumi import` and `.get()` send no properties, and the server's read dereferences them;
 *   an empty struct stands in, which our read() takes as "import by this ID".
 */
function patchProviderServer(host: ProviderHost): void {
  const fromPulumi = { paths: [require.resolve('@pulumi/pulumi')] };
  /* eslint-disable @typescript-eslint/no-require-imports -- the instances @pulumi/pulumi's server uses */
  const grpc = require(require.resolve('@grpc/grpc-js', fromPulumi)) as { Server: { prototype: { addService: (s: unknown, impl: ProviderService) => void } } };
  const { Struct } = require(require.resolve('google-protobuf/google/protobuf/struct_pb', fromPulumi)) as { Struct: new () => unknown };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service, impl) {
    const { configure, read } = impl;
    if (configure) {
      impl.configure = (call, callback) => {
        host.configure(configFromVariables(call.request.getVariablesMap()));
        configure.call(impl, call, callback);
      };
    }
    if (read) {
      impl.read = (call, callback) => {
        if (!call.request.getProperties()) call.request.setProperties(new Struct());
        read.call(impl, call, callback);
      };
    }
    addService.call(this, service, impl);
  };
}

export async function main(args: string[]): Promise<void> {
  const host = providerHost();
  patchProviderServer(host);
  await pulumi.provider.main(new VicProvider(host), args);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(`pulumi-resource-vic: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
