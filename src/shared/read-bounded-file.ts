import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * Cap on a PEM file (a CA bundle, a certificate, a key). Debian's whole system bundle
 * (ca-certificates, ~150 roots) is about 220 KB; a file over 1 MiB is a wrong mount.
 */
export const MAX_PEM_FILE_BYTES = 1024 * 1024;

/** Thrown by {@link readFileAtMost} when the file holds more than the limit. */
export class FileTooLargeError extends Error {
  readonly code = 'EFBIG';
  constructor(file: string, maxBytes: number) {
    super(`${file} is larger than ${maxBytes} bytes`);
    this.name = 'FileTooLargeError';
  }
}

/**
 * Reads a whole small file as UTF-8, refusing one over `maxBytes` without reading it all: the
 * files we read on a timer (token, auth token) are a few hundred bytes, and a wrong mount must
 * not grow the heap on every poll (issue #13: every read from a socket or file is bounded).
 * Other fs errors (ENOENT, EACCES, EISDIR) propagate as they are.
 */
export async function readFileAtMost(file: string, maxBytes: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) throw new FileTooLargeError(file, maxBytes);
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * {@link readFileAtMost} for start-up, where configuration is validated synchronously (CA
 * bundles, TLS files): the same bound, so a wrong mount (a device, a huge file) is refused, not
 * read into memory.
 */
export function readFileAtMostSync(file: string, maxBytes: number): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) throw new FileTooLargeError(file, maxBytes);
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
