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
