import { CHECK_OPTIONS } from './config/check-options.ts';
import { ISSUER_OPTIONS } from './config/issuer-options.ts';
import { optionDoc, type OptionSpec } from './config/option-spec.ts';
import { SIDECAR_OPTIONS } from './config/sidecar-options.ts';
import { WEBHOOK_OPTIONS } from './config/webhook-options.ts';
import { isSidecarError } from './shared/errors.ts';
import { setSafeTimeout } from './shared/timers.ts';

/** After a non-zero result, the longest the process may linger before it is made to exit. */
const FAILED_EXIT_BACKSTOP_MS = 1_000;

/** Replaced by the bundler with package.json's version; "dev" when run from source. */
declare const STS_SIDECAR_VERSION: string | undefined;
const VERSION = typeof STS_SIDECAR_VERSION === 'string' ? STS_SIDECAR_VERSION : 'dev';

/**
 * Exit codes: 0 clean stop, 1 unexpected failure, 2 bad configuration or usage. `check` uses 1
 * for "a link is broken" as well (src/check/check-app.ts).
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Runs a subcommand to its end and gives the process exit code. */
type SubcommandRunner = (argv: readonly string[], env: NodeJS.ProcessEnv) => Promise<number>;

/**
 * One row per subcommand: the single place a new subcommand is added. The option tables are
 * plain data and cheap to load; `load` is a dynamic import, so a subcommand's modules (the STS
 * SDK, client-node) load only when that subcommand runs.
 */
interface CliCommand {
  readonly name: string;
  /** One line in `sts-sidecar --help`. */
  readonly summary: string;
  /** The opening lines of `sts-sidecar <name> --help`. */
  readonly about: readonly string[];
  readonly options: readonly OptionSpec[];
  readonly load: () => Promise<SubcommandRunner>;
}

const COMMANDS: readonly CliCommand[] = [
  {
    name: 'sidecar',
    summary: 'run the sidecar (the default subcommand)',
    about: [
      'Exchanges the projected service-account token at an S3 store STS (Ceph RGW, MinIO) and keeps',
      'short-lived credentials fresh.',
    ],
    options: SIDECAR_OPTIONS,
    load: async () => {
      const [{ runSubcommand }, { SIDECAR_SUBCOMMAND }] = await Promise.all([
        import('./run-subcommand.ts'),
        import('./sidecar/sidecar-app.ts'),
      ]);
      return (argv, env) => runSubcommand(SIDECAR_SUBCOMMAND, argv, env);
    },
  },
  {
    name: 'webhook',
    summary: 'run the mutating admission webhook',
    about: ['Mutating admission webhook: injects the sidecar into pods labelled sts-sidecar.io/inject=true.'],
    options: WEBHOOK_OPTIONS,
    load: async () => {
      // The webhook is what loads @kubernetes/client-node (via src/kube/).
      const [{ runSubcommand }, { WEBHOOK_SUBCOMMAND }] = await Promise.all([
        import('./run-subcommand.ts'),
        import('./webhook/webhook-app.ts'),
      ]);
      return (argv, env) => runSubcommand(WEBHOOK_SUBCOMMAND, argv, env);
    },
  },
  {
    name: 'issuer',
    summary: "serve the cluster's OIDC discovery and JWKS with x5c for stores",
    about: [
      "OIDC issuer publisher: serves the API server's discovery document and JWKS over HTTPS, each key",
      'with an x5c certificate (Ceph RGW before 18.2.8 / 19.2.3 needs one) and the signing key first.',
    ],
    options: ISSUER_OPTIONS,
    load: async () => {
      const [{ runSubcommand }, { ISSUER_SUBCOMMAND }] = await Promise.all([
        import('./run-subcommand.ts'),
        import('./issuer/issuer-app.ts'),
      ]);
      return (argv, env) => runSubcommand(ISSUER_SUBCOMMAND, argv, env);
    },
  },
  {
    name: 'check',
    summary: 'walk token, issuer, JWKS and STS once; name the first broken link and its fix',
    about: [
      'Checks, in order: the token file, its aud (--audience), the issuer discovery document, the JWKS key',
      'of the token (x5c for rgw), the STS endpoint and its TLS, the clock skew against it, and a trial',
      'AssumeRoleWithWebIdentity. Takes the sidecar options and env, so it runs in the pod as it is.',
      'Exit code 0: every link holds (warnings allowed); 1: a link is broken; 2: bad flags or env.',
    ],
    options: CHECK_OPTIONS,
    // One-shot: prints its report and exits, so no run-subcommand loop around it.
    load: async () => (await import('./check/check-app.ts')).runCheck,
  },
];

const DEFAULT_COMMAND = 'sidecar';

function optionRows(options: readonly OptionSpec[]): string[] {
  const width = Math.max(...options.map((o) => o.flag.length)) + 2;
  return options.map((o) => {
    const def = o.defaultValue === undefined ? '' : ` (default: ${o.defaultValue})`;
    return `  --${o.flag.padEnd(width)} ${o.env}\n      ${optionDoc(o)}${def}`;
  });
}

function topLevelUsage(): string {
  const sidecar = COMMANDS.find((c) => c.name === DEFAULT_COMMAND)!;
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 8;
  return [
    `sts-sidecar ${VERSION}`,
    '',
    ...sidecar.about,
    '',
    ...COMMANDS.map(
      (c, i) =>
        `${i === 0 ? 'Usage:' : '      '} sts-sidecar ${(c.name === DEFAULT_COMMAND ? `[${c.name}]` : c.name).padEnd(width)} [flags]  ${c.summary}`,
    ),
    '       sts-sidecar --help | --version | <subcommand> --help',
    '',
    'Flags win over environment variables:',
    ...optionRows(sidecar.options),
    '',
  ].join('\n');
}

function commandUsage(command: CliCommand): string {
  return [
    `sts-sidecar ${VERSION}`,
    '',
    ...command.about,
    '',
    `Usage: sts-sidecar ${command.name} [flags]`,
    '',
    'Flags win over environment variables:',
    ...optionRows(command.options),
    '',
  ].join('\n');
}

/** Runs the CLI; resolves with the process exit code once the work is over. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const args = [...argv];
  const named = args[0] !== undefined && !args[0].startsWith('-') ? args.shift()! : undefined;
  const command = COMMANDS.find((c) => c.name === (named ?? DEFAULT_COMMAND));
  if (command === undefined) {
    const names = COMMANDS.map((c) => c.name).join(', ');
    process.stderr.write(
      `sts-sidecar: unknown subcommand "${named}" (one of: ${names}). Run sts-sidecar --help.\n`,
    );
    return EXIT_USAGE;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(named === undefined ? topLevelUsage() : commandUsage(command));
    return EXIT_OK;
  }
  if (args.includes('--version')) {
    process.stdout.write(`${VERSION}\n`);
    return EXIT_OK;
  }
  const run = await command.load();
  return run(args, env);
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
