/**
 * Public surface of the vim25 client. Everything not re-exported here is internal.
 *
 *   const client = await VimClient.connect({ url, username, password, thumbprint });
 *   const rows = await retrieveFromContainer(client, { container: dc, type: 'VirtualMachine', paths: ['name'] });
 *   await client.close();
 */
export * from './errors';
export { DEFAULT_RETRY_POLICY, backoffDelayMs, retryTransient, type RetryPolicy } from './retry';
export { normalizeThumbprint, type TlsTrust } from './tls';
export { SoapStats, redactXml, type SoapLogEvent, type SoapLogger } from './soap';
export {
  VimClient,
  normalizeSdkUrl,
  type CallOptions,
  type ServiceContent,
  type UserSession,
  type VimClientOptions,
} from './session';
export {
  asArray,
  isMoRef,
  moRef,
  sameMoRef,
  xsdBoolean,
  xsdInt,
  xsdLong,
  xsdString,
  type ManagedObjectReference,
  type MoRef,
  type TypedScalar,
} from './xml';
