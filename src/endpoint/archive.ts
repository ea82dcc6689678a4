/**
 * docker cp: `HEAD`, `GET` and `PUT /containers/{id}/archive`. The guest's tether reads and writes
 * the container's files itself, as dockerd does (no tool of the image's is needed), asked as an
 * exec request with an archive and no command (ArchiveRequest); what it answers comes back on the
 * console under that exec's frames: the path's stat, then a tar (get), or its exit code alone (put,
 * whose tar goes to the guest as the exec's input).
 */
import * as tar from 'tar-stream';
import type { ArchiveRequest } from '../engine';
import type { OutputLine } from '../resources';
import { ApiError, badRequest } from './protocol';

/** The header that carries a path's stat (base64 of its JSON), as dockerd's. */
export const PATH_STAT_HEADER = 'X-Docker-Container-Path-Stat';

/** The guest's request for an archive call, from its method and query; a missing path is a 400. */
export function archiveRequest(method: string, query: URLSearchParams): ArchiveRequest {
  const path = query.get('path') ?? '';
  if (path === '') throw badRequest('docker cp: the path in the container is empty: give ?path=<path in the container>');
  if (method === 'HEAD') return { op: 'stat', path };
  if (method === 'GET') return { op: 'get', path };
  const yes = (name: string) => ['1', 'true'].includes((query.get(name) ?? '').toLowerCase());
  return {
    op: 'put',
    path,
    ...(yes('noOverwriteDirNonDir') ? { no_overwrite_dir_non_dir: true } : {}),
    ...(yes('copyUIDGID') ? { copy_uid_gid: true } : {}),
  };
}

/** What the tether's exit code and stderr say, as the API's error (exit codes: ArchiveRequest). */
export function archiveFailure(exitCode: number, stderr: string, path: string, container: string): ApiError {
  const why = stderr.trim();
  if (exitCode === 2) return new ApiError(404, `Could not find the file ${path} in container ${container}`);
  if (exitCode === 3) return new ApiError(400, why || `docker cp to ${container}:${path} was refused`);
  if (exitCode === 137) return new ApiError(409, `container ${container} stopped during docker cp of ${path}`);
  return new ApiError(500, `docker cp of ${container}:${path} failed in the container VM (exit ${exitCode})${why ? `: ${why}` : ''}`);
}

/**
 * The exec's output as docker cp reads it: stderr kept for the error, stdout's first line the
 * path's stat (its JSON, then `head` is called once with it), the rest the tar, passed to `body`.
 * A stat's whole stdout is the JSON: `end` hands it over.
 */
export class ArchiveOutput {
  private stdout: Buffer[] = [];
  private stat: string | undefined;
  stderr = '';

  constructor(private readonly o: { head?: (statJson: string) => void; body?: (data: Buffer) => void }) {}

  write(lines: readonly OutputLine[]): void {
    for (const l of lines) {
      if (l.stream === 'stderr') this.stderr += l.data.toString('utf8');
      else if (this.stat !== undefined) this.o.body?.(l.data);
      else this.takeStat(l.data);
    }
  }

  private takeStat(data: Buffer): void {
    this.stdout.push(data);
    if (!this.o.head) return;
    const all = Buffer.concat(this.stdout);
    const newline = all.indexOf(0x0a);
    if (newline < 0) return;
    this.stdout = [];
    this.stat = all.subarray(0, newline).toString('utf8');
    this.o.head(this.stat);
    if (newline + 1 < all.length) this.o.body?.(all.subarray(newline + 1));
  }

  /** A stat's JSON (all its stdout), or get's stat line once it came. */
  statJson(): string | undefined {
    return this.stat ?? (this.o.head ? undefined : Buffer.concat(this.stdout).toString('utf8'));
  }
}

/** The stat header's value: base64 of the JSON, as the docker CLI decodes it. */
export function pathStatHeader(statJson: string): string {
  return Buffer.from(statJson, 'utf8').toString('base64');
}

/** A tar of one regular file (mode 0644, owned by root): what a write of one file into a container sends. */
export async function tarOfFile(name: string, content: string): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name, mode: 0o644, mtime: new Date() }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
