// esbuild plugin: bundled `import ... from 'node:x'` statements load the builtin the CommonJS
// way (process.getBuiltinModule) instead of through Node's ESM loader.
//
// Why: when an ES module imports a builtin, Node builds its namespace from every export and so
// runs every lazy getter on it. On Node 24 `node:http` has lazy WebSocket/CloseEvent/MessageEvent
// getters, and reading them loads undici: `import 'node:http'` idles at 59.6 MiB, against 46.4 MiB
// for `require('node:http')`. `node:fs`, `node:process` (stdin) and `node:tls`
// (rootCertificates) do the same on a smaller scale. The sidecar never touches any of those.
//
// The shim re-exports the builtin's plain data properties as named exports. Its lazy getters
// stay lazy, reachable through the default export (the module object itself): reading them
// all is what costs, and some are deprecated (fs.F_OK, crypto.fips) and print a warning when
// read. The few that bundled code imports by name are in NAMED_GETTERS; any other named
// import of a getter fails the build (esbuild: "No matching export"), so nothing silently
// becomes undefined and every new one gets looked at.
import { builtinModules } from 'node:module';
import type { Plugin } from 'esbuild';

const NAMESPACE = 'sts-builtin';

/**
 * Lazy exports that bundled code imports by name, read once when the shim loads. Each was
 * checked: it loads nothing the sidecar does not use anyway and is not deprecated.
 */
const NAMED_GETTERS: Record<string, readonly string[]> = {
  crypto: ['getRandomValues'], // @smithy/core
  fs: ['promises', 'ReadStream'], // @aws-sdk credential providers, @smithy/core
};
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

// Node's ESM loader accepts both spellings; `node:`-only builtins (node:test, node:sqlite…)
// are not in builtinModules and are left to Node.
const BUILTINS = new Set(builtinModules.filter((name) => !name.startsWith('_')));

export const builtinsViaRequire: Plugin = {
  name: 'builtins-via-require',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_/0-9]+$/ }, (args) => {
      // CommonJS require() calls keep going to the banner's real `require`: they never build a
      // namespace, so they never run a getter.
      if (args.kind !== 'import-statement' && args.kind !== 'dynamic-import') return undefined;
      const name = args.path.replace(/^node:/, '');
      if (!BUILTINS.has(name)) return undefined;
      return { path: name, namespace: NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
      contents: shimSource(args.path),
      loader: 'js',
    }));
  },
};

/** The shim for one builtin; its named exports are read off the build machine's Node. */
export function shimSource(name: string): string {
  const exported = process.getBuiltinModule(`node:${name}`) as Record<string, unknown>;
  const getters = new Set(NAMED_GETTERS[name] ?? []);
  const plain = Object.getOwnPropertyNames(exported).filter((key) => {
    const descriptor = Object.getOwnPropertyDescriptor(exported, key);
    if (key === 'default' || !IDENTIFIER.test(key) || descriptor === undefined) return false;
    return descriptor.get === undefined || getters.has(key);
  });
  const lines = [
    `const m = process.getBuiltinModule(${JSON.stringify(`node:${name}`)});`,
    'export default m;',
  ];
  if (plain.length > 0) lines.push(`export const ${plain.map((key) => `${key} = m.${key}`).join(', ')};`);
  return lines.join('\n');
}
