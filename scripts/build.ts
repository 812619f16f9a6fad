// Bundles the CLI into dist/sts-sidecar.mjs plus dist/chunks/ (one chunk per subcommand). Measured (research/node-baselines.md section 2): an ESM
// bundle with `module` main-fields has the lowest idle RSS and a faster start than plain
// node_modules; `@kubernetes/client-node` stays out of this entry point.
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';
import { builtinsViaRequire } from './build/builtins-via-require.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

// Chunk names carry content hashes: start from an empty dist/ so stale chunks never ship.
rmSync('dist', { recursive: true, force: true });

await build({
  entryPoints: { 'sts-sidecar': 'src/cli.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  mainFields: ['module', 'main'],
  minify: true,
  keepNames: true,
  sourcemap: 'linked',
  // Each dynamic import() (the sidecar, the webhook) becomes its own chunk, so the sidecar never
  // parses @kubernetes/client-node's code: one file with both cost the sidecar ~50 ms at start.
  splitting: true,
  define: { STS_SIDECAR_VERSION: JSON.stringify(pkg.version) },
  banner: {
    // CommonJS code inside the bundle calls require(); give it a real one.
    js: "#!/usr/bin/env node\nconst require = process.getBuiltinModule('node:module').createRequire(import.meta.url);",
  },
  plugins: [builtinsViaRequire],
  logLevel: 'warning',
});

// `bin` entry: runnable as ./dist/sts-sidecar.mjs (the banner carries the shebang).
chmodSync('dist/sts-sidecar.mjs', 0o755);
