// esbuild plugin: bundled `import ... from 'node:x'` statements load the builtin the CommonJS
// way (process.getBuiltinModule) instead of through Node's ESM loader.
//
// Why: when an ES module imports a builtin, Node builds its namespace from every export and so
// runs every lazy getter on it. On Node 24 `node:http` has lazy WebSocket/CloseEvent/MessageEvent
// getters, and reading them loads undici: `import 'node:http'` idles at 59.6 MiB, against 46.4 MiB
// for `require('node:http')`. `node:fs`, `node:process` (stdin) and `node:tls`
// (rootCertificates) do the same on a smaller scale. The sidecar never touches any of those.
//
// The shim re-exports the builtin's properties as named exports, read once when it loads, except
// the lazy ones listed in EXPENSIVE_GETTERS: those stay reachable through the default export (the
// module object itself), and named-importing one fails the build (esbuild: "No matching export"),
// so nothing silently becomes undefined.
import { builtinModules } from 'node:module';
import type { Plugin } from 'esbuild';

const NAMESPACE = 'sts-builtin';

/** Lazy exports whose first read loads or allocates something the sidecar never uses. */
const EXPENSIVE_GETTERS: Record<string, readonly string[]> = {
  http: ['WebSocket', 'CloseEvent', 'MessageEvent'], // undici, about 13 MiB
  tls: ['rootCertificates'], // every bundled CA as a string
  process: ['stdin', 'stdout', 'stderr', 'report', 'allowedNodeEnvironmentFlags'], // stdio streams, a flag set
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
  const skipped = new Set(EXPENSIVE_GETTERS[name] ?? []);
  const plain = Object.getOwnPropertyNames(exported).filter(
    (key) => key !== 'default' && IDENTIFIER.test(key) && !skipped.has(key),
  );
  const lines = [
    `const m = process.getBuiltinModule(${JSON.stringify(`node:${name}`)});`,
    'export default m;',
  ];
  if (plain.length > 0) lines.push(`export const ${plain.map((key) => `${key} = m.${key}`).join(', ')};`);
  return lines.join('\n');
}
