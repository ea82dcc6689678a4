/**
 * The rows of bad-inputs.ts marked `terraform`, through the real CLI: GIVEN one configuration holding
 * every such row (a resource, or a provider alias and a resource using it) WHEN `terraform plan` runs
 * THEN it fails with each row's diagnostics, each pointing into that row's block, and nothing is
 * created in vSphere. Terraform reports every validation problem at once, but plans only once the
 * configuration validates: rows the schema rejects and rows only vSphere can refuse are two plans.
 */
import type { Engine } from '../../src/engine';
import { type Attrs, type Value, connectionProblems, connectionSchema, connectionSettings, declarationFor, validateAttrs } from '../../src/resources';
import { connectTestEngine } from '../helpers/engine';
import { useTerraformTestbed } from '../provider/testbed';
import { workspace } from '../provider/terraform-cli';
import { badInputs, type BadInput, type Expected, type Fixtures } from './bad-inputs';
import { inventoryOf, prepareFixtures } from './fixtures';

function hcl(v: Value): string {
  if (Array.isArray(v)) return `[${v.map(hcl).join(', ')}]`;
  if (v !== null && typeof v === 'object')
    return `{ ${Object.entries(v)
      .map(([k, e]) => `${JSON.stringify(k)} = ${hcl(e)}`)
      .join(', ')} }`;
  // HCL reads "${" and "%{" in a string as templates.
  if (typeof v === 'string') return JSON.stringify(v).replace(/\$\{/g, '$${').replace(/%\{/g, '%%{');
  return String(v);
}

function block(header: string, attrs: Attrs): string[] {
  return [`${header} {`, ...Object.entries(attrs).map(([k, v]) => `  ${k} = ${hcl(v)}`), '}', ''];
}

interface Layout {
  readonly text: string;
  /** The lines (1-based, inclusive) each row's blocks span. */
  readonly spans: ReadonlyMap<string, { readonly from: number; readonly to: number }>;
}

/** One main.tf for many rows: a provider row gets an alias named after it and a resource using it. */
function configuration(rows: readonly BadInput[], fx: Fixtures): Layout {
  const lines = ['terraform {', '  required_providers {', '    vic = { source = "vic-iac/vic" }', '  }', '}', '', 'provider "vic" {}', ''];
  const spans = new Map<string, { from: number; to: number }>();
  for (const row of rows) {
    const from = lines.length + 1;
    const config = row.config(fx);
    // Rows share one configuration: two container VMs with one name in one VCH would be refused as duplicates.
    if (row.resource === 'container_vm' && config.name === 'web-bad') config.name = `web-bad-${spans.size}`;
    if (row.provider) lines.push(...block('provider "vic"', { alias: row.name, ...row.provider }));
    const resource = block(`resource "vic_${row.resource}" "${row.name}"`, config);
    if (row.provider) resource.splice(1, 0, `  provider = vic.${row.name}`);
    lines.push(...resource);
    spans.set(row.name, { from, to: lines.length });
  }
  return { text: lines.join('\n'), spans };
}

interface Diagnostic {
  readonly summary: string;
  readonly line: number;
  readonly source: string;
  readonly text: string;
}

/** Terraform's diagnostics: summary, the configuration line it points at, and the whole text. */
function diagnostics(stderr: string): Diagnostic[] {
  const plain = stderr.replace(/[╷│╵]/g, '');
  return plain
    .split(/^\s*Error: /m)
    .slice(1)
    .map((chunk) => {
      const at = /on main\.tf line (\d+)/.exec(chunk);
      const line = at ? Number(at[1]) : 0;
      const source = new RegExp(`^\\s*${line}:\\s*(.*)$`, 'm').exec(chunk)?.[1] ?? '';
      return { summary: chunk.split('\n')[0].trim(), line, source, text: chunk.replace(/\s+/g, ' ') };
    });
}

/** A provider row whose problems are the provider's own (else they are its resource's, planned through it). */
const atProvider = (row: BadInput) =>
  Boolean(row.provider) && connectionSettings({ vsphere_server: 'vc', user: 'u', password: 'p', ...row.provider }).problems.length > 0;

// Static: refused by validate (ValidateProviderConfig runs connectionProblems too), which stops Terraform before any plan.
const isStatic = (row: BadInput, fx: Fixtures) =>
  row.provider
    ? validateAttrs(connectionSchema, row.provider).problems.length + connectionProblems(row.provider).length > 0
    : validateAttrs(declarationFor(row.resource).schema, row.config(fx)).problems.length > 0;

describe('bad inputs through terraform plan', () => {
  const bed = useTerraformTestbed({ username: 'vic-admin', password: 'Tf-Pw-9q4z7', repository: 'test/tb', program: 'tb' });
  let engine: Engine;
  let fx: Fixtures;
  let baseline: string[];
  const rows = badInputs.filter((r) => r.terraform);

  beforeAll(async () => {
    engine = await connectTestEngine(bed.sim());
    fx = (await prepareFixtures(engine, bed.outside(), bed.registry())).fixtures;
    baseline = await inventoryOf(bed.sim(), bed.outside());
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
  });

  it('GIVEN the table WHEN counted THEN at least a third of it, over all three resources and the provider, runs through terraform', () => {
    expect(rows.length * 3).toBeGreaterThanOrEqual(badInputs.length);
    expect(rows.length).toBeGreaterThanOrEqual(20);
    for (const type of ['virtual_container_host', 'image', 'volume', 'container_vm']) expect(rows.some((r) => r.resource === type && !r.provider)).toBe(true);
    expect(rows.some((r) => r.provider)).toBe(true);
  });

  it.each<[string, boolean]>([
    ['rows the schema rejects', true],
    ['rows only vSphere can refuse', false],
  ])(
    'GIVEN %s in one configuration WHEN planned THEN every row gets exactly its diagnostics, in its own block, and nothing is created',
    async (_label, statics) => {
      const group = rows.filter((r) => isStatic(r, fx) === statics);
      expect(group.length).toBeGreaterThan(5);
      const ws = workspace('dev');
      const layout = configuration(group, fx);
      ws.write('main.tf', layout.text);
      const { code, stdout, stderr } = await bed.terraform(ws, ['plan', '-input=false'], { allow: [1] });
      expect(code).toBe(1);
      expect(stdout).not.toContain('Plan:');
      const found = diagnostics(stderr);
      const expectedCount = group.reduce((n, r) => n + r.expected(fx).length, 0);
      const report = `terraform said:\n${stderr}`;
      for (const row of group) {
        const span = layout.spans.get(row.name)!;
        const mine = found.filter((d) => d.line >= span.from && d.line <= span.to);
        const want = row.expected(fx);
        expect([row.name, mine.length]).toEqual([row.name, want.length]);
        for (const [path, summary, detail] of want as Expected[]) {
          const top = path.split(/[.[]/)[0];
          const match = mine.find((d) => d.summary === summary && d.text.includes(detail));
          if (!match) throw new Error(`row ${row.name}: no diagnostic "${summary}" with "${detail}"\n${report}`);
          // Terraform shows the configuration line of the attribute the path names, when the row sets it.
          const setsIt = top in (atProvider(row) ? (row.provider as Attrs) : row.config(fx));
          if (setsIt) expect([row.name, match.source]).toEqual([row.name, expect.stringMatching(new RegExp(`^${top}\\s*=`))]);
        }
      }
      expect(found).toHaveLength(expectedCount);
      expect(await inventoryOf(bed.sim(), bed.outside())).toEqual(baseline);
    },
    180_000,
  );
});
