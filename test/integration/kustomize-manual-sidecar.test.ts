// deploy/examples/manual-sidecar: the hand-written sidecar equals what the webhook injects into
// the same pod (the webhook golden fixture one-container), field for field.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ANNOTATION_STATUS, LABEL_INJECT } from '../../src/webhook/annotations.ts';
import { SHADOWING_ENV, type JsonPatchOp } from '../../src/webhook/pod-patch.ts';
import { applyPatch, FIXTURE_DIR, loadFixture } from '../helpers/webhook-golden.ts';
import {
  kubectlVersion,
  objectsOf,
  one,
  template,
  type Container,
  type PodTemplate,
} from '../helpers/kustomize.ts';

const kubectl = kubectlVersion();
const skip = 'reason' in kubectl ? kubectl.reason : undefined;

describe('deploy/examples/manual-sidecar equals what the webhook injects', { skip }, () => {
  // The expectation: one-container.pod.yaml with one-container.patch.json applied, exactly as
  // the webhook golden test checks them.
  const fixture = loadFixture('one-container');
  const ops = JSON.parse(
    readFileSync(new URL('one-container.patch.json', FIXTURE_DIR), 'utf8'),
  ) as JsonPatchOp[];
  const injected = applyPatch(fixture.pod, ops) as unknown as { spec: PodTemplate['spec'] };
  const manual = () => template(one(objectsOf('examples/manual-sidecar'), 'Deployment'));

  /** Values that are the user's to choose (the store, the image), blanked on both sides. */
  const USER_VALUES = new Set(['STS_SIDECAR_STS_ENDPOINT', 'STS_SIDECAR_FLAVOR', 'STS_SIDECAR_ROLE_ARN']);
  const blankSidecar = (c: Container): Container => {
    assert.ok(c.image, 'an image is set');
    for (const e of c.env ?? []) if (USER_VALUES.has(e.name)) assert.ok(e.value, `${e.name} has a value`);
    return {
      ...c,
      image: '<image>',
      env: c.env?.map((e) => (USER_VALUES.has(e.name) ? { ...e, value: '<value>' } : e)),
    };
  };
  type Volume = NonNullable<PodTemplate['spec']['volumes']>[number];
  const blankAudience = (v: Volume | undefined): unknown =>
    JSON.parse(JSON.stringify(v ?? null).replace(/"audience":"[^"]+"/g, '"audience":"<audience>"'));

  test('the sidecar container (first init container) is the injected one, field for field', () => {
    const expected = injected.spec.initContainers![0]!;
    const actual = manual().spec.initContainers?.[0];
    assert.ok(actual, 'an init container');
    assert.deepEqual(blankSidecar(actual), blankSidecar(expected));
  });

  test('volumes: the projected token and the in-memory auth emptyDir', () => {
    const volumes = manual().spec.volumes ?? [];
    for (const v of injected.spec.volumes ?? []) {
      const actual = volumes.find((x) => x.name === v.name);
      assert.deepEqual(blankAudience(actual), blankAudience(v), v.name);
    }
  });

  test('pod: the same fsGroup, no inject label (the webhook would refuse a second sidecar)', () => {
    const t = manual();
    assert.equal(t.spec.securityContext?.fsGroup, injected.spec.securityContext?.fsGroup);
    assert.equal(t.metadata.labels?.[LABEL_INJECT], undefined);
    assert.equal(t.metadata.annotations?.[ANNOTATION_STATUS], undefined);
  });

  test('app container: the injected env and mount, nothing that shadows them', () => {
    const expected = injected.spec.containers[0]!;
    const app = manual().spec.containers[0]!;
    for (const e of expected.env ?? [])
      assert.deepEqual(
        app.env?.find((x) => x.name === e.name),
        e,
        e.name,
      );
    for (const m of expected.volumeMounts ?? [])
      assert.deepEqual(
        app.volumeMounts?.find((x) => x.name === m.name),
        m,
        m.name,
      );
    for (const e of app.env ?? []) assert.ok(!(SHADOWING_ENV as readonly string[]).includes(e.name), e.name);
  });
});
