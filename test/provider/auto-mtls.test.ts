/**
 * The check that decides which TLS client reaches the provider's gRPC services (provider/auto-mtls.ts):
 * only the certificate Terraform passed in PLUGIN_CLIENT_CERT, while it is valid. Real certificates,
 * made by the provider's own generator; plugin-protocol.e2e.test.ts drives the same check over TLS.
 */
import { X509Certificate } from 'node:crypto';
import { generateServerCertificate, refusal } from '../../provider/auto-mtls';

const DAY = 24 * 3600_000;

describe('refusal (AutoMTLS client check)', () => {
  let terraform: X509Certificate;
  let stranger: X509Certificate;

  beforeAll(async () => {
    terraform = new X509Certificate((await generateServerCertificate()).certPem);
    stranger = new X509Certificate((await generateServerCertificate()).certPem);
  }, 60_000);

  it('GIVEN the pinned certificate, within its validity WHEN checked THEN it is let in', () => {
    expect(refusal(new X509Certificate(terraform.raw), terraform)).toBeUndefined();
  });

  it('GIVEN another certificate, or none WHEN checked THEN it is refused, saying which', () => {
    expect(refusal(stranger, terraform)).toBe('a client certificate other than PLUGIN_CLIENT_CERT');
    expect(refusal(undefined, terraform)).toBe('no client certificate');
  });

  it('GIVEN the pinned certificate before or after its validity WHEN checked THEN it is refused', () => {
    const reason = 'the client certificate is outside its validity period';
    expect(refusal(terraform, terraform, Date.now() - DAY)).toBe(reason);
    expect(refusal(terraform, terraform, Date.now() + 2 * DAY)).toBe(reason);
    expect(refusal(terraform, terraform, Date.parse(terraform.validTo) - 1000)).toBeUndefined();
  });
});
