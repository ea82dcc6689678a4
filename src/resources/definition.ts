/**
 * What a resource declares: its schema (data) and, separately, its lifecycle against vSphere. Front
 * ends and generators only ever read the declarative half, so they never load vSphere code.
 */
import { Attrs, Schema } from './schema';

export type ResourceType = 'virtual_container_host' | 'image' | 'volume' | 'container_vm';

export interface ResourceDeclaration {
  /** The contract name; front ends prefix it (vic_container_vm, vic.ContainerVm). */
  readonly type: ResourceType;
  /** The Pulumi/TypeScript class name. */
  readonly className: string;
  readonly description: string;
  /** Bumped whenever the stored state's shape changes; `migrations[n]` turns version n into n + 1. */
  readonly schemaVersion: number;
  readonly migrations: { readonly [fromVersion: number]: (state: Attrs) => Attrs };
  readonly schema: Schema;
  /**
   * Inputs that together name one vSphere object (a container VM's BIOS UUID comes from its VCH and
   * name): two resources with equal values would share that object, so plans refuse the second one.
   */
  readonly identity?: readonly string[];
  /** What a plan that refuses a second resource with the same identity tells the user to do (default: give each its own last identity input). */
  readonly duplicateAdvice?: string;
  /**
   * State attributes that together name the vSphere object once it exists (default: `id`). A
   * command that created or adopted an object never deletes it for another resource whose state
   * names the same object: a create-before-destroy replacement under the same identity (a volume
   * with the same name, an image with the same digest) finds the old object and holds it.
   */
  readonly objectKey?: readonly string[];
  /** State attributes whose values, joined by `/`, make the id an import takes (default: `id`). */
  readonly importId?: readonly string[];
  /**
   * What a plan that refuses two resources whose different identities name one planned object
   * (`objectKey`: two references of one image digest) tells the user to do (default: duplicateAdvice).
   */
  readonly duplicateObjectAdvice?: string;
  /**
   * How a replacement runs. `destroy-before-create` (the default) when the new object would collide
   * with the old one. `create-before-destroy` when both can exist at once because the object is
   * content-addressed (its `id` changes with its content): the new one is made first and the old one
   * is deleted once nothing uses it any more. A replacement that keeps the `id` always destroys first.
   */
  readonly replaceOrder?: 'destroy-before-create' | 'create-before-destroy';
  /**
   * A data source with the same name reads existing objects: `lookup` names the required arguments
   * that identify one, `scope` the optional ones that narrow where to look (see data-source.ts).
   */
  readonly dataSource?: { readonly description: string; readonly lookup: readonly string[]; readonly scope?: readonly string[] };
  /** Extra text for the docs page: what the resource creates in vSphere. */
  readonly docs: { readonly creates: string; readonly importHelp: string; readonly example: string };
}
