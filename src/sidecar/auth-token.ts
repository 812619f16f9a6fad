import { randomBytes, timingSafeEqual } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SidecarError } from '../shared/errors.ts';
import { FileTooLargeError, readFileAtMost } from '../shared/read-bounded-file.ts';

/** Our tokens are 64 characters; an operator's should be similar. Anything past this is a wrong file. */
const MAX_AUTH_TOKEN_FILE_BYTES = 4 * 1024;

/** 32 random bytes as hex: header-safe, no newline (SDKs reject a token with \r or \n). */
export function generateAuthToken(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Writes the token for the app containers: no trailing newline, mode 0440 (readable by the
 * pod's fsGroup, not by others), through a temporary file and a rename so an SDK that reads
 * the file per request never sees it half written.
 */
export async function writeAuthTokenFile(file: string, token: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    await writeFile(temp, token, { mode: 0o440 });
    await rename(temp, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new SidecarError(
      'AUTH_TOKEN_FILE_UNWRITABLE',
      `cannot write the endpoint auth token to ${file} (${code}). Mount a writable emptyDir (medium: Memory) there, ` +
        'or point --auth-token-file elsewhere.',
      { cause: error },
    );
  }
}

/** Reads an operator-provided token; refuses what SDKs would refuse. Never echoes the token. */
export async function readAuthTokenFile(file: string): Promise<string> {
  let token: string;
  try {
    token = await readFileAtMost(file, MAX_AUTH_TOKEN_FILE_BYTES);
  } catch (error) {
    if (error instanceof FileTooLargeError)
      throw new SidecarError(
        'AUTH_TOKEN_FILE_INVALID',
        `the endpoint auth token file ${file} is larger than ${MAX_AUTH_TOKEN_FILE_BYTES} bytes; it should hold one token.`,
        { cause: error },
      );
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new SidecarError(
      'AUTH_TOKEN_FILE_INVALID',
      `cannot read the endpoint auth token file ${file} (${code}); with --auth-token-source file it must exist.`,
      { cause: error },
    );
  }
  if (/[\r\n]/.test(token))
    throw new SidecarError(
      'AUTH_TOKEN_FILE_INVALID',
      `the endpoint auth token file ${file} contains a line break; botocore, Go and JS SDKs reject such a token. Write it without a trailing newline.`,
    );
  if (token.length < 16)
    throw new SidecarError(
      'AUTH_TOKEN_FILE_INVALID',
      `the endpoint auth token in ${file} is shorter than 16 characters; use at least 32 random bytes.`,
    );
  return token;
}

/**
 * Constant-time check of an Authorization header value, exactly as node:http hands it over,
 * against the expected token bytes. node:http decodes header bytes as latin1 (one char per
 * byte, never above U+00FF), so writing the value back as latin1 recovers the bytes the client
 * sent, UTF-8 tokens included. Do not pass strings from elsewhere: a char above U+00FF would be
 * cut to its low byte.
 */
export function authTokenMatches(header: string | undefined, expected: Buffer): boolean {
  // Lengths are not secret (every token we make is 64 hex chars); contents are compared in constant time.
  if (header === undefined || header.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(header, 'latin1'), expected);
}
