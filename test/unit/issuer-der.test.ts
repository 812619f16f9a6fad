// src/issuer/der.ts against encodings worked out by hand from X.690 (and cross-checked with
// `openssl asn1parse`): every length form, integer sign handling, OID arcs and both time types.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bitString,
  boolean,
  integer,
  nullValue,
  oid,
  sequence,
  time,
  tlv,
  utf8String,
} from '../../src/issuer/der.ts';

const hex = (b: Buffer): string => b.toString('hex');

const lengths: Array<[string, number, string]> = [
  ['empty', 0, '0400'],
  ['short form, largest', 127, '047f'],
  ['long form, one byte', 128, '048180'],
  ['long form, one byte, largest', 255, '0481ff'],
  ['long form, two bytes', 256, '04820100'],
  ['long form, three bytes', 65_536, '0483010000'],
];
for (const [name, n, prefix] of lengths)
  test(`tlv length: ${name} (${n})`, () => {
    const out = tlv(0x04, Buffer.alloc(n));
    assert.equal(hex(out.subarray(0, prefix.length / 2)), prefix);
    assert.equal(out.length, prefix.length / 2 + n);
  });

const integers: Array<[string, Buffer | number, string]> = [
  ['zero', 0, '020100'],
  ['127', 127, '02017f'],
  ['128 needs a sign byte', 128, '02020080'],
  ['256', 256, '02020100'],
  ['65535', 65_535, '020300ffff'],
  ['leading zero bytes are dropped', Buffer.from('00000102', 'hex'), '02020102'],
  ['a top bit set gets one zero byte', Buffer.from('ff00', 'hex'), '020300ff00'],
  ['all zero bytes is 0', Buffer.from('0000', 'hex'), '020100'],
  ['empty magnitude is 0', Buffer.alloc(0), '020100'],
];
for (const [name, value, want] of integers)
  test(`integer: ${name}`, () => assert.equal(hex(integer(value)), want));

test('integer refuses negatives and non-integers', () => {
  assert.throws(() => integer(-1), RangeError);
  assert.throws(() => integer(1.5), RangeError);
});

const oids: Array<[string, string]> = [
  ['2.5.4.3', '0603550403'], // commonName
  ['2.5.29.19', '0603551d13'], // basicConstraints
  ['1.2.840.113549.1.1.11', '06092a864886f70d01010b'], // sha256WithRSAEncryption
  ['1.2.840.10045.2.1', '06072a8648ce3d0201'], // id-ecPublicKey
];
for (const [dotted, want] of oids) test(`oid ${dotted}`, () => assert.equal(hex(oid(dotted)), want));

test('oid refuses what is not an OID', () => {
  for (const bad of ['1', '3.1', '1.x', '1.-2']) assert.throws(() => oid(bad), RangeError, bad);
});

const times: Array<[string, Date, string]> = [
  [
    'UTCTime through 2049',
    new Date(Date.UTC(2049, 11, 31, 23, 59, 59)),
    `170d${Buffer.from('491231235959Z').toString('hex')}`,
  ],
  ['UTCTime for 2024', new Date(Date.UTC(2024, 0, 1)), `170d${Buffer.from('240101000000Z').toString('hex')}`],
  [
    'GeneralizedTime from 2050',
    new Date(Date.UTC(2050, 0, 1)),
    `180f${Buffer.from('20500101000000Z').toString('hex')}`,
  ],
  [
    'GeneralizedTime 9999',
    new Date(Date.UTC(9999, 11, 31, 23, 59, 59)),
    `180f${Buffer.from('99991231235959Z').toString('hex')}`,
  ],
];
for (const [name, date, want] of times) test(`time: ${name}`, () => assert.equal(hex(time(date)), want));

test('time refuses dates UTCTime and four-digit years cannot hold', () => {
  assert.throws(() => time(new Date(Date.UTC(1949, 0, 1))), RangeError);
  assert.throws(() => time(new Date(Number.NaN)), RangeError);
});

test('bit string, boolean, null, UTF8String, sequence', () => {
  assert.equal(hex(bitString(Buffer.from([0x80]), 7)), '03020780');
  assert.equal(hex(bitString(Buffer.alloc(0))), '030100');
  assert.throws(() => bitString(Buffer.alloc(0), 1), RangeError);
  assert.throws(() => bitString(Buffer.from([0]), 8), RangeError);
  assert.equal(hex(boolean(true)), '0101ff');
  assert.equal(hex(boolean(false)), '010100');
  assert.equal(hex(nullValue()), '0500');
  assert.equal(hex(utf8String('é')), '0c02c3a9');
  assert.equal(hex(sequence(nullValue(), boolean(true))), '300505000101ff');
});
