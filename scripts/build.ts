// Bundles the CLI into dist/sts-sidecar.mjs plus dist/chunks/ (one chunk per subcommand), with
// the options in build/bundle-options.ts; `@kubernetes/client-node` stays out of the sidecar's
// chunks.
import { chmodSync, rmSync } from 'node:fs';
import { build } from 'esbuild';
import { bundleOptions } from './build/bundle-options.ts';

// Chunk names carry content hashes: start from an empty dist/ so stale chunks never ship.
rmSync('dist', { recursive: true, force: true });

await build(bundleOptions);

// `bin` entry: runnable as ./dist/sts-sidecar.mjs (the banner carries the shebang).
chmodSync('dist/sts-sidecar.mjs', 0o755);
