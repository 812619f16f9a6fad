import { MAX_PEM_FILE_BYTES, readFileAtMostSync } from '../shared/read-bounded-file.ts';

/** Cap on a kubeconfig read at start-up (one with embedded certificates is a few KiB). */
export const MAX_KUBECONFIG_BYTES = 1024 * 1024;

/**
 * Why a file named by an option cannot be read (its errno code, EFBIG over `maxBytes`), or
 * undefined when it can: start-up checks a mount before anything uses it, so a missing Secret is
 * a configuration problem that names the option, not a crash later.
 */
export function unreadable(file: string, maxBytes: number): string | undefined {
  try {
    readFileAtMostSync(file, maxBytes);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'error';
  }
}

/**
 * Reads a PEM bundle of CA certificates (--ca-file, --issuer-ca-file), reporting a problem that
 * names the file and `fix` instead of throwing: the loaders list every problem at once.
 */
export function readPemBundle(file: string, fix: string, report: (text: string) => void): string | undefined {
  let pem: string;
  try {
    pem = readFileAtMostSync(file, MAX_PEM_FILE_BYTES);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    report(`cannot be read (${code}): ${file}. ${fix}`);
    return undefined;
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    report(`${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----).`);
    return undefined;
  }
  return pem;
}
