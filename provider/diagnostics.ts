/**
 * Problems (src/resources) and errors as protocol Diagnostics: summary, detail and the attribute path
 * Terraform underlines in the configuration. Values of sensitive attributes never reach a message.
 */
import { AttrPath, Problem, Value } from '../src/resources';
import { CtyValue } from './cty';
import { TerraformKind, TfPathStep, attributeAt, attributePathSteps } from './schema';

export interface Diagnostic {
  readonly severity: 'ERROR' | 'WARNING';
  readonly summary: string;
  readonly detail: string;
  readonly attribute?: { readonly steps: TfPathStep[] };
}

export function errorDiagnostic(summary: string, detail: string): Diagnostic {
  return { severity: 'ERROR', summary, detail };
}

export function warningDiagnostic(summary: string, detail: string): Diagnostic {
  return { severity: 'WARNING', summary, detail };
}

function valueAt(value: CtyValue | undefined, path: AttrPath): CtyValue | undefined {
  let v = value;
  for (const key of path) {
    if (v === null || v === undefined || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, CtyValue>)[key];
  }
  return v;
}

function redact(text: string, secret: CtyValue | undefined): string {
  if (secret === null || secret === undefined || typeof secret === 'object' || typeof secret === 'symbol') return text;
  const raw = String(secret);
  if (raw === '') return text;
  return text.split(JSON.stringify(raw)).join('(sensitive value)').split(raw).join('(sensitive value)');
}

/** Diagnostics for problems found in a value of `kind` (config or state), with attribute paths. */
export function problemDiagnostics(kind: TerraformKind, problems: readonly Problem[], value?: CtyValue): Diagnostic[] {
  return problems.map((p) => {
    let { summary, detail } = p;
    // Validators quote the offending value; for a password that would print the password.
    if (attributeAt(kind.schema, p.path)?.sensitive) {
      const secret = valueAt(value, p.path) as Value | undefined;
      summary = redact(summary, secret);
      detail = redact(detail, secret);
    }
    const steps = attributePathSteps(kind.type, p.path);
    return {
      severity: p.severity === 'warning' ? 'WARNING' : 'ERROR',
      summary,
      detail,
      ...(steps.length > 0 ? { attribute: { steps } } : {}),
    };
  });
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'ERROR');
}
