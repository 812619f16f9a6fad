import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

// The images the e2e cluster's kubelet runs, as `bash .ci/build-images.sh all` writes them:
// docker-archives that `ctr -n k8s.io images import <archive>` loads into the node's containerd
// (no registry is reachable, so pods use these refs with imagePullPolicy: Never).
// test/unit/build-images.test.ts checks that these refs and file names are the script's.

/** Where the script keeps its caches (the same rule as .ci/lib/go-build-env.sh). */
export const CACHE_DIR = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'sts-sidecar');
export const IMAGES_DIR = join(CACHE_DIR, 'images');
export const BUILD_IMAGES_COMMAND = 'bash .ci/build-images.sh all';

export interface E2eImage {
  /** Image reference inside the archive, and so in containerd after the import. */
  ref: string;
  /** The docker-archive to import. */
  archive: string;
}

/** The pod sandbox image (test/images/pause): the kubelet's --pod-infra-container-image. */
export const PAUSE_IMAGE: E2eImage = {
  ref: 'localhost/sts-sidecar-e2e/pause:1',
  archive: join(IMAGES_DIR, 'pause.tar'),
};

/** The image under test, built from the repo's Dockerfile: sidecar and webhook. */
export const STS_SIDECAR_IMAGE: E2eImage = {
  ref: 'localhost/sts-sidecar:e2e',
  archive: join(IMAGES_DIR, 'sts-sidecar.tar'),
};

/**
 * The app container: /usr/local/bin/go-s3 (aws-sdk-go-v2) and /app/js-s3.mjs (aws-sdk-js-v3,
 * bundled), run as `/nodejs/bin/node /app/js-s3.mjs ...`; the image sets no command of its own
 * beyond node's, so a pod names the one it runs. uid 65532.
 */
export const S3_APP_IMAGE: E2eImage = {
  ref: 'localhost/sts-sidecar-e2e/s3-app:1',
  archive: join(IMAGES_DIR, 's3-app.tar'),
};

export const E2E_IMAGES: readonly E2eImage[] = [PAUSE_IMAGE, STS_SIDECAR_IMAGE, S3_APP_IMAGE];

/**
 * Why the e2e images cannot be imported yet (the missing archives and the command that builds
 * them), or undefined when all are there. Suites skip with this reason.
 */
export function missingE2eImages(): string | undefined {
  const missing = E2E_IMAGES.filter((image) => !existsSync(image.archive)).map((image) => image.archive);
  if (missing.length === 0) return undefined;
  return `e2e image archives missing: ${missing.join(', ')}; run ${BUILD_IMAGES_COMMAND} (needs root and buildah)`;
}
