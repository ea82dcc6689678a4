/**
 * Datastore directories as vSphere lists them (HostDatastoreBrowser.SearchDatastore_Task): the
 * portable way to ask whether a directory exists and what it holds. The HTTP `/folder` interface
 * answers for files only; a directory listing there is a server's courtesy, not an API.
 */
import { isNotFound } from './errors';
import { parseDatastorePath } from './file-manager';
import { retrieveObject } from './property-collector';
import type { VimClient } from './session';
import { runTask } from './tasks';
import { asArray, type ManagedObjectReference } from './xml';

export interface DatastoreEntry {
  readonly name: string;
  readonly folder: boolean;
  /** When it was last changed, on the host's clock: only when asked for (`modification`). */
  readonly modified?: Date;
}

/**
 * The entries of a datastore directory (`[ds] a/b`) whose names match `pattern` (a glob), or
 * undefined when it does not exist; with `modification`, each entry's time of last change.
 */
export async function listDatastoreDirectory(
  client: VimClient,
  datastore: ManagedObjectReference,
  dsPath: string,
  pattern = '*',
  options: { modification?: boolean } = {},
): Promise<DatastoreEntry[] | undefined> {
  const { browser } = await retrieveObject<{ browser: ManagedObjectReference }>(client, datastore, ['browser']);
  let result: { file?: Array<{ $type?: string; path?: string; modification?: string }> } | undefined;
  try {
    result = await runTask(client, 'SearchDatastore_Task', browser, {
      datastorePath: dsPath,
      searchSpec: { details: { fileType: true, fileSize: false, modification: options.modification === true, fileOwner: false }, matchPattern: [pattern] },
    });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  return asArray(result?.file).map((f) => ({
    name: String(f.path ?? ''),
    folder: f.$type === 'FolderFileInfo',
    ...(f.modification ? { modified: new Date(String(f.modification)) } : {}),
  }));
}

/** Whether `[ds] a/b` is an existing directory (looked up in its parent's listing). */
export async function datastoreDirectoryExists(client: VimClient, datastore: ManagedObjectReference, dsPath: string): Promise<boolean> {
  const { datastore: name, path } = parseDatastorePath(dsPath);
  const parts = path
    .replace(/\/+$/, '')
    .split('/')
    .filter((p) => p !== '');
  if (parts.length === 0) return true;
  const base = parts.pop() as string;
  const parent = parts.length > 0 ? `[${name}] ${parts.join('/')}` : `[${name}]`;
  // Only that name: the parent may be a datastore root with thousands of entries.
  const entries = await listDatastoreDirectory(client, datastore, parent, base.replace(/[*?[\]]/g, '?'));
  return Boolean(entries?.some((e) => e.folder && e.name === base));
}

export interface DatastoreFolder {
  /** `[ds] a/b/c`, as vSphere spells it. */
  readonly folderPath: string;
  readonly files: readonly DatastoreEntry[];
}

/**
 * The files under a datastore directory and all its subdirectories, in one task
 * (SearchDatastoreSubFolders_Task): how a store of many small directories is read in one round
 * trip. Undefined when the directory does not exist.
 */
export async function listDatastoreSubFolders(
  client: VimClient,
  datastore: ManagedObjectReference,
  dsPath: string,
  pattern = '*',
): Promise<DatastoreFolder[] | undefined> {
  const { browser } = await retrieveObject<{ browser: ManagedObjectReference }>(client, datastore, ['browser']);
  let result: Array<{ folderPath?: string; file?: Array<{ $type?: string; path?: string }> }> | { folderPath?: string } | undefined;
  try {
    result = await runTask(client, 'SearchDatastoreSubFolders_Task', browser, {
      datastorePath: dsPath,
      searchSpec: { details: { fileType: true, fileSize: false, modification: false, fileOwner: false }, matchPattern: [pattern] },
    });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  return asArray(result as Array<{ folderPath?: string; file?: Array<{ $type?: string; path?: string }> }> | undefined).map((r) => ({
    folderPath: String(r.folderPath ?? ''),
    files: asArray(r.file).map((f) => ({ name: String(f.path ?? ''), folder: f.$type === 'FolderFileInfo' })),
  }));
}
