/**
 * The committed CDKTF bindings in cdktf/ are what cdktf/generate.ts makes from the current provider
 * schema. When this fails, run `npx tsx cdktf/generate.ts` and commit the result.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { GENERATED_MARKER, generateBindings } from '../../cdktf/generate';

const CDKTF_DIR = join(__dirname, '../../cdktf');

function committedGeneratedFiles(dir: string = CDKTF_DIR): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...committedGeneratedFiles(path));
    else if (readFileSync(path, 'utf8').startsWith(GENERATED_MARKER)) out.push(relative(CDKTF_DIR, path));
  }
  return out.sort();
}

describe('CDKTF bindings', () => {
  let generated: Map<string, string>;

  beforeAll(async () => {
    generated = await generateBindings();
  }, 60_000);

  it('GIVEN the provider schema WHEN the bindings are regenerated THEN the same files exist in cdktf/, no more, no fewer', () => {
    expect(committedGeneratedFiles()).toEqual([...generated.keys()].sort());
  });

  it('GIVEN the provider schema WHEN the bindings are regenerated THEN every committed file is byte-identical (else run: npx tsx cdktf/generate.ts)', () => {
    const stale = [...generated].filter(([path, content]) => readFileSync(join(CDKTF_DIR, path), 'utf8') !== content).map(([path]) => path);
    expect(stale).toEqual([]);
  });

  it('GIVEN a schema with one more data source attribute WHEN regenerated THEN the output differs, so the comparison can fail', async () => {
    const { providerSchemaJson } = await import('../../provider/schema');
    const schema = JSON.parse(JSON.stringify(providerSchemaJson())) as {
      provider_schemas: Record<string, { data_source_schemas: Record<string, { block: { attributes: Record<string, unknown> } }> }>;
    };
    const vic = Object.values(schema.provider_schemas)[0];
    vic.data_source_schemas.vic_image.block.attributes.extra_output = { type: 'string', computed: true };
    const changed = await generateBindings(schema);
    expect(changed.get('data-vic-image/index.ts')).toContain('extraOutput');
    expect(changed.get('data-vic-image/index.ts')).not.toBe(generated.get('data-vic-image/index.ts'));
  }, 60_000);

  it('GIVEN the bindings WHEN listed THEN each resource, data source and the provider has a class named after its Terraform type', async () => {
    const vic = await import('../../cdktf');
    expect(vic.virtualContainerHost.VirtualContainerHost.tfResourceType).toBe('vic_virtual_container_host');
    expect(vic.image.Image.tfResourceType).toBe('vic_image');
    expect(vic.containerVm.ContainerVm.tfResourceType).toBe('vic_container_vm');
    expect(vic.dataVicVirtualContainerHost.DataVicVirtualContainerHost.tfResourceType).toBe('vic_virtual_container_host');
    expect(vic.dataVicImage.DataVicImage.tfResourceType).toBe('vic_image');
    expect(vic.provider.VicProvider.tfResourceType).toBe('vic');
  }, 60_000);
});
