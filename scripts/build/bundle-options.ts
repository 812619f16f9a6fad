// The esbuild options of `npm run build` (scripts/build.ts), apart so tests can build with
// exactly them. Measured (docs/design/measurements.md, "Start-up cost"): an ESM bundle with `module`
// main-fields has the lowest idle RSS and a faster start than plain node_modules.
import { readFileSync } from 'node:fs';
import type { BuildOptions } from 'esbuild';
import { builtinsViaRequire } from './builtins-via-require.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const bundleOptions = {
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
  // `ns.x` on a namespace without an `x` export would be undefined at run time; with the
  // builtin shims (which leave lazy getters out) that must fail the build, not warn.
  logOverride: { 'import-is-undefined': 'error' },
  logLevel: 'warning',
} satisfies BuildOptions;
