/**
 * VIC Group1 1-27 login. VIC pulled a private repository of Docker Hub before and after `docker
 * login`, tried a wrong password, logged out, then logged in to a Harbor. Here the registries are the
 * test bed's own (no Docker Hub): the bed's open one, one with htpasswd basic auth, and one whose
 * credentials a token service checks (Harbor's kind of auth: bearer tokens). docs/endpoint.md: the
 * endpoint checks a login with the registry and keeps nothing, the CLI sends the credentials with
 * each pull, so after `docker logout` a pull is anonymous again. No guest boots in this file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useRegistry } from '../helpers/registry';
import { busyboxImage, useDockerBed } from './docker-env';

describe('1-27 docker login', () => {
  const bed = useDockerBed({ vchName: 'vch-login' });
  const basic = useRegistry({ basicAuth: { username: 'victest', password: 'victest-Pw1' } });
  const token = useRegistry({ tokenAuth: { username: 'harbor-user', password: 'harbor-Pw2' } });
  // A Harbor as installed: HTTPS with its own self-signed certificate, named an insecure registry.
  const harborTls = useRegistry({ tokenAuth: { username: 'harbor-admin', password: 'harbor-Pw3' }, tls: true });
  let privateImage = '';
  let harborImage = '';

  beforeAll(async () => {
    await basic().pushImage(busyboxImage(), 'victest/busybox:1');
    await token().pushImage(busyboxImage(), 'library/busybox:1');
    privateImage = `${basic().host}/victest/busybox:1`;
    harborImage = `${token().host}/library/busybox:1`;
    // Both serve plain HTTP, as the bed's own registry does.
    bed().insecureRegistries.push(basic().host, token().host);
    await harborTls().pushImage(busyboxImage(), 'library/busybox:1');
    bed().insecureRegistries.push(harborTls().host);
  }, 120_000);

  /** The registries the docker CLI keeps credentials for (its config.json, in the bed's DOCKER_CONFIG). */
  const storedLogins = (): string[] => {
    const file = join(String(bed().env.DOCKER_CONFIG), 'config.json');
    if (!existsSync(file)) return [];
    const config = JSON.parse(readFileSync(file, 'utf8')) as { auths?: Record<string, unknown> };
    return Object.keys(config.auths ?? {});
  };

  const login = (user: string, password: string, registry: string) =>
    bed().docker(['login', '--username', user, '--password-stdin', registry], { input: `${password}\n` });

  test('GIVEN no login WHEN a repository that wants credentials is pulled THEN it exits 1 saying access is denied and to log in; an open one pulls', async () => {
    const denied = await bed().docker(['pull', privateImage], { timeoutMs: 120_000 });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(`pull access denied for ${privateImage}: registry ${basic().host} requires credentials`);
    expect(denied.stderr).toContain(`log in with docker login ${basic().host}`);
    expect(await bed().dockerOk(['images', '-q', `${basic().host}/victest/busybox`])).toBe('');

    const open = await bed().docker(['pull', bed().image], { timeoutMs: 180_000 });
    expect([open.code, open.stderr]).toEqual([0, '']);
    expect(open.stdout.trim().split('\n').pop()).toBe(bed().image);
  });

  test('GIVEN a wrong password WHEN docker login runs THEN it exits 1 with incorrect username or password, shows no password, and the CLI stores nothing', async () => {
    const r = await login('victest', 'incorrectPassword', basic().host);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('Login Succeeded');
    expect(r.stderr).toContain('unauthorized: incorrect username or password');
    expect(r.stderr).not.toContain('incorrectPassword');
    expect(storedLogins()).not.toContain(basic().host);
  });

  test('GIVEN the right password WHEN docker login runs THEN Login Succeeded, the pull works; after docker logout the same pull is denied again', async () => {
    const r = await login('victest', 'victest-Pw1', basic().host);
    expect([r.code, r.stdout.trim()]).toEqual([0, 'Login Succeeded']);
    expect(r.stderr).not.toContain('victest-Pw1');
    expect(storedLogins()).toContain(basic().host);

    const pulled = await bed().docker(['pull', privateImage], { timeoutMs: 180_000 });
    expect([pulled.code, pulled.stderr]).toEqual([0, '']);
    expect(pulled.stdout).toContain(`Status: Downloaded newer image for ${privateImage}`);
    expect(await bed().dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}', `${basic().host}/victest/busybox`])).toBe(privateImage);

    const out = await bed().docker(['logout', basic().host]);
    expect([out.code, out.stdout.trim(), out.stderr]).toEqual([0, `Removing login credentials for ${basic().host}`, '']);
    expect(storedLogins()).not.toContain(basic().host);
    // The endpoint kept nothing of the login: without the CLI's credentials the registry refuses it.
    const again = await bed().docker(['pull', privateImage], { timeoutMs: 120_000 });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`pull access denied for ${privateImage}`);
  });

  test('GIVEN a registry whose logins a token service checks (as Harbor) WHEN docker login runs THEN the right password succeeds and the pull works, a wrong one is refused', async () => {
    const wrong = await login('harbor-user', 'harbor-Pw21', token().host);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('unauthorized: incorrect username or password');
    expect(storedLogins()).not.toContain(token().host);

    const right = await login('harbor-user', 'harbor-Pw2', token().host);
    expect([right.code, right.stdout.trim()]).toEqual([0, 'Login Succeeded']);
    const pulled = await bed().docker(['pull', harborImage], { timeoutMs: 180_000 });
    expect([pulled.code, pulled.stderr]).toEqual([0, '']);
    expect(pulled.stdout.trim().split('\n').pop()).toBe(harborImage);
    expect((await bed().docker(['logout', token().host])).code).toBe(0);
  });

  test('GIVEN a token-checked registry on HTTPS with a self-signed certificate, named insecure WHEN docker login runs THEN the right password succeeds and a wrong one is refused, as pulls reach it', async () => {
    const wrong = await login('harbor-admin', 'not-it', harborTls().host);
    expect([wrong.code, wrong.stderr]).toEqual([1, expect.stringContaining('unauthorized: incorrect username or password')]);
    const right = await login('harbor-admin', 'harbor-Pw3', harborTls().host);
    expect([right.code, right.stdout.trim(), right.stderr]).toEqual([0, 'Login Succeeded', expect.not.stringContaining('Error')]);
    const pulled = await bed().docker(['pull', `${harborTls().host}/library/busybox:1`], { timeoutMs: 180_000 });
    expect([pulled.code, pulled.stderr]).toEqual([0, '']);
    expect((await bed().docker(['logout', harborTls().host])).code).toBe(0);
  });
});
