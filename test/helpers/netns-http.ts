import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Options for {@link netnsHttp}. */
export interface NetnsHttpOptions {
  /** A form body: the request becomes a POST with it. */
  form?: string;
  /** curl's --max-time; the process itself gets 5 s more. Default 5 s. */
  timeoutMs?: number;
  /** Cap on the answer read. Default 1 MiB. */
  maxBytes?: number;
  /** https without verifying the server (a pod's certificate does not name its pod IP). */
  insecure?: boolean;
}

/**
 * One HTTP request from inside a network namespace the test process is not in (the real
 * cluster's, where MinIO and Prometheus listen), made with curl under `nsenter --net`.
 */
export async function netnsHttp(
  netns: string,
  url: string,
  opts: NetnsHttpOptions = {},
): Promise<{ status: number; body: string }> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const { stdout } = await execFileAsync(
    'nsenter',
    [
      `--net=${netns}`,
      '--',
      'curl',
      '-sS',
      '--max-time',
      String(timeoutMs / 1000),
      '-w',
      '\n%{http_code}',
      ...(opts.insecure === true ? ['--insecure'] : []),
      ...(opts.form === undefined
        ? []
        : ['-H', 'content-type: application/x-www-form-urlencoded', '--data', opts.form]),
      url,
    ],
    { encoding: 'utf8', maxBuffer: opts.maxBytes ?? 1024 * 1024, timeout: timeoutMs + 5_000 },
  );
  // -w appends the status on a line of its own, after the body.
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}
