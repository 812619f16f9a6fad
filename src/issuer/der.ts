/**
 * A minimal DER encoder (ITU-T X.690, definite lengths only): exactly the types an X.509 v3
 * certificate needs, so the issuer builds its certificates with node:crypto alone. Every
 * function returns one complete TLV; DER has a single encoding per value, which is what makes
 * the certificates byte-identical on every replica.
 */

/** Tag | length | content, the length in short form below 128 and in long form above. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(0x30, Buffer.concat(items));

export const set = (...items: Uint8Array[]): Buffer => tlv(0x31, Buffer.concat(items));

/** `[n] EXPLICIT`: a constructed context-specific wrapper around one encoded value. */
export const explicit = (n: number, value: Uint8Array): Buffer => tlv(0xa0 | n, value);

/** `[n] IMPLICIT OCTET STRING`: primitive context-specific tag over raw bytes. */
export const implicitBytes = (n: number, bytes: Uint8Array): Buffer => tlv(0x80 | n, bytes);

export const boolean = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));

export const nullValue = (): Buffer => tlv(0x05, Buffer.alloc(0));

export const octetString = (bytes: Uint8Array): Buffer => tlv(0x04, bytes);

export const utf8String = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));

/** BIT STRING; `unusedBits` counts the padding bits at the end of the last byte (0-7). */
export function bitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  if (unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0))
    throw new RangeError('a BIT STRING pads 0-7 bits, and none when empty');
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

/**
 * A non-negative INTEGER from its big-endian magnitude (or a small number): leading zero bytes
 * are dropped and one 0x00 is put back when the top bit is set, so it never reads as negative.
 */
export function integer(value: Uint8Array | number): Buffer {
  let bytes: Buffer;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new RangeError(`not a non-negative integer: ${value}`);
    const hex = value.toString(16);
    bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  } else bytes = Buffer.from(value);
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  bytes = bytes.subarray(start);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

/** OBJECT IDENTIFIER from dotted text: the first two arcs share a byte, the rest are base-128. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0) || arcs[0]! > 2)
    throw new RangeError(`not an OID: ${dotted}`);
  const out: number[] = [];
  for (const arc of [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)]) {
    const chunk: number[] = [arc % 128];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128))
      chunk.unshift(0x80 | (rest % 128));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/**
 * A certificate time as RFC 5280 §4.1.2.5 requires: UTCTime (YYMMDDHHMMSSZ) through 2049,
 * GeneralizedTime (YYYYMMDDHHMMSSZ) from 2050 on; whole seconds, always Zulu.
 * https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5
 */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  // UTCTime's two-digit years stand for 1950-2049; ISO text has four digits only up to 9999.
  if (Number.isNaN(year) || year < 1950 || year > 9999) throw new RangeError('date outside 1950-9999');
  const iso = date.toISOString(); // 2024-01-01T00:00:00.000Z
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return year < 2050
    ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii'))
    : tlv(0x18, Buffer.from(digits, 'ascii'));
}
