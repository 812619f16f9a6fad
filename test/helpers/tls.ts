import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Options for {@link createSelfSignedCert}. */
export interface SelfSignedCertOptions {
  /** Subject CN. Default `localhost`. The SAN always holds `IP:127.0.0.1` and `DNS:localhost`. */
  commonName?: string;
  /** Directory to write `cert.pem` / `key.pem` into. Default: a new `fs.mkdtemp` dir under `os.tmpdir()`. */
  dir?: string;
}

/** A self-signed TLS leaf and its files; the certificate doubles as the CA bundle clients trust. */
export interface SelfSignedCert {
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
  /** Directory holding both files; the caller removes it when done. */
  dir: string;
  /**
   * SHA-1 of the DER certificate, upper-case hex without colons: the form an OIDC provider's
   * `ThumbprintList` takes in RGW (`radosgw-admin oidc-provider create`) and AWS IAM.
   */
  sha1Thumbprint: string;
}

/**
 * Creates a CA-less self-signed RSA-2048 certificate valid for one day, with the `openssl` CLI.
 *
 * @throws when `openssl` is missing or fails; its stderr is in the error message.
 */
export async function createSelfSignedCert(opts: SelfSignedCertOptions = {}): Promise<SelfSignedCert> {
  const commonName = opts.commonName ?? 'localhost';
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'sts-sidecar-tls-')));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await execFileAsync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-days',
    '1',
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  const [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  // X509Certificate.fingerprint is the SHA-1 of the DER encoding as "AB:CD:…".
  const sha1Thumbprint = new X509Certificate(certPem).fingerprint.replaceAll(':', '').toUpperCase();
  return { certPem, keyPem, certFile, keyFile, dir, sha1Thumbprint };
}
