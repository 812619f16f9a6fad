import type { Range } from './stores.ts';

/**
 * Value checks shared by the sidecar's and the webhook's configuration and the webhook's
 * annotation plan. Each reports a problem sentence through `report` and returns the parsed value
 * or undefined.
 */

const QUANTITY = /^\+?(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * The one integer grammar of every option and annotation: decimal digits only (no sign, no
 * exponent, no spaces), within `range`, or 0 when `allowZero`. `note` follows the range in the
 * message, e.g. " for flavor rgw".
 */
export function parseWhole(
  value: string | undefined,
  range: Range,
  report: (text: string) => void,
  options: { allowZero?: boolean | undefined; note?: string } = {},
): number | undefined {
  const { allowZero = false, note = '' } = options;
  const between = `${allowZero ? '0 or ' : ''}between ${range.min} and ${range.max}${note}`;
  // 15 digits stay exact in a double; anything longer is out of every range anyway.
  if (value === undefined || !/^\d{1,15}$/.test(value)) {
    report(`"${value ?? ''}" is not a whole number; use a value ${between}.`);
    return undefined;
  }
  const n = Number(value);
  if ((n < range.min || n > range.max) && !(allowZero && n === 0)) {
    report(`must be ${between}; got ${n}.`);
    return undefined;
  }
  return n;
}

/** A Kubernetes resource quantity as a number (cores or bytes), or undefined when malformed. */
export function parseQuantity(value: string | undefined): number | undefined {
  const m = value === undefined ? null : QUANTITY.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * SUFFIX[m[3] ?? '']!;
}

/** The problem sentence of a malformed quantity. */
export function quantityProblem(value: string | undefined): string {
  return `"${value ?? ''}" is not a Kubernetes quantity such as 100m, 1, 128Mi or 1Gi.`;
}

/** An http(s) URL without credentials, normalised by WHATWG URL. Never echoes the value. */
export function validateUrl(value: string | undefined, report: (text: string) => void): string | undefined {
  if (value === undefined) {
    report('is required: the URL of the store, e.g. https://rgw.example.internal:443.');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not echoed: a URL may carry user:password.
    report('is not a URL: expected http(s)://host[:port].');
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') report('must start with https:// or http://.');
  else if (url.username !== '' || url.password !== '')
    report('must not carry user:password; STS needs no credentials in the URL.');
  else return url.toString();
  return undefined;
}

/** arn:<partition>:<service>:<region>:<account>:<resource>, as RGW, MinIO and AWS write a role. */
const ARN = /^arn:[^:]+:[^:]*:[^:]*:[^:]*:.+$/;

/** A role ARN; reports the expected shape otherwise. */
export function validateArn(value: string, report: (text: string) => void): string | undefined {
  if (ARN.test(value)) return value;
  report('is not an ARN: expected arn:<partition>:iam::<account>:role/<name>, e.g. arn:aws:iam:::role/app.');
  return undefined;
}

/** One of `values`; `required` is the text for a missing value (no report when undefined). */
export function validateEnum<T extends string>(
  value: string | undefined,
  values: readonly T[],
  report: (text: string) => void,
  required?: string,
): T | undefined {
  if (value === undefined) {
    if (required !== undefined) report(required);
    return undefined;
  }
  if ((values as readonly string[]).includes(value)) return value as T;
  report(`"${value}" is not one of ${values.join(', ')}.`);
  return undefined;
}
