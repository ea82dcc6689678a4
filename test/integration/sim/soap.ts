// Hand-written SOAP for the simulator tests (the real vim25 client lives in src/vsphere).
import { Agent, request } from 'undici';
import type { RunningSimulator } from '../../../src/sim/simulator';

export interface SoapReply {
  status: number;
  body: string;
  setCookie?: string;
}

const ENVELOPE_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
  'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>';
const ENVELOPE_CLOSE = '</soapenv:Body></soapenv:Envelope>';

/** One SOAP connection pool per simulator, trusting only its certificate. */
export class SoapSession {
  readonly dispatcher: Agent;
  cookie?: string;

  constructor(private readonly sim: RunningSimulator) {
    this.dispatcher = new Agent({ connect: sim.certPem ? { ca: sim.certPem } : {} });
  }

  async call(bodyXml: string): Promise<SoapReply> {
    const headers: Record<string, string> = { 'content-type': 'text/xml; charset=utf-8' };
    if (this.cookie) headers.cookie = this.cookie;
    const response = await request(this.sim.url, {
      method: 'POST',
      dispatcher: this.dispatcher,
      headers,
      body: ENVELOPE_OPEN + bodyXml + ENVELOPE_CLOSE,
    });
    const body = await response.body.text();
    const raw = response.headers['set-cookie'];
    const setCookie = Array.isArray(raw) ? raw[0] : raw;
    return { status: response.statusCode, body, setCookie };
  }

  async login(): Promise<SoapReply> {
    const reply = await this.call(
      '<Login xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this>' +
        `<userName>${this.sim.username}</userName><password>${this.sim.password}</password></Login>`,
    );
    if (reply.status !== 200 || !reply.setCookie) throw new Error(`Login failed: HTTP ${reply.status} ${reply.body}`);
    this.cookie = reply.setCookie.split(';')[0];
    return reply;
  }

  currentTime(): Promise<SoapReply> {
    return this.call('<CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime>');
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/** The first text content of <tag> in a SOAP reply, or undefined. */
export function elementText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}(?:\\s[^>]*)?>([^<]*)</${tag}>`).exec(xml);
  return match?.[1];
}

export interface TaskInfoSnapshot {
  state: string;
  progress?: number;
  /** xsi:type of info.error.fault, e.g. "InvalidPowerState". */
  errorType?: string;
  localizedMessage?: string;
  /** info.result when it is a managed object reference, e.g. "vm-70". */
  result?: string;
}

/** Reads a Task's info through the property collector, as a vim25 client would. */
export async function readTaskInfo(soap: SoapSession, task: string): Promise<TaskInfoSnapshot> {
  const reply = await soap.call(
    '<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">propertyCollector</_this><specSet>' +
      `<propSet><type>Task</type><pathSet>info</pathSet></propSet><objectSet><obj type="Task">${task}</obj></objectSet>` +
      '</specSet><options></options></RetrievePropertiesEx>',
  );
  if (reply.status !== 200) throw new Error(`reading ${task}: HTTP ${reply.status} ${reply.body}`);
  const state = elementText(reply.body, 'state');
  if (!state) throw new Error(`no info.state for ${task} in ${reply.body}`);
  const progress = elementText(reply.body, 'progress');
  const errorXml = /<error>([\s\S]*?)<\/error>/.exec(reply.body)?.[1];
  const resultXml = /<result[^>]*>([^<]*)<\/result>/.exec(reply.body)?.[1];
  return {
    state,
    progress: progress === undefined ? undefined : Number(progress),
    errorType: errorXml ? /<fault [^>]*type="([^"]+)"/.exec(errorXml)?.[1] : undefined,
    localizedMessage: errorXml ? elementText(errorXml, 'localizedMessage') : undefined,
    result: resultXml,
  };
}

/** Polls a task until it leaves queued/running; returns every distinct state/progress seen. */
export async function awaitTask(soap: SoapSession, task: string, timeoutMs = 10_000): Promise<{ final: TaskInfoSnapshot; seen: string[] }> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await readTaskInfo(soap, task);
    const label = info.state === 'running' && info.progress !== undefined ? `running ${info.progress}` : info.state;
    if (seen[seen.length - 1] !== label) seen.push(label);
    if (info.state === 'success' || info.state === 'error') return { final: info, seen };
    if (Date.now() > deadline) throw new Error(`${task} still ${label} after ${timeoutMs} ms (seen: ${seen.join(' -> ')})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function findVm(soap: SoapSession, inventoryPath: string): Promise<string> {
  const reply = await soap.call(
    '<FindByInventoryPath xmlns="urn:vim25"><_this type="SearchIndex">SearchIndex</_this>' +
      `<inventoryPath>${inventoryPath}</inventoryPath></FindByInventoryPath>`,
  );
  const vm = elementText(reply.body, 'returnval');
  if (!vm) throw new Error(`no VM at ${inventoryPath}: HTTP ${reply.status} ${reply.body}`);
  return vm;
}

/** Calls PowerOnVM_Task / PowerOffVM_Task and returns the task moref. */
export async function powerTask(soap: SoapSession, method: 'PowerOnVM_Task' | 'PowerOffVM_Task', vm: string): Promise<string> {
  const reply = await soap.call(`<${method} xmlns="urn:vim25"><_this type="VirtualMachine">${vm}</_this></${method}>`);
  const task = elementText(reply.body, 'returnval');
  if (reply.status !== 200 || !task) throw new Error(`${method} on ${vm}: HTTP ${reply.status} ${reply.body}`);
  return task;
}

/** xsi:type of the fault in a SOAP fault reply, e.g. "InvalidState". */
export function faultType(body: string): string | undefined {
  return /<detail>\s*<\w+Fault [^>]*xsi:type="([^"]+)"/.exec(body)?.[1];
}
