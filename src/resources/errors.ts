/** An error that carries problems with attribute paths (plan-time checks, refused applies). */
import type { Problem } from './schema';

export class ResourceError extends Error {
  constructor(
    message: string,
    readonly problems: readonly Problem[] = [],
  ) {
    super(message);
    this.name = 'ResourceError';
  }
}
