/**
 * The vim25 XML codec, without a WSDL.
 *
 * ## Requests: JS value tree → XML
 * - A plain object becomes an element whose children follow the object's KEY ORDER (vCenter
 *   validates element order against the WSDL, so build specs in WSDL order).
 * - `$type: 'VirtualDisk'` on an object becomes `xsi:type="VirtualDisk"`. Polymorphic elements must
 *   always carry it: vcsim stores an untyped extraConfig value as nil and an untyped device as a
 *   bare VirtualDevice.
 * - A typed scalar is `{ $type: 'xsd:string', $value: 'x' }` (see `xsdString`, `xsdInt`, ...).
 * - A managed object reference is any object with exactly the two string keys `type` and `value`
 *   (`ManagedObjectReference`, build one with `moRef(type, value)`); it encodes as
 *   `<name type="T">value</name>`.
 * - Arrays become repeated elements; `undefined` and `null` are omitted; booleans are
 *   `true`/`false`; text and attributes are escaped.
 *
 * ## Responses: XML → JS values
 * - Namespaces are RESOLVED, never stripped: vcsim binds the XSI namespace to other prefixes
 *   (`xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance"`) and children reuse an
 *   ancestor's binding, so `xmlns` declarations are tracked down the tree.
 * - `xsi:type="ArrayOfX"` decodes to an array; XSD scalar types decode to numbers and booleans;
 *   elements with a `type` attribute (or `xsi:type="ManagedObjectReference"`) decode to MoRefs.
 * - Data objects decode to plain objects; when the element carried an xsi:type its local name is
 *   kept as `$type` (so a decoded device can be sent back in an edit spec unchanged).
 * - "Arrays of one": without a schema one child looks like a scalar. `TYPE_SHAPES` (shapes.ts)
 *   names, per vim25 type, the fields that are arrays and the types of nested fields, so one VM,
 *   one device or one extraConfig entry still decode as arrays. Scalars that no shape or xsi:type
 *   types stay strings for the caller's typed decoder.
 */
import { Parser } from 'htmlparser2';
import { fieldShape, isScalarKind, type ScalarKind } from './shapes';

export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
export const XSD_NS = 'http://www.w3.org/2001/XMLSchema';
export const VIM_NS = 'urn:vim25';
export const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';

/** A reference to a server-side managed object, e.g. `{ type: 'VirtualMachine', value: 'vm-42' }`. */
export interface ManagedObjectReference {
  readonly type: string;
  readonly value: string;
}
export type MoRef = ManagedObjectReference;

export function moRef(type: string, value: string): ManagedObjectReference {
  return { type, value };
}

export function isMoRef(value: unknown): value is ManagedObjectReference {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 2 && typeof (value as Record<string, unknown>).type === 'string' && typeof (value as Record<string, unknown>).value === 'string';
}

export function sameMoRef(a: ManagedObjectReference | undefined, b: ManagedObjectReference | undefined): boolean {
  return !!a && !!b && a.type === b.type && a.value === b.value;
}

/** A scalar with an explicit xsi:type, for anyType positions such as `OptionValue.value`. */
export interface TypedScalar {
  readonly $type: string;
  readonly $value: string | number | boolean;
}
export const xsdString = (value: string): TypedScalar => ({ $type: 'xsd:string', $value: value });
export const xsdInt = (value: number): TypedScalar => ({ $type: 'xsd:int', $value: value });
export const xsdLong = (value: number): TypedScalar => ({ $type: 'xsd:long', $value: value });
export const xsdBoolean = (value: boolean): TypedScalar => ({ $type: 'xsd:boolean', $value: value });

function isTypedScalar(value: object): value is TypedScalar {
  return '$value' in value && '$type' in value;
}

// ---------------------------------------------------------------------------------------------
// Encoding

// XML 1.0 allows tab, LF, CR and everything from U+0020 up (minus surrogates/FFFE/FFFF).
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

const NEEDS_ESCAPING = /[&<>"'\r]/;

export function escapeXml(text: string): string {
  if (INVALID_XML_CHARS.test(text)) {
    throw new TypeError(
      `cannot send ${JSON.stringify(text.slice(0, 40))}: it contains a control character that XML 1.0 cannot carry; encode the value (e.g. base64) first`,
    );
  }
  // Most names, MoRef values and paths have nothing to escape: six replace passes for nothing.
  if (!NEEDS_ESCAPING.test(text)) return text;
  return (
    text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
      // A literal CR would be normalised to LF by the server's XML parser.
      .replace(/\r/g, '&#xD;')
  );
}

function scalarText(value: unknown, path: string): string {
  switch (typeof value) {
    case 'string':
      return escapeXml(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot encode ${path}: ${value} is not a finite number`);
      return String(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      if (value instanceof Date) return value.toISOString();
      throw new TypeError(`cannot encode ${path}: unsupported value of type ${typeof value}`);
  }
}

/** Encodes one element (or, for an array, one element per item) and appends it to `out`. */
export function encodeElement(name: string, value: unknown, out: string[] = [], path = name): string[] {
  if (value === undefined || value === null) return out;
  if (Array.isArray(value)) {
    value.forEach((item, i) => encodeElement(name, item, out, `${path}[${i}]`));
    return out;
  }
  if (typeof value === 'object' && !(value instanceof Date)) {
    if (isMoRef(value)) {
      out.push(`<${name} type="${escapeXml(value.type)}">${escapeXml(value.value)}</${name}>`);
      return out;
    }
    const record = value as Record<string, unknown>;
    const typeAttr = typeof record.$type === 'string' ? ` xsi:type="${escapeXml(record.$type)}"` : '';
    if (isTypedScalar(value)) {
      out.push(`<${name}${typeAttr}>${scalarText(value.$value, path)}</${name}>`);
      return out;
    }
    out.push(`<${name}${typeAttr}>`);
    for (const [key, child] of Object.entries(record)) {
      if (key === '$type') continue;
      encodeElement(key, child, out, `${path}.${key}`);
    }
    out.push(`</${name}>`);
    return out;
  }
  out.push(`<${name}>${scalarText(value, path)}</${name}>`);
  return out;
}

/** The SOAP body of one vim25 method call: `<Method xmlns="urn:vim25"><_this type="T">v</_this>…`. */
export function encodeMethodCall(method: string, thisRef: ManagedObjectReference, args: Record<string, unknown> = {}): string {
  const out: string[] = [`<${method} xmlns="${VIM_NS}">`];
  encodeElement('_this', thisRef, out);
  for (const [key, value] of Object.entries(args)) encodeElement(key, value, out, key);
  out.push(`</${method}>`);
  return out.join('');
}

export function encodeEnvelope(body: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV_NS}" xmlns:xsd="${XSD_NS}" xmlns:xsi="${XSI_NS}">` +
    `<soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`
  );
}

// ---------------------------------------------------------------------------------------------
// Parsing into a namespace-resolved element tree

/** One XML element with its namespace resolved and its attributes keyed by `{ns}local` or `local`. */
export interface XmlElement {
  readonly name: string; // local name
  readonly ns: string; // namespace URI ('' when none)
  readonly attrs: ReadonlyMap<string, string>;
  readonly children: readonly XmlElement[];
  readonly text: string;
  /** Prefix → namespace bindings in scope at this element (to resolve QName values like xsi:type). */
  readonly scope: ReadonlyMap<string, string>;
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const ROOT_SCOPE: ReadonlyMap<string, string> = new Map([['xml', XML_NS]]);
const NO_ATTRS: ReadonlyMap<string, string> = new Map();

function splitQName(qname: string): [prefix: string, local: string] {
  const i = qname.indexOf(':');
  return i < 0 ? ['', qname] : [qname.slice(0, i), qname.slice(i + 1)];
}

const isNamespaceDeclaration = (attr: string): boolean => attr === 'xmlns' || attr.startsWith('xmlns:');

/** An element being built: XmlElement with its text still growing. */
interface OpenElement extends XmlElement {
  readonly children: XmlElement[];
  text: string;
}

function openElement(tag: string, rawAttrs: Record<string, string>, parentScope: ReadonlyMap<string, string>): OpenElement {
  let scope = parentScope;
  let plain = 0;
  for (const key in rawAttrs) {
    if (!isNamespaceDeclaration(key)) plain++;
    else {
      if (scope === parentScope) scope = new Map(parentScope);
      (scope as Map<string, string>).set(key === 'xmlns' ? '' : key.slice(6), rawAttrs[key]);
    }
  }
  let attrs = NO_ATTRS;
  if (plain > 0) {
    const map = new Map<string, string>();
    for (const key in rawAttrs) {
      if (isNamespaceDeclaration(key)) continue;
      const [prefix, local] = splitQName(key);
      // Unprefixed attributes are in no namespace (XML Namespaces §6.2), whatever the default is.
      const ns = prefix ? scope.get(prefix) : undefined;
      map.set(ns ? `{${ns}}${local}` : local, rawAttrs[key]);
    }
    attrs = map;
  }
  const [prefix, local] = splitQName(tag);
  return { name: local, ns: scope.get(prefix) ?? '', attrs, children: [], text: '', scope };
}

/**
 * Parses an XML document into its namespace-resolved root element.
 *
 * htmlparser2's tokenizer (XML mode, entities decoded) feeds a small tree builder that resolves
 * namespaces as it goes: several times faster than building a generic parser's object tree first,
 * which counts because a refresh snapshot of many VMs is a response of megabytes. What the tokenizer tolerates
 * but XML forbids is refused here: an element still open at the end (a truncated response) or one
 * closed by an ancestor's end tag.
 */
export function parseXml(xml: string): XmlElement {
  const reader = new XmlReader(undefined);
  reader.write(xml);
  return reader.end().root;
}

/** A SOAP response read by SoapResponseReader. */
export interface SoapResponse {
  /** The SOAP Body, without its `returnval` elements: those are in `returnValue` already. */
  readonly body: XmlElement;
  /** What decodeReturnValue would make of the `returnval` elements, with the same hint. */
  readonly returnValue: unknown;
}

/**
 * Reads a SOAP response as it arrives, chunk by chunk: the `returnval` elements of the method's
 * response are decoded into JS values as they stream in (exactly as decodeElement decodes them),
 * without building their element tree or holding the response's text; the rest of the envelope
 * (the Body, a fault) is kept as elements. A refresh snapshot of thousands of VMs is a response of
 * megabytes whose element tree took several times its size (bench/README.md, refresh).
 */
export class SoapResponseReader {
  private readonly reader: XmlReader;

  constructor(hint?: TypeHint) {
    this.reader = new XmlReader({ hint });
  }

  write(chunk: string): void {
    this.reader.write(chunk);
  }

  /** The Body and the return value; throws SyntaxError on malformed XML or a document that is no SOAP envelope. */
  end(): SoapResponse {
    const { root, returnValues } = this.reader.end();
    const body = soapBody(root);
    const hint = this.reader.decoding?.hint;
    const returnValue = hint?.endsWith('[]')
      ? returnValues
      : returnValues.length === 0
        ? undefined
        : returnValues.length === 1
          ? returnValues[0]
          : returnValues;
    return { body, returnValue };
  }
}

/**
 * The namespace declarations of the elements being decoded, innermost first, over the scope of the
 * element tree they are in: the declaration vcsim repeats on every property value costs one small
 * object, not a copy of a Map.
 */
interface Binding {
  readonly prefix: string;
  readonly uri: string;
  readonly outer: Binding | undefined;
}

function resolvePrefix(bindings: Binding | undefined, scope: ReadonlyMap<string, string>, prefix: string): string | undefined {
  for (let b = bindings; b !== undefined; b = b.outer) if (b.prefix === prefix) return b.uri;
  return scope.get(prefix);
}

/** What an element being decoded becomes when it closes: decodeElement's cases, chosen when it opens. */
const enum Shape {
  /** Its value is not used (a child of a scalar). */
  Ignored,
  Scalar,
  List,
  MoRef,
  /** decodeUntyped: an object, or (without children) a MoRef, an empty typed object or its text. */
  Untyped,
}

/** An element being decoded (one class, so that every frame has the same hidden class). */
class DecodeFrame {
  shape = Shape.Untyped;
  kind: ScalarKind = 'string';
  itemHint: string | undefined = undefined;
  /** The xsi:type and the declared type, for the fields' shapes (decodeUntyped's `typeNames`). */
  typeNames: readonly [string | undefined, string | undefined] | undefined = undefined;
  explicitType: string | undefined = undefined;
  /** The unqualified `type` attribute (a MoRef's type). */
  typeAttr: string | undefined = undefined;
  text = '';
  children = 0;
  items: unknown[] | undefined = undefined;
  object: Record<string, unknown> | undefined = undefined;

  constructor(
    /** Local name, the key in the parent object. */
    readonly name: string,
    /** The parent's shape hint for this field: `[]` makes it an array even when alone. */
    readonly field: string | undefined,
    readonly bindings: Binding | undefined,
  ) {}
}

/** Opens an element to decode with `hint`, as decodeElement would decide for it. */
function openDecodeFrame(
  name: string,
  rawAttrs: Record<string, string>,
  outer: Binding | undefined,
  scope: ReadonlyMap<string, string>,
  hint: string | undefined,
  ignored: boolean,
): DecodeFrame {
  let bindings = outer;
  let qualified = false;
  for (const key in rawAttrs) {
    if (key === 'xmlns' || key.startsWith('xmlns:')) bindings = { prefix: key === 'xmlns' ? '' : key.slice(6), uri: rawAttrs[key], outer: bindings };
    else if (key.includes(':')) qualified = true;
  }
  const frame = new DecodeFrame(name, hint, bindings);
  if ('type' in rawAttrs) frame.typeAttr = rawAttrs.type;
  let xsiRaw: string | undefined;
  if (qualified) {
    for (const key in rawAttrs) {
      const colon = key.indexOf(':');
      if (colon < 0 || key.startsWith('xmlns:')) continue;
      const ns = resolvePrefix(bindings, scope, key.slice(0, colon));
      const local = key.slice(colon + 1);
      // An attribute whose prefix is bound to nothing is known by its local name, as in openElement.
      if (!ns) {
        if (local === 'type') frame.typeAttr = rawAttrs[key];
      } else if (ns === XSI_NS && local === 'type') xsiRaw = rawAttrs[key];
    }
  }
  if (ignored) {
    frame.shape = Shape.Ignored;
    return frame;
  }
  const bare = hint !== undefined && hint.endsWith('[]') ? hint.slice(0, -2) : hint;
  const declared = bare === 'any' ? undefined : bare;
  let xsiLocal: string | undefined;
  if (xsiRaw !== undefined) {
    const [prefix, local] = splitQName(xsiRaw.trim());
    const ns = resolvePrefix(bindings, scope, prefix) ?? (prefix ? prefix : VIM_NS);
    if (ns === XSD_NS) {
      frame.shape = Shape.Scalar;
      frame.kind = XSD_SCALARS[local] ?? 'string';
      return frame;
    }
    if (local.startsWith('ArrayOf')) {
      const itemType = local.slice('ArrayOf'.length);
      frame.shape = Shape.List;
      frame.itemHint = ARRAY_OF_SCALARS[itemType] ?? itemType;
      frame.items = [];
      return frame;
    }
    if (local === 'ManagedObjectReference') {
      frame.shape = Shape.MoRef;
      return frame;
    }
    xsiLocal = local;
  }
  if (declared && isScalarKind(declared)) {
    frame.shape = declared === 'moref' ? Shape.MoRef : Shape.Scalar;
    frame.kind = declared;
    return frame;
  }
  frame.typeNames = [xsiLocal, declared];
  frame.explicitType = xsiLocal;
  return frame;
}

/** The hint a child named `name` is decoded with; undefined for a child whose value is not used. */
function childHint(parent: DecodeFrame, name: string): { hint: string | undefined; ignored: boolean } {
  // Refused anyway (see XmlReader.open); it must not even look up its shape.
  if (name === '__proto__') return { hint: undefined, ignored: true };
  switch (parent.shape) {
    case Shape.List:
      return { hint: parent.itemHint, ignored: false };
    case Shape.Untyped:
      return { hint: fieldShape(parent.typeNames!, name), ignored: false };
    default:
      return { hint: undefined, ignored: true };
  }
}

/** The value of a closed element (decodeElement's result for the same element). */
function closeDecodeFrame(frame: DecodeFrame): unknown {
  switch (frame.shape) {
    case Shape.Scalar:
      return scalarValue(frame.text, frame.kind);
    case Shape.List:
      return frame.items;
    case Shape.MoRef:
      return moRef(frame.typeAttr ?? '', frame.text);
    case Shape.Untyped:
      if (frame.children > 0) return frame.object ?? (frame.explicitType ? { $type: frame.explicitType } : {});
      if (frame.typeAttr !== undefined) return moRef(frame.typeAttr, frame.text);
      if (frame.explicitType && frame.text === '' && !/^xsd:/.test(frame.explicitType)) return { $type: frame.explicitType };
      return frame.text;
    default:
      return undefined;
  }
}

/** Adds a decoded child to its parent as decodeUntyped does (repeated names become arrays). */
function addDecodedChild(parent: DecodeFrame, child: DecodeFrame, value: unknown): void {
  parent.children++;
  if (parent.shape === Shape.List) {
    parent.items!.push(value);
    return;
  }
  if (parent.shape !== Shape.Untyped || child.name === '__proto__') return;
  const result = (parent.object ??= parent.explicitType ? { $type: parent.explicitType } : {});
  addMember(result, child.name, child.field, value);
}

/**
 * The tree builder under parseXml and SoapResponseReader. With `decoding`, the `returnval`
 * children of the Body's first element are decoded as they close instead of kept as elements.
 */
class XmlReader {
  private root: XmlElement | undefined;
  private readonly stack: OpenElement[] = [];
  private readonly decodeStack: DecodeFrame[] = [];
  private readonly returnValues: unknown[] = [];
  private ending = false;
  private problem: string | undefined;
  private readonly parser: Parser;
  // The current chunk and the one before: where a self-closing tag's "/>" is looked up.
  private chunk = '';
  private chunkStart = 0;
  private previous = '';
  private previousStart = 0;

  constructor(readonly decoding: { readonly hint?: TypeHint } | undefined) {
    this.parser = new Parser(
      {
        onopentag: (tag, rawAttrs) => this.open(tag, rawAttrs),
        ontext: (text) => {
          const top = this.decodeStack.length > 0 ? this.decodeStack[this.decodeStack.length - 1] : this.stack[this.stack.length - 1];
          if (top) top.text += text;
        },
        onclosetag: (tag, implied) => this.close(tag, implied),
      },
      { xmlMode: true, decodeEntities: true },
    );
  }

  write(chunk: string): void {
    this.previous = this.chunk;
    this.previousStart = this.chunkStart;
    this.chunkStart += this.chunk.length;
    this.chunk = chunk;
    this.parser.write(chunk);
  }

  end(): { root: XmlElement; returnValues: unknown[] } {
    this.ending = true;
    this.parser.end();
    if (this.problem) throw new SyntaxError(`malformed XML: ${this.problem}`);
    if (this.root === undefined) throw new SyntaxError('the response holds no XML element');
    return { root: this.root, returnValues: this.returnValues };
  }

  private charAt(index: number): string | undefined {
    return index >= this.chunkStart ? this.chunk[index - this.chunkStart] : this.previous[index - this.previousStart];
  }

  private open(tag: string, rawAttrs: Record<string, string>): void {
    const decoding = this.decodeStack;
    if (decoding.length > 0 || this.startsReturnValue(tag)) {
      const parent = decoding.length > 0 ? decoding[decoding.length - 1] : undefined;
      const name = splitQName(tag)[1];
      if (name === '__proto__') this.problem ??= `an element named <${tag}> (prototype pollution) is refused`;
      const { hint, ignored } = parent ? childHint(parent, name) : { hint: this.decoding?.hint, ignored: false };
      decoding.push(openDecodeFrame(name, rawAttrs, parent?.bindings, this.stack[this.stack.length - 1].scope, hint, ignored));
      return;
    }
    const stack = this.stack;
    const element = openElement(tag, rawAttrs, stack.length > 0 ? stack[stack.length - 1].scope : ROOT_SCOPE);
    // Element names become object keys when decoded: a hostile server must not reach Object.prototype.
    if (element.name === '__proto__') this.problem ??= `an element named <${tag}> (prototype pollution) is refused`;
    if (stack.length > 0) stack[stack.length - 1].children.push(element);
    else if (this.root === undefined) this.root = element;
    else this.problem ??= `a second root element <${tag}>`;
    stack.push(element);
  }

  /** A `returnval` child of the Body's first element, as decodeReturnValue finds them. */
  private startsReturnValue(tag: string): boolean {
    const stack = this.stack;
    if (!this.decoding || stack.length !== 3 || splitQName(tag)[1] !== 'returnval') return false;
    const [envelope, body, response] = stack;
    return body.name === 'Body' && envelope.children.find((c) => c.name === 'Body') === body && body.children[0] === response;
  }

  private close(tag: string, implied: boolean): void {
    const decoding = this.decodeStack;
    if (decoding.length > 0) {
      const frame = decoding.pop()!;
      const value = closeDecodeFrame(frame);
      if (decoding.length > 0) addDecodedChild(decoding[decoding.length - 1], frame, value);
      else this.returnValues.push(value);
    } else {
      this.stack.pop();
    }
    if (this.ending) this.problem ??= `<${tag}> is never closed (a truncated response?)`;
    // The tokenizer reports a self-closed element (<a/>) as implicitly closed, too.
    else if (implied && !(this.charAt(this.parser.endIndex) === '>' && this.charAt(this.parser.endIndex - 1) === '/'))
      this.problem ??= `<${tag}> is closed by an enclosing element's end tag`;
  }
}

/** The element's xsi:type as `{ ns, local }`, resolving the QName's prefix in the element's scope. */
export function xsiTypeOf(element: XmlElement): { ns: string; local: string } | undefined {
  const raw = element.attrs.get(`{${XSI_NS}}type`);
  if (raw === undefined) return undefined;
  const [prefix, local] = splitQName(raw.trim());
  return { ns: element.scope.get(prefix) ?? (prefix ? prefix : VIM_NS), local };
}

export function childElement(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

// ---------------------------------------------------------------------------------------------
// Decoding elements into JS values

/**
 * A decode hint: a vim25 type name (`VirtualMachineConfigInfo`), a scalar kind (`int`, `boolean`,
 * `string`, `moref`, ...) or either with `[]` for "always an array".
 */
export type TypeHint = string;

const XSD_SCALARS: Record<string, ScalarKind> = {
  string: 'string',
  int: 'int',
  long: 'long',
  short: 'int',
  byte: 'int',
  boolean: 'boolean',
  float: 'double',
  double: 'double',
  dateTime: 'string',
  base64Binary: 'string',
  anyURI: 'string',
};

const ARRAY_OF_SCALARS: Record<string, ScalarKind> = {
  String: 'string',
  Int: 'int',
  Long: 'long',
  Short: 'int',
  Byte: 'int',
  Boolean: 'boolean',
  Float: 'double',
  Double: 'double',
  DateTime: 'string',
  ManagedObjectReference: 'moref',
  AnyType: 'any',
};

/** A scalar's value from its text: numbers and booleans converted, anything that does not parse kept as text. */
function scalarValue(text: string, kind: ScalarKind): unknown {
  switch (kind) {
    case 'int':
    case 'long':
    case 'double': {
      const n = Number(text);
      return text.trim() === '' || Number.isNaN(n) ? text : n;
    }
    case 'boolean':
      return text === 'true' || text === '1' ? true : text === 'false' || text === '0' ? false : text;
    default:
      return text;
  }
}

function convertScalar(text: string, kind: ScalarKind, element: XmlElement): unknown {
  switch (kind) {
    case 'moref':
      return moRef(element.attrs.get('type') ?? '', text);
    case 'any':
      return decodeElement(element);
    default:
      return scalarValue(text, kind);
  }
}

function isMoRefElement(element: XmlElement): boolean {
  return element.children.length === 0 && element.attrs.has('type');
}

/** Decodes one element into a JS value, guided by its xsi:type and then by `hint`. */
export function decodeElement(element: XmlElement, hint?: TypeHint): unknown {
  const bare = hint?.endsWith('[]') ? hint.slice(0, -2) : hint;
  // anyType carries its type on the wire (xsi:type); without one it is decoded structurally.
  const declared = bare === 'any' ? undefined : bare;
  const xsiType = xsiTypeOf(element);
  if (xsiType) {
    if (xsiType.ns === XSD_NS) return convertScalar(element.text, XSD_SCALARS[xsiType.local] ?? 'string', element);
    if (xsiType.local.startsWith('ArrayOf')) {
      const itemType = xsiType.local.slice('ArrayOf'.length);
      const itemHint = ARRAY_OF_SCALARS[itemType] ?? itemType;
      return element.children.map((child) => decodeElement(child, itemHint));
    }
    if (xsiType.local === 'ManagedObjectReference') return moRef(element.attrs.get('type') ?? '', element.text);
  }
  if (declared && isScalarKind(declared)) {
    return convertScalar(element.text, declared, element);
  }
  if (isMoRefElement(element)) return moRef(element.attrs.get('type') ?? '', element.text);
  return decodeUntyped(element, [xsiType?.local, declared], xsiType?.local);
}

const REPEATED = Symbol('repeated');

function decodeUntyped(element: XmlElement, typeNames: ReadonlyArray<string | undefined>, explicitType?: string): unknown {
  if (element.children.length === 0) {
    if (isMoRefElement(element)) return moRef(element.attrs.get('type') ?? '', element.text);
    // An enum value, a string, or an empty data object (`<fault xsi:type="NotAuthenticated"/>`).
    if (explicitType && element.text === '' && !/^xsd:/.test(explicitType)) return { $type: explicitType };
    return element.text;
  }
  const result: Record<string, unknown> = {};
  if (explicitType) result.$type = explicitType;
  for (const child of element.children) {
    // A hostile server must not reach Object.prototype through an element name.
    if (child.name === '__proto__') continue;
    const field = fieldShape(typeNames, child.name);
    const value = decodeElement(child, field);
    addMember(result, child.name, field, value);
  }
  return result;
}

/** Wraps a value that may have decoded as "one" into an array (absent → []). */
export function asArray<T>(value: T | T[] | undefined | null): T[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

// ---------------------------------------------------------------------------------------------
// SOAP responses

export interface DecodedFault {
  readonly faultName: string;
  readonly faultString: string;
  readonly detail: Record<string, unknown>;
}

/** The `soapenv:Body` of an envelope. */
export function soapBody(envelope: XmlElement): XmlElement {
  if (envelope.name !== 'Envelope') throw new SyntaxError(`expected a SOAP Envelope, got <${envelope.name}>`);
  const body = childElement(envelope, 'Body');
  if (!body) throw new SyntaxError('the SOAP envelope has no Body');
  return body;
}

/** The fault in a SOAP body, if the body holds one. */
export function decodeSoapFault(body: XmlElement): DecodedFault | undefined {
  const fault = body.children.find((c) => c.name === 'Fault' && c.ns === SOAP_ENV_NS) ?? childElement(body, 'Fault');
  if (!fault) return undefined;
  const faultString = childElement(fault, 'faultstring')?.text ?? '';
  const detailElement = childElement(fault, 'detail')?.children[0];
  if (!detailElement) return { faultName: 'SystemError', faultString, detail: {} };
  const xsiType = xsiTypeOf(detailElement);
  const faultName = xsiType?.local ?? (detailElement.name.endsWith('Fault') ? detailElement.name.slice(0, -5) : detailElement.name);
  const decoded = decodeElement(detailElement, faultName);
  const detail = typeof decoded === 'object' && decoded !== null ? (decoded as Record<string, unknown>) : {};
  return { faultName, faultString, detail };
}

/** Decodes the `returnval` elements of a `<MethodResponse>`: none → undefined, one → value, `T[]` hint → array. */
export function decodeReturnValue(body: XmlElement, hint?: TypeHint): unknown {
  const response = body.children[0];
  if (!response) return undefined;
  const values = response.children.filter((c) => c.name === 'returnval').map((c) => decodeElement(c, hint));
  if (hint?.endsWith('[]')) return values;
  return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
}

/**
 * Sets member `name` of a decoded object: an array field always collects; a repeated element
 * without a shape entry is still an array, marked so a third one appends.
 */
function addMember(result: Record<string, unknown>, name: string, field: string | undefined, value: unknown): void {
  const existing = result[name];
  if (field !== undefined && field.endsWith('[]')) {
    if (existing === undefined) result[name] = [value];
    else (existing as unknown[]).push(value);
  } else if (existing === undefined) {
    result[name] = value;
  } else if (Array.isArray(existing) && (existing as unknown[] & { [REPEATED]?: true })[REPEATED]) {
    existing.push(value);
  } else {
    const list = [existing, value] as unknown[] & { [REPEATED]?: true };
    Object.defineProperty(list, REPEATED, { value: true });
    result[name] = list;
  }
}
