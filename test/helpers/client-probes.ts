import { type ExecFileSyncOptionsWithStringEncoding, execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { missingPeer } from './required-peer.ts';

// Which real clients are on this machine, and which versions. A missing or too old client is a
// skip with the reason and the command that installs it, never a failure; CI installs them all
// (.ci/install-test-clients.sh, .ci/build-go-client.sh).

const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const INSTALL_HINT = 'run bash .ci/install-test-clients.sh';

/** A client that can run here (with its version line), or why it can't. */
export interface ClientProbe {
  skip?: string;
  version?: string;
}

const dotted = (version: string) => version.split('.').map(Number);

/** a ≥ b for dotted numeric versions. */
export function atLeast(a: string, b: string): boolean {
  const [x, y] = [dotted(a), dotted(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++)
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  return true;
}

/** boto3, when it reads AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE. */
export function probeBoto3(): ClientProbe {
  const probe = spawnSync(
    'python3',
    [
      '-c',
      'import boto3, botocore, botocore.credentials as c\n' +
        'print(boto3.__version__, botocore.__version__, hasattr(c.ContainerProvider, "ENV_VAR_AUTH_TOKEN_FILE"))',
    ],
    { encoding: 'utf8' },
  );
  if (probe.error)
    return { skip: missingPeer(`python3 is not installed (${probe.error.message}); ${INSTALL_HINT}`) };
  if (probe.status !== 0) return { skip: missingPeer(`python3 cannot import boto3; ${INSTALL_HINT}`) };
  const [boto3, botocore, tokenFile] = probe.stdout.trim().split(' ');
  const version = `boto3 ${boto3}, botocore ${botocore}`;
  // The file variable arrived with EKS Pod Identity (AWS: boto3/botocore ≥ 1.34.41).
  if (tokenFile !== 'True')
    return {
      skip: missingPeer(`${version} predates AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE; ${INSTALL_HINT}`),
      version,
    };
  return { version };
}

/** The aws CLI, when it reads AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE; `major` is 1 or 2. */
export function probeAwsCli(): ClientProbe & { major?: number } {
  const probe = spawnSync('aws', ['--version'], { encoding: 'utf8' });
  if (probe.error)
    return { skip: missingPeer(`the aws CLI is not installed (${probe.error.message}); ${INSTALL_HINT}`) };
  const version = `${probe.stdout}${probe.stderr}`.trim();
  const semver = /aws-cli\/(\d+\.\d+\.\d+)/.exec(version)?.[1];
  if (!semver) return { skip: missingPeer(`cannot read the aws CLI version from "${version}"`), version };
  // First releases reading AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, per the AWS EKS user guide
  // ("Use pod identity with the AWS SDK"): AWS CLI 1.30.0 and 2.15.0.
  const minimum = semver.startsWith('1.') ? '1.30.0' : '2.15.0';
  if (!atLeast(semver, minimum))
    return {
      skip: missingPeer(
        `aws-cli ${semver} predates AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (needs ≥ ${minimum}); ${INSTALL_HINT}`,
      ),
      version,
    };
  return { version, major: Number(semver.split('.')[0]) };
}

/** The version of an npm package installed in the repo (`npm ci` installs the JS clients). */
export function npmPackageVersion(name: string): string {
  const pkg = join(REPO_ROOT, 'node_modules', ...name.split('/'), 'package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/** aws-sdk-js-v3's S3 client (a devDependency, so always there after `npm ci`). */
export function probeJsS3(): ClientProbe {
  try {
    return { version: `@aws-sdk/client-s3 ${npmPackageVersion('@aws-sdk/client-s3')}` };
  } catch (error) {
    return {
      skip: missingPeer(`@aws-sdk/client-s3 is not installed (${(error as Error).message}): run npm ci`),
    };
  }
}

/** The aws-sdk-go-v2 client in test/clients/go-s3, built by .ci/build-go-client.sh. */
export function probeGoS3(): ClientProbe & { path?: string } {
  const script = join(REPO_ROOT, '.ci', 'build-go-client.sh');
  try {
    const opts: ExecFileSyncOptionsWithStringEncoding = {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    };
    const path = execFileSync('bash', [script, 'bin'], opts).trim();
    const version = execFileSync('bash', [script, 'version'], opts).trim();
    return { path, version };
  } catch {
    return {
      skip: missingPeer(
        'the Go S3 client (aws-sdk-go-v2) is not built, or its sources changed: run bash .ci/build-go-client.sh install (.ci/run does)',
      ),
    };
  }
}
