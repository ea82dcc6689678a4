/**
 * Provider logs: hclog-style JSON lines on stderr, which go-plugin parses and Terraform shows under
 * TF_LOG / TF_LOG_PROVIDER. stdout belongs to the handshake line alone. Callers pass names, types
 * and paths, never attribute values: values may be secrets.
 */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  log(level: LogLevel, message: string, fields?: LogFields): void;
}

/**
 * The level Terraform asked for, as the Go plugin SDKs read it: TF_LOG_PROVIDER, else TF_LOG ("JSON"
 * and unknown names mean trace, as in Terraform; "off" means nothing). Unset, only warnings and errors
 * are written: Terraform discards provider logs then, yet go-plugin still parses every line, and a
 * debug line per resource cost both processes CPU on every plan.
 */
export function levelFromEnv(env: NodeJS.ProcessEnv): LogLevel | 'off' {
  const wanted = (env.TF_LOG_PROVIDER || env.TF_LOG || '').toLowerCase();
  if (wanted === '') return 'warn';
  if (wanted === 'off') return 'off';
  return wanted in ORDER ? (wanted as LogLevel) : 'trace';
}

/** go-plugin parses "@timestamp" with the layout 2006-01-02T15:04:05.000000Z07:00: six fraction digits, or the line is shown raw. */
export function hclogTimestamp(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function stderrLogger(env: NodeJS.ProcessEnv = process.env, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const level = levelFromEnv(env);
  const min = level === 'off' ? Infinity : ORDER[level];
  return {
    log(level, message, fields = {}) {
      if (ORDER[level] < min) return;
      const entry: Record<string, unknown> = { '@level': level, '@message': message, '@module': 'provider.vic', '@timestamp': hclogTimestamp(new Date()) };
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) entry[k] = v;
      write(`${JSON.stringify(entry)}\n`);
    },
  };
}
