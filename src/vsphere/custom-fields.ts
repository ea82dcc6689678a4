/**
 * Custom fields (CustomFieldsManager): ownership markers on pools and folders.
 * Definitions are global; values are set per entity with SetField and read back from the
 * entity's `customValue` (CustomFieldStringValue {key, value}) joined with `availableField`.
 */
import { VimFault, isDuplicateName } from './errors';
import { retrieveObject } from './property-collector';
import type { VimClient } from './session';
import { asArray, type ManagedObjectReference } from './xml';

export interface CustomFieldDef {
  readonly key: number;
  readonly name: string;
  /** The managed object type it applies to; absent = every type. */
  readonly managedObjectType?: string;
}

function manager(client: VimClient, method: string): ManagedObjectReference {
  const ref = client.serviceContent.customFieldsManager;
  if (!ref) throw new VimFault({ faultName: 'NotSupported', method }, `${method}: ${client.url.host} has no CustomFieldsManager (an ESXi host has none)`);
  return ref;
}

function toDef(raw: { key: number; name: string; managedObjectType?: string }): CustomFieldDef {
  return { key: Number(raw.key), name: raw.name, managedObjectType: raw.managedObjectType || undefined };
}

export async function listCustomFieldDefs(client: VimClient): Promise<CustomFieldDef[]> {
  const props = await retrieveObject<{ field?: Array<{ key: number; name: string; managedObjectType?: string }> }>(
    client,
    manager(client, 'RetrievePropertiesEx'),
    ['field'],
  );
  return asArray(props.field).map(toDef);
}

/** AddCustomFieldDef; DuplicateNameError when the name is taken. */
export async function addCustomFieldDef(client: VimClient, name: string, managedObjectType?: string): Promise<CustomFieldDef> {
  const raw = await client.call<{ key: number; name: string; managedObjectType?: string }>(
    'AddCustomFieldDef',
    manager(client, 'AddCustomFieldDef'),
    { name, moType: managedObjectType },
    { returns: 'CustomFieldDef' },
  );
  return toDef(raw);
}

/** The definition named `name` for `managedObjectType`, created when missing (safe against a concurrent create). */
export async function ensureCustomFieldDef(client: VimClient, name: string, managedObjectType?: string): Promise<CustomFieldDef> {
  const matches = (d: CustomFieldDef): boolean => d.name === name && d.managedObjectType === managedObjectType;
  const existing = (await listCustomFieldDefs(client)).find(matches);
  if (existing) return existing;
  try {
    return await addCustomFieldDef(client, name, managedObjectType);
  } catch (err) {
    if (!isDuplicateName(err)) throw err;
    const raced = (await listCustomFieldDefs(client)).find((d) => d.name === name);
    if (raced) return raced;
    throw err;
  }
}

/** SetField: sets the value of custom field `key` on `entity`. */
export async function setCustomField(client: VimClient, entity: ManagedObjectReference, key: number, value: string): Promise<void> {
  await client.call('SetField', manager(client, 'SetField'), { entity, key, value });
}

/**
 * Custom values by field name, from an entity's `customValue` and `availableField` properties
 * (read them in the same batch). vcsim appends on every SetField: the last value wins.
 */
export function customFieldsOf(customValue: unknown, availableField: unknown): Record<string, string> {
  const names = new Map(asArray(availableField as Array<{ key: number; name: string }>).map((f) => [Number(f.key), f.name]));
  const out: Record<string, string> = {};
  for (const v of asArray(customValue as Array<{ key: number; value?: string }>)) {
    const name = names.get(Number(v.key));
    if (name !== undefined) out[name] = v.value ?? '';
  }
  return out;
}
