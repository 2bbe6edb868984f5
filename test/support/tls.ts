import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

type CertificateExtension = NonNullable<NonNullable<Parameters<typeof generate>[1]>['extensions']>[number];

export interface TestPki {
  /** PEM of a CA that Arauto is told to trust (ARAUTO_TLS_CA_FILE). */
  caCert: string;
  caFile: string;
  /** A server certificate for localhost / 127.0.0.1 signed by that CA. */
  server: { key: string; cert: string };
  /** A self-signed server certificate nobody trusts. */
  untrusted: { key: string; cert: string };
  /** A client certificate (mutual TLS) signed by the CA. */
  client: { key: string; cert: string };
}

const SAN: CertificateExtension = {
  name: 'subjectAltName',
  altNames: [
    { type: 2, value: 'localhost' },
    { type: 7, ip: '127.0.0.1' },
  ],
};

/** A throwaway PKI for tests that need real TLS. */
export async function makeTestPki(): Promise<TestPki> {
  const ca = await generate([{ name: 'commonName', value: 'Arauto Test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const leafExtensions: CertificateExtension[] = [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    SAN,
  ];
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: leafExtensions,
  });
  const untrusted = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: leafExtensions,
  });
  const client = await generate([{ name: 'commonName', value: 'arauto-client' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  const caFile = join(tmpdir(), `arauto-test-ca-${process.pid}-${Date.now()}.pem`);
  writeFileSync(caFile, ca.cert);
  return {
    caCert: ca.cert,
    caFile,
    server: { key: server.private, cert: server.cert },
    untrusted: { key: untrusted.private, cert: untrusted.cert },
    client: { key: client.private, cert: client.cert },
  };
}
