/** Stack validation is pure: GIVEN a spec WHEN validated THEN every structural problem is named. */
import { referencesOf, validateStack, type StackResource } from '../../../src/engine/stack';

const vch: StackResource = { type: 'virtual_container_host', name: 'demo', config: { name: 'v', compute: 'c', datastore: 'd' } };
const vm = (name: string, vmName = name, vchId = '${virtual_container_host.demo.id}'): StackResource => ({
  type: 'container_vm',
  name,
  config: { vch_id: vchId, image_id: `sha256:${'a'.repeat(64)}`, name: vmName },
});

describe('validateStack', () => {
  it.each([
    ['a valid spec', [vch, vm('a'), vm('b')], []],
    [
      'an unknown type',
      [{ type: 'vm' as never, name: 'x', config: {} }],
      ['"vm" is not a resource type; use one of virtual_container_host, image, volume, container_vm.'],
    ],
    [
      'a misspelt type',
      [{ type: 'imgae' as never, name: 'x', config: {} }],
      ['"imgae" is not a resource type; use one of virtual_container_host, image, volume, container_vm. Did you mean "image"?'],
    ],
    [
      'a misspelt resource name in a reference',
      [vch, vm('a', 'a', '${virtual_container_host.dmeo.id}')],
      [
        'container_vm.a refers to virtual_container_host.dmeo, which the spec does not declare. Did you mean ${virtual_container_host.demo.id}? Known: virtual_container_host.demo, container_vm.a.',
      ],
    ],
    [
      'a misspelt attribute in a reference',
      [vch, vm('a', 'a', '${virtual_container_host.demo.idd}')],
      [
        expect.stringMatching(
          /^container_vm\.a refers to \$\{virtual_container_host\.demo\.idd\}, but virtual_container_host has no attribute "idd"\. Did you mean \$\{virtual_container_host\.demo\.id\}\? Its attributes: id, /,
        ),
      ],
    ],
    [
      'an attribute no name is near',
      [vch, vm('a', 'a', '${virtual_container_host.demo.everything}')],
      [
        expect.stringMatching(
          /^container_vm\.a refers to \$\{virtual_container_host\.demo\.everything\}, but virtual_container_host has no attribute "everything"\. Its attributes: /,
        ),
      ],
    ],
    ['a duplicate address', [vch, vm('a'), vm('a', 'other')], ['container_vm.a is declared twice; give each resource its own name.']],
    ['an undeclared reference', [vm('a')], ['container_vm.a refers to virtual_container_host.demo, which the spec does not declare. Known: container_vm.a.']],
    [
      'two VMs with one name in one VCH',
      [vch, vm('a', 'web'), vm('b', 'web')],
      [
        'container_vm.b and container_vm.a both declare vch_id = "${virtual_container_host.demo.id}" and name = "web"; the two would share one vSphere object. Give each its own name.',
      ],
    ],
    [
      'a cycle',
      [
        { type: 'virtual_container_host', name: 'x', config: { name: '${virtual_container_host.y.id}' } },
        { type: 'virtual_container_host', name: 'y', config: { name: '${virtual_container_host.x.id}' } },
      ],
      ['resources refer to each other in a circle: virtual_container_host.x → virtual_container_host.y → virtual_container_host.x. Break the cycle.'],
    ],
  ] as [string, StackResource[], string[]][])('GIVEN %s WHEN validated THEN the problems are exact', (_label, spec, details) => {
    expect(validateStack(spec).map((p) => p.detail)).toEqual(details);
  });

  it('GIVEN references inside strings, lists and maps WHEN collected THEN each address once', () => {
    expect(referencesOf({ a: '${image.i.id}', b: ['x-${virtual_container_host.v.name}'], c: { d: '${image.i.digest}' } }).sort()).toEqual([
      'image.i',
      'virtual_container_host.v',
    ]);
  });
});
