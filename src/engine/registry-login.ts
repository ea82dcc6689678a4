/**
 * A registry login check for front ends (the Docker endpoint's `docker login`): whether the registry
 * takes the credentials, through the registry client pulls use, so an insecure registry is reached
 * as a pull reaches it (its certificate unverified, or plain HTTP).
 */
import { RegistryAuthError } from '../images/errors';
import { RegistryClient } from '../images/registry-client';
import { RegistryLoginRefused } from '../resources/errors';

/** Resolves when `host` takes the credentials; RegistryLoginRefused when it refuses them, another error when it cannot be asked. */
export async function verifyRegistryLogin(host: string, credentials: { username: string; password: string }, insecure: boolean): Promise<void> {
  const client = await RegistryClient.create(host, { credentials, insecure });
  try {
    await client.checkLogin();
  } catch (err) {
    if (err instanceof RegistryAuthError) throw new RegistryLoginRefused(host);
    throw err;
  } finally {
    await client.close();
  }
}
