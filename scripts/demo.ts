// `npm run demo`: the sidecar's main job on a local default. Starts a local OIDC issuer and an
// RGW-flavoured STS (the test fakes: they verify signatures and answer RGW's XML), writes a
// kubelet-style projected token volume, runs the built sidecar against them, rotates the token
// once and shows the credentials being refreshed with it. Needs nothing but `npm ci`.
import { spawn } from 'node:child_process';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FakeSts } from '../test/fakes/fake-sts.ts';
import { OidcIssuer } from '../test/fakes/oidc-issuer.ts';
import { KubeletTokenVolume } from '../test/helpers/kubelet-token-volume.ts';

const AUDIENCE = 'sts.demo.local';
const ROLE_ARN = 'arn:aws:iam:::role/demo-app';
const DEADLINE_MS = 60_000;

const say = (who: string, text: string): void => {
  process.stdout.write(`[${who.padEnd(7)}] ${text}\n`);
};

const issuer = await OidcIssuer.start();
const sts = await FakeSts.start({
  mode: 'rgw',
  trustedIssuers: [issuer.issuer],
  audience: AUDIENCE,
  roles: [{ arn: ROLE_ARN }],
});
const mint = () =>
  issuer.signToken({ namespace: 'shop', serviceAccount: 'cart', podName: 'cart-0', audience: AUDIENCE });
const volume = await KubeletTokenVolume.create(mint());
say('demo', `OIDC issuer ${issuer.issuer}, STS (rgw) ${sts.url}, token ${volume.path}`);

const authDir = await mkdtemp(join(tmpdir(), 'sts-sidecar-demo-auth-'));
const authTokenFile = join(authDir, 'token');
const env = {
  PATH: process.env.PATH,
  STS_SIDECAR_STS_ENDPOINT: sts.url,
  STS_SIDECAR_FLAVOR: 'rgw',
  STS_SIDECAR_ROLE_ARN: ROLE_ARN,
  STS_SIDECAR_TOKEN_FILE: volume.path,
  // Refresh every 3 s instead of at half of the 1 h lifetime, so the demo shows one quickly.
  STS_SIDECAR_MAX_REFRESH_INTERVAL_SECONDS: '3',
  STS_SIDECAR_AUTH_TOKEN_FILE: authTokenFile,
  STS_SIDECAR_LISTEN_PORT: '0',
  STS_SIDECAR_OPS_PORT: '0',
  STS_SIDECAR_SHUTDOWN_GRACE_SECONDS: '0',
  POD_NAMESPACE: 'shop',
  POD_NAME: 'cart-0',
};
const child = spawn(process.execPath, [new URL('../dist/sts-sidecar.mjs', import.meta.url).pathname], {
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const deadline = setTimeout(() => {
  say('demo', `FAILED: no refresh with the rotated token within ${DEADLINE_MS / 1000} s`);
  child.kill('SIGKILL');
  process.exit(1);
}, DEADLINE_MS);

/**
 * What an app does with no code change: the AWS SDK's default chain finds the endpoint through
 * AWS_CONTAINER_CREDENTIALS_FULL_URI and reads the token file AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE.
 */
async function appResolvesCredentials(credentialsUrl: string): Promise<void> {
  process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = credentialsUrl;
  process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = authTokenFile;
  process.env.AWS_CONFIG_FILE = join(authDir, 'none');
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(authDir, 'none');
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  const credentials = await defaultProvider()();
  say(
    'app',
    `AWS SDK got AccessKeyId ${credentials.accessKeyId}, expires ${credentials.expiration?.toISOString()}`,
  );
}

let credentialsUrl = '';
let rotatedToken: string | undefined;
let refreshes = 0;
let ok = false;
for await (const line of createInterface({ input: child.stdout })) {
  const entry = JSON.parse(line) as Record<string, string>;
  if (entry.event === 'listening') {
    credentialsUrl = entry.credentialsUrl!;
    say('sidecar', `serving ${credentialsUrl} (auth token in ${authTokenFile})`);
  }
  if (entry.event !== 'exchange') {
    if (entry.event === 'stopped') say('sidecar', 'stopped');
    continue;
  }
  if (entry.result !== 'success') {
    say('sidecar', `exchange failed: ${JSON.stringify(entry.err)}`);
    continue;
  }
  refreshes += 1;
  const sent = sts.requests.at(-1)?.params.WebIdentityToken;
  say(
    'sidecar',
    `credentials #${refreshes}: AccessKeyId ${entry.accessKeyId}, expires ${entry.expiration}, ` +
      `next refresh ${entry.nextAttemptAt} (${entry.durationMs} ms)`,
  );
  await appResolvesCredentials(credentialsUrl);
  if (refreshes === 1) {
    rotatedToken = mint();
    await volume.write(rotatedToken);
    say('kubelet', 'rotated the projected token (new ..data symlink swapped in)');
  } else if (rotatedToken !== undefined && sent === rotatedToken) {
    say('sts', 'the refresh used the rotated token');
    ok = true;
    child.kill('SIGTERM');
  }
}
const code = await new Promise<number | null>((resolve) => {
  if (child.exitCode !== null) resolve(child.exitCode);
  else child.on('exit', resolve);
});
clearTimeout(deadline);
await sts.close();
await issuer.close();
await volume.cleanup();
await rm(authDir, { recursive: true, force: true });
say(
  'demo',
  ok && code === 0 ? 'done: exchanged, rotated, refreshed; sidecar exited 0' : `FAILED (exit ${code})`,
);
process.exitCode = ok && code === 0 ? 0 : 1;
