import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  asArray,
  decodeElement,
  decodeReturnValue,
  decodeSoapFault,
  encodeElement,
  encodeMethodCall,
  moRef,
  parseXml,
  soapBody,
  SoapResponseReader,
  xsdInt,
  xsdString,
} from '../../../src/vsphere/xml';

const fixture = (name: string): string => readFileSync(join(__dirname, '../../fixtures/vsphere', name), 'utf8');

const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"';
/** vcsim's style: the XSI namespace bound to the prefix "XMLSchema-instance" on the value itself. */
const VCSIM_XSI = 'xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance"';

function decode(xml: string, hint?: string): unknown {
  return decodeElement(parseXml(xml), hint);
}

describe('GIVEN a JS value tree WHEN it is encoded as a request element', () => {
  const cases: Array<[string, string, unknown, string]> = [
    ['a scalar string', 'name', 'vm-1', '<name>vm-1</name>'],
    ['a number and a boolean', 'x', { a: 1, b: false }, '<x><a>1</a><b>false</b></x>'],
    ['a MoRef', 'pool', moRef('ResourcePool', 'resgroup-26'), '<pool type="ResourcePool">resgroup-26</pool>'],
    ['an array as repeated elements', 'pathSet', ['name', 'config'], '<pathSet>name</pathSet><pathSet>config</pathSet>'],
    ['an empty array as nothing', 'pathSet', [], ''],
    ['undefined and null as absent', 'x', { a: undefined, b: null, c: 'k' }, '<x><c>k</c></x>'],
    ['an empty string as an empty element', 'annotation', '', '<annotation></annotation>'],
    [
      'polymorphism as xsi:type on each array item',
      'device',
      [
        { $type: 'VirtualDisk', key: -1 },
        { $type: 'VirtualCdrom', key: -2 },
      ],
      '<device xsi:type="VirtualDisk"><key>-1</key></device><device xsi:type="VirtualCdrom"><key>-2</key></device>',
    ],
    [
      'a typed scalar in an anyType position',
      'extraConfig',
      { $type: 'OptionValue', key: 'guestinfo.a', value: xsdString('x') },
      '<extraConfig xsi:type="OptionValue"><key>guestinfo.a</key><value xsi:type="xsd:string">x</value></extraConfig>',
    ],
    ['an xsd:int typed scalar', 'value', xsdInt(7), '<value xsi:type="xsd:int">7</value>'],
    ['text escaping', 'annotation', `a<b>&"c'\r`, '<annotation>a&lt;b&gt;&amp;&quot;c&apos;&#xD;</annotation>'],
    ['attribute escaping in a MoRef', 'obj', moRef('Datastore', '/tmp/a&b@folder-5'), '<obj type="Datastore">/tmp/a&amp;b@folder-5</obj>'],
    ['key order kept (WSDL order)', 'spec', { z: 1, a: 2, m: 3 }, '<spec><z>1</z><a>2</a><m>3</m></spec>'],
  ];
  it.each(cases)('THEN %s is encoded exactly', (_what, name, value, expected) => {
    expect(encodeElement(name, value).join('')).toBe(expected);
  });

  it('THEN a control character XML cannot carry is refused with a clear message', () => {
    expect(() => encodeElement('value', 'a\u0001b')).toThrow(/control character.*base64/);
  });

  it('THEN a method call carries _this first and the vim25 namespace', () => {
    expect(encodeMethodCall('PowerOnVM_Task', moRef('VirtualMachine', 'vm-1'), { host: undefined })).toBe(
      '<PowerOnVM_Task xmlns="urn:vim25"><_this type="VirtualMachine">vm-1</_this></PowerOnVM_Task>',
    );
  });

  it('THEN the encoded request round-trips through the decoder', () => {
    const spec = { $type: 'VirtualMachineConfigSpec', annotation: 'x & y', numCPUs: 2 };
    const xml = `<root ${XSI}>${encodeElement('spec', spec).join('')}</root>`;
    const decoded = decode(xml) as { spec: Record<string, unknown> };
    expect(decoded.spec).toEqual({ $type: 'VirtualMachineConfigSpec', annotation: 'x & y', numCPUs: '2' });
  });
});

describe('GIVEN response XML WHEN it is decoded', () => {
  const cases: Array<[string, string, string | undefined, unknown]> = [
    ['xsd:int by xsi:type', `<val ${XSI} xsi:type="xsd:int">4</val>`, undefined, 4],
    ['xsd:boolean by xsi:type', `<val ${XSI} xsi:type="xsd:boolean">true</val>`, undefined, true],
    ['xsd:long by xsi:type', `<val ${XSI} xsi:type="xsd:long">10737418240</val>`, undefined, 10737418240],
    ['xsd:string stays a string even when numeric', `<val ${XSI} xsi:type="xsd:string">007</val>`, undefined, '007'],
    ['the XSI namespace bound to another prefix (vcsim)', `<r ${XSI}><val ${VCSIM_XSI} XMLSchema-instance:type="xsd:int">3</val></r>`, undefined, { val: 3 }],
    [
      'a child reusing an ancestor binding of the XSI namespace',
      `<val ${VCSIM_XSI} xmlns:xsd="http://www.w3.org/2001/XMLSchema" XMLSchema-instance:type="ArrayOfOptionValue"><OptionValue XMLSchema-instance:type="OptionValue"><key>a</key><value XMLSchema-instance:type="xsd:string">1</value></OptionValue></val>`,
      undefined,
      [{ $type: 'OptionValue', key: 'a', value: '1' }],
    ],
    ['an unknown prefix named "xsi" that is NOT the XSI namespace is not an xsi:type', `<val xmlns:xsi="urn:other" xsi:type="xsd:int">5</val>`, undefined, '5'],
    [
      'a MoRef in anyType with both xsi:type and type',
      `<val ${VCSIM_XSI} type="HostSystem" XMLSchema-instance:type="ManagedObjectReference">host-21</val>`,
      undefined,
      { type: 'HostSystem', value: 'host-21' },
    ],
    ['a MoRef in a typed position', `<obj type="VirtualMachine">vm-62</obj>`, undefined, { type: 'VirtualMachine', value: 'vm-62' }],
    [
      'ArrayOfManagedObjectReference with one item is an array',
      `<val ${VCSIM_XSI} XMLSchema-instance:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="VirtualMachine">vm-1</ManagedObjectReference></val>`,
      undefined,
      [{ type: 'VirtualMachine', value: 'vm-1' }],
    ],
    ['an empty ArrayOf is an empty array', `<val ${VCSIM_XSI} XMLSchema-instance:type="ArrayOfCustomFieldValue"></val>`, undefined, []],
    ['ArrayOfString', `<val ${VCSIM_XSI} XMLSchema-instance:type="ArrayOfString"><string>a</string></val>`, undefined, ['a']],
    ['ArrayOfInt', `<val ${VCSIM_XSI} XMLSchema-instance:type="ArrayOfInt"><int>1</int><int>2</int></val>`, undefined, [1, 2]],
    [
      'one device in a hardware object is still an array (arrays of one)',
      `<val ${VCSIM_XSI} XMLSchema-instance:type="VirtualHardware"><numCPU>1</numCPU><device XMLSchema-instance:type="VirtualDisk"><key>2000</key><capacityInKB>1024</capacityInKB></device></val>`,
      undefined,
      { $type: 'VirtualHardware', numCPU: 1, device: [{ $type: 'VirtualDisk', key: 2000, capacityInKB: 1024 }] },
    ],
    [
      'one extraConfig entry in a config object is still an array',
      `<val ${VCSIM_XSI} XMLSchema-instance:type="VirtualMachineConfigInfo"><extraConfig><key>a</key><value XMLSchema-instance:type="xsd:string">b</value></extraConfig></val>`,
      undefined,
      { $type: 'VirtualMachineConfigInfo', extraConfig: [{ key: 'a', value: 'b' }] },
    ],
    [
      'a controller with one attached device keeps device as int[]',
      `<d ${VCSIM_XSI} XMLSchema-instance:type="ParaVirtualSCSIController"><key>1000</key><busNumber>0</busNumber><device>2000</device></d>`,
      undefined,
      { $type: 'ParaVirtualSCSIController', key: 1000, busNumber: 0, device: [2000] },
    ],
    [
      'an unknown device subtype inherits the declared base type fields',
      `<d ${VCSIM_XSI} XMLSchema-instance:type="VirtualFutureDevice"><key>9</key><unitNumber>3</unitNumber></d>`,
      'VirtualDevice',
      { $type: 'VirtualFutureDevice', key: 9, unitNumber: 3 },
    ],
    [
      'a nested parent backing (child delta disk) is typed without an xsi:type',
      `<b ${VCSIM_XSI} XMLSchema-instance:type="VirtualDiskFlatVer2BackingInfo"><fileName>[ds] c.vmdk</fileName><thinProvisioned>true</thinProvisioned><parent><fileName>[ds] p.vmdk</fileName><thinProvisioned>false</thinProvisioned></parent></b>`,
      undefined,
      {
        $type: 'VirtualDiskFlatVer2BackingInfo',
        fileName: '[ds] c.vmdk',
        thinProvisioned: true,
        parent: { fileName: '[ds] p.vmdk', thinProvisioned: false },
      },
    ],
    ['an untyped leaf stays a string', `<x>42</x>`, undefined, '42'],
    ['an empty element is an empty string', `<x></x>`, undefined, ''],
    ['a self-closed element is an empty string', `<x/>`, undefined, ''],
    ['an empty typed data object keeps its type', `<f ${XSI} xsi:type="NotAuthenticated"/>`, undefined, { $type: 'NotAuthenticated' }],
    ['an enum keeps its text', `<v ${XSI} xsi:type="VirtualMachinePowerState">poweredOn</v>`, undefined, 'poweredOn'],
    ['repeated untyped elements become an array', `<x><a>1</a><a>2</a><a>3</a></x>`, undefined, { a: ['1', '2', '3'] }],
    ['entities and numeric references are decoded', `<x>a &amp; b &lt;c&gt; &#34;d&#34; &#x41;</x>`, undefined, 'a & b <c> "d" A'],
    ['CDATA is not needed: whitespace is kept in text', `<x>  two  spaces </x>`, undefined, '  two  spaces '],
    ['absent fields are absent', `<x ${XSI} xsi:type="VirtualDevice"><key>1</key></x>`, undefined, { $type: 'VirtualDevice', key: 1 }],
    ['a scalar hint types an untyped leaf', `<x>true</x>`, 'boolean', true],
    ['an array hint on a single leaf', `<x>1</x>`, 'int[]', 1],
  ];
  it.each(cases)('THEN %s', (_what, xml, hint, expected) => {
    expect(decode(xml, hint)).toEqual(expected);
  });

  it('THEN an element named __proto__ is refused instead of polluting prototypes', () => {
    expect(() => decode(`<x><__proto__><polluted>yes</polluted></__proto__></x>`)).toThrow(/prototype pollution/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['a response cut off midway', '<Envelope><Body><RetrievePropertiesExResponse><returnval><objects>', /<objects> is never closed \(a truncated response\?\)/],
    ['an element closed by its parent', '<x><a>1</x>', /<a> is closed by an enclosing element's end tag/],
    ['two root elements', '<x/><y/>', /a second root element <y>/],
    ['no element at all', '<?xml version="1.0"?>', /holds no XML element/],
  ])('THEN %s is refused as malformed, not decoded in part', (_what, xml, message) => {
    expect(() => parseXml(xml)).toThrow(message);
  });

  it('THEN self-closed elements, entities, numeric references and CDATA decode as XML says', () => {
    const x = parseXml(`<x a="1 &amp; 2"><e/><t>&lt;&#34;&#x41;&apos;</t><c><![CDATA[<raw> & ]]></c></x>`);
    expect(x.attrs.get('a')).toBe('1 & 2');
    expect(x.children.map((c) => [c.name, c.text])).toEqual([
      ['e', ''],
      ['t', '<"A\''],
      ['c', '<raw> & '],
    ]);
  });

  it('THEN asArray turns "one", absent and empty into arrays', () => {
    expect(asArray(undefined)).toEqual([]);
    expect(asArray('')).toEqual([]);
    expect(asArray({ a: 1 })).toEqual([{ a: 1 }]);
    expect(asArray([1, 2])).toEqual([1, 2]);
  });

  it('THEN a vcsim RetrievePropertiesEx response decodes into typed properties', () => {
    const result = decodeReturnValue(soapBody(parseXml(fixture('retrieve-vm-devices.xml'))), 'RetrieveResult') as {
      objects: Array<{
        obj: unknown;
        propSet: Array<{ name: string; val: unknown }>;
        missingSet: Array<{ path: string; fault: { fault: { $type: string } } }>;
      }>;
    };
    expect(result.objects).toHaveLength(1);
    const [vm] = result.objects;
    expect(vm.obj).toEqual({ type: 'VirtualMachine', value: 'vm-62' });
    const props = Object.fromEntries(vm.propSet.map((p) => [p.name, p.val]));
    const devices = props['config.hardware.device'] as Array<{ $type: string; key: number }>;
    expect(devices.map((d) => d.$type)).toContain('VirtualIDEController');
    expect(devices.every((d) => typeof d.key === 'number')).toBe(true);
    expect(props['config.extraConfig']).toEqual([{ $type: 'OptionValue', key: 'govcsim', value: 'TRUE' }]);
    expect(props['config.hardware.numCPU']).toBe(1);
    expect(props['config.template']).toBe(false);
    expect(props['customValue']).toEqual([]);
    expect(props['runtime.host']).toEqual({ type: 'HostSystem', value: 'host-21' });
    expect(props['runtime.powerState']).toBe('poweredOn');
    // guest.net holds ONE nic in this fixture: it must still be an array.
    expect(Array.isArray((props['guest'] as { net: unknown }).net)).toBe(true);
    expect(vm.missingSet).toEqual([{ path: 'nosuch', fault: { fault: { $type: 'InvalidProperty', name: 'nosuch' } } }]);
  });
});

describe('GIVEN a SOAP fault response WHEN it is decoded', () => {
  it('THEN the fault type comes from the detail xsi:type, with its fields', () => {
    const fault = decodeSoapFault(soapBody(parseXml(fixture('fault-managed-object-not-found.xml'))));
    expect(fault).toEqual({
      faultName: 'ManagedObjectNotFound',
      faultString: 'managed object not found: VirtualMachine:vm-9999',
      detail: { $type: 'ManagedObjectNotFound', obj: { type: 'VirtualMachine', value: 'vm-9999' } },
    });
  });

  it('THEN an empty faultstring is kept empty (vcsim often sends none)', () => {
    const fault = decodeSoapFault(soapBody(parseXml(fixture('fault-not-authenticated.xml'))));
    expect(fault?.faultName).toBe('NotAuthenticated');
    expect(fault?.faultString).toBe('');
    expect(fault?.detail.object).toEqual({ type: 'Folder', value: 'group-d1' });
  });

  it('THEN a detail element without xsi:type names the fault by its element (minus "Fault")', () => {
    const xml = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>dup</faultstring><detail><DuplicateNameFault xmlns="urn:vim25"><name>x</name></DuplicateNameFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`;
    expect(decodeSoapFault(soapBody(parseXml(xml)))?.faultName).toBe('DuplicateName');
  });

  it('THEN a fault without detail is a SystemError with its faultstring', () => {
    const xml = `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><e:Fault><faultcode>x</faultcode><faultstring>boom</faultstring></e:Fault></e:Body></e:Envelope>`;
    expect(decodeSoapFault(soapBody(parseXml(xml)))).toEqual({ faultName: 'SystemError', faultString: 'boom', detail: {} });
  });

  it('THEN a body without a fault is not a fault', () => {
    const xml = `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><LogoutResponse xmlns="urn:vim25"/></e:Body></e:Envelope>`;
    const body = soapBody(parseXml(xml));
    expect(decodeSoapFault(body)).toBeUndefined();
    expect(decodeReturnValue(body)).toBeUndefined();
  });
});

describe('GIVEN a SOAP response WHEN it is read as it streams in (SoapResponseReader)', () => {
  /** The response cut into chunks of `size` characters, as the network may deliver it. */
  function streamed(xml: string, hint: string | undefined, size: number) {
    const reader = new SoapResponseReader(hint);
    for (let i = 0; i < xml.length; i += size) reader.write(xml.slice(i, i + size));
    return reader.end();
  }
  const envelope = (response: string) =>
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ${XSI}><soapenv:Body>${response}</soapenv:Body></soapenv:Envelope>`;

  it.each([1, 2, 7, 1000, Infinity])('THEN in chunks of %s characters it decodes as the element tree does', (size) => {
    const xml = fixture('retrieve-vm-devices.xml');
    const expected = decodeReturnValue(soapBody(parseXml(xml)), 'RetrieveResult');
    expect(streamed(xml, 'RetrieveResult', size).returnValue).toEqual(expected);
  });

  const shapes: Array<[string, string, string | undefined]> = [
    [
      'several returnvals, MoRefs by hint',
      `<R xmlns="urn:vim25"><returnval type="VirtualMachine">vm-1</returnval><returnval type="VirtualMachine">vm-2</returnval></R>`,
      'moref[]',
    ],
    ['one returnval with an array hint', `<R xmlns="urn:vim25"><returnval>7</returnval></R>`, 'int[]'],
    ['none', `<R xmlns="urn:vim25"/>`, 'RetrieveResult'],
    [
      'typed scalars, an empty typed object, repeated fields without a shape, anyType arrays, vcsim namespace prefixes',
      `<R xmlns="urn:vim25"><returnval><a xsi:type="xsd:int">4</a><b xsi:type="xsd:boolean">true</b><fault xsi:type="NotAuthenticated"/><x>1</x><x>2</x><x>3</x><v ${VCSIM_XSI} XMLSchema-instance:type="ArrayOfAnyType"><anyType XMLSchema-instance:type="xsd:long">9</anyType><anyType XMLSchema-instance:type="xsd:string">s</anyType></v><m type="Folder">group-d1</m><e></e><t>&lt;&amp;</t></returnval><other>ignored</other></R>`,
      undefined,
    ],
    [
      'a RetrieveResult of one object with one property (arrays of one stay arrays)',
      `<R xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-1</obj><propSet><name>name</name><val ${VCSIM_XSI} XMLSchema-instance:type="xsd:string">c-1</val></propSet></objects></returnval></R>`,
      'RetrieveResult',
    ],
  ];
  it.each(shapes)('THEN %s decode as decodeReturnValue decodes them', (_what, response, hint) => {
    const xml = envelope(response);
    const expected = decodeReturnValue(soapBody(parseXml(xml)), hint);
    for (const size of [1, 3, Infinity]) expect(streamed(xml, hint, size).returnValue).toEqual(expected);
  });

  it('THEN a fault keeps its elements, for decodeSoapFault', () => {
    const xml = fixture('fault-managed-object-not-found.xml');
    expect(decodeSoapFault(streamed(xml, 'RetrieveResult', 5).body)).toEqual(decodeSoapFault(soapBody(parseXml(xml))));
  });

  it.each([
    [
      'a response cut off midway',
      envelope('<R xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-1</obj>').split('</soapenv:Body>')[0],
      /<objects> is never closed/,
    ],
    [
      'an element closed by its parent, inside the return value',
      envelope('<R xmlns="urn:vim25"><returnval><a><b>1</a></returnval></R>'),
      /<b> is closed by an enclosing element's end tag/,
    ],
    [
      'an element named __proto__ in the return value',
      envelope('<R xmlns="urn:vim25"><returnval><__proto__><p>1</p></__proto__></returnval></R>'),
      /prototype pollution/,
    ],
    ['a document that is no SOAP envelope', '<html><body>proxy error</body></html>', /expected a SOAP Envelope/],
  ])('THEN %s is refused', (_what, xml, message) => {
    for (const size of [1, Infinity]) expect(() => streamed(xml, 'RetrieveResult', size)).toThrow(message);
    expect(({} as Record<string, unknown>).p).toBeUndefined();
  });
});
