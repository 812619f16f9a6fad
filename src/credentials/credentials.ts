/**
 * Temporary credentials as we hold them: our own type, not the SDK's, so the rest of the
 * program does not depend on @aws-sdk shapes.
 */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** When STS says they stop working. Never extended by us. */
  readonly expiration: Date;
}
