/**
 * The provider plugin's own translation, without Pulumi or vSphere: the schema it serves (derived
 * from the declarations), URNs to declarations, secrets in and out, provider config from Configure,
 * and Check's validation failures by Pulumi property path.
 */
import type { Engine } from '../../src/engine';
import { camelCase, connectionSchema, declarations, holdsSensitive } from '../../src/resources';
import { VicProvider, configFromVariables, parseUrn, protectSecrets, revealSecrets } from '../../pulumi-component/native-provider';
import { ProviderHost } from '../../pulumi-component/provider-host';
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
    expect(parseUrn('urn:pulumi:dev::proj::vic:index:ContainerVm::web-1')).toEqual({ token: 'vic:index:ContainerVm', name: 'web-1' });
    expect(parseUrn('urn:pulumi:dev::proj::my:Component$vic:index:Image::app-hello')).toEqual({ token: 'vic:index:Image', name: 'app-hello' });
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
