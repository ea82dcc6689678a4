/**
 * Reusable attribute validators. Each names the attribute, the value, what is allowed and what to do,
 * and returns problems instead of throwing so that validation can report everything at once.
 */
import { parseImageReference } from '../images/reference';
import { AttrPath, Problem, Validator, Value, formatPath } from './schema';

function show(value: Value): string {
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value);
}

export function problem(path: AttrPath, summary: string, detail: string): Problem {
  return { path, summary, detail, severity: 'error' };
}

function invalid(path: AttrPath, value: Value, allowed: string, todo: string): Problem {
  const name = formatPath(path);
  return problem(path, `Invalid value for "${name}"`, `${name} = ${show(value)} ${allowed}. ${todo}`);
}

/** A string chosen from a fixed set. */
export function oneOf(allowed: readonly string[]): Validator {
  return (value, path) =>
    typeof value === 'string' && !allowed.includes(value)
      ? [invalid(path, value, `is not allowed; allowed values are ${allowed.map((a) => `"${a}"`).join(', ')}`, 'Use one of them.')]
      : [];
}

/** An integer within [min, max] (either bound optional). */
export function integer(opts: { min?: number; max?: number; multipleOf?: number; unit?: string } = {}): Validator {
  return (value, path) => {
    if (typeof value !== 'number') return [];
    const unit = opts.unit ? ` ${opts.unit}` : '';
    if (!Number.isInteger(value)) return [invalid(path, value, 'is not a whole number', 'Use an integer.')];
    if (opts.min !== undefined && value < opts.min) {
      return [invalid(path, value, `is below the minimum of ${opts.min}${unit}`, `Use a value of at least ${opts.min}.`)];
    }
    if (opts.max !== undefined && value > opts.max) {
      return [invalid(path, value, `is above the maximum of ${opts.max}${unit}`, `Use a value of at most ${opts.max}.`)];
    }
    if (opts.multipleOf !== undefined && value % opts.multipleOf !== 0) {
      const up = Math.ceil(value / opts.multipleOf) * opts.multipleOf;
      return [
        invalid(path, value, `is not a multiple of ${opts.multipleOf}${unit}`, `vSphere requires multiples of ${opts.multipleOf}; use ${up}.`),
      ];
    }
    return [];
  };
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Terraform-style duration (`90s`, `30m`, `1h30m`, `500ms`) in milliseconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, , unit] of text.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) ms += Number(amount) * DURATION_UNITS_MS[unit];
  return Math.round(ms);
}

/** A positive duration such as `30m`. */
export const duration: Validator = (value, path) => {
  if (typeof value !== 'string') return [];
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) return [invalid(path, value, 'is not a positive duration', 'Write a number with a unit: ms, s, m or h, e.g. "90s", "30m" or "1h30m".')];
  return [];
};

/** -1 means "unlimited" in vSphere allocations; otherwise a non-negative integer. */
export function limit(unit: string): Validator {
  return (value, path) => {
    if (value === -1) return [];
    if (typeof value === 'number' && (value < 0 || !Number.isInteger(value))) {
      return [invalid(path, value, `is not a valid limit`, `Use a whole number of ${unit} (0 or more), or -1 for unlimited.`)];
    }
    return [];
  };
}

/** Shares: a level name or a positive number of shares. */
export const shares: Validator = (value, path) => {
  if (typeof value !== 'string') return [];
  if (['low', 'normal', 'high'].includes(value)) return [];
  if (/^[1-9][0-9]*$/.test(value)) return [];
  return [invalid(path, value, 'is not a shares value', 'Use "low", "normal", "high" or a positive whole number such as "2000".')];
};

/** A vSphere object name: non-empty, at most 80 characters, no slashes (they split inventory paths). */
export function objectName(what: string): Validator {
  return (value, path) => {
    if (typeof value !== 'string') return [];
    if (value.trim() === '') return [invalid(path, value, `is empty`, `Give the ${what} a name.`)];
    if (value.length > 80) return [invalid(path, value, `is ${value.length} characters long; vSphere allows at most 80`, 'Use a shorter name.')];
    if (/[/\\%]/.test(value)) {
      return [invalid(path, value, 'contains "/", "\\" or "%", which vSphere escapes in inventory paths', 'Use letters, digits, "-", "_" and ".".')];
    }
    return [];
  };
}

/** A DNS label (container hostnames). */
export const hostname: Validator = (value, path) => {
  if (typeof value !== 'string') return [];
  if (/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(value)) return [];
  return [invalid(path, value, 'is not a valid hostname', 'Use 1-63 letters, digits and "-", not starting or ending with "-".')];
};

/** A non-empty string. */
export function nonEmpty(todo: string): Validator {
  return (value, path) => (value === '' ? [invalid(path, value, 'is empty', todo)] : []);
}

/** A content digest as the image resource produces it. */
export const digest: Validator = (value, path) => {
  if (typeof value !== 'string') return [];
  if (/^sha256:[0-9a-f]{64}$/.test(value)) return [];
  return [
    invalid(path, value, 'is not an image digest', 'Use the id of a vic_image resource (sha256: followed by 64 lowercase hex digits).'),
  ];
};

/** A datastore path: `[datastore] folder/file`. */
export const datastorePath: Validator = (value, path) => {
  if (typeof value !== 'string') return [];
  if (/^\[[^\]]+\] ?\S.*$/.test(value)) return [];
  return [invalid(path, value, 'is not a datastore path', 'Write it as "[datastore] folder/file.iso".')];
};

/** Environment variable names in a map: POSIX-ish, no "=" in names. */
export const envNames: Validator = (value, path) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: Problem[] = [];
  for (const key of Object.keys(value)) {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) {
      out.push(invalid([...path, key], key, 'is not a valid environment variable name', 'Use letters, digits and "_", not starting with a digit.'));
    }
  }
  return out;
};

/** A platform such as linux/amd64 or linux/arm64/v8. */
export const platform: Validator = (value, path) => {
  if (typeof value !== 'string') return [];
  if (/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(value)) return [];
  return [invalid(path, value, 'is not a platform', 'Write it as os/architecture[/variant], e.g. "linux/amd64".')];
};

/** An image reference, by the image pipeline's own parser, so validation and pulls never disagree. */
export const imageReference: Validator = (value, path) => {
  if (typeof value !== 'string') return [];
  try {
    parseImageReference(value);
    return [];
  } catch {
    return [invalid(path, value, 'is not an image reference', 'Write it as registry/repository:tag or registry/repository@sha256:<digest>, e.g. "127.0.0.1:5000/library/busybox:1.36".')];
  }
};
