/**
 * The cty wire formats, table-driven. Expected bytes are written out by hand from the msgpack spec
 * and go-cty's encoding rules (docs/plugin-protocol/object-wire-format.md), never produced by the
 * codec under test.
 */
import { UNKNOWN } from '../../src/resources';
import { CodecError, decodeDynamicValue, decodeJson, decodeMsgpack, encodeJson, encodeMsgpack, isNullDynamicValue } from '../../provider/codec';
import { Decoder, Encoder, ExtData } from '@msgpack/msgpack';
import { CtyType, CtyValue, dynamicValue, isRefinedUnknown, refinedUnknown, surelyEqual } from '../../provider/cty';
import { providerSchemas } from '../../provider/schema';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const str = (s: string) => Buffer.from(s).toString('hex');

const obj: CtyType = ['object', { a: 'string', b: 'number' }];

type EncodeRow = [label: string, type: CtyType, value: CtyValue, expectedHex: string];
const encodeRows: EncodeRow[] = [
  ['null', 'string', null, 'c0'],
  ['unknown (ext 0, fixext1)', 'string', UNKNOWN, 'd4 00 00'],
  ['string', 'string', 'hi', `a2 ${str('hi')}`],
  ['small int', 'number', 1, '01'],
  ['negative int', 'number', -1, 'ff'],
  ['int beyond 32 bits', 'number', 2 ** 40, 'cf 00 00 01 00 00 00 00 00'],
  ['float64', 'number', 1.5, 'cb 3f f8 00 00 00 00 00 00'],
  ['number beyond float64 as decimal string', 'number', '12345678901234567890', `b4 ${str('12345678901234567890')}`],
  ['bool', 'bool', true, 'c3'],
  ['list', ['list', 'string'], ['a'], `91 a1 ${str('a')}`],
  ['set', ['set', 'number'], [1, 2], '92 01 02'],
  ['map', ['map', 'string'], { k: 'v' }, `81 a1 ${str('k')} a1 ${str('v')}`],
  ['object: absent attribute goes out as null (exact arity)', obj, { a: 'x' }, `82 a1 ${str('a')} a1 ${str('x')} a1 ${str('b')} c0`],
  ['object with an unknown attribute', obj, { a: UNKNOWN, b: 2 }, `82 a1 ${str('a')} d4 00 00 a1 ${str('b')} 02`],
  ['tuple', ['tuple', ['string', 'bool']], ['x', false], `92 a1 ${str('x')} c2`],
  ['nested block (single) left out', ['object', { auth: ['object', { user: 'string' }] }], { auth: null }, `81 a4 ${str('auth')} c0`],
  ['dynamic: [type JSON as bin, value]', 'dynamic', 'x', `92 c4 08 ${str('"string"')} a1 ${str('x')}`],
  ['dynamic with an explicit type', 'dynamic', dynamicValue(['list', 'number'], [1]), `92 c4 11 ${str('["list","number"]')} 91 01`],
  ['dynamic unknown is a bare unknown', 'dynamic', UNKNOWN, 'd4 00 00'],
  // The bytes Terraform 1.11 sent for name = "pre-${uuid()}" (a refined unknown, msgpack ext 12).
  ['refined unknown (ext 12)', 'string', refinedUnknown({ notNull: false, stringPrefix: 'pre-' }), `c7 09 0c 82 01 c2 02 a4 ${str('pre-')}`],
  ['refined unknown without refinements falls back to ext 0', 'string', refinedUnknown({}), 'd4 00 00'],
];

describe('encodeMsgpack', () => {
  it.each(encodeRows)('GIVEN %s WHEN encoded THEN the bytes are exact', (_label, type, value, expected) => {
    expect(hex(encodeMsgpack(type, value))).toBe(expected.replace(/\s+/g, ''));
  });

  it.each<[string, CtyType, CtyValue, string]>([
    ['a string where a number belongs', 'number', 'many', 'value: number required, got string "many"'],
    ['an attribute outside the object type', obj, { a: 'x', c: 1 }, '.c: unsupported attribute (the object type has a, b)'],
    ['a bool where a string belongs, nested', ['list', 'string'], ['ok', true], '[1]: string required, got boolean true'],
    ['a tuple of the wrong length', ['tuple', ['string']], ['a', 'b'], 'value: a tuple of 1 elements required, got a list of 2'],
    ['an infinite number', 'number', Infinity, 'value: Infinity is not a finite number'],
  ])('GIVEN %s WHEN encoded THEN it fails saying where', (_label, type, value, message) => {
    expect(() => encodeMsgpack(type, value)).toThrow(new CodecError('', '').constructor as typeof CodecError);
    expect(() => encodeMsgpack(type, value)).toThrow(message);
  });
});

type DecodeRow = [label: string, type: CtyType, hexBytes: string, expected: CtyValue];
const decodeRows: DecodeRow[] = [
  ['nil', 'string', 'c0', null],
  ['unknown ext 0', 'string', 'd4 00 00', UNKNOWN],
  ['refined unknown ext 12, read as plain unknown', 'string', `c7 09 0c 82 01 c2 02 a4 ${str('pre-')}`, UNKNOWN],
  ['any other extension is an unknown too', 'number', 'd4 05 00', UNKNOWN],
  ['int', 'number', '2a', 42],
  ['uint64 within 2^53 becomes a number', 'number', 'cf 00 00 01 00 00 00 00 00', 2 ** 40],
  ['int64 beyond 2^53 stays exact as a decimal string', 'number', 'cf ff ff ff ff ff ff ff ff', '18446744073709551615'],
  ['float32', 'number', 'ca 3f c0 00 00', 1.5],
  ['float64', 'number', 'cb 3f f8 00 00 00 00 00 00', 1.5],
  ['number sent as a string (decimal)', 'number', `a3 ${str('2.5')}`, 2.5],
  ['number string beyond float64', 'number', `b4 ${str('12345678901234567890')}`, '12345678901234567890'],
  ['object, keys in any order', obj, `82 a1 ${str('b')} 01 a1 ${str('a')} a1 ${str('x')}`, { a: 'x', b: 1 }],
  ['set', ['set', 'string'], `92 a1 ${str('x')} a1 ${str('y')}`, ['x', 'y']],
  ['map with an unknown element', ['map', 'string'], `81 a1 ${str('k')} d4 00 00`, { k: UNKNOWN }],
  ['dynamic', 'dynamic', `92 c4 08 ${str('"number"')} 07`, dynamicValue('number', 7)],
];

describe('decodeMsgpack', () => {
  it.each(decodeRows)('GIVEN %s WHEN decoded THEN the value is exact', (_label, type, h, expected) => {
    expect(decodeMsgpack(type, bytes(h))).toEqual(expected);
  });

  it('GIVEN a refined unknown WHEN decoded with refinements THEN the refinement is kept', () => {
    const v = decodeMsgpack('string', bytes(`c7 09 0c 82 01 c3 02 a4 ${str('pre-')}`), { refinements: true });
    expect(isRefinedUnknown(v)).toBe(true);
    expect(isRefinedUnknown(v) && v.refinement).toEqual({ notNull: true, stringPrefix: 'pre-' });
  });

  it.each<[string, CtyType, string, string]>([
    [
      'an object missing an attribute (strict arity)',
      obj,
      `81 a1 ${str('a')} a1 ${str('x')}`,
      'value: an object with 2 attributes is required (1 given; missing b)',
    ],
    ['an object with an attribute outside the type', obj, `83 a1 ${str('a')} c0 a1 ${str('b')} c0 a1 ${str('z')} c0`, '.z: unsupported attribute'],
    ['a string where a bool belongs', 'bool', `a1 ${str('t')}`, 'value: bool required, got string "t"'],
    ['a malformed dynamic value', 'dynamic', '01', 'value: a dynamic value must be [type JSON bytes, value], got number 1'],
  ])('GIVEN %s WHEN decoded THEN it fails saying where', (_label, type, h, message) => {
    expect(() => decodeMsgpack(type, bytes(h))).toThrow(message);
  });
});

describe('round trips through msgpack', () => {
  const block: CtyType = [
    'object',
    {
      name: 'string',
      size: 'number',
      tags: ['map', 'string'],
      command: ['list', 'string'],
      auth: ['object', { username: 'string', password: 'string' }],
      extra: 'dynamic',
    },
  ];
  it.each<[string, CtyValue]>([
    [
      'everything set',
      {
        name: 'web',
        size: 512,
        tags: { a: 'b' },
        command: ['sh', '-c'],
        auth: { username: 'u', password: 'p' },
        extra: dynamicValue(['object', { x: 'bool' }], { x: true }),
      },
    ],
    ['blocks and collections null', { name: 'web', size: 0.25, tags: null, command: null, auth: null, extra: null }],
    ['unknowns inside', { name: UNKNOWN, size: UNKNOWN, tags: { a: UNKNOWN }, command: [UNKNOWN], auth: UNKNOWN, extra: UNKNOWN }],
  ])('GIVEN a block with %s WHEN encoded and decoded THEN the value is unchanged', (_label, value) => {
    expect(decodeMsgpack(block, encodeMsgpack(block, value))).toEqual(value);
  });
});

/**
 * The converters are compiled once per schema type. On the provider's own schemas and states like
 * the ones a plan carries, they must write what msgpack's generic encoder writes for the same
 * value (nulls for absent attributes, ext 0 for unknowns) and read back what was given.
 */
describe('the provider schemas through the compiled converters', () => {
  const kinds = providerSchemas().resources;
  const typeOf = (name: string) => kinds.get(name)!.type;
  const sha = `sha256:${'5d'.repeat(32)}`;
  const containerVm = {
    command: null,
    cpus: 1,
    disk_size_mb: 2048,
    entrypoint: null,
    env: { PATH: '/bin' },
    exit_code: null,
    finished_at: null,
    gateway: null,
    hostname: null,
    id: '35a73a95-f9b9-5c47-8ce2-14dbba415187',
    image_id: sha,
    ip_address: null,
    ip_addresses: [],
    labels: null,
    max_restarts: null,
    memory_mb: 128,
    moid: 'vm-2938',
    must_run: true,
    name: 'c-0',
    networks: ['VM Network'],
    power_state: 'running',
    restart: 'no',
    secret_env: { API_TOKEN: 's3cret' },
    started_at: null,
    status: 'created',
    user: null,
    vch_id: 'resgroup-64',
    vm_path: '[LocalDS_0] vch-bench/containers/c-0/c-0.vmx',
    volumes: [{ volume_id: 'vol-1', path: '/data', read_only: false }],
    working_dir: null,
  };
  const image = {
    vch_id: 'resgroup-64',
    reference: '127.0.0.1:5000/bench/app:v1',
    insecure_registry: true,
    registry_auth: { username: 'u', password: 'p4ss' },
    id: sha,
    digest: sha,
    size_bytes: 2 ** 40 + 3,
    entrypoint: ['/bin/app'],
    labels: {},
  };
  // A create's plan: every computed attribute unknown.
  const planned: CtyValue = Object.fromEntries(
    Object.keys(containerVm).map((k): [string, CtyValue] => [k, ['name', 'vch_id', 'image_id'].includes(k) ? containerVm[k as 'name'] : UNKNOWN]),
  );

  /** What the generic encoder is given for a value: every attribute of the type present, unknowns as ext 0. */
  function wireOf(type: CtyType, v: CtyValue | undefined): unknown {
    if (v === undefined || v === null) return null;
    if (v === UNKNOWN) return new ExtData(0, new Uint8Array([0]));
    if (typeof type === 'string') return v;
    if (type[0] === 'object') {
      const attrs = type[1] as Record<string, CtyType>;
      return Object.fromEntries(Object.keys(attrs).map((k) => [k, wireOf(attrs[k], (v as Record<string, CtyValue>)[k])]));
    }
    if (type[0] === 'map') return Object.fromEntries(Object.entries(v as object).map(([k, e]) => [k, wireOf(type[1] as CtyType, e as CtyValue)]));
    return (v as CtyValue[]).map((e) => wireOf(type[1] as CtyType, e));
  }

  /** The value as decoding gives it back: absent attributes null. */
  function filled(type: CtyType, v: CtyValue | undefined): CtyValue {
    if (v === undefined || v === null) return null;
    if (v === UNKNOWN || typeof type === 'string') return v;
    if (type[0] === 'object') {
      const attrs = type[1] as Record<string, CtyType>;
      return Object.fromEntries(Object.keys(attrs).map((k) => [k, filled(attrs[k], (v as Record<string, CtyValue>)[k])]));
    }
    if (type[0] === 'map') return Object.fromEntries(Object.entries(v as object).map(([k, e]) => [k, filled(type[1] as CtyType, e as CtyValue)]));
    return (v as CtyValue[]).map((e) => filled(type[1] as CtyType, e));
  }

  it.each<[string, string, CtyValue]>([
    ['a refreshed container VM (sensitive secret_env, a volume block)', 'vic_container_vm', containerVm],
    ["a container VM create's plan (computed attributes unknown)", 'vic_container_vm', planned],
    ['a container VM with every attribute null', 'vic_container_vm', Object.fromEntries(Object.keys(containerVm).map((k) => [k, null]))],
    ['an image (sensitive password in a block, a number beyond 32 bits, attributes left out)', 'vic_image', image],
  ])('GIVEN %s WHEN encoded THEN the bytes are the generic encoder’s, and they decode to the value', (_label, typeName, value) => {
    const type = typeOf(typeName);
    const encoded = encodeMsgpack(type, value);
    expect(hex(encoded)).toBe(hex(new Encoder().encode(wireOf(type, value))));
    expect(decodeMsgpack(type, encoded)).toEqual(filled(type, value));
    // And what the generic decoder reads from those bytes is what the converters read.
    expect(filled(type, value)).toEqual(
      JSON.parse(
        JSON.stringify(new Decoder().decode(encoded), (_k, v: unknown) => (v instanceof ExtData ? '(unknown)' : v)),
        (_k, v: unknown) => (v === '(unknown)' ? UNKNOWN : v),
      ),
    );
  });

  it('GIVEN a value encoded twice WHEN the first result is kept THEN the second encode does not change it (the encoder reuses its buffer)', () => {
    const type = typeOf('vic_container_vm');
    const first = encodeMsgpack(type, containerVm);
    const copy = Buffer.from(first);
    encodeMsgpack(type, { ...containerVm, name: 'another-name-entirely', moid: 'vm-1' });
    expect(Buffer.compare(first, copy)).toBe(0);
  });

  it('GIVEN a wrong value deep in a real schema WHEN encoded or decoded THEN the error names its path', () => {
    const type = typeOf('vic_container_vm');
    expect(() => encodeMsgpack(type, { ...containerVm, volumes: [{ volume_id: 1, path: '/data' }] })).toThrow(
      '.volumes[0].volume_id: string required, got number 1',
    );
    const bad = new Encoder().encode({ ...(wireOf(type, containerVm) as object), env: { PATH: true } });
    expect(() => decodeMsgpack(type, bad)).toThrow('.env.PATH: string required, got boolean true');
  });
});

describe('surelyEqual', () => {
  it.each<[string, CtyValue, CtyValue, boolean]>([
    ['equal objects', { a: 'x', b: [1, 2], c: { d: null } }, { a: 'x', b: [1, 2], c: { d: null } }, true],
    ['null and an empty list', null, [], false],
    ['null and an empty map', { a: null }, { a: {} }, false],
    ['a missing key and a null one', { a: 'x' }, { a: 'x', b: null }, false],
    ['two unknowns', UNKNOWN, UNKNOWN, false],
    ['an unknown inside', { a: [UNKNOWN] }, { a: [UNKNOWN] }, false],
    ['a number and its decimal string', 1, '1', false],
    ['lists in another order', ['a', 'b'], ['b', 'a'], false],
    ['equal strings', 'x', 'x', true],
  ])('GIVEN %s THEN surely equal is %s', (_label, a, b, expected) => {
    expect(surelyEqual(a, b)).toBe(expected);
    expect(surelyEqual(b, a)).toBe(expected);
  });
});

describe('JSON (DynamicValue.json, RawState.json)', () => {
  it('GIVEN a stored state WHEN decoded THEN primitives convert to their attribute types, as cty does', () => {
    expect(decodeJson(obj, '{"a": 5, "b": "7"}')).toEqual({ a: '5', b: 7 });
  });

  it('GIVEN a state that lacks a new attribute and keeps a removed one WHEN decoded leniently THEN it fits the schema', () => {
    expect(decodeJson(obj, '{"a": "x", "gone": 1}', { lenientObjects: true })).toEqual({ a: 'x', b: null });
  });

  it('GIVEN the same state WHEN decoded strictly THEN the extra attribute is an error', () => {
    expect(() => decodeJson(obj, '{"a": "x", "b": 1, "gone": 1}')).toThrow('.gone: unsupported attribute');
  });

  it('GIVEN a dynamic value WHEN written as JSON THEN it carries its type, and reads back', () => {
    const json = encodeJson(['object', { v: 'dynamic' }], { v: ['a', 1] });
    expect(JSON.parse(json)).toEqual({ v: { type: ['tuple', ['string', 'number']], value: ['a', 1] } });
    expect(decodeJson(['object', { v: 'dynamic' }], json)).toEqual({ v: dynamicValue(['tuple', ['string', 'number']], ['a', 1]) });
  });

  it('GIVEN an unknown WHEN written as JSON THEN it is refused (JSON has no unknowns)', () => {
    expect(() => encodeJson(obj, { a: UNKNOWN, b: 1 })).toThrow('.a: unknown values cannot be written as JSON');
  });

  it.each<[string, { msgpack?: Uint8Array; json?: Uint8Array } | undefined, CtyValue]>([
    ['msgpack present', { msgpack: bytes('a1 78'), json: Buffer.from('"ignored"') }, 'x'],
    ['only json', { json: Buffer.from('"y"') }, 'y'],
    ['both empty', { msgpack: Buffer.alloc(0), json: Buffer.alloc(0) }, null],
    ['absent', undefined, null],
  ])('GIVEN a DynamicValue with %s WHEN decoded THEN msgpack wins, then JSON, else null', (_label, dv, expected) => {
    expect(decodeDynamicValue('string', dv)).toEqual(expected);
  });
});

describe('isNullDynamicValue', () => {
  it.each([
    ['msgpack nil', { msgpack: bytes('c0') }, true],
    ['JSON null', { json: Buffer.from(' null ') }, true],
    ['both empty', { msgpack: Buffer.alloc(0), json: Buffer.alloc(0) }, true],
    ['absent', undefined, true],
    ['an object in msgpack', { msgpack: bytes(`82 a1 61 a2 ${str('hi')} a1 62 c0`) }, false],
    ['an unknown in msgpack', { msgpack: bytes('d4 00 00') }, false],
    ['an object in JSON', { json: Buffer.from('{"a":null,"b":1}') }, false],
  ])('THEN %s is null: %s', (_what, dv, expected) => {
    expect(isNullDynamicValue(dv)).toBe(expected);
    expect(decodeDynamicValue(obj, dv, {}) === null).toBe(expected);
  });
});
