/** The declarative half of the resources: safe for front ends and generators to import. */
import { ResourceDeclaration, ResourceType } from './definition';
import { virtualContainerHost } from './virtual-container-host';
import { image } from './image';
import { containerVm } from './container-vm';
import { volume } from './volume';

export * from './schema';
export * from './definition';
export { type Validated, validateAttrs } from './validate-attrs';
export { didYouMean, nearestName } from './nearest-name';
export { migrateState, StateVersionError } from './migrate';
export { OutputLineReader, parseOutputLine, consoleLogPath, CONSOLE_FILE, type OutputLine } from './console-log';
export { hostnameOf, ownNamesOf, processOf, type ImageConfig as ImageProcessConfig } from './guest-config';
export { parseHostEntry } from './validators';
export { DOCKER_LABEL_PREFIX, DOCKER_ORIGIN_LABEL } from './lifecycle';
export * from './connection';
export { dataSourceSchema } from './data-source';
export type { VmUsage } from './vm-usage';
// Reading an image reference is pure text work: front ends (the Docker endpoint) match names with it.
export { parseImageReference, formatImageReference, canonicalReference, heldByState, type ImageReference } from '../images/reference';
export { virtualContainerHost, image, volume, containerVm };

/** In dependency order: a VCH before its images and volumes, those before the container VMs that use them. */
export const declarations: readonly ResourceDeclaration[] = [virtualContainerHost, image, volume, containerVm];

export function declarationFor(type: ResourceType | string): ResourceDeclaration {
  const d = declarations.find((r) => r.type === type);
  if (!d) throw new Error(`unknown resource type "${type}" (known: ${declarations.map((r) => r.type).join(', ')})`);
  return d;
}
