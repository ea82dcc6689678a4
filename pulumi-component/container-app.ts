/**
 * ContainerApp: one short block per app. A VCH, the images it needs and its container VMs from one
 * args object, wired parent/child so `pulumi stack` shows them as one tree.
 */
import * as pulumi from '@pulumi/pulumi';
import { ContainerVm, Image, VirtualContainerHost } from './resources';
import type { ContainerVmArgs, ImageArgs, VirtualContainerHostArgs } from './types.generated';

/*
 * The wiring args (vchId, imageId, name) are named here on purpose: the component fills them in.
 * `keyof` ties them to the generated types, so renaming an attribute breaks this at compile time.
 */
type Wired<T, K extends keyof T> = Omit<T, K>;

/** An image of the app: any Image args but the VCH, which is the app's. */
export type ContainerAppImage = Wired<ImageArgs, 'vchId'>;

/** A container of the app: any ContainerVm args, with `image` naming one of the app's images. */
export type ContainerAppContainer = Wired<ContainerVmArgs, 'vchId' | 'imageId' | 'name'> & {
  /** Key of the image in `images`. */
  readonly image: string;
  /** VM and container name; defaults to the key in `containers`. */
  readonly name?: ContainerVmArgs['name'];
};

export interface ContainerAppArgs {
  /** The virtual container host the app runs in. */
  readonly host: VirtualContainerHostArgs;
  /** The images, by a key the containers refer to. */
  readonly images: { readonly [key: string]: ContainerAppImage };
  /** The container VMs, by name. */
  readonly containers: { readonly [name: string]: ContainerAppContainer };
}

export class ContainerApp extends pulumi.ComponentResource {
  /** The type token of the component. */
  static readonly TYPE = 'vic:index:ContainerApp';

  readonly host: VirtualContainerHost;
  readonly images: { readonly [key: string]: Image };
  readonly containers: { readonly [name: string]: ContainerVm };
  /** The VCH id (resource pool MOID). */
  readonly vchId: pulumi.Output<string>;
  /** BIOS UUID of each container VM, by name. */
  readonly containerIds: pulumi.Output<{ [name: string]: string }>;

  constructor(name: string, args: ContainerAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ContainerApp.TYPE, name, {}, opts);
    const missing = Object.entries(args.containers).filter(([, c]) => !(c.image in args.images));
    if (missing.length > 0) {
      const known = Object.keys(args.images).join(', ') || 'none';
      throw new Error(
        `ContainerApp "${name}": ${missing.map(([key, c]) => `container "${key}" names image "${c.image}"`).join('; ')}, which is not in images (known: ${known}). Add it to images or fix the key.`,
      );
    }
    const parent = { parent: this };
    this.host = new VirtualContainerHost(`${name}-host`, args.host, parent);
    const images: { [key: string]: Image } = {};
    for (const [key, imageArgs] of Object.entries(args.images)) {
      images[key] = new Image(`${name}-${key}`, { ...imageArgs, vchId: this.host.id }, parent);
    }
    const containers: { [name: string]: ContainerVm } = {};
    for (const [key, { image, ...containerArgs }] of Object.entries(args.containers)) {
      containers[key] = new ContainerVm(`${name}-${key}`, { name: key, ...containerArgs, vchId: this.host.id, imageId: images[image].id }, parent);
    }
    this.images = images;
    this.containers = containers;
    this.vchId = this.host.id;
    this.containerIds = pulumi.all(Object.fromEntries(Object.entries(containers).map(([key, c]) => [key, c.id])));
    this.registerOutputs({ vchId: this.vchId, containerIds: this.containerIds });
  }
}
