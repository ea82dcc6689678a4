/**
 * The Pulumi resources: one class per declaration, each a dynamic resource over the shared engine.
 * Their args, outputs, `replaces` and secrets all come from src/resources.
 */
import * as pulumi from '@pulumi/pulumi';
import { ResourceDeclaration, containerVm, image, virtualContainerHost, volume } from '../src/resources';
import { IMPORT_PROPERTY, RESOURCE_NAME_PROPERTY, STACK_PROPERTY, pulumiOutputNames, pulumiSecretNames } from './attribute-mapping';
import { dynamicProviderFor } from './dynamic-provider';
import type {
  ContainerVmArgs,
  ContainerVmOutputs,
  ImageArgs,
  ImageOutputs,
  VirtualContainerHostArgs,
  VirtualContainerHostOutputs,
  VolumeArgs,
  VolumeOutputs,
} from './types.generated';

/** Module of the type tokens: `pulumi-nodejs:dynamic/vic:ContainerVm`. */
const TOKEN_MODULE = 'vic';
const BRAND = Symbol.for('vic-iac.pulumi.resource');

/**
 * Builds the property bag Pulumi registers: the args, every output seeded as undefined (so it
 * becomes an output property of the object) and the sensitive args wrapped as secrets, so the
 * state never holds them in plaintext even when the program passed a plain string.
 */
function registeredProps(decl: ResourceDeclaration, name: string, args: object, importId: pulumi.Input<string> | undefined): Record<string, unknown> {
  const secrets = pulumiSecretNames(decl);
  const props: Record<string, unknown> = {};
  for (const name of pulumiOutputNames(decl)) props[name] = undefined;
  for (const [name, value] of Object.entries(args)) {
    props[name] = value !== undefined && secrets.includes(name) ? pulumi.secret(value) : value;
  }
  if (importId !== undefined) props[IMPORT_PROPERTY] = importId;
  props[RESOURCE_NAME_PROPERTY] = name;
  props[STACK_PROPERTY] = `${pulumi.getProject()}/${pulumi.getStack()}`;
  return props;
}

abstract class VicResource extends pulumi.dynamic.Resource {
  readonly [BRAND]: string;

  protected constructor(decl: ResourceDeclaration, name: string, args: object, opts: pulumi.CustomResourceOptions = {}) {
    // The `import` option goes to our create(), which adopts the object; see IMPORT_PROPERTY.
    const { import: importId, ...rest } = opts;
    const options = pulumi.mergeOptions(rest, { additionalSecretOutputs: pulumiSecretNames(decl) });
    super(dynamicProviderFor(decl.type), name, registeredProps(decl, name, args, importId), options, TOKEN_MODULE, decl.className);
    this[BRAND] = decl.type;
  }
}

function isVicResource(obj: unknown, decl: ResourceDeclaration): boolean {
  return typeof obj === 'object' && obj !== null && (obj as { [BRAND]?: string })[BRAND] === decl.type;
}

// The output properties are declared by the generated interfaces merged into each class (no class
// fields: a field initializer would overwrite the outputs Pulumi sets in the constructor).

/** A virtual container host: a resource pool, a VM folder and an image store. Its `id` is the pool MOID. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- outputs generated from the declaration
export interface VirtualContainerHost extends VirtualContainerHostOutputs {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class VirtualContainerHost extends VicResource {
  static override isInstance(obj: unknown): obj is VirtualContainerHost {
    return isVicResource(obj, virtualContainerHost);
  }

  constructor(name: string, args: VirtualContainerHostArgs, opts?: pulumi.CustomResourceOptions) {
    super(virtualContainerHost, name, args, opts);
  }
}

/** A container image stored as a VMDK in a VCH image store. Its `id` is the manifest digest. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- outputs generated from the declaration
export interface Image extends ImageOutputs {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class Image extends VicResource {
  static override isInstance(obj: unknown): obj is Image {
    return isVicResource(obj, image);
  }

  constructor(name: string, args: ImageArgs, opts?: pulumi.CustomResourceOptions) {
    super(image, name, args, opts);
  }
}

/** A container VM. Its `id` is the BIOS UUID (as for @pulumi/vsphere's VirtualMachine); `moid` is the VM MOID. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- outputs generated from the declaration
export interface ContainerVm extends ContainerVmOutputs {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class ContainerVm extends VicResource {
  static override isInstance(obj: unknown): obj is ContainerVm {
    return isVicResource(obj, containerVm);
  }

  constructor(name: string, args: ContainerVmArgs, opts?: pulumi.CustomResourceOptions) {
    super(containerVm, name, args, opts);
  }
}

/** A persistent volume: an ext4 VMDK in a VCH store that container VMs mount. Its `id` is the datastore path of its descriptor. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- outputs generated from the declaration
export interface Volume extends VolumeOutputs {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class Volume extends VicResource {
  static override isInstance(obj: unknown): obj is Volume {
    return isVicResource(obj, volume);
  }

  constructor(name: string, args: VolumeArgs, opts?: pulumi.CustomResourceOptions) {
    super(volume, name, args, opts);
  }
}
