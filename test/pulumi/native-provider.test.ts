/**
 * The provider plugin's own translation, without Pulumi or vSphere: the schema it serves (derived
 * from the declarations), URNs to declarations, secrets in and out, provider config from Configure,
 * Check's validation failures by Pulumi property path, and Diff's changed properties.
 */
import * as provproto from '@pulumi/pulumi/proto/provider_pb';
import type { Engine, PlannedChange } from '../../src/engine';
import { camelCase, connectionSchema, declarationFor, declarations, holdsSensitive, type Value } from '../../src/resources';
import { forwardPropertyDiffs, withPropertyDiffs } from '../../pulumi-component/diff-response';
import { VicProvider, configFromVariables, parseUrn, protectSecrets, revealSecrets } from '../../pulumi-component/native-provider';
import { ProviderHost, propertyDiffs } from '../../pulumi-component/provider-host';
import { packageSchema, tokenFor } from '../../pulumi-component/schema';
import { image } from '../../src/resources';

const SIG = '4dabf18193072939515e22adb298388d';
const SECRET = '1b47061264138c4ac30d75fd1eb44270';

type ResourceSpec = { inputProperties: Record<string, { secret?: boolean }>; requiredInputs: string[]; properties: Record<string, unknown> };

/** A host with no vSphere behind it: what needs one fails, saying so. */
function offlineHost(): ProviderHost {
  return new ProviderHost(() => Promise.reject(new Error('check must not connect to vSphere')) as Promise<Engine>);
}

describe('the vic package schema', () => {
  const schema = packageSchema() as { resources: Record<string, ResourceSpec>; config: { variables: Record<string, { secret?: boolean }> } };

  it('GIVEN the declarations THEN each is a vic:index:<ClassName> resource whose inputs are the settable attributes and whose outputs are all of them but id', () => {
    expect(Object.keys(schema.resources).sort()).toEqual(['vic:index:ContainerVm', 'vic:index:Image', 'vic:index:VirtualContainerHost', 'vic:index:Volume']);
    for (const decl of declarations) {
      const spec = schema.resources[tokenFor(decl)];
      const attrs = Object.entries(decl.schema).filter(([n]) => n !== 'id');
      expect(Object.keys(spec.inputProperties).sort()).toEqual(
        attrs
          .filter(([, a]) => a.required || a.optional)
          .map(([n]) => camelCase(n))
          .sort(),
      );
      expect(spec.requiredInputs.sort()).toEqual(
        attrs
          .filter(([, a]) => a.required)
          .map(([n]) => camelCase(n))
          .sort(),
      );
      expect(Object.keys(spec.properties).sort()).toEqual(attrs.map(([n]) => camelCase(n)).sort());
      const secrets = Object.entries(spec.inputProperties)
        .filter(([, p]) => p.secret)
        .map(([n]) => n);
      expect(secrets.sort()).toEqual(
        attrs
          .filter(([, a]) => (a.required || a.optional) && holdsSensitive(a))
          .map(([n]) => camelCase(n))
          .sort(),
      );
    }
    expect(schema.resources['vic:index:Image'].inputProperties.registryAuth.secret).toBe(true);
  });

  it('GIVEN the connection settings THEN they are the provider config, vic:password a secret', () => {
    expect(Object.keys(schema.config.variables).sort()).toEqual(Object.keys(connectionSchema).map(camelCase).sort());
    expect(schema.config.variables.password.secret).toBe(true);
  });
});

describe('the plugin translation', () => {
  it('GIVEN a URN, also of a child resource THEN the type token and the name come out', () => {
    expect(parseUrn('urn:pulumi:dev::proj::vic:index:ContainerVm::web-1')).toEqual({ token: 'vic:index:ContainerVm', name: 'web-1', stack: 'proj/dev' });
    expect(parseUrn('urn:pulumi:dev::proj::my:Component$vic:index:Image::app-hello')).toEqual({
      token: 'vic:index:Image',
      name: 'app-hello',
      stack: 'proj/dev',
    });
    expect(() => parseUrn('web-1')).toThrow(/malformed resource URN "web-1"/);
  });

  it('GIVEN secret values nested anywhere THEN the engine sees them plain, and the sensitive properties go back to Pulumi as secrets', () => {
    const wrapped = { reference: 'r', registryAuth: { [SIG]: SECRET, value: { username: 'u', password: 'p' } }, env: { A: { [SIG]: SECRET, value: 'x' } } };
    expect(revealSecrets(wrapped)).toEqual({ reference: 'r', registryAuth: { username: 'u', password: 'p' }, env: { A: 'x' } });
    const outs = protectSecrets(image, { reference: 'r', registryAuth: { username: 'u', password: 'p' } });
    expect(outs).toEqual({ reference: 'r', registryAuth: { [SIG]: SECRET, value: { username: 'u', password: 'p' } } });
    expect(protectSecrets(image, outs)).toEqual(outs);
  });

  it('GIVEN Configure variables THEN the host reads them by the vic:<name> keys of stack config', () => {
    const read = configFromVariables(new Map([['vic:config:vsphereServer', 'vc.example.com']]));
    expect(read('vic:vsphereServer')).toBe('vc.example.com');
    expect(read('vic:user')).toBeUndefined();
  });

  it('GIVEN an invalid arg and a plain-string password WHEN checked THEN the failure names the Pulumi property, and the inputs come back with the password a secret', async () => {
    const provider = new VicProvider(offlineHost());
    const urn = 'urn:pulumi:dev::proj::vic:index:ContainerVm::web-1';
    const { failures } = await provider.check(urn, {}, { vchId: 'resgroup-1', imageId: 'sha256:' + 'a'.repeat(64), name: 'web-1', memoryMb: -5 });
    expect(failures).toEqual([expect.objectContaining({ property: 'memoryMb' })]);
    // The reason names the arg as the program does, not by its Terraform attribute name.
    expect(failures?.[0].reason).toMatch(/^Invalid value for "memoryMb": memoryMb = -5 /);

    // An update's check (old inputs given) is the schema's alone; a create's also checks what it refers to, in vSphere.
    const inputs = { vchId: 'resgroup-1', reference: 'reg.example.com/a/b:1', registryAuth: { username: 'u', password: 'p' } };
    await expect(provider.check('urn:pulumi:dev::proj::vic:index:Image::hello', {}, inputs)).rejects.toThrow('vic: cannot connect to vSphere');
    const checked = await provider.check('urn:pulumi:dev::proj::vic:index:Image::hello', inputs, inputs);
    expect(checked.failures).toEqual([]);
    expect(checked.inputs).toEqual({
      vchId: 'resgroup-1',
      reference: 'reg.example.com/a/b:1',
      registryAuth: { [SIG]: SECRET, value: { username: 'u', password: 'p' } },
    });
  });

  it('GIVEN a type the provider does not serve THEN the error names it and the served types', async () => {
    await expect(new VicProvider(offlineHost()).check('urn:pulumi:dev::proj::vic:index:Nope::x', {}, {})).rejects.toThrow(
      /unknown resource type "vic:index:Nope": this provider serves vic:index:VirtualContainerHost, vic:index:Image, vic:index:Volume, vic:index:ContainerVm/,
    );
  });
});

describe("a Diff's changed properties, as Pulumi's engine receives them", () => {
  const vm = declarationFor('container_vm');
  const change = (
    action: PlannedChange['action'],
    changes: Array<[string, Value | undefined, Value | undefined]>,
    requiresReplace: string[] = [],
  ): PlannedChange => ({
    type: 'container_vm',
    action,
    prior: null,
    planned: null,
    changes: changes.map(([name, before, after]) => ({ path: [name], before, after, forceNew: requiresReplace.includes(name) })),
    requiresReplace: requiresReplace.map((n) => [n]),
    reasons: [],
    notes: [],
    problems: [],
  });

  it.each<[string, PlannedChange, Record<string, { kind: string; inputDiff: boolean }>]>([
    ['no change', change('no-op', []), {}],
    ['labels updated', change('update', [['labels', { a: '1' }, { a: '2' }]]), { labels: { kind: 'UPDATE', inputDiff: false } }],
    [
      'labels set and cpus unset',
      change('update', [
        ['labels', null, { a: '1' }],
        ['cpus', 2, null],
      ]),
      { labels: { kind: 'ADD', inputDiff: false }, cpus: { kind: 'DELETE', inputDiff: false } },
    ],
    [
      'an env change forces the replacement, memory too changes',
      change(
        'replace',
        [
          ['env', { A: '1' }, { A: '2' }],
          ['memory_mb', 512, 1024],
        ],
        ['env'],
      ),
      { env: { kind: 'UPDATE_REPLACE', inputDiff: false }, memoryMb: { kind: 'UPDATE', inputDiff: false } },
    ],
    ['a replacement the check forces, with no attribute change', change('replace', [], ['vch_id']), { vchId: { kind: 'UPDATE_REPLACE', inputDiff: false } }],
  ])('GIVEN %s THEN the detailed diff names each property by its Pulumi name, and diffs lists them', (_label, planned, detailed) => {
    const diffs = propertyDiffs(vm, planned);
    expect(diffs.detailedDiff).toEqual(detailed);
    expect([...diffs.diffs].sort()).toEqual(Object.keys(detailed).sort());
  });

  it('GIVEN a replacement the check forces on an output (a moved tag: digest) THEN digest is a changed key, with no detailed entry Pulumi would show as removed', () => {
    const moved: PlannedChange = { ...change('replace', [], ['digest']), type: 'image' };
    expect(propertyDiffs(declarationFor('image'), moved)).toEqual({ diffs: ['digest'], detailedDiff: {} });
  });

  it("GIVEN a result with property diffs WHEN @pulumi/pulumi's server builds its DiffResponse as it does (changes read, then setChanges) THEN the response carries diffs and the detailed diff", () => {
    forwardPropertyDiffs();
    const result = withPropertyDiffs(
      { changes: true, replaces: [], deleteBeforeReplace: true },
      { diffs: ['labels'], detailedDiff: { labels: { kind: 'UPDATE', inputDiff: false } } },
    );
    const resp = new provproto.DiffResponse();
    if (result.changes === true) resp.setChanges(provproto.DiffResponse.DiffChanges.DIFF_SOME);
    expect(resp.getDiffsList()).toEqual(['labels']);
    expect(resp.getHasdetaileddiff()).toBe(true);
    const labels = resp.getDetaileddiffMap().get('labels');
    expect([labels?.getKind(), labels?.getInputdiff()]).toEqual([provproto.PropertyDiff.Kind.UPDATE, false]);
    // A response whose result carried none (another provider's) is left as the server made it.
    const plain = new provproto.DiffResponse();
    plain.setChanges(provproto.DiffResponse.DiffChanges.DIFF_SOME);
    expect([plain.getDiffsList(), plain.getHasdetaileddiff()]).toEqual([[], false]);
  });
});
