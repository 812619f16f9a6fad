// Bundles the CLI into one ESM file. Measured (research/node-baselines.md section 2): an ESM
// bundle with `module` main-fields has the lowest idle RSS and a faster start than plain
// node_modules; `@kubernetes/client-node` stays out of this entry point.
import { chmodSync, readFileSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

await build({
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/sts-sidecar.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  mainFields: ['module', 'main'],
  minify: true,
  keepNames: true,
  sourcemap: 'linked',
  // Dynamic import() of the sidecar stays in the same file: one artifact to ship.
  splitting: false,
  define: { STS_SIDECAR_VERSION: JSON.stringify(pkg.version) },
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __stsCreateRequire } from 'node:module'; const require = __stsCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});

// `bin` entry: runnable as ./dist/sts-sidecar.mjs (the banner carries the shebang).
chmodSync('dist/sts-sidecar.mjs', 0o755);
