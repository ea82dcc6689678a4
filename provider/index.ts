/**
 * The Terraform provider's public surface: run it (main, serve), embed it (VicProvider), or reuse its
 * derived schema and cty codec (docs and CDKTF generation read providerSchemaJson()).
 */
export { main } from './main';
export { serve, checkMagicCookie, negotiateProtocol, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, PROTOCOL_VERSION } from './serve';
export type { ServeOptions, RunningPlugin } from './serve';
export { VicProvider } from './provider';
export type { VicProviderOptions, EngineConnector } from './provider';
export { providerSchemas, buildProviderSchemas, providerSchemaJson, PROVIDER_SOURCE, PROVIDER_TYPE } from './schema';
export type { ProviderSchemas, TerraformKind, TfSchema } from './schema';
export { encodeMsgpack, decodeMsgpack, encodeJson, decodeJson, decodeDynamicValue, CodecError } from './codec';
export { refinedUnknown, isRefinedUnknown, dynamicValue, isDynamicValue } from './cty';
export type { CtyType, CtyValue, Refinement } from './cty';
export { stderrLogger } from './log';
export type { Logger, LogLevel } from './log';
