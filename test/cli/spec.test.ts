/**
 * The YAML spec: every mistake reported at once, each at its file:line and attribute path, with
 * the attribute names and rules of the resource declarations.
 */
import { join } from 'node:path';
import { SpecError, formatSpecProblem, loadSpec, parseSpec } from '../../src/cli/spec';

const FIXTURE = join(__dirname, '../fixtures/cli/bad-spec.yaml');

function problemsOf(text: string): string[] {
  try {
    parseSpec('spec.yaml', text);
  } catch (err) {
    if (err instanceof SpecError) return err.problems.map(formatSpecProblem);
    throw err;
  }
  throw new Error('expected a SpecError');
}

describe('spec loading', () => {
  it('GIVEN a valid spec with references WHEN parsed THEN resources keep their Terraform attribute names and references as strings', () => {
    const spec = parseSpec(
      'spec.yaml',
      [
        'virtual_container_host:',
        '  demo: { name: vch-demo, compute: /DC0/host/DC0_C0, datastore: LocalDS_0 }',
        'image:',
        '  app: { vch_id: "${virtual_container_host.demo.id}", reference: "r.example/app:1" }',
        'container_vm:',
        '  web:',
        '    vch_id: ${virtual_container_host.demo.id}',
        '    image_id: ${image.app.id}',
        '    name: web-1',
        '    env: { A: b }',
      ].join('\n'),
    );
    expect(spec.resources).toEqual([
      { type: 'virtual_container_host', name: 'demo', config: { name: 'vch-demo', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0' } },
      { type: 'image', name: 'app', config: { vch_id: '${virtual_container_host.demo.id}', reference: 'r.example/app:1' } },
      {
        type: 'container_vm',
        name: 'web',
        config: { vch_id: '${virtual_container_host.demo.id}', image_id: '${image.app.id}', name: 'web-1', env: { A: 'b' } },
      },
    ]);
    expect(spec.lineOf('container_vm.web', ['env', 'A'])).toBe(10);
  });

  it('GIVEN the fixture with six mistakes WHEN loaded THEN each is reported at its line and attribute path', () => {
    let problems: string[] = [];
    try {
      loadSpec(FIXTURE);
    } catch (err) {
      problems = (err as SpecError).problems.map(formatSpecProblem).map((p) => p.replace(FIXTURE, 'bad-spec.yaml'));
    }
    expect(problems).toEqual([
      expect.stringMatching(/^bad-spec\.yaml:3: virtual_container_host\.demo\.compute: The argument "compute" is required/),
      expect.stringMatching(/^bad-spec\.yaml:6: virtual_container_host\.demo\.colour: An argument named "colour" is not expected here\./),
      expect.stringMatching(/^bad-spec\.yaml:16: container_vm\.web\.memory_mb: memory_mb must be number, got string "lots"/),
      expect.stringMatching(
        /^bad-spec\.yaml:19: container_vm\.worker\.vch_id: container_vm\.worker refers to virtual_container_host\.other, which the spec does not declare/,
      ),
      expect.stringMatching(/^bad-spec\.yaml:22: container_vm\.worker\.memory_mb: memory_mb = 130 is not a multiple of 4 MB/),
      expect.stringMatching(/^bad-spec\.yaml:24: container_vm\.worker\.env\.1BAD: .*not a valid environment variable name/),
    ]);
  });

  it.each([
    ['a YAML syntax error', 'image:\n  a: [1,\n', /^spec\.yaml:3: YAML: /],
    [
      'a duplicate resource name',
      'image:\n  a: { vch_id: x, reference: r/a:1 }\n  a: { vch_id: x, reference: r/a:1 }\n',
      /^spec\.yaml:3: YAML: Map keys must be unique/,
    ],
    [
      'an unknown resource type',
      'virtual_machine:\n  a: {}\n',
      /^spec\.yaml:1: unknown resource type "virtual_machine"; use one of virtual_container_host, image, volume, container_vm$/,
    ],
    [
      'a misspelt resource type',
      'imag:\n  a: {}\n',
      /^spec\.yaml:1: unknown resource type "imag"; use one of virtual_container_host, image, volume, container_vm\. Did you mean "image"\?$/,
    ],
    ['a list at the top', '- a\n', /^spec\.yaml:1: the spec must be a map of resource types/],
    ['an empty file', '', /^spec\.yaml:1: the spec is empty/],
    ['a resource that is not a map', 'image:\n  a: 3\n', /^spec\.yaml:2: image\.a: the attributes of a resource must be a map$/],
    ['a bad resource name', 'image:\n  "a b": { vch_id: x, reference: r/a:1 }\n', /^spec\.yaml:2: image\.a b: resource names may hold only/],
    [
      'a computed attribute set',
      'image:\n  a:\n    vch_id: x\n    reference: r/a:1\n    digest: sha256:00\n',
      /^spec\.yaml:5: image\.a\.digest: digest is computed by vSphere and cannot be set/,
    ],
    [
      'a reference cycle',
      'image:\n  a: { vch_id: "${image.b.id}", reference: r/a:1 }\n  b: { vch_id: "${image.a.id}", reference: r/b:1 }\n',
      /^spec\.yaml:2: image\.a: resources refer to each other in a circle: image\.a → image\.b → image\.a/,
    ],
  ])('GIVEN %s WHEN parsed THEN the problem names its line', (_what, text, expected) => {
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  describe('references with a typo', () => {
    const spec = (vchRef: string, imageRef: string) =>
      [
        'virtual_container_host:',
        '  demo: { name: vch-demo, compute: /DC0/host/DC0_C0, datastore: LocalDS_0 }',
        'image:',
        '  busybox: { vch_id: "${virtual_container_host.demo.id}", reference: "r.example/busybox:1" }',
        'container_vm:',
        '  web:',
        `    vch_id: ${vchRef}`,
        `    image_id: ${imageRef}`,
        '    name: web-1',
      ].join('\n');

    it.each([
      [
        'a misspelt resource name',
        spec('${virtual_container_host.demo.id}', '${image.busybx.id}'),
        /^spec\.yaml:8: container_vm\.web\.image_id: container_vm\.web refers to image\.busybx, which the spec does not declare\. Did you mean \$\{image\.busybox\.id\}\? Known: virtual_container_host\.demo, image\.busybox, container_vm\.web\.$/,
      ],
      [
        'a misspelt attribute',
        spec('${virtual_container_host.demo.idd}', '${image.busybox.id}'),
        /^spec\.yaml:7: container_vm\.web\.vch_id: container_vm\.web refers to \$\{virtual_container_host\.demo\.idd\}, but virtual_container_host has no attribute "idd"\. Did you mean \$\{virtual_container_host\.demo\.id\}\? Its attributes: id, name, /,
      ],
      [
        'a misspelt type inside a reference',
        spec('${virtual_container_host.demo.id}', '"${imag.busybox.id}"'),
        /^spec\.yaml:8: container_vm\.web\.image_id: container_vm\.web refers to imag\.busybox, which the spec does not declare\. Did you mean \$\{image\.busybox\.id\}\?/,
      ],
      [
        'every part misspelt at once',
        spec('${virtual_container_host.demo.id}', '"${imgae.busybx.idd}"'),
        /^spec\.yaml:8: container_vm\.web\.image_id: container_vm\.web refers to imgae\.busybx, which the spec does not declare\. Did you mean \$\{image\.busybox\.id\}\?/,
      ],
      [
        'a reference to something far from every declared name',
        spec('${virtual_container_host.demo.id}', '${image.nginx.id}'),
        /^spec\.yaml:8: container_vm\.web\.image_id: container_vm\.web refers to image\.nginx, which the spec does not declare\. Known: [^?]*$/,
      ],
    ])('GIVEN %s WHEN parsed THEN the problem is at its attribute and names the nearest right reference', (_what, text, expected) => {
      const problems = problemsOf(text);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(expected);
    });

    it('GIVEN a reference inside a longer string and a list WHEN misspelt THEN its own path and line are named', () => {
      const text = `${spec('${virtual_container_host.demo.id}', '${image.busybox.id}')}\n    command: [sh, -c, "echo \${image.busybox.digets}"]\n`;
      expect(problemsOf(text)).toEqual([
        expect.stringMatching(/^spec\.yaml:10: container_vm\.web\.command\[2\]: .*Did you mean \$\{image\.busybox\.digest\}\?/),
      ]);
    });
  });

  it('GIVEN a missing file WHEN loaded THEN the error names the file', () => {
    expect(() => loadSpec('/nonexistent/spec.yaml')).toThrow(/^\/nonexistent\/spec\.yaml: cannot read the spec: ENOENT/);
  });
});
