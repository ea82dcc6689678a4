/**
 * The CLI spec: a YAML file with one top-level map per resource type (`virtual_container_host:`,
 * `image:`, `container_vm:`), each mapping a resource name to its attributes under the Terraform
 * attribute names. Everything about the format comes from the declarations; no attribute is named
 * here. Errors point at the file, the line and the attribute: `spec.yaml:12: container_vm.web.memory_mb: …`.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type YAMLMap } from 'yaml';
import { addressOf, referencesOf, validateStack, type StackResource } from '../engine';
import { AttrPath, Attrs, UNKNOWN, Value, declarationFor, didYouMean, declarations, formatPath, validateAttrs, type ResourceType } from '../resources';

export interface SpecProblem {
  readonly file: string;
  /** 1-based; absent when the problem has no place in the file (e.g. a reference cycle). */
  readonly line?: number;
  /** `type.name`, when the problem belongs to one resource. */
  readonly address?: string;
  readonly path: AttrPath;
  readonly message: string;
}

export interface LoadedSpec {
  readonly file: string;
  readonly resources: StackResource[];
  /** The line of an attribute (or of its nearest declared ancestor) of a resource. */
  lineOf(address: string, path: AttrPath): number | undefined;
}

export class SpecError extends Error {
  override readonly name = 'SpecError';

  constructor(readonly problems: readonly SpecProblem[]) {
    super(problems.map(formatSpecProblem).join('\n'));
  }
}

/** `spec.yaml:12: container_vm.web.memory_mb: memory_mb must be …` */
export function formatSpecProblem(p: SpecProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
  const what = [p.address, p.path.length > 0 ? formatPath(p.path) : undefined].filter((s) => s !== undefined && s !== '').join('.');
  return `${where}: ${what ? `${what}: ` : ''}${p.message}`;
}

const RESOURCE_NAME = /^[A-Za-z0-9_-]+$/;

/** Reads, parses and validates a spec file. Throws SpecError with every problem found. */
export function loadSpec(file: string): LoadedSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SpecError([{ file, path: [], message: `cannot read the spec: ${(err as Error).message}` }]);
  }
  return parseSpec(file, text);
}

/** Parses and validates spec text; `file` is only used in messages. */
export function parseSpec(file: string, text: string): LoadedSpec {
  const { root, lineAt } = parseYaml(file, text);
  const problems: SpecProblem[] = [];
  const { resources, nodes } = collectResources(file, root, lineAt, problems);
  const lineOf = lineFinder(nodes, lineAt);
  problems.push(...resourceProblems(file, resources, lineOf));
  if (problems.length > 0) {
    // In file order, as an editor walks them; problems with no line (none so far) last.
    const ordered = problems.map((p, i) => ({ p, i })).sort((a, b) => (a.p.line ?? Infinity) - (b.p.line ?? Infinity) || a.i - b.i);
    throw new SpecError(ordered.map((o) => o.p));
  }
  return { file, resources, lineOf };
}

type LineAt = (node: Node | null | undefined) => number | undefined;

/** Where each resource's attributes start (the line of its name, and its node), to locate problems inside them. */
type ResourceNodes = Map<string, { readonly keyLine?: number; readonly value: unknown }>;

/** The YAML document's top-level map; anything else (a syntax error, an empty file, a list) is refused here. */
function parseYaml(file: string, text: string): { root: YAMLMap; lineAt: LineAt } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const lineAt: LineAt = (node) => (node?.range ? lineCounter.linePos(node.range[0]).line : undefined);
  if (doc.errors.length > 0) {
    throw new SpecError(
      doc.errors.map((e) => ({
        file,
        line: e.linePos?.[0].line,
        path: [],
        message: `YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
    );
  }
  const types = declarations.map((d) => d.type as string);
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
    throw new SpecError([{ file, line: 1, path: [], message: `the spec is empty; declare resources under ${types.map((t) => `"${t}:"`).join(', ')}` }]);
  }
  if (!isMap(root)) {
    throw new SpecError([{ file, line: lineAt(root), path: [], message: `the spec must be a map of resource types (${types.join(', ')}) to resources` }]);
  }
  return { root, lineAt };
}

function keyOf(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/** The resources under each type, with their nodes; what is not shaped like one is a problem. */
function collectResources(file: string, root: YAMLMap, lineAt: LineAt, problems: SpecProblem[]): { resources: StackResource[]; nodes: ResourceNodes } {
  const types = declarations.map((d) => d.type as string);
  const resources: StackResource[] = [];
  const nodes: ResourceNodes = new Map();
  for (const typePair of root.items) {
    const typeKey = keyOf(typePair.key);
    const typeLine = lineAt(typePair.key as Node);
    if (!types.includes(typeKey)) {
      const near = didYouMean(typeKey, types);
      problems.push({ file, line: typeLine, path: [], message: `unknown resource type "${typeKey}"; use one of ${types.join(', ')}${near ? `.${near}` : ''}` });
      continue;
    }
    const byName = typePair.value;
    if (byName === null || (isScalar(byName) && byName.value === null)) continue;
    if (!isMap(byName)) {
      problems.push({ file, line: lineAt(byName as Node) ?? typeLine, path: [], message: `"${typeKey}" must map resource names to their attributes` });
      continue;
    }
    for (const namePair of byName.items) {
      const name = keyOf(namePair.key);
      const address = `${typeKey}.${name}`;
      const keyLine = lineAt(namePair.key as Node);
      if (!RESOURCE_NAME.test(name)) {
        problems.push({ file, line: keyLine, address, path: [], message: `resource names may hold only letters, digits, "_" and "-"` });
        continue;
      }
      const attrsNode = namePair.value;
      const config = attrsNode === null ? {} : (attrsNode as Node).toJSON();
      if (config === null || typeof config !== 'object' || Array.isArray(config)) {
        problems.push({ file, line: lineAt(attrsNode as Node) ?? keyLine, address, path: [], message: 'the attributes of a resource must be a map' });
        continue;
      }
      nodes.set(address, { keyLine, value: attrsNode });
      resources.push({ type: typeKey as ResourceType, name, config: config as Attrs });
    }
  }
  return { resources, nodes };
}

/** The line of an attribute path of a resource: its own, or its nearest ancestor's in the file. */
function lineFinder(nodes: ResourceNodes, lineAt: LineAt): LoadedSpec['lineOf'] {
  return (address, path) => {
    const entry = nodes.get(address);
    if (!entry) return undefined;
    let line = entry.keyLine;
    let node: unknown = entry.value;
    for (const step of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => keyOf(p.key) === String(step));
        if (!pair) break;
        line = lineAt(pair.key as Node) ?? line;
        node = pair.value;
      } else if (isSeq(node) && typeof step === 'number' && node.items[step]) {
        node = node.items[step];
        line = lineAt(node as Node) ?? line;
      } else break;
    }
    return line;
  };
}

/** Each resource against its declaration's schema, then the stack as a whole (names, references, cycles). */
function resourceProblems(file: string, resources: readonly StackResource[], lineOf: LoadedSpec['lineOf']): SpecProblem[] {
  const problems: SpecProblem[] = [];
  for (const r of resources) {
    const address = addressOf(r);
    // References are resolved at plan time; the schema sees them as "known after apply".
    const { problems: attrProblems } = validateAttrs(declarationFor(r.type).schema, withReferencesUnknown(r.config) as Attrs);
    for (const p of attrProblems) {
      if ((p.severity ?? 'error') !== 'error') continue;
      problems.push({ file, line: lineOf(address, p.path), address, path: p.path, message: p.detail });
    }
  }
  for (const p of validateStack(resources)) {
    problems.push({ file, line: lineOf(p.address, p.path), address: p.address, path: p.path, message: p.detail });
  }
  return problems;
}

function withReferencesUnknown(v: Value): Value {
  if (typeof v === 'string') return referencesOf(v).length > 0 ? UNKNOWN : v;
  if (Array.isArray(v)) return v.map(withReferencesUnknown);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, withReferencesUnknown(e)]));
  return v;
}
