/**
 * NODE_EXTRA_CA_CERTS without its start-up cost.
 *
 * When NODE_EXTRA_CA_CERTS is set, Node builds its whole root store (some 140 certificates plus the
 * file's) while it starts, before any JavaScript runs: about 45 ms of CPU on every start, and
 * Terraform starts the provider three or four times per command, most of them only to validate. So
 * the provider's launchers (`VIC_DEFER_EXTRA_CA_CERTS` in scripts/lib.sh) move the variable to
 * VIC_EXTRA_CA_CERTS, and the trust is rebuilt here, once, by the first TLS connection that uses the
 * default trust (vSphere or a registry without a CA file of its own), through
 * `trustConnector` (src/vsphere/tls.ts). Nothing here loads undici: the provider's
 * handshake bundle imports this module, and every start would pay for it. Semantics stay Node's: the file
 * extends the bundled roots, a `ca` of its own replaces both, and a file that cannot be loaded is
 * ignored with a warning.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

/** Where the launchers put the value of NODE_EXTRA_CA_CERTS they took away from Node's start. */
export const DEFERRED_EXTRA_CA_CERTS = 'VIC_EXTRA_CA_CERTS';

const built = new Map<string, SecureContext | undefined>();

/**
 * The secure context for default trust (the bundled roots plus the deferred file), or undefined when
 * nothing was deferred: then Node's own default trust applies, NODE_EXTRA_CA_CERTS included.
 */
export function defaultTrustContext(env: NodeJS.ProcessEnv = process.env): SecureContext | undefined {
  const file = env[DEFERRED_EXTRA_CA_CERTS];
  if (!file) return undefined;
  if (built.has(file)) return built.get(file);
  let context: SecureContext | undefined;
  try {
    context = createSecureContext({ ca: [...rootCertificates, readFileSync(file, 'utf8')] });
  } catch (err) {
    // Node's own words for the same failure, so a user sees what they would see without the launcher.
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(err as Error).message}`);
  }
  built.set(file, context);
  return context;
}

/**
 * Gives the deferred file back to NODE_EXTRA_CA_CERTS, for the child processes this one starts.
 * Node reads the variable only at start, so this process's own trust is unchanged by it.
 */
export function restoreExtraCaCertsForChildren(env: NodeJS.ProcessEnv = process.env): void {
  const file = env[DEFERRED_EXTRA_CA_CERTS];
  if (file && !env.NODE_EXTRA_CA_CERTS) env.NODE_EXTRA_CA_CERTS = file;
}
