import { createHash } from 'node:crypto';
import { readFileAtMost } from './read-bounded-file.ts';

/** SHA-256 hex of a string; what watchers compare instead of keeping a secret file's content. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * A single line ending is what `echo` or a hand-made Secret adds; it is not part of a token, so
 * "abc" and "abc\n" are the same content.
 */
export function stripLineEnding(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/**
 * The SHA-256 hex of a small file's content (one trailing line ending ignored), or undefined
 * when the file is missing, unreadable, larger than `maxBytes` or empty. Never throws, never
 * parses: it only tells one content from another.
 */
export async function fileFingerprint(file: string, maxBytes: number): Promise<string | undefined> {
  try {
    const value = stripLineEnding(await readFileAtMost(file, maxBytes));
    return value.trim() === '' ? undefined : sha256Hex(value);
  } catch {
    return undefined;
  }
}
