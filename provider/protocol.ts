/**
 * The plugin's gRPC services built straight from protobufjs types. @grpc/proto-loader would also
 * build reflection descriptors for every message, which costs tens of milliseconds at each start;
 * Terraform starts the provider for every phase. The bundle reads a descriptor precompiled from
 * provider/proto at install time (protobufjs/light, no .proto parser); the source tree parses the
 * .proto files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type * as protobuf from 'protobufjs';

export const PROTO_FILES = ['tfplugin6.proto', 'go-plugin.proto', 'health.proto'] as const;
/** Written next to the bundle's proto/ by scripts/install-provider.sh (compileDescriptor). */
export const PRECOMPILED_DESCRIPTOR = 'descriptor.json';

/** Field names as written in the .proto (snake_case), enums as names, int64 as numbers. */
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: false, oneofs: true };

export function protoDirectory(): string {
  return process.env.VIC_PROVIDER_PROTO_DIR ?? join(__dirname, 'proto');
}

/** Parses the .proto files (build time and tests). */
export function parseProtos(dir = protoDirectory()): protobuf.Root {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the full build with the parser, only here
  const full = require('protobufjs') as typeof protobuf;
  const root = new full.Root();
  root.resolvePath = (_origin, target) => join(dir, target);
  root.loadSync([...PROTO_FILES], { keepCase: true });
  return root;
}

/** The JSON the bundle loads instead of the .proto text. */
export function compileDescriptor(dir = protoDirectory()): object {
  return parseProtos(dir).toJSON();
}

export function loadProtocolRoot(dir = protoDirectory()): protobuf.Root {
  const precompiled = join(dir, PRECOMPILED_DESCRIPTOR);
  if (!existsSync(precompiled)) return parseProtos(dir).resolveAll() as protobuf.Root;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- protobufjs without its parser
  const light = require('protobufjs/light') as typeof protobuf;
  return light.Root.fromJSON(JSON.parse(readFileSync(precompiled, 'utf8')) as protobuf.INamespace).resolveAll() as protobuf.Root;
}

/** A grpc-js service definition for one service of the root, e.g. "tfplugin6.Provider". */
export function serviceDefinition(root: protobuf.Root, fullName: string): grpc.ServiceDefinition {
  const service = root.lookupService(fullName);
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const req = method.resolvedRequestType!;
    const res = method.resolvedResponseType!;
    definition[method.name] = {
      path: `/${fullName}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: (o) => Buffer.from(req.encode(req.fromObject(o as object)).finish()),
      requestDeserialize: (b) => req.toObject(req.decode(b), TO_OBJECT),
      responseSerialize: (o) => Buffer.from(res.encode(res.fromObject(o as object)).finish()),
      responseDeserialize: (b) => res.toObject(res.decode(b), TO_OBJECT),
      originalName: method.name,
    };
  }
  return definition as grpc.ServiceDefinition;
}
