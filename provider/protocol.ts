/**
 * The plugin's gRPC services built straight from protobuf message code. @grpc/proto-loader would also
 * build reflection descriptors for every message, which costs tens of milliseconds at each start;
 * Terraform starts the provider for every phase. The installed provider loads static code generated
 * from provider/proto at install time (protocol-static.js beside main.js, written by
 * scripts/build-protocol.ts): no descriptor to build and no encoder to generate at run time. The
 * source tree parses the .proto files and uses protobufjs reflection; both give the same objects.
 */
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type * as protobuf from 'protobufjs';
import { loadSideBundle } from './code-cache';

export const PROTO_FILES = ['tfplugin6.proto', 'go-plugin.proto', 'health.proto'] as const;
/** The static message code and service table, beside main.js in the installed provider. */
export const STATIC_PROTOCOL_BUNDLE = 'protocol-static.js';

/** Field names as written in the .proto (snake_case), enums as names, int64 as numbers. */
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: false, oneofs: true };

/** What the services need of a message: protobufjs reflection types and static classes both have it. */
export interface MessageCodec {
  encode(message: object): { finish(): Uint8Array };
  decode(bytes: Uint8Array): object;
  fromObject(object: object): object;
  toObject(message: object, options: protobuf.IConversionOptions): object;
}

/** One RPC of a service, as the .proto declares it; type names are fully qualified, without the leading dot. */
export interface RpcShape {
  readonly name: string;
  readonly requestType: string;
  readonly responseType: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/** Service full name (e.g. "tfplugin6.Provider") → its RPCs. */
export type ServiceShapes = Readonly<Record<string, readonly RpcShape[]>>;

export interface Protocol {
  readonly services: ServiceShapes;
  message(fullName: string): MessageCodec;
}

/** What protocol-static.js exports: pbjs's static module (namespaces of message classes) and the services. */
export interface StaticProtocolModule {
  readonly messages: object;
  readonly services: ServiceShapes;
}

export function protoDirectory(): string {
  return process.env.VIC_PROVIDER_PROTO_DIR ?? join(__dirname, 'proto');
}

/** Parses the .proto files (build time, tests, the source tree). */
export function parseProtos(dir = protoDirectory()): protobuf.Root {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the full build with the parser, never in the installed provider
  const full = require('protobufjs') as typeof protobuf;
  const root = new full.Root();
  root.resolvePath = (_origin, target) => join(dir, target);
  root.loadSync([...PROTO_FILES], { keepCase: true });
  return root.resolveAll() as protobuf.Root;
}

/** Every service of the root with its RPCs. */
export function serviceShapes(root: protobuf.Root): ServiceShapes {
  const services: Record<string, RpcShape[]> = {};
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const nested of ns.nestedArray) {
      if ('methodsArray' in nested) {
        const service = nested as protobuf.Service;
        services[service.fullName.slice(1)] = service.methodsArray.map((method) => {
          method.resolve();
          return {
            name: method.name,
            requestType: method.resolvedRequestType!.fullName.slice(1),
            responseType: method.resolvedResponseType!.fullName.slice(1),
            requestStream: method.requestStream === true,
            responseStream: method.responseStream === true,
          };
        });
      } else if ('nestedArray' in nested) {
        visit(nested as protobuf.NamespaceBase);
      }
    }
  };
  visit(root);
  return services;
}

/** The protocol through protobufjs reflection (code generated at run time, type by type). */
export function reflectedProtocol(root: protobuf.Root): Protocol {
  return { services: serviceShapes(root), message: (fullName) => root.lookupType(fullName) };
}

/** The protocol through the static code of protocol-static.js. */
export function staticProtocol(mod: StaticProtocolModule): Protocol {
  return {
    services: mod.services,
    message: (fullName) => {
      const found = fullName.split('.').reduce<unknown>((ns, part) => (ns as Record<string, unknown> | undefined)?.[part], mod.messages);
      if (typeof found !== 'function') throw new Error(`no message type ${fullName} in ${STATIC_PROTOCOL_BUNDLE}`);
      return found as unknown as MessageCodec;
    },
  };
}

/** The installed provider's static code when it is there (through the code cache); else the parsed .proto files. */
export function loadProtocol(): Protocol {
  const bundled = loadSideBundle<StaticProtocolModule | undefined>(STATIC_PROTOCOL_BUNDLE, () => undefined);
  return bundled ? staticProtocol(bundled) : reflectedProtocol(parseProtos());
}

/** A grpc-js service definition for one service of the protocol, e.g. "tfplugin6.Provider". */
export function serviceDefinition(protocol: Protocol, fullName: string): grpc.ServiceDefinition {
  const rpcs = protocol.services[fullName];
  if (!rpcs) throw new Error(`no service ${fullName} in the plugin protocol`);
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const rpc of rpcs) {
    const req = protocol.message(rpc.requestType);
    const res = protocol.message(rpc.responseType);
    definition[rpc.name] = {
      path: `/${fullName}/${rpc.name}`,
      requestStream: rpc.requestStream,
      responseStream: rpc.responseStream,
      requestSerialize: (o) => Buffer.from(req.encode(req.fromObject(o as object)).finish()),
      requestDeserialize: (b) => req.toObject(req.decode(b), TO_OBJECT),
      responseSerialize: (o) => Buffer.from(res.encode(res.fromObject(o as object)).finish()),
      responseDeserialize: (b) => res.toObject(res.decode(b), TO_OBJECT),
      originalName: rpc.name,
    };
  }
  return definition as grpc.ServiceDefinition;
}
