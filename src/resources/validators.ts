/**
 * Reusable attribute validators. Each names the attribute, the value, what is allowed and what to do,
 * and returns problems instead of throwing so that validation can report everything at once. Each
 * also states its rule in words (`rule`), which the generated docs show next to the attribute.
 */
import { isIP } from 'node:net';
import { parseImageReference } from '../images/reference';
import { AttrPath, Attrs, Problem, Validator, Value, formatPath } from './schema';

function show(value: Value): string {
  return JSON.stringify(value);
}

export function problem(path: AttrPath, summary: string, detail: string): Problem {
  return { path, summary, detail, severity: 'error' };
}

function invalid(path: AttrPath, value: Value, allowed: string, todo: string): Problem {
  const name = formatPath(path);
  return problem(path, `Invalid value for "${name}"`, `${name} = ${show(value)} ${allowed}. ${todo}`);
}

/** A validator with the words the docs use for its rule. */
function rule(words: string, check: (value: Value, path: AttrPath, siblings: Readonly<Attrs>) => Problem[]): Validator {
  return Object.assign(check, { rule: words });
}

const quoted = (names: readonly string[]) => names.map((a) => `"${a}"`).join(', ');

/** A string chosen from a fixed set. */
export function oneOf(allowed: readonly string[]): Validator {
  return rule(`one of ${quoted(allowed)}`, (value, path) =>
    typeof value === 'string' && !allowed.includes(value)
      ? [invalid(path, value, `is not allowed; allowed values are ${quoted(allowed)}`, 'Use one of them.')]
      : [],
  );
}

/** An integer within [min, max] (either bound optional). */
export function integer(opts: { min?: number; max?: number; multipleOf?: number; unit?: string; minReason?: string } = {}): Validator {
  const unit = opts.unit ? ` ${opts.unit}` : '';
  const range =
    opts.min !== undefined && opts.max !== undefined
      ? ` from ${opts.min} to ${opts.max}${unit}`
      : opts.min !== undefined
        ? ` of at least ${opts.min}${unit}`
        : opts.max !== undefined
          ? ` of at most ${opts.max}${unit}`
          : '';
  const words = `a whole number${range}${opts.multipleOf !== undefined ? `, a multiple of ${opts.multipleOf}` : ''}`;
  return rule(words, (value, path) => {
    if (typeof value !== 'number') return [];
    if (!Number.isInteger(value)) return [invalid(path, value, 'is not a whole number', 'Use an integer.')];
    if (opts.min !== undefined && value < opts.min) {
      const why = opts.minReason ? ` (${opts.minReason})` : '';
      return [invalid(path, value, `is below the minimum of ${opts.min}${unit}${why}`, `Use a value of at least ${opts.min}.`)];
    }
    if (opts.max !== undefined && value > opts.max) {
      return [invalid(path, value, `is above the maximum of ${opts.max}${unit}`, `Use a value of at most ${opts.max}.`)];
    }
    if (opts.multipleOf !== undefined && value % opts.multipleOf !== 0) {
      const up = Math.ceil(value / opts.multipleOf) * opts.multipleOf;
      return [invalid(path, value, `is not a multiple of ${opts.multipleOf}${unit}`, `vSphere requires multiples of ${opts.multipleOf}; use ${up}.`)];
    }
    return [];
  });
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
  if (ms === undefined || ms <= 0)
    return [invalid(path, value, 'is not a positive duration', 'Write a number with a unit: ms, s, m or h, e.g. "90s", "30m" or "1h30m".')];
  return [];
};

/** -1 means "unlimited" in vSphere allocations; otherwise a non-negative integer. */
export function limit(unit: string): Validator {
  return rule(`-1 (unlimited) or a whole number of ${unit}, 0 or more`, (value, path) => {
    if (value === -1) return [];
    if (typeof value === 'number' && (value < 0 || !Number.isInteger(value))) {
      return [invalid(path, value, `is not a valid limit`, `Use a whole number of ${unit} (0 or more), or -1 for unlimited.`)];
    }
    return [];
  });
}

/**
 * A reservation within the limit named by `limitAttribute` of the same object (vSphere refuses a
 * pool whose reservation exceeds its limit). An unlimited (-1) or invalid limit is not compared:
 * the limit's own validator reports the latter.
 */
export function withinLimit(limitAttribute: string, unit: string): Validator {
  return rule(`at most \`${limitAttribute}\` unless that is -1`, (value, path, siblings) => {
    const max = siblings[limitAttribute];
    if (typeof value !== 'number' || typeof max !== 'number' || max < 0 || !Number.isInteger(max) || value <= max) return [];
    return [
      invalid(
        path,
        value,
        `is above ${limitAttribute} = ${max} ${unit}; vSphere needs a reservation within its limit`,
        `Lower the reservation to at most ${max}, raise ${limitAttribute}, or set ${limitAttribute} = -1 (unlimited).`,
      ),
    ];
  });
}

/** Shares: a level name or a positive number of shares. */
export const shares: Validator = rule('"low", "normal", "high" or a positive whole number of shares', (value, path) => {
  if (typeof value !== 'string') return [];
  if (['low', 'normal', 'high'].includes(value)) return [];
  if (/^[1-9][0-9]*$/.test(value)) return [];
  return [invalid(path, value, 'is not a shares value', 'Use "low", "normal", "high" or a positive whole number such as "2000".')];
});

/** A vSphere object name: non-empty, at most 80 characters, no slashes (they split inventory paths). */
export function objectName(what: string): Validator {
  return rule('1 to 80 characters, without "/", "\\" or "%"', (value, path) => {
    if (typeof value !== 'string') return [];
    if (value.trim() === '') return [invalid(path, value, `is empty`, `Give the ${what} a name.`)];
    if (value.length > 80) return [invalid(path, value, `is ${value.length} characters long; vSphere allows at most 80`, 'Use a shorter name.')];
    if (/[/\\%]/.test(value)) {
      return [invalid(path, value, 'contains "/", "\\" or "%", which vSphere escapes in inventory paths', 'Use letters, digits, "-", "_" and ".".')];
    }
    return [];
  });
}

/** A container's host name: DNS labels joined by "." (`web`, `vic.test`), at most 64 characters, what Linux takes. */
export const hostname: Validator = rule(
  'DNS labels (1 to 63 letters, digits and "-", not starting or ending with "-") joined by ".", at most 64 characters',
  (value, path) => {
    if (typeof value !== 'string') return [];
    const label = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
    if (value.length <= 64 && value.split('.').every((l) => label.test(l))) return [];
    return [
      invalid(
        path,
        value,
        'is not a valid hostname',
        'Use DNS labels of 1-63 letters, digits and "-" (not starting or ending with "-") joined by ".", at most 64 characters in all, e.g. "web" or "web.example".',
      ),
    ];
  },
);

/**
 * An /etc/hosts entry as docker's `--add-host` gives it: "NAME:ADDRESS", the name a host name (a
 * DNS label or several, "_" allowed as docker does) and the address an IPv4 or IPv6 one (the
 * first ":" ends the name). Docker's `host-gateway` has no meaning for a container VM.
 */
export function parseHostEntry(entry: string): { name: string; address: string } | undefined {
  const at = entry.indexOf(':');
  if (at <= 0) return undefined;
  const name = entry.slice(0, at);
  const address = entry.slice(at + 1).replace(/^\[(.*)\]$/, '$1');
  if (!/^[a-zA-Z0-9_]([a-zA-Z0-9_.-]{0,251}[a-zA-Z0-9_])?$/.test(name) || isIP(address) === 0) return undefined;
  return { name, address };
}

export const hostEntries: Validator = rule('"NAME:ADDRESS" entries, e.g. "db.local:10.0.0.5" or "db6:fd00::5"', (value, path) => {
  if (!Array.isArray(value)) return [];
  const out: Problem[] = [];
  value.forEach((e, i) => {
    if (typeof e !== 'string' || parseHostEntry(e)) return;
    const gateway = e.endsWith(':host-gateway');
    out.push(
      invalid(
        [...path, i],
        e,
        gateway ? "names the host's gateway, which a container VM has none of: it is its own VM on a port group" : 'is not a "NAME:ADDRESS" host entry',
        gateway
          ? 'Give the address the container should reach, e.g. "host.internal:10.0.0.1".'
          : 'Write a host name, ":" and an IPv4 or IPv6 address, e.g. "db.local:10.0.0.5", as docker run --add-host takes it.',
      ),
    );
  });
  return out;
});

/** A non-empty string (blank counts as empty: no vSphere object or id is called "  "). */
export function nonEmpty(todo: string): Validator {
  return rule('not empty', (value, path) => (typeof value === 'string' && value.trim() === '' ? [invalid(path, value, 'is empty', todo)] : []));
}

/** A list whose elements are all non-empty strings. */
export function nonEmptyElements(why: string, todo: string): Validator {
  return rule('no empty elements', (value, path) => {
    if (!Array.isArray(value)) return [];
    const out: Problem[] = [];
    value.forEach((e, i) => {
      if (typeof e === 'string' && e.trim() === '') out.push(invalid([...path, i], e, `is empty; ${why}`, todo));
    });
    return out;
  });
}

/**
 * An entrypoint replaces the image's ENTRYPOINT and, Docker's way, drops its CMD: an empty one with
 * no `command` (named by `commandAttribute`) leaves the container nothing to run.
 */
export function runsSomething(commandAttribute: string): Validator {
  return rule(`not an empty list unless \`${commandAttribute}\` is given`, (value, path, siblings) => {
    // Absent from the siblings: not known yet (or itself invalid), so it may well give a program.
    if (!(commandAttribute in siblings)) return [];
    const command = siblings[commandAttribute];
    if (!Array.isArray(value) || value.length > 0 || (Array.isArray(command) && command.length > 0)) return [];
    return [
      invalid(
        path,
        value,
        `clears the image entrypoint and ${commandAttribute} is empty, so the container has nothing to run`,
        `Set ${commandAttribute} to the program to run, or leave ${formatPath(path)} out to keep the image's.`,
      ),
    ];
  });
}

/** An absolute path inside the container (the guest resolves no relative working directory). */
export const absolutePath: Validator = rule('an absolute path (starting with "/")', (value, path) => {
  if (typeof value !== 'string' || value.startsWith('/')) return [];
  return [
    invalid(path, value, 'is not an absolute path', `Use a path inside the container that starts with "/", e.g. "/${value.replace(/^[./]+/, '') || 'app'}".`),
  ];
});

const USER_PART = /^(?:[0-9]+|[A-Za-z_][A-Za-z0-9_.-]*\$?)$/;
const MAX_ID = 4294967294;

/** A container user as Docker takes it: name, uid, name:group or uid:gid (any mix). */
export const containerUser: Validator = rule('name, uid, name:group or uid:gid', (value, path) => {
  if (typeof value !== 'string') return [];
  const parts = value.split(':');
  const ok = parts.length <= 2 && parts.every((p) => USER_PART.test(p) && !(/^[0-9]+$/.test(p) && Number(p) > MAX_ID));
  if (ok) return [];
  return [invalid(path, value, 'is not a user', `Write it as name, uid, name:group or uid:gid (ids up to ${MAX_ID}), e.g. "nobody" or "1000:1000".`)];
});

/** A content digest as the image resource produces it. */
export const digest: Validator = rule('`sha256:` followed by 64 lowercase hex digits (the id of a `vic_image`)', (value, path) => {
  if (typeof value !== 'string') return [];
  if (/^sha256:[0-9a-f]{64}$/.test(value)) return [];
  return [invalid(path, value, 'is not an image digest', 'Use the id of a vic_image resource (sha256: followed by 64 lowercase hex digits).')];
});

/** A datastore path, `[datastore] folder/file`; `hint` says what to write there. */
function datastorePathRule(hint: string): Validator {
  return rule('a datastore path, "[datastore] folder/file"', (value, path) => {
    if (typeof value !== 'string') return [];
    if (/^\[[^\]]+\] ?\S.*$/.test(value)) return [];
    return [invalid(path, value, 'is not a datastore path', hint)];
  });
}

/** A datastore path of a file to boot, the bootstrap ISO. */
export const datastorePath: Validator = datastorePathRule('Write it as "[datastore] folder/file.iso".');

/** The id of a vic_volume: the datastore path of its disk. */
export const volumeId: Validator = datastorePathRule(
  'Use the id of a vic_volume of the same VCH: the datastore path of its disk, "[datastore] <image store>/volumes/<name>/<name>.vmdk".',
);

/** Environment variable names in a map: POSIX-ish, no "=" in names. */
export const envNames: Validator = rule('names of letters, digits, "_", "." and "-", not starting with a digit', (value, path) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: Problem[] = [];
  for (const key of Object.keys(value)) {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) {
      out.push(invalid([...path, key], key, 'is not a valid environment variable name', 'Use letters, digits, "_", "." and "-", not starting with a digit.'));
    }
  }
  return out;
});

/** Map keys that say something: an empty or blank key is a templating slip, not a label. */
export const labelKeys: Validator = rule('non-empty keys', (value, path) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: Problem[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (key.trim() !== '') continue;
    const at = [...path, key];
    out.push(
      problem(
        at,
        `Invalid key in "${formatPath(path)}"`,
        `${formatPath(at)} = ${show(v)} has an empty key. Give the label a key such as "com.example.tier", or remove it.`,
      ),
    );
  }
  return out;
});

/**
 * The platform of an image a container VM runs: a container VM boots the bootstrap ISO's x86-64 Linux
 * kernel, so an image for any other platform could be stored but never run. Refused at validation
 * rather than found out when the guest fails to exec its entry point.
 */
export const platform: Validator = rule('linux/amd64 (optionally with a variant such as linux/amd64/v2)', (value, path) => {
  if (typeof value !== 'string') return [];
  if (!/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(value)) {
    return [invalid(path, value, 'is not a platform', 'Write it as os/architecture[/variant], e.g. "linux/amd64".')];
  }
  if (/^linux\/amd64(\/v[1-4])?$/.test(value)) return [];
  return [
    invalid(
      path,
      value,
      'cannot run in a container VM, which boots an x86-64 Linux kernel',
      'Use "linux/amd64" (the default: remove the attribute), and an image that has a linux/amd64 build.',
    ),
  ];
});

/** An image reference, by the image pipeline's own parser, so validation and pulls never disagree. */
export const imageReference: Validator = rule('registry/repository:tag or registry/repository@sha256:<digest>', (value, path) => {
  if (typeof value !== 'string') return [];
  try {
    parseImageReference(value);
    return [];
  } catch (err) {
    // Which part is wrong, as the parser says (an upper-case repository, a bad tag…).
    const reason = (err as { reason?: unknown }).reason;
    return [
      invalid(
        path,
        value,
        typeof reason === 'string' ? `is not an image reference: it ${reason}` : 'is not an image reference',
        'Write it as registry/repository:tag or registry/repository@sha256:<digest>, e.g. "127.0.0.1:5000/library/busybox:1.36".',
      ),
    ];
  }
});

/** A vCenter or ESXi address: a host name or address with an optional port, or an http(s) URL. */
export const serverAddress: Validator = rule('a host name, host:port, or an https:// URL', (value, path) => {
  if (typeof value !== 'string' || value === '') return [];
  const todo = 'Use a host name such as "vcenter.example.com", host:port, or a URL such as "https://vcenter.example.com/sdk".';
  let url: URL | undefined;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`);
  } catch {
    url = undefined;
  }
  // Echoed without its password: a URL may carry user:password@ (see connection.ts).
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.hostname === '') return [invalid(path, redactServer(value), 'is not a vSphere address', todo)];
  return [];
});

/** A server address for messages and logs: any password in it replaced by `***`. */
export function redactServer(server: string): string {
  // Up to the LAST "@": a password may hold "@" or "/" unescaped, and hiding too much is harmless.
  return server.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?[^/@:]*):.*@/i, '$1:***@');
}

/** A SHA-256 certificate thumbprint: 32 bytes in hex, with or without ":" between them. */
export const sha256Thumbprint: Validator = rule('a SHA-256 thumbprint (32 hex bytes, "AA:BB:…")', (value, path) => {
  if (typeof value !== 'string') return [];
  const hex = value.replace(/:/g, '');
  if (/^[0-9a-fA-F]{64}$/.test(hex)) return [];
  const sha1 = /^[0-9a-fA-F]{40}$/.test(hex) ? ' (it looks like a SHA-1 thumbprint, which vic does not pin)' : '';
  return [
    invalid(
      path,
      value,
      `is not a SHA-256 thumbprint${sha1}`,
      'Use the 32-byte SHA-256 thumbprint of the server certificate, e.g. from "openssl x509 -noout -fingerprint -sha256".',
    ),
  ];
});

/**
 * A directory inside a datastore (the image store): relative, inside the datastore and not its root.
 * What is deleted with the VCH (force_destroy) lives there, so a path that could name the root or
 * climb out of it with ".." is refused before anything is created.
 */
export const datastoreDirectory: Validator = rule('a directory path relative to the datastore, without "..", not its root', (value, path) => {
  if (typeof value !== 'string') return [];
  const todo = 'Use a directory path inside the datastore such as "vic/vch-demo", or leave it out to use the VCH name.';
  if (value.trim() === '') return [invalid(path, value, 'is empty, which would name the datastore root', todo)];
  if (/^\s*[[/\\]/.test(value)) return [invalid(path, value, 'is not relative to the datastore (it starts with "/", "\\" or "[datastore]")', todo)];
  if (value.includes('\\')) return [invalid(path, value, 'contains "\\"; datastore paths separate directories with "/"', todo)];
  const segments = value.replace(/\/+$/, '').split('/');
  if (segments.includes('..')) return [invalid(path, value, 'contains "..", which leads out of the directory it names', todo)];
  if (segments.some((s) => s === '' || s === '.' || s.trim() !== s)) {
    return [invalid(path, value, 'has an empty, "." or space-padded path segment', todo)];
  }
  return [];
});

/** A volume name: it names a datastore directory and the VMDK inside, so only characters every datastore keeps as they are. */
export const volumeName: Validator = rule('1 to 64 letters, digits, "_", "." and "-", starting with a letter or digit', (value, path) => {
  if (typeof value !== 'string' || /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(value)) return [];
  // dockerd's words for the characters (and VIC's), then the length a datastore directory takes.
  const what =
    value.length > 64
      ? `is ${value.length} characters long, more than the 64 a volume name may have`
      : 'includes invalid characters for a volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed (1 to 64 of them)';
  return [invalid(path, value, what, 'Use a name such as "data" or "db-1".')];
});

/** Where a volume is mounted in the container: absolute, and not the root, which is the image's filesystem. */
export const mountPath: Validator = rule('an absolute path other than "/"', (value, path) => {
  if (typeof value !== 'string') return [];
  if (!value.startsWith('/')) return absolutePath(value, path, {});
  if (value.replace(/\/+$/, '') === '') {
    return [invalid(path, value, 'is the root of the container, which holds the image', 'Mount the volume on a directory such as "/data".')];
  }
  if (value.split('/').some((part) => part === '..' || part === '.')) {
    return [
      invalid(path, value, 'contains "." or ".." components', `Use a plain absolute path such as "${value.replace(/\/\.\.?(?=\/|$)/g, '') || '/data'}".`),
    ];
  }
  return [];
});

/** Mounts of one container: each path at most once, and each volume at most once. */
export function distinctMounts(maximum: number): Validator {
  return rule(`at most ${maximum} mounts, each path and each volume_id once`, (value, path) => {
    if (!Array.isArray(value)) return [];
    const out: Problem[] = [];
    if (value.length > maximum) {
      out.push(invalid(path, `${value.length} mounts`, `is more than the ${maximum} volumes one SCSI controller can attach`, 'Mount fewer volumes.'));
    }
    const seenPaths = new Map<string, number>();
    const seenVolumes = new Map<string, number>();
    value.forEach((m, i) => {
      if (m === null || typeof m !== 'object' || Array.isArray(m)) return;
      const mount = m as Attrs;
      const at = typeof mount.path === 'string' ? mount.path.replace(/\/+$/, '') : undefined;
      if (at !== undefined && at !== '') {
        const first = seenPaths.get(at);
        if (first !== undefined) {
          out.push(
            invalid(
              [...path, i, 'path'],
              mount.path,
              `mounts the same path as ${formatPath([...path, first, 'path'])}`,
              'Give each volume its own mount path, or remove one of the two.',
            ),
          );
        } else seenPaths.set(at, i);
      }
      if (typeof mount.volume_id === 'string') {
        const first = seenVolumes.get(mount.volume_id);
        if (first !== undefined) {
          out.push(
            invalid(
              [...path, i, 'volume_id'],
              mount.volume_id,
              `is already mounted by ${formatPath([...path, first])}`,
              'Mount a volume once per container VM.',
            ),
          );
        } else seenVolumes.set(mount.volume_id, i);
      }
    });
    return out;
  });
}

/** The four octets of a dotted IPv4 address, or undefined. */
function ipv4Octets(text: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  const octets = m?.slice(1).map(Number);
  return octets && octets.every((o) => o <= 255) ? octets : undefined;
}

function ipv4Number(octets: readonly number[]): number {
  return octets.reduce((n, o) => n * 256 + o, 0);
}

/** An IPv4 address without a prefix (a host address to bind, "0.0.0.0" for every one). */
export const ipv4Address: Validator = rule('an IPv4 address, e.g. "127.0.0.1" ("0.0.0.0": every address of the host)', (value, path) =>
  typeof value === 'string' && !ipv4Octets(value)
    ? [invalid(path, value, 'is not an IPv4 address', 'Write it as four numbers from 0 to 255, e.g. "127.0.0.1".')]
    : [],
);

/** Published ports: a container port (and protocol) once, and a host address, port and protocol once. */
export const distinctPorts: Validator = rule('each internal port and protocol once, each external port, ip and protocol once', (value, path) => {
  if (!Array.isArray(value)) return [];
  const out: Problem[] = [];
  const internal = new Map<string, number>();
  const external = new Map<string, number>();
  value.forEach((p, i) => {
    if (p === null || typeof p !== 'object' || Array.isArray(p)) return;
    const port = p as Attrs;
    const protocol = typeof port.protocol === 'string' ? port.protocol : 'tcp';
    if (typeof port.internal === 'number') {
      const key = `${port.internal}/${protocol}`;
      const first = internal.get(key);
      if (first !== undefined)
        out.push(invalid([...path, i, 'internal'], port.internal, `is published already by ${formatPath([...path, first])}`, 'Publish a container port once.'));
      else internal.set(key, i);
    }
    const hostPort = port.external;
    if (typeof hostPort === 'number' && hostPort !== 0) {
      const ip = typeof port.ip === 'string' ? port.ip : '0.0.0.0';
      // 0.0.0.0 takes the port on every address: it clashes with any other address.
      const clash = [...external.entries()].find(([k]) => {
        const [otherIp, otherPort] = k.split(' ');
        return otherPort === `${hostPort}/${protocol}` && (otherIp === ip || otherIp === '0.0.0.0' || ip === '0.0.0.0');
      });
      if (clash)
        out.push(
          invalid(
            [...path, i, 'external'],
            hostPort,
            `is taken already by ${formatPath([...path, clash[1]])} on ${ip}`,
            'Give each published port its own host port.',
          ),
        );
      else external.set(`${ip} ${hostPort}/${protocol}`, i);
    }
  });
  return out;
});

/** A static IPv4 address with its prefix length, the way `ip addr` takes it. */
export const ipv4Cidr: Validator = rule('an IPv4 address with its prefix length, e.g. "10.0.2.50/24" (prefix 8 to 30)', (value, path) => {
  if (typeof value !== 'string') return [];
  const [address, prefix, extra] = value.split('/');
  const octets = ipv4Octets(address ?? '');
  const bits = /^\d{1,2}$/.test(prefix ?? '') ? Number(prefix) : NaN;
  if (!octets || extra !== undefined || !(bits >= 8 && bits <= 30)) {
    return [invalid(path, value, 'is not an IPv4 address with a prefix length from 8 to 30', 'Write it as address/prefix, e.g. "10.0.2.50/24".')];
  }
  const host = ipv4Number(octets) % 2 ** (32 - bits);
  if (host === 0 || host === 2 ** (32 - bits) - 1) {
    return [invalid(path, value, `is the network or broadcast address of its /${bits}`, 'Use an address between them.')];
  }
  return [];
});

/** A gateway: an IPv4 address inside the subnet of the CIDR address named by `addressAttribute`, which it needs. */
/** A static address needs a NIC to be on: not with `networksAttribute` an empty list (no NIC). */
export function onSomeNetwork(networksAttribute: string): Validator {
  return rule(`set only when \`${networksAttribute}\` is not an empty list (no NIC)`, (value, path, siblings) => {
    const networks = siblings[networksAttribute];
    if (typeof value !== 'string' || !Array.isArray(networks) || networks.length > 0) return [];
    return [
      invalid(
        path,
        value,
        `is set, but ${networksAttribute} = [] gives the container VM no NIC to put it on`,
        `Remove it, or name a portgroup in ${networksAttribute} (unset: the VCH's bridge network).`,
      ),
    ];
  });
}

export function gatewayOf(addressAttribute: string): Validator {
  return rule(`an IPv4 address in the subnet of \`${addressAttribute}\`, which must be set too`, (value, path, siblings) => {
    if (typeof value !== 'string') return [];
    const gateway = ipv4Octets(value);
    if (!gateway) return [invalid(path, value, 'is not an IPv4 address', 'Write it as four numbers from 0 to 255, e.g. "10.0.2.2".')];
    const address = siblings[addressAttribute];
    if (typeof address !== 'string') {
      return [
        invalid(path, value, `is set without ${addressAttribute}; a DHCP lease brings its own gateway`, `Set ${addressAttribute} too, or remove the gateway.`),
      ];
    }
    const [ip, prefix] = address.split('/');
    const octets = ipv4Octets(ip ?? '');
    const bits = Number(prefix);
    // The address's own validator reports a malformed address.
    if (!octets || !(bits >= 8 && bits <= 30)) return [];
    const size = 2 ** (32 - bits);
    if (Math.floor(ipv4Number(gateway) / size) !== Math.floor(ipv4Number(octets) / size)) {
      return [invalid(path, value, `is outside ${addressAttribute} = ${show(address)}'s subnet`, 'Use a gateway on the same subnet as the address.')];
    }
    if (value === ip) return [invalid(path, value, `is the container's own address`, "Use the address of the network's router.")];
    return [];
  });
}
