// deploy/: every kustomization renders with `kubectl kustomize`, matches its golden render
// (test/fixtures/render/kustomize-<dir with / as ->.yaml) and passes the schemas. After a deliberate
// change: UPDATE_GOLDEN=1 node --test test/integration/kustomize-render.test.ts, and review the diff.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseManifests, validateManifests } from '../helpers/k8s-schema.ts';
import { DEPLOY, findKustomizations, kubectlVersion, render } from '../helpers/kustomize.ts';

const RENDER_DIR = fileURLToPath(new URL('../fixtures/render/', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

/** Every kustomization deploy/ must have; a missing one fails the inventory test. */
const EXPECTED = [
  'webhook',
  'examples/app',
  'examples/rgw',
  'examples/minio',
  'examples/minio-claim',
  'examples/manual-sidecar',
  'examples/webhook-overlay',
  'examples/webhook-without-cert-manager',
];

const kubectl = kubectlVersion();
const skip = 'reason' in kubectl ? kubectl.reason : undefined;
const dirs = findKustomizations(DEPLOY);
const goldenName = (dir: string): string => `kustomize-${dir.replaceAll('/', '-')}.yaml`;

describe('deploy/ renders', { skip }, () => {
  test('inventory: every expected kustomization exists, each has a golden render, no golden is stale', (t) => {
    if ('version' in kubectl) t.diagnostic(kubectl.version);
    for (const dir of EXPECTED) assert.ok(dirs.includes(dir), `deploy/${dir}/kustomization.yaml missing`);
    const goldens = readdirSync(RENDER_DIR).filter((f) => f.startsWith('kustomize-'));
    for (const file of goldens)
      assert.ok(
        dirs.some((d) => goldenName(d) === file),
        `${file} has no kustomization (delete it)`,
      );
  });

  for (const dir of dirs) {
    test(`${dir}: golden render, and every object passes its schema`, async () => {
      const text = render(dir);
      const file = join(RENDER_DIR, goldenName(dir));
      if (update) writeFileSync(file, text);
      assert.ok(existsSync(file), `${file} missing (UPDATE_GOLDEN=1 to write it)`);
      assert.equal(
        text,
        readFileSync(file, 'utf8'),
        `${goldenName(dir)} differs (UPDATE_GOLDEN=1 to rewrite)`,
      );
      const objects = parseManifests(text);
      assert.ok(objects.length > 0);
      await validateManifests(objects);
    });
  }
});
