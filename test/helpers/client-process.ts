import { spawn } from 'node:child_process';

/** What a client process left behind. */
export interface ClientRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options for {@link runClient}. */
export interface RunClientOptions {
  /** The process is killed (SIGTERM) after this long; default 60 000 ms. */
  timeoutMs?: number;
  /** Called with each complete stdout line, as it arrives. */
  onLine?: (line: string) => void;
}

/**
 * Runs a real client with exactly `env` (nothing inherited from the test process, so what it
 * resolves can only come from that env) and collects its output.
 */
export function runClient(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  options: RunClientOptions = {},
): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!options.onLine) return;
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) options.onLine(line);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (pending) options.onLine?.(pending);
      resolve({ code, stdout, stderr });
    });
  });
}
