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

/** Parses a whole number in [min, max]; reports the range otherwise. */
export function parseWhole(
  value: string | undefined,
  min: number,
  max: number,
  report: (text: string) => void,
): number | undefined {
  if (value === undefined || !/^\d{1,9}$/.test(value)) {
    report(`"${value ?? ''}" is not a whole number; use a value from ${min} to ${max}.`);
    return undefined;
  }
  const n = Number(value);
  if (n < min || n > max) {
    report(`${n} is out of range; use a value from ${min} to ${max}.`);
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

/** An http(s) URL without credentials, normalised by WHATWG URL. */
export function validateUrl(value: string | undefined, report: (text: string) => void): string | undefined {
  if (value === undefined) {
    report('is required: the URL of the store, e.g. https://rgw.example.internal.');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    report(`"${value}" is not a URL: expected http(s)://host[:port].`);
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') report('must start with https:// or http://.');
  else if (url.username !== '' || url.password !== '') report('must not carry user:password.');
  else return url.toString();
  return undefined;
}
