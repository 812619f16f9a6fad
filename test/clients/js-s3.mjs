// An app's view of the sidecar from Node: @aws-sdk/client-s3 with the default credential chain,
// configured by the environment only (AWS_CONTAINER_CREDENTIALS_FULL_URI +
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE), doing S3 I/O against a store.
//
//   node js-s3.mjs <endpoint> <bucket> [stop-file]
//
// Creates the bucket, then runs rounds of PutObject, GetObject (bytes checked) and ListObjectsV2
// (key checked): one round, or rounds until stop-file exists. Prints one JSON line per S3 call,
// {"op","ok","accessKeyId","error"}, with the access key the request was signed with, then one
// line naming the client, its version and the credential source. test/helpers/s3-clients.ts
// drives it (the same protocol as boto3_s3.py and go-s3).
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as pace } from 'node:timers/promises';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';

const [endpoint, bucket, stopFile] = process.argv.slice(2);

// No credentials and no region passed: both come from the environment, as in an app.
// maxAttempts 1: a failed S3 call must show up as failed, not be retried away.
const s3 = new S3Client({ endpoint, forcePathStyle: true, maxAttempts: 1 });
let signedWith = null;
// The deserialize step runs after finalizeRequest (where the request is signed), right before
// the request is sent, so this sees the Authorization header as sent.
s3.middlewareStack.add(
  (next) => async (args) => {
    const auth = args.request?.headers?.authorization ?? '';
    signedWith = /Credential=([^/]+)\//.exec(auth)?.[1] ?? null;
    return next(args);
  },
  { step: 'deserialize', name: 'stsSidecarRecordAccessKey', priority: 'high' },
);

async function call(op, fn) {
  signedWith = null;
  const line = { op, ok: true };
  try {
    await fn();
  } catch (error) {
    Object.assign(line, { ok: false, error: `${error?.name}: ${error?.message ?? error}`.slice(0, 500) });
  }
  line.accessKeyId = signedWith;
  console.log(JSON.stringify(line));
}

await call('CreateBucket', () => s3.send(new CreateBucketCommand({ Bucket: bucket })));
for (let round = 0; ; round++) {
  const key = `js-${round}.txt`;
  const body = `written by aws-sdk-js-v3, round ${round}`;
  await call('PutObject', () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })));
  await call('GetObject', async () => {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const read = await got.Body.transformToString();
    if (read !== body) throw new Error(`read back ${JSON.stringify(read)}`);
  });
  await call('ListObjects', async () => {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    if (!(listed.Contents ?? []).some((o) => o.Key === key)) throw new Error(`the listing misses ${key}`);
  });
  if (!stopFile || existsSync(stopFile)) break;
  // Client pacing while the test changes credentials underneath; S3_CLIENT_PACE_MS: the
  // Kubernetes e2e runs clients for minutes and sets seconds.
  await pace(Number(process.env.S3_CLIENT_PACE_MS ?? 100));
}

// setCredentialFeature marks the provider that produced them: CREDENTIALS_HTTP = fromHttp.
const credentials = await s3.config.credentials();
// In the e2e app image this file is one bundle without node_modules (.ci/build-images.sh), and the
// bundler defines STS_SIDECAR_CLIENT_S3_VERSION; run from the checkout, the package says it.
const sdkVersion =
  typeof STS_SIDECAR_CLIENT_S3_VERSION === 'string'
    ? STS_SIDECAR_CLIENT_S3_VERSION
    : JSON.parse(readFileSync(new URL('../package.json', import.meta.resolve('@aws-sdk/client-s3')), 'utf8'))
        .version;
console.log(
  JSON.stringify({
    client: 'aws-sdk-js-v3',
    version: `@aws-sdk/client-s3 ${sdkVersion}, Node ${process.versions.node}`,
    credentialSource: Object.keys(credentials.$source ?? {}).join(',') || null,
  }),
);
s3.destroy();
