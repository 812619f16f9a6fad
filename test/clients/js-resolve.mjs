// An app's view of the sidecar: aws-sdk-js-v3, configured by the environment only
// (AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).
//   node js-resolve.mjs          the default provider chain (what an app gets from `new S3Client()`)
//   node js-resolve.mjs http     fromHttp alone: the chain's container provider, whose own error
//                                carries the endpoint's status, Code and Message, which the
//                                chain's final "Could not load credentials" error drops
// Prints one JSON line: the resolved credentials, or the error.
import { createRequire } from 'node:module';
import { defaultProvider } from '@aws-sdk/credential-provider-node';

const which = process.argv[2] ?? 'default';

async function provider() {
  if (which === 'default') return defaultProvider();
  // The copy credential-provider-node itself loads, not whatever else is installed.
  const require = createRequire(import.meta.resolve('@aws-sdk/credential-provider-node'));
  const { fromHttp } = require('@aws-sdk/credential-provider-http');
  return fromHttp();
}

try {
  const credentials = await (await provider())();
  console.log(
    JSON.stringify({
      ok: true,
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      expiration: credentials.expiration?.toISOString(),
      // setCredentialFeature marks the provider that produced them: CREDENTIALS_HTTP = fromHttp.
      source: credentials.$source ?? {},
    }),
  );
} catch (error) {
  console.log(
    JSON.stringify({
      ok: false,
      name: error?.name,
      message: String(error?.message ?? error),
      code: error?.Code,
      codeMessage: error?.Message,
    }),
  );
  process.exitCode = 1;
}
