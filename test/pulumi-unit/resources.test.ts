/**
 * The Pulumi resources and ContainerApp under `pulumi.runtime.setMocks`: what each registers with
 * the engine (types, parents, wiring, secrets, the serialized provider). No CRUD runs here; the
 * provider's work is covered by test/pulumi (real `pulumi` CLI against the simulator).
 */
import * as pulumi from '@pulumi/pulumi';
import { isRpcSecret } from '@pulumi/pulumi/runtime/rpc';

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  importId?: string;
}

const registered: Registered[] = [];

// setMocks installs the mocks synchronously; its promise is awaited so a failure fails the file.
const mocksInstalled = pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs, importId: args.id });
      return { id: args.id || `${args.name}-id`, state: args.inputs };
    },
    call(args) {
      return args.inputs;
    },
  },
  'vic-unit',
  'dev',
  false,
);
beforeAll(() => mocksInstalled);

// Loaded after setMocks, as Pulumi's testing guide requires.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vic = require('../../pulumi-component') as typeof import('../../pulumi-component');

function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

function registration(name: string): Registered {
  const r = registered.find((x) => x.name === name);
  if (!r) throw new Error(`no resource "${name}" registered (have: ${registered.map((x) => x.name).join(', ')})`);
  return r;
}

// The serialized provider reaches the mock monitor; its text is what the provider process runs.
function providerText(r: Registered): string {
  const p = r.inputs.__provider;
  return String(isRpcSecret(p) ? (p as { value: unknown }).value : p);
}

beforeEach(() => {
  registered.length = 0;
});

describe('vic.ContainerApp', () => {
  const appArgs = () => ({
    host: { name: 'vch-web', compute: 'resgroup-8', datastore: 'datastore-15', memoryLimitMb: 4096 },
    images: { busybox: { reference: '127.0.0.1:5000/library/busybox:1.36' } },
    containers: { 'web-1': { image: 'busybox', command: ['httpd', '-f'], memoryMb: 256 }, 'web-2': { image: 'busybox', name: 'custom-name' } },
  });

  it('GIVEN one args object WHEN the app is declared THEN a VCH, its image and its container VMs register under the component', async () => {
    const app = new vic.ContainerApp('web', appArgs());
    await resolved(app.containerIds);

    // Registration order among siblings is async; the set is what matters.
    expect(registered.map((r) => [r.type, r.name]).sort()).toEqual(
      [
        ['vic:index:ContainerApp', 'web'],
        ['pulumi-nodejs:dynamic/vic:VirtualContainerHost', 'web-host'],
        ['pulumi-nodejs:dynamic/vic:Image', 'web-busybox'],
        ['pulumi-nodejs:dynamic/vic:ContainerVm', 'web-web-1'],
        ['pulumi-nodejs:dynamic/vic:ContainerVm', 'web-web-2'],
      ].sort(),
    );
    const urns = await resolved(pulumi.all([app.urn, app.host.urn, app.containers['web-1'].urn]));
    // THEN children carry the component in their URN (parent/child wiring).
    expect(urns[1]).toContain('vic:index:ContainerApp$pulumi-nodejs:dynamic/vic:VirtualContainerHost::web-host');
    expect(urns[2]).toContain('vic:index:ContainerApp$pulumi-nodejs:dynamic/vic:ContainerVm::web-web-1');
  });

  it('GIVEN the app WHEN its children register THEN the image and containers get the VCH id and the image id', async () => {
    const app = new vic.ContainerApp('web', appArgs());
    await resolved(app.containerIds);

    expect(registration('web-busybox').inputs).toMatchObject({ vchId: 'web-host-id', reference: '127.0.0.1:5000/library/busybox:1.36' });
    expect(registration('web-web-1').inputs).toMatchObject({
      vchId: 'web-host-id',
      imageId: 'web-busybox-id',
      name: 'web-1',
      command: ['httpd', '-f'],
      memoryMb: 256,
    });
    expect(registration('web-web-2').inputs).toMatchObject({ name: 'custom-name' });
    expect(registration('web-web-2').inputs).not.toHaveProperty('image');
    expect(await resolved(app.containerIds)).toEqual({ 'web-1': 'web-web-1-id', 'web-2': 'web-web-2-id' });
    expect(await resolved(app.vchId)).toBe('web-host-id');
  });

  it('GIVEN a container naming an image the app does not have WHEN declared THEN it fails naming the container, the image and the known ones', () => {
    const args = appArgs();
    expect(() => new vic.ContainerApp('bad', { ...args, containers: { c: { image: 'nginx' } } })).toThrow(
      'ContainerApp "bad": container "c" names image "nginx", which is not in images (known: busybox)',
    );
  });
});

describe('vic resources', () => {
  it('GIVEN plain MOID strings (what @pulumi/vsphere outputs) WHEN a VCH is declared THEN they go to the engine unchanged', async () => {
    const vch = new vic.VirtualContainerHost('vch', { name: 'vch-a', compute: 'domain-c7', datastore: 'datastore-15', bridgeNetwork: 'dvportgroup-21' });
    await resolved(vch.id);
    expect(registration('vch').inputs).toMatchObject({ compute: 'domain-c7', datastore: 'datastore-15', bridgeNetwork: 'dvportgroup-21' });
    expect(vic.VirtualContainerHost.isInstance(vch)).toBe(true);
    expect(vic.ContainerVm.isInstance(vch)).toBe(false);
  });

  it('GIVEN a registry password as a plain string WHEN an image is declared THEN it is registered as a secret', async () => {
    const img = new vic.Image('img', { vchId: 'resgroup-9', reference: 'r.example/app:1', registryAuth: { username: 'u', password: 'hunter2' } });
    await resolved(img.id);
    const auth = registration('img').inputs.registryAuth;
    expect(isRpcSecret(auth)).toBe(true);
    expect(await pulumi.isSecret(img.registryAuth)).toBe(true);
  });

  it('GIVEN any vic resource WHEN registered THEN its provider is serialized with it, loads the host by package name and holds no secret', async () => {
    const img = new vic.Image('img2', { vchId: 'resgroup-9', reference: 'r.example/app:1', registryAuth: { username: 'u', password: 'hunter2' } });
    await resolved(img.id);
    const text = providerText(registration('img2'));
    expect(text).toContain('exports.handler');
    expect(text).toContain('vic-iac/pulumi/provider-host');
    expect(text).not.toContain('hunter2');
    // THEN nothing of the engine or the vSphere client is baked into the state.
    expect(text).not.toMatch(/undici|RetrievePropertiesEx|VimClient/);
    expect(text.length).toBeLessThan(8000);
  });

  it('GIVEN the import option WHEN a container VM is declared THEN the id goes to our create() and not to Pulumi import (which cannot read dynamic resources)', async () => {
    const vm = new vic.ContainerVm(
      'vm',
      { vchId: 'resgroup-9', imageId: 'sha256:' + 'a'.repeat(64), name: 'web-1' },
      { import: '5f1e8f0e-aaaa-5bbb-8ccc-000000000001' },
    );
    await resolved(vm.id);
    expect(registration('vm').importId).toBeFalsy();
    expect(registration('vm').inputs.vicImportId).toBe('5f1e8f0e-aaaa-5bbb-8ccc-000000000001');
  });

  it('GIVEN a container VM WHEN declared THEN every attribute is an output property of the object', async () => {
    const vm = new vic.ContainerVm('vm2', { vchId: 'resgroup-9', imageId: 'sha256:' + 'b'.repeat(64), name: 'web-2', cpus: 2 });
    expect(await resolved(vm.cpus)).toBe(2);
    expect(await resolved(vm.name)).toBe('web-2');
    expect(pulumi.Output.isInstance(vm.moid)).toBe(true);
    expect(pulumi.Output.isInstance(vm.ipAddresses)).toBe(true);
  });
});
