/**
 * `docker login` against the endpoint: the credentials are checked with the registry itself
 * (its `/v2/` with basic auth, or the token service its challenge names), through the registry
 * client pulls use (an insecure registry's certificate unverified, or plain HTTP), then forgotten;
 * the CLI keeps them and sends them with every pull (X-Registry-Auth).
 */
import { RegistryLoginRefused, type Engine } from '../engine';
import { ApiError } from './protocol';

/** Docker Hub's names, as the CLI sends them with no server named. */
const DOCKER_HUB = /^(index\.)?docker\.io$|^registry-1\.docker\.io$/;

export async function checkRegistryLogin(engine: Engine, host: string, creds: { username: string; password: string }, insecure: boolean): Promise<void> {
  try {
    await engine.verifyRegistryLogin(host, creds, insecure);
  } catch (err) {
    if (err instanceof RegistryLoginRefused) throw new ApiError(401, `login to ${host} refused: unauthorized: incorrect username or password`);
    const why = err instanceof Error ? err.message : String(err);
    const hint =
      insecure || DOCKER_HUB.test(host)
        ? ''
        : `; if it serves plain HTTP or a certificate this machine does not trust, start the endpoint with --insecure-registry ${host}`;
    throw new ApiError(500, `cannot log in to registry ${host}: ${why}${hint}`);
  }
}
