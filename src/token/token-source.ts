import { fileFingerprint, sha256Hex, stripLineEnding } from '../shared/file-fingerprint.ts';
import { FileTooLargeError, readFileAtMost } from '../shared/read-bounded-file.ts';
import { SidecarError } from '../shared/errors.ts';
import { decodeJwtClaims } from './jwt-claims.ts';
import type { ProjectedToken } from './projected-token.ts';

/** A projected service-account token is about 1 KiB; a file far larger is a wrong mount. */
const MAX_TOKEN_FILE_BYTES = 64 * 1024;

/** Options for {@link TokenSource}. */
export interface TokenSourceOptions {
  /** Path of the projected token, usually a symlink the kubelet swaps (--token-file / STS_SIDECAR_TOKEN_FILE). */
  tokenFile: string;
  /** Clock in milliseconds since the epoch, for the `exp` check. Default `Date.now`. */
  now?: () => number;
}

const FIX = 'Check the projected serviceAccountToken volume and --token-file / STS_SIDECAR_TOKEN_FILE.';

/**
 * Reads the projected service-account token. There is no cache on purpose: the kubelet
 * rotates the file by swapping the `..data` symlink, once the token is older than 80 % of its
 * lifetime or 24 h (k8s API reference, ServiceAccountTokenProjection.expirationSeconds), so every
 * exchange must read it again. A string kept across exchanges would eventually reach STS expired.
 */
export class TokenSource {
  readonly tokenFile: string;
  readonly #now: () => number;

  constructor(options: TokenSourceOptions) {
    this.tokenFile = options.tokenFile;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Reads, checks and decodes the token file, fresh on every call.
   *
   * @throws SidecarError with code TOKEN_FILE_MISSING (no file, or a dangling symlink),
   * TOKEN_FILE_EMPTY, TOKEN_FILE_UNREADABLE (permissions, a directory, other I/O errors),
   * TOKEN_NOT_JWT or TOKEN_EXPIRED (`exp` at or before now). Messages name the file, never its content.
   */
  async read(): Promise<ProjectedToken> {
    const value = stripLineEnding(await this.#readText());
    if (value.trim() === '') {
      throw new SidecarError(
        'TOKEN_FILE_EMPTY',
        `token file ${this.tokenFile} is empty or only whitespace (the kubelet has not written it yet, or the wrong file is mounted). ${FIX}`,
      );
    }
    let claims: ProjectedToken['claims'];
    try {
      claims = decodeJwtClaims(value);
    } catch (err) {
      const why = err instanceof SidecarError ? err.message : 'not a JWT';
      throw new SidecarError(
        'TOKEN_NOT_JWT',
        `token file ${this.tokenFile} does not hold a JWT (${why}). ${FIX}`,
        {
          cause: err,
        },
      );
    }
    const nowSeconds = this.#now() / 1000;
    if (claims.exp !== undefined && claims.exp <= nowSeconds) {
      throw new SidecarError(
        'TOKEN_EXPIRED',
        `token in ${this.tokenFile} expired at ${isoSeconds(claims.exp)} (now ${isoSeconds(nowSeconds)}); ` +
          'the kubelet should have rotated it: check that the kubelet is running and the node clock is right. ' +
          FIX,
        { details: { exp: claims.exp } },
      );
    }
    return Object.freeze({ value, claims, fingerprint: sha256Hex(value) });
  }

  /**
   * The SHA-256 hex of the current token (same value as `read().fingerprint`), or undefined when
   * the file is missing, unreadable or empty. Never throws; it does not decode or check `exp`.
   * FileWatcher computes the same value to tell a rotation from the several events it causes.
   */
  async fingerprintNow(): Promise<string | undefined> {
    return fileFingerprint(this.tokenFile, MAX_TOKEN_FILE_BYTES);
  }

  async #readText(): Promise<string> {
    try {
      return await readFileAtMost(this.tokenFile, MAX_TOKEN_FILE_BYTES);
    } catch (err) {
      if (err instanceof FileTooLargeError)
        throw new SidecarError(
          'TOKEN_NOT_JWT',
          `token file ${this.tokenFile} is larger than ${MAX_TOKEN_FILE_BYTES} bytes: not a service-account token. ${FIX}`,
          { cause: err },
        );
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        // readFile follows symlinks, so a link whose target is gone lands here too.
        throw new SidecarError(
          'TOKEN_FILE_MISSING',
          `token file ${this.tokenFile} does not exist (or is a symlink to nothing). ${FIX}`,
          { cause: err },
        );
      }
      throw new SidecarError(
        'TOKEN_FILE_UNREADABLE',
        `token file ${this.tokenFile} cannot be read (${code ?? 'unknown error'}${code === 'EISDIR' ? ': it is a directory' : ''}${code === 'EACCES' ? ': permission denied, check the volume mode and the container user' : ''}). ${FIX}`,
        { cause: err },
      );
    }
  }
}

function isoSeconds(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString();
}
