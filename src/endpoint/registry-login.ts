/**
 * `docker login` against the endpoint: the credentials are checked with the registry itself
 * (its `/v2/` with basic auth, or the token service its challenge names), then forgotten; the
 * CLI keeps them and sends them with every pull (X-Registry-Auth).
 */
import { ApiError } from './protocol';

export async function checkRegistryLogin(host: string, creds: { username: string; password: string }, insecure: boolean): Promise<void> {
  const basic = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
  const schemes = insecure ? ['https', 'http'] : ['https'];
  let lastError: unknown;
  for (const scheme of schemes) {
    let res: Response;
    try {
      res = await fetch(`${scheme}://${host}/v2/`, { headers: { Authorization: basic }, signal: AbortSignal.timeout(15_000) });
    } catch (err) {
      lastError = err;
      continue;
    }
    if (res.ok) return;
    const challenge = res.headers.get('www-authenticate') ?? '';
    if (res.status === 401 && /^Bearer /i.test(challenge)) {
      const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      if (!params.realm) throw new ApiError(500, `registry ${host} asks for a bearer token but names no realm`);
      const url = new URL(params.realm);
      if (params.service) url.searchParams.set('service', params.service);
      const token = await fetch(url, { headers: { Authorization: basic }, signal: AbortSignal.timeout(15_000) });
      if (token.ok) return;
      throw new ApiError(401, `login to ${host} refused: unauthorized: incorrect username or password`);
    }
    if (res.status === 401) throw new ApiError(401, `login to ${host} refused: unauthorized: incorrect username or password`);
    throw new ApiError(500, `registry ${host} answered ${res.status} to /v2/`);
  }
  const why = lastError instanceof Error ? lastError.message : String(lastError);
  throw new ApiError(
    500,
    `cannot reach registry ${host} (${why})${insecure ? '' : `; if it serves plain HTTP, start the endpoint with --insecure-registry ${host}`}`,
  );
}
