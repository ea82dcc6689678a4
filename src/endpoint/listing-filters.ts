/**
 * The `filters` of `docker images` and `docker network ls` (and the SDKs' list calls), with
 * dockerd's meaning for each key. A key vic-iac does not know is refused with a 400 naming those it
 * knows, never ignored: a filter dropped silently is a wrong answer that looks right.
 */
import { badRequest } from './protocol';

/** A filter key outside `known`, as dockerd's 400 words it, with the keys this listing takes. */
export function refuseUnknownFilters(filters: ReadonlyMap<string, readonly string[]>, known: readonly string[], what: string): void {
  for (const key of filters.keys()) {
    if (!known.includes(key)) throw badRequest(`invalid filter '${key}': vic-iac filters ${what} by ${known.join(', ')}`);
  }
}

/** Whether `values` (a filter's values; none means no filter) holds "true" and/or "false" only, and which. */
function booleanFilter(key: string, values: readonly string[]): boolean | undefined {
  if (values.length === 0) return undefined;
  const wanted = new Set(values.map((v) => v.toLowerCase()));
  for (const v of wanted) {
    if (v !== 'true' && v !== 'false' && v !== '1' && v !== '0') throw badRequest(`invalid filter '${key}=${v}': use ${key}=true or ${key}=false`);
  }
  const yes = wanted.has('true') || wanted.has('1');
  const no = wanted.has('false') || wanted.has('0');
  return yes && no ? undefined : yes;
}

/** `label=k` (has the key) or `label=k=v` (has it with that value); any of the values given. */
export function labelMatches(labels: Readonly<Record<string, string>>, values: readonly string[]): boolean {
  return values.some((v) => {
    const i = v.indexOf('=');
    return i < 0 ? v in labels : labels[v.slice(0, i)] === v.slice(i + 1);
  });
}

/** The label filters of dockerd's prunes: each `label` given matches, and no `label!`. */
export function prunable(labels: Readonly<Record<string, string>>, filters: ReadonlyMap<string, readonly string[]>): boolean {
  return (filters.get('label') ?? []).every((v) => labelMatches(labels, [v])) && !(filters.get('label!') ?? []).some((v) => labelMatches(labels, [v]));
}

/**
 * Go's path.Match, which dockerd uses for `reference=`: `*` is any run of characters but `/`, `?`
 * one such character, `[...]` a class (`^` or `!` negates), `\` escapes.
 */
export function globMatches(pattern: string, text: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) return false;
      let body = pattern.slice(i + 1, end);
      if (body.startsWith('!') || body.startsWith('^')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  try {
    return new RegExp(`${re}$`).test(text);
  } catch {
    return false;
  }
}

/** A row of `GET /images/json` as the endpoint makes it, for filtering. */
export interface ImageRow {
  readonly Id: string;
  readonly RepoTags: readonly string[];
  readonly RepoDigests?: readonly string[];
  readonly Created: number;
  readonly Labels: Readonly<Record<string, string>>;
}

export const IMAGE_FILTERS = ['dangling', 'reference', 'label', 'before', 'since', 'until'];

/**
 * `docker images [REPOSITORY[:TAG]] [--filter …]`: every image of the store is tagged (it is
 * stored under the reference it was pulled as), so `dangling=true` shows none. `before`/`since`
 * name an image (by reference or id) and compare creation times, as dockerd does; `until` takes a
 * timestamp or a duration.
 */
export function filterImages<T extends ImageRow>(rows: readonly T[], filters: ReadonlyMap<string, readonly string[]>, now = Date.now()): T[] {
  refuseUnknownFilters(filters, IMAGE_FILTERS, 'images');
  const createdOf = (key: string): number[] =>
    (filters.get(key) ?? []).map((ref) => {
      const found = rows.find(
        (r) => r.RepoTags.some((t) => t === ref || t === `${ref}:latest`) || r.Id === ref || r.Id.slice(7).startsWith(ref.replace(/^sha256:/, '')),
      );
      if (!found) throw badRequest(`invalid filter '${key}=${ref}': No such image: ${ref}`);
      return found.Created;
    });
  const before = createdOf('before');
  const since = createdOf('since');
  const until = (filters.get('until') ?? []).map((v) => untilSeconds(v, now));
  const dangling = booleanFilter('dangling', filters.get('dangling') ?? []);
  const references = filters.get('reference') ?? [];
  const labels = filters.get('label') ?? [];
  const named = (t: string) => references.some((p) => globMatches(p, t) || globMatches(p, repositoryPart(t)));
  // Each label filter must hold, as dockerd's MatchKVList.
  const kept = rows.filter(
    (r) =>
      dangling !== true &&
      // Tags and digests both, as dockerd: an image pulled by digest, or whose tag moved on, has no tag.
      (references.length === 0 || r.RepoTags.some(named) || (r.RepoDigests ?? []).some(named)) &&
      labels.every((v) => labelMatches(r.Labels, [v])) &&
      before.every((c) => r.Created < c) &&
      since.every((c) => r.Created > c) &&
      until.every((c) => r.Created <= c),
  );
  // As dockerd, an image found by reference shows only the names that matched, not its others.
  if (references.length === 0) return kept;
  return kept.map((r) => ({ ...r, RepoTags: r.RepoTags.filter(named), ...(r.RepoDigests ? { RepoDigests: r.RepoDigests.filter(named) } : {}) }));
}

/** A reference without its tag or digest: what `reference=busybox` matches, as dockerd's. */
function repositoryPart(reference: string): string {
  return reference.replace(/@sha256:[0-9a-f]+$/, '').replace(/:[^:/]+$/, '');
}

/** `until=`: Unix seconds, an RFC 3339 time, or a Go duration before now (`10m`, `1h30m`). */
export function untilSeconds(text: string, now: number): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const duration = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (duration && text !== '') {
    const [, h = '0', m = '0', s = '0'] = duration;
    return Math.floor(now / 1000) - (Number(h) * 3600 + Number(m) * 60 + Number(s));
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw badRequest(`invalid filter 'until=${text}': use Unix seconds, an RFC 3339 time or a duration such as 10m`);
  return Math.floor(ms / 1000);
}

/** dockerd's `name=` on networks: a regular expression, else (not one) a part of the name. */
function patternMatches(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern).test(text);
  } catch {
    return text.includes(pattern);
  }
}

/** A network as `GET /networks` shows it, for filtering. */
export interface NetworkRow {
  readonly Name: string;
  readonly Id: string;
  readonly Driver: string;
  readonly Scope: string;
  readonly Labels: Readonly<Record<string, string>>;
  readonly Containers: Readonly<Record<string, unknown>>;
  /** Docker's predefined networks (here: bridge and none): type builtin, never dangling. Not sent. */
  readonly builtin?: boolean;
  /** Other names that find it (the bridge network's port group name, as --network takes it). Not sent. */
  readonly aliases?: readonly string[];
  /** The port group it is, for one that docker did not make. Not sent. */
  readonly portGroup?: string;
}

export const NETWORK_FILTERS = ['name', 'id', 'driver', 'scope', 'type', 'label', 'dangling'];

/**
 * `docker network ls --filter …` with dockerd's meanings: `name` is a regular expression over the
 * name, `id` a part of the id, `type` is `custom` (a port group is the user's, made in vSphere) or `builtin` (bridge and none),
 * `dangling=true` the networks no container is on.
 */
export function filterNetworks<T extends NetworkRow>(rows: readonly T[], filters: ReadonlyMap<string, readonly string[]>): T[] {
  refuseUnknownFilters(filters, NETWORK_FILTERS, 'networks');
  for (const t of filters.get('type') ?? []) {
    if (t !== 'custom' && t !== 'builtin') throw badRequest(`invalid filter 'type=${t}': use type=custom or type=builtin`);
  }
  const dangling = booleanFilter('dangling', filters.get('dangling') ?? []);
  const any = (key: string, test: (v: string) => boolean) => {
    const values = filters.get(key) ?? [];
    return values.length === 0 || values.some(test);
  };
  return rows.filter(
    (n) =>
      any('name', (v) => [n.Name, ...(n.aliases ?? [])].some((name) => patternMatches(v, name))) &&
      any('id', (v) => n.Id.includes(v)) &&
      any('driver', (v) => n.Driver === v) &&
      any('scope', (v) => n.Scope === v) &&
      any('type', (v) => v === (n.builtin ? 'builtin' : 'custom')) &&
      (filters.get('label') ?? []).every((v) => labelMatches(n.Labels, [v])) &&
      (dangling === undefined || dangling === (!n.builtin && Object.keys(n.Containers).length === 0)),
  );
}
