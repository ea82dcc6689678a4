/** Identity claims are pure: GIVEN a sequence of claims WHEN made THEN exactly the second owner of one identity is refused. */
import { IdentityClaims, ObjectClaims, identityKey, type Claimant } from '../../../src/engine/claims';
import { UNKNOWN, containerVm, image, type Attrs } from '../../../src/resources';

const vm = (name: string, vch: Attrs['vch_id'] = 'resgroup-1'): Attrs => ({ vch_id: vch, name, image_id: `sha256:${'a'.repeat(64)}` });
const owner = (o: string, extra: Partial<Claimant> = {}): Claimant => ({ owner: o, ...extra });

describe('identityKey', () => {
  it.each<[string, Attrs, boolean]>([
    ['a known VCH and name', vm('web'), true],
    ['an unknown VCH', vm('web', UNKNOWN), false],
    ['no name', { vch_id: 'resgroup-1' }, false],
  ])('GIVEN %s WHEN keyed THEN a key only when every identity input is known', (_label, attrs, keyed) => {
    expect(identityKey(containerVm, attrs) !== undefined).toBe(keyed);
  });

  it('GIVEN a type without an identity WHEN keyed THEN no key', () => {
    expect(identityKey({ ...image, identity: undefined }, { vch_id: 'resgroup-1', reference: 'r/a:1' })).toBeUndefined();
  });

  it('GIVEN two images with one reference in one VCH WHEN claimed THEN the second is refused, told to declare the image once', () => {
    const claims = new IdentityClaims();
    const attrs = { vch_id: 'resgroup-1', reference: 'r/a:1' };
    expect(claims.claim(image, attrs, owner('a')).problems).toEqual([]);
    expect(identityKey(image, { ...attrs, reference: 'r/a:2' })).not.toBe(identityKey(image, attrs));
    const [problem] = claims.claim(image, attrs, owner('b')).problems;
    expect(problem).toMatchObject({ path: ['reference'], summary: 'Duplicate image' });
    expect(problem.detail).toContain('Declare the image once');
  });

  it('GIVEN a second claimant refused WHEN either asks whether its identity is contested THEN both get the duplicate problem; another identity is not', () => {
    const claims = new IdentityClaims();
    const attrs = { vch_id: 'resgroup-1', reference: 'r/a:1' };
    expect(claims.contestedBy(image, attrs)).toBeUndefined();
    claims.claim(image, attrs, owner('new'));
    expect(claims.contestedBy(image, attrs)).toBeUndefined();
    const [refused] = claims.claim(image, attrs, owner('existing')).problems;
    expect(claims.contestedBy(image, attrs)).toEqual(refused);
    expect(claims.contestedBy(image, { ...attrs, reference: 'r/a:2' })).toBeUndefined();
  });
});

describe('IdentityClaims', () => {
  it.each<[string, Array<[Attrs, Claimant]>, number[]]>([
    [
      'two owners, one name',
      [
        [vm('web'), owner('a')],
        [vm('web'), owner('b')],
      ],
      [1],
    ],
    [
      'one owner planned twice',
      [
        [vm('web'), owner('a')],
        [vm('web'), owner('a')],
      ],
      [],
    ],
    [
      'two names',
      [
        [vm('web'), owner('a')],
        [vm('db'), owner('b')],
      ],
      [],
    ],
    [
      'one name in two VCHs',
      [
        [vm('web', 'resgroup-1'), owner('a')],
        [vm('web', 'resgroup-2'), owner('b')],
      ],
      [],
    ],
    [
      'a third owner after a refused second',
      [
        [vm('web'), owner('a')],
        [vm('web'), owner('b')],
        [vm('web'), owner('c')],
      ],
      [1, 2],
    ],
    [
      'an anonymous create of a name nobody is replacing',
      [
        [vm('web'), owner('a')],
        [vm('web'), owner('new', { anonymous: true })],
      ],
      [1],
    ],
  ])('GIVEN %s WHEN claimed in order THEN the refused claims are exactly these', (_label, claims, refused) => {
    const registry = new IdentityClaims();
    const results = claims.map(([attrs, who]) => registry.claim(containerVm, attrs, who));
    expect(results.flatMap((r, i) => (r.problems.length > 0 ? [i] : []))).toEqual(refused);
    for (const i of refused) expect(results[i].problems.map((p) => [p.path.join('.'), p.summary])).toEqual([['name', 'Duplicate container_vm']]);
  });

  it('GIVEN an identity planned for replacement WHEN an anonymous create claims it THEN it takes over and learns the prior it replaces; a later anonymous create is refused', () => {
    const registry = new IdentityClaims();
    const prior: Attrs = { id: 'uuid-1', ...vm('web') };
    expect(registry.claim(containerVm, vm('web'), owner('state:1')).problems).toEqual([]);
    registry.replacing(containerVm, vm('web'), 'state:1', prior);
    expect(registry.claim(containerVm, vm('web'), owner('create:1', { anonymous: true }))).toEqual({ problems: [], replaces: prior });
    expect(registry.claim(containerVm, vm('web'), owner('create:2', { anonymous: true })).problems).toHaveLength(1);
  });

  it('GIVEN a released owner WHEN another claims its identity THEN it is free; the message names both labels', () => {
    const registry = new IdentityClaims();
    registry.claim(containerVm, vm('web'), owner('a', { label: 'container_vm.a' }));
    const refused = registry.claim(containerVm, vm('web'), owner('b', { label: 'container_vm.b' }));
    expect(refused.problems[0].detail).toBe(
      'container_vm.b and container_vm.a both declare vch_id = "resgroup-1" and name = "web"; the two would share one vSphere object, and deleting either would delete it for both. Give each its own name.',
    );
    registry.release('a');
    expect(registry.claim(containerVm, vm('web'), owner('b')).problems).toEqual([]);
  });
});

describe('IdentityClaims: objects the front end state holds (a tainted resource planned as a create)', () => {
  const prior: Attrs = { id: 'uuid-1', ...vm('web') };
  const anonymous = (n: number) => owner(`create:${n}`, { anonymous: true });

  it('GIVEN a state entry nobody else claims WHEN an anonymous create meets it THEN the create replaces it', () => {
    const registry = new IdentityClaims();
    registry.inState(containerVm, prior);
    expect(registry.claim(containerVm, vm('web'), anonymous(1))).toEqual({ problems: [], replaces: prior });
    expect(registry.stateOf(containerVm, 'uuid-1')).toBe(prior);
  });

  it.each<[string, (r: IdentityClaims) => unknown[]]>([
    [
      'its own resource planned first',
      (r) => [r.claim(containerVm, vm('web'), owner('state:uuid-1')).problems, r.claim(containerVm, vm('web'), anonymous(1)).problems],
    ],
    [
      'its own resource planned after the create',
      (r) => [r.claim(containerVm, vm('web'), anonymous(1)).problems, r.claim(containerVm, vm('web'), owner('state:uuid-1')).problems],
    ],
    ['a second anonymous create', (r) => [r.claim(containerVm, vm('web'), anonymous(1)).problems, r.claim(containerVm, vm('web'), anonymous(2)).problems]],
  ])('GIVEN a state entry and %s WHEN claimed THEN exactly the second claim is refused as a duplicate', (_label, run) => {
    const registry = new IdentityClaims();
    registry.inState(containerVm, prior);
    const [first, second] = run(registry) as Array<{ summary: string }[]>;
    expect(first).toEqual([]);
    expect(second.map((p) => p.summary)).toEqual(['Duplicate container_vm']);
  });

  it.each<[string, boolean]>([
    ['after the create took it over', true],
    ['before the create', false],
  ])(
    'GIVEN a state entry that leaves the configuration (a rename) WHEN it retires %s THEN one of the two is refused, with a hint to move the state',
    (_label, createFirst) => {
      const registry = new IdentityClaims();
      registry.inState(containerVm, prior);
      const retire = () => registry.retire(containerVm, prior, owner('state:uuid-1'));
      const create = () => registry.claim(containerVm, vm('web'), anonymous(1)).problems;
      const problems = createFirst ? [...create(), ...retire()] : [...retire(), ...create()];
      expect(problems).toHaveLength(1);
      expect(problems[0].summary).toBe('Duplicate container_vm');
      expect(problems[0].detail).toMatch(
        /a renamed resource must keep its object: move its state \(a moved block or terraform state mv; vic state mv -f <spec.yaml> <old address> <new address>; a Pulumi alias\)/,
      );
    },
  );

  it.each<[string, boolean]>([
    ['after the create took it over', true],
    ['before the create', false],
  ])(
    'GIVEN a Terraform state object planned for destroy without configuration (it may be a deposed one) WHEN it retires %s THEN the refusal also says how to bring a deposed object back, by its id',
    (_label, createFirst) => {
      const registry = new IdentityClaims();
      registry.inState(containerVm, prior);
      const retire = () => registry.retire(containerVm, prior, owner('state:uuid-1'));
      const create = () => registry.claim(containerVm, vm('web'), anonymous(1)).problems;
      const [problem] = createFirst ? [...create(), ...retire()] : [...retire(), ...create()];
      expect(problem.detail).toContain('deposed object');
      expect(problem.detail).toContain("Terraform always creates a deposed object's successor before it destroys the deposed object");
      expect(problem.detail).toContain('"terraform state rm <address>"');
      expect(problem.detail).toContain('"terraform import <address> uuid-1"');
    },
  );

  it('GIVEN a retiring image (imported by <vch_id>/<digest>) WHEN a create meets it THEN the refusal gives that import id', () => {
    const registry = new IdentityClaims();
    const old: Attrs = { id: `sha256:${'b'.repeat(64)}`, vch_id: 'resgroup-1', reference: 'r/a:1' };
    registry.retire(image, old, owner(`state:${String(old.id)}`));
    const [problem] = registry.claim(image, { vch_id: 'resgroup-1', reference: 'r/a:1' }, anonymous(1)).problems;
    expect(problem.detail).toContain(`"terraform import <address> resgroup-1/sha256:${'b'.repeat(64)}"`);
  });

  it('GIVEN a retiring holder WHEN a create claims its identity THEN the claim names that holder as the object it meets, so that no second refusal follows', () => {
    const registry = new IdentityClaims();
    registry.inState(containerVm, prior);
    registry.retire(containerVm, prior, owner('state:uuid-1'));
    const result = registry.claim(containerVm, vm('web'), anonymous(1));
    expect(result.problems).toHaveLength(1);
    expect(result.replaces).toBe(prior);
  });

  it('GIVEN a front end that labels its resources (no deposed objects) WHEN a create meets a retiring one THEN the refusal names the old resource and says nothing of Terraform state commands', () => {
    const registry = new IdentityClaims();
    registry.retire(containerVm, prior, owner('state:uuid-1', { label: 'container_vm.old' }));
    const [problem] = registry.claim(containerVm, vm('web'), owner('container_vm.new', { label: 'container_vm.new' })).problems;
    expect(problem.detail).toContain(
      'container_vm.new declares vch_id = "resgroup-1" and name = "web", which container_vm.old holds; a renamed resource must keep its object',
    );
    expect(problem.detail).not.toContain('deposed');
    expect(problem.detail).not.toContain('terraform import');
  });

  it('GIVEN a state entry that retires WHEN nothing else claims it THEN nothing is refused', () => {
    const registry = new IdentityClaims();
    registry.inState(containerVm, prior);
    expect(registry.retire(containerVm, prior, owner('state:uuid-1'))).toEqual([]);
  });
});

describe('ObjectClaims: two identities that resolve to one object (an image tag and its @digest)', () => {
  const digest = `sha256:${'b'.repeat(64)}`;
  const img = (reference: string, id: string = digest, vch = 'resgroup-1'): Attrs => ({ vch_id: vch, reference, id });

  it.each<[string, Array<[Attrs, Claimant]>, number[]]>([
    [
      'a tag and @digest of one digest in one VCH',
      [
        [img('r/a:1'), owner('a')],
        [img(`r/a@${digest}`), owner('b')],
      ],
      [1],
    ],
    [
      'two tags of one digest',
      [
        [img('r/a:1'), owner('a')],
        [img('r/a:latest'), owner('b')],
      ],
      [1],
    ],
    [
      'one digest in two VCHs',
      [
        [img('r/a:1'), owner('a')],
        [img('r/a:latest', digest, 'resgroup-2'), owner('b')],
      ],
      [],
    ],
    [
      'two digests',
      [
        [img('r/a:1'), owner('a')],
        [img('r/a:2', `sha256:${'c'.repeat(64)}`), owner('b')],
      ],
      [],
    ],
    // Terraform: a replacement planned with its prior state, then again as a create without one.
    [
      'one identity planned twice by two owners',
      [
        [img('r/a:1'), owner('state:x')],
        [img('r/a:1'), owner('create:1', { anonymous: true })],
      ],
      [],
    ],
    // Two state entries of one digest (made before this check): Terraform knows both by the id they share.
    [
      'two references under one state owner',
      [
        [img('r/a:1'), owner('state:image:x')],
        [img('r/a:latest'), owner('state:image:x')],
      ],
      [1],
    ],
    [
      'an id not known yet',
      [
        [img('r/a:1'), owner('a')],
        [{ vch_id: 'resgroup-1', reference: 'r/a:latest' }, owner('b')],
      ],
      [],
    ],
  ])('GIVEN %s WHEN claimed in order THEN the refused claims are exactly these', (_label, claims, refused) => {
    const registry = new ObjectClaims();
    const results = claims.map(([attrs, who]) => registry.claim(image, attrs, attrs, who));
    expect(results.flatMap((r, i) => (r.length > 0 ? [i] : []))).toEqual(refused);
    for (const i of refused) expect(results[i].map((p) => [p.path.join('.'), p.summary])).toEqual([['reference', 'Duplicate image']]);
  });

  it('GIVEN a tag and its @digest WHEN the second is refused THEN the message names both resources, both references, the digest and the VCH, and says to declare one image', () => {
    const registry = new ObjectClaims();
    registry.claim(image, img('r/a:1'), img('r/a:1'), owner('a', { label: 'image.a' }));
    const [problem] = registry.claim(image, img(`r/a@${digest}`), img(`r/a@${digest}`), owner('b', { label: 'image.b' }));
    expect(problem.detail).toBe(
      `image.b (reference = "r/a@${digest}") and image.a (reference = "r/a:1") both resolve to id = "${digest}" in vch_id = "resgroup-1": ` +
        'the two would share one vSphere object, and deleting either would delete it for both. ' +
        'Declare one vic_image (or one vic.Image) for this digest and give its id to the container VMs of both. If both exist already, remove the other from the configuration and from the state (terraform state rm, pulumi state delete) instead of destroying it: destroying it deletes the disk.',
    );
  });

  it('GIVEN a holder whose twin was refused WHEN the holder claims again as its create is about to be made (Pulumi) THEN it is refused too; a released holder frees the object', () => {
    const registry = new ObjectClaims();
    const holder = owner('new', { stateLabel: 'one this plan creates' });
    expect(registry.claim(image, img('r/a:1'), img('r/a:1'), holder)).toEqual([]);
    const refused = registry.claim(image, img('r/a:latest'), img('r/a:latest'), owner('existing'));
    expect(refused[0].detail).toMatch(
      /^this image resource \(reference = "r\/a:latest"\) and another image resource \(one this plan creates; reference = "r\/a:1"\)/,
    );
    // A plan again (a long-lived engine, the fixed config planned anew) is not refused; only the create about to be made is.
    expect(registry.claim(image, img('r/a:1'), img('r/a:1'), holder)).toEqual([]);
    expect(registry.claim(image, img('r/a:1'), img('r/a:1'), holder, true)).toEqual(refused);
    const fresh = new ObjectClaims();
    fresh.claim(image, img('r/a:1'), img('r/a:1'), owner('a'));
    fresh.release('a');
    expect(fresh.claim(image, img('r/a:latest'), img('r/a:latest'), owner('b'))).toEqual([]);
  });
});
