import { optionDoc } from './config/option-spec.ts';
import { SIDECAR_OPTIONS } from './config/sidecar-options.ts';
import { WEBHOOK_OPTIONS } from './config/webhook-options.ts';
import { isSidecarError } from './shared/errors.ts';
import { setSafeTimeout } from './shared/timers.ts';

/** After a non-zero result, the longest the process may linger before it is made to exit. */
const FAILED_EXIT_BACKSTOP_MS = 1_000;

/** Replaced by the bundler with package.json's version; "dev" when run from source. */
declare const STS_SIDECAR_VERSION: string | undefined;
const VERSION = typeof STS_SIDECAR_VERSION === 'string' ? STS_SIDECAR_VERSION : 'dev';

/** Exit codes: 0 clean stop, 1 unexpected failure, 2 bad configuration or usage. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

function usage(): string {
  const rows = SIDECAR_OPTIONS.map((o) => {
    const def = o.defaultValue === undefined ? '' : ` (default: ${o.defaultValue})`;
    return `  --${o.flag.padEnd(22)} ${o.env}\n      ${optionDoc(o)}${def}`;
  });
  return [
    `sts-sidecar ${VERSION}`,
    '',
    'Exchanges the projected service-account token at an S3 store STS (Ceph RGW, MinIO) and keeps',
    'short-lived credentials fresh.',
    '',
    'Usage: sts-sidecar [sidecar] [flags]     run the sidecar (the default subcommand)',
    '       sts-sidecar webhook [flags]       run the mutating admission webhook (webhook --help)',
    '       sts-sidecar --help | --version',
    '',
    'Flags win over environment variables:',
    ...rows,
    '',
  ].join('\n');
}

function webhookUsage(): string {
  const rows = WEBHOOK_OPTIONS.map((o) => {
    const def = o.defaultValue === undefined ? '' : ` (default: ${o.defaultValue})`;
    return `  --${o.flag.padEnd(32)} ${o.env}\n      ${optionDoc(o)}${def}`;
  });
  return [
    `sts-sidecar ${VERSION}`,
    '',
    'Mutating admission webhook: injects the sidecar into pods labelled sts-sidecar.io/inject=true.',
    '',
    'Usage: sts-sidecar webhook [flags]',
    '',
    'Flags win over environment variables:',
    ...rows,
    '',
  ].join('\n');
}

/** Runs the CLI; resolves with the process exit code once the work is over. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const args = [...argv];
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(args[0] === 'webhook' ? webhookUsage() : usage());
    return EXIT_OK;
  }
  if (args.includes('--version')) {
    process.stdout.write(`${VERSION}\n`);
    return EXIT_OK;
  }
  const sub = args[0] !== undefined && !args[0].startsWith('-') ? args.shift() : 'sidecar';
  if (sub === 'webhook') {
    // The only path that loads @kubernetes/client-node (via src/kube/kube-client.ts).
    const [{ runSubcommand }, { WEBHOOK_SUBCOMMAND }] = await Promise.all([
      import('./run-subcommand.ts'),
      import('./webhook/webhook-app.ts'),
    ]);
    return runSubcommand(WEBHOOK_SUBCOMMAND, args, env);
  }
  if (sub !== 'sidecar') {
    process.stderr.write(`sts-sidecar: unknown subcommand "${sub}". Run sts-sidecar --help.\n`);
    return EXIT_USAGE;
  }
  // Loaded only for this subcommand, so `--help` and a bad config answer without loading the SDK.
  const [{ runSubcommand }, { SIDECAR_SUBCOMMAND }] = await Promise.all([
    import('./run-subcommand.ts'),
    import('./sidecar/sidecar-app.ts'),
  ]);
  return runSubcommand(SIDECAR_SUBCOMMAND, args, env);
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
    // Backstop for a failed start: the start-up code closes what it opened, but should anything
    // still hold the event loop, exit anyway rather than idle as a stuck container (issue #13,
    // item 3). Unref'd, so a clean exit is not delayed by it.
    if (code !== EXIT_OK) setSafeTimeout(() => process.exit(code), FAILED_EXIT_BACKSTOP_MS).unref();
  },
  (error: unknown) => {
    // Last resort: report the code and message only; a stack trace is no help to an operator.
    const text = isSidecarError(error) ? `${error.code}: ${error.message}` : String(error);
    process.stderr.write(`sts-sidecar: ${text}\n`);
    process.exitCode = EXIT_FAILURE;
  },
);
