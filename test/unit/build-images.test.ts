import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { test } from 'node:test';
import { E2E_IMAGES, PAUSE_IMAGE, S3_APP_IMAGE, STS_SIDECAR_IMAGE } from '../helpers/e2e-images.ts';

// .ci/build-images.sh commits local stand-ins under the names of the Dockerfile's FROM images and
// builds with --pull=never: a FROM line changed without the script would fail the image build
// only on a machine that runs it. These checks catch the drift in the unit tests.
const script = readFileSync(new URL('../../.ci/build-images.sh', import.meta.url), 'utf8');
const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');

function scriptConstant(name: string): string {
  const value = new RegExp(`^readonly ${name}=(\\S+)$`, 'm').exec(script)?.[1];
  assert.ok(value, `.ci/build-images.sh sets ${name}`);
  return value;
}

test("the stand-ins carry the names of the Dockerfile's FROM images, build stage first", () => {
  const fromImages = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
  assert.deepEqual(fromImages, [scriptConstant('BUILD_STANDIN'), scriptConstant('RUNTIME_STANDIN')]);
});

test('the test helper names the refs and archives the script writes', () => {
  assert.equal(scriptConstant('PAUSE_REF'), PAUSE_IMAGE.ref);
  assert.equal(scriptConstant('SIDECAR_REF'), STS_SIDECAR_IMAGE.ref);
  assert.equal(scriptConstant('S3_APP_REF'), S3_APP_IMAGE.ref);
  for (const image of E2E_IMAGES)
    assert.ok(
      script.includes(`"$IMAGES_DIR/${basename(image.archive)}"`),
      `the script writes ${image.archive}`,
    );
});
