/**
 * The plan as people and scripts read it: Terraform's symbols, before -> after, reasons for
 * replacements, notes, the summary line, no colour unless asked, sensitive values never shown.
 */
import type { StackChange, StackPlan } from '../../src/engine/stack';
import type { PlannedChange } from '../../src/engine/types';
import { formatValue, planAsJson, redact, renderPlan, summarize } from '../../src/cli/plan-view';
import { colorWanted, stripAnsi, stylesFor } from '../../src/cli/terminal';
import { UNKNOWN, t } from '../../src/resources';

const SECRET = 'hunter2-registry-password';

function change(address: string, c: Partial<PlannedChange> & Pick<PlannedChange, 'type' | 'action'>): StackChange {
  return {
    address,
    dependsOn: [],
    change: { prior: null, planned: null, changes: [], requiresReplace: [], reasons: [], notes: [], problems: [], ...c },
  };
}

const PLAN: StackPlan = {
  refreshed: { version: 1, resources: {} },
  problems: [],
  changes: [
    change('container_vm.web', {
      type: 'container_vm',
      action: 'replace',
      prior: { id: 'u-1', name: 'web-1', image_id: 'sha256:aa' },
      planned: { id: UNKNOWN, name: 'web-1', image_id: 'sha256:bb' },
      changes: [{ path: ['image_id'], before: 'sha256:aa', after: 'sha256:bb', forceNew: true }],
      requiresReplace: [['image_id']],
      reasons: ['image_id changed (forces replacement)'],
    }),
    change('container_vm.worker', {
      type: 'container_vm',
      action: 'update',
      changes: [{ path: ['memory_mb'], before: 128, after: 256, forceNew: false }],
      notes: ['changing memory_mb powers the VM off and on again'],
    }),
    change('image.private', {
      type: 'image',
      action: 'create',
      planned: { id: UNKNOWN, vch_id: 'resgroup-1', reference: 'r.example/app:1', registry_auth: { username: 'bob', password: SECRET }, digest: UNKNOWN },
    }),
    change('image.old', { type: 'image', action: 'delete', prior: { id: 'sha256:cc', reference: 'r.example/old:1' } }),
    change('virtual_container_host.demo', { type: 'virtual_container_host', action: 'no-op' }),
  ],
};

describe('plan view', () => {
  it('GIVEN a plan with every action WHEN rendered without colour THEN it reads like Terraform, replacements with their reasons', () => {
    const text = renderPlan(PLAN, stylesFor(false));
    expect(text).not.toMatch(/\u001b\[/);
    const lines = text.split('\n');
    expect(lines).toContain('  + image.private');
    expect(lines).toContain('  -/+ container_vm.web');
    expect(lines).toContain('      # image_id changed (forces replacement)');
    expect(lines).toContain('      ~ image_id = "sha256:aa" -> "sha256:bb" # forces replacement');
    expect(lines).toContain('  ~ container_vm.worker');
    expect(lines).toContain('      ~ memory_mb = 128 -> 256');
    expect(lines).toContain('      ! changing memory_mb powers the VM off and on again');
    expect(lines).toContain('  - image.old');
    expect(lines).toContain('      - id = "sha256:cc" -> null');
    expect(text).not.toContain('virtual_container_host.demo');
    expect(lines).toContain('Plan: 2 to add, 1 to change, 2 to destroy.');
  });

  it('GIVEN a replacement the engine makes create-first WHEN rendered THEN +/- with its own legend line, and -/+ for one made delete-first', () => {
    const image = change('image.app', {
      type: 'image',
      action: 'replace',
      createBeforeDestroy: true,
      prior: { id: 'sha256:aa' },
      planned: { id: 'sha256:bb' },
      changes: [{ path: ['id'], before: 'sha256:aa', after: 'sha256:bb', forceNew: true }],
      reasons: ['the tag moved (forces replacement)'],
    });
    const lines = renderPlan({ ...PLAN, changes: [...PLAN.changes, image] }, stylesFor(false)).split('\n');
    expect(lines).toContain('  +/- image.app');
    expect(lines).toContain('  -/+ container_vm.web');
    expect(lines.slice(0, 7)).toEqual([
      'Resource actions are indicated with the following symbols:',
      '  + create',
      '  ~ update in place',
      '  - destroy',
      '  -/+ destroy and then create replacement',
      '  +/- create replacement and then destroy',
      '',
    ]);
    // A plan without a create-first replacement has no +/- legend line.
    expect(renderPlan(PLAN, stylesFor(false))).not.toContain('+/-');
  });

  it('GIVEN a create with outputs only vSphere knows WHEN rendered THEN the id says (known after apply) and the other outputs are left out', () => {
    const text = renderPlan(PLAN, stylesFor(false));
    expect(text).toMatch(/^ {6}\+ id +=  ?\(known after apply\)$/m);
    expect(text).not.toContain('digest');
  });

  it('GIVEN a sensitive nested attribute WHEN rendered or turned into JSON THEN its value never appears', () => {
    const text = renderPlan(PLAN, stylesFor(true));
    expect(text).not.toContain(SECRET);
    expect(stripAnsi(text)).toContain('registry_auth = { username = "bob", password = (sensitive value) }');
    const json = JSON.stringify(planAsJson(PLAN));
    expect(json).not.toContain(SECRET);
    expect(json).toContain('(sensitive value)');
  });

  it('GIVEN colour WHEN rendered THEN the symbols are coloured (green +, yellow ~, red -)', () => {
    const text = renderPlan(PLAN, stylesFor(true));
    expect(text).toContain('\u001b[32m+\u001b[39m image.private');
    expect(text).toContain('\u001b[33m~\u001b[39m container_vm.worker');
    expect(text).toContain('\u001b[31m-\u001b[39m image.old');
  });

  it('GIVEN a destroy of what the spec declares WHEN rendered as a destroy THEN no resource says it was removed from the configuration', () => {
    const gone = change('volume.data', { type: 'volume', action: 'delete', prior: { id: 'v-1', name: 'data' }, reasons: ['removed from the configuration'] });
    const plan: StackPlan = { refreshed: { version: 1, resources: {} }, problems: [], changes: [gone] };
    expect(renderPlan(plan, stylesFor(false), 'destroy')).not.toContain('removed from the configuration');
    expect(renderPlan(plan, stylesFor(false), 'plan')).toContain('# removed from the configuration');
  });

  it('GIVEN nothing to do WHEN rendered THEN one line says so and the summary counts zero', () => {
    const empty: StackPlan = { ...PLAN, changes: [PLAN.changes[4]] };
    expect(renderPlan(empty, stylesFor(false))).toBe('No changes. vSphere matches the spec.\n');
    expect(summarize(empty)).toEqual({ add: 0, change: 0, destroy: 0 });
  });

  it('GIVEN a plan WHEN turned into JSON THEN each change has its action, replace paths and attribute diffs, unknowns flagged', () => {
    const json = planAsJson(PLAN) as { changes: Array<Record<string, unknown>>; summary: object };
    expect(json.summary).toEqual({ add: 2, change: 1, destroy: 2 });
    const web = json.changes.find((c) => c.address === 'container_vm.web');
    expect(web).toMatchObject({
      type: 'container_vm',
      name: 'web',
      action: 'replace',
      requires_replace: ['image_id'],
      reasons: ['image_id changed (forces replacement)'],
    });
    expect(web?.attributes).toEqual([{ path: 'image_id', before: 'sha256:aa', after: 'sha256:bb', after_unknown: false, sensitive: false, force_new: true }]);
    const created = json.changes.find((c) => c.address === 'image.private') as { attributes: Array<Record<string, unknown>> };
    expect(created.attributes.find((a) => a.path === 'id')).toEqual({
      path: 'id',
      before: null,
      after: null,
      after_unknown: true,
      sensitive: false,
      force_new: false,
    });
  });

  it.each([
    ['a string', 'a"b', '"a\\"b"'],
    ['a number', 4, '4'],
    ['a list', ['sh', '-c'], '["sh", "-c"]'],
    ['a map', { A: 'b', 'x-y': '1' }, '{ A = "b", "x-y" = "1" }'],
    ['an unknown', UNKNOWN, '(known after apply)'],
    ['null', null, 'null'],
  ])('GIVEN %s WHEN formatted THEN it reads %s', (_what, value, expected) => {
    expect(formatValue(value as never)).toBe(expected);
  });

  it.each([
    ['a sensitive attribute', 's', t.string, true, '(sensitive value)'],
    [
      'an object with a sensitive field',
      { u: 'a', p: 's' },
      t.object({ u: { type: t.string, description: '' }, p: { type: t.string, sensitive: true, description: '' } }),
      false,
      { u: 'a', p: '(sensitive value)' },
    ],
    ['a plain list', ['a'], t.list(t.string), false, ['a']],
    ['an unknown sensitive value', UNKNOWN, t.string, true, UNKNOWN],
  ])('GIVEN %s WHEN redacted THEN %j', (_what, value, type, sensitive, expected) => {
    expect(redact(value as never, type, sensitive)).toEqual(expected);
  });

  it.each([
    [{ isTTY: true }, {}, true],
    [{ isTTY: false }, {}, false],
    [{ isTTY: true }, { NO_COLOR: '1' }, false],
    [{ isTTY: true }, { TERM: 'dumb' }, false],
    [{ isTTY: false }, { FORCE_COLOR: '1' }, true],
    [{ isTTY: false }, { FORCE_COLOR: '1', NO_COLOR: '1' }, false],
  ])('GIVEN a stream %j and env %j WHEN asked about colour THEN %s', (stream, env, expected) => {
    expect(colorWanted(stream, env as NodeJS.ProcessEnv)).toBe(expected);
  });
});
