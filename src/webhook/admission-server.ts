import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SecureContextOptions } from 'node:tls';
import { answerClientErrors } from '../shared/client-error.ts';
import { capConnections } from '../shared/connection-cap.ts';
import { SidecarError } from '../shared/errors.ts';
import { sendError } from '../shared/http-error.ts';
import type { Logger } from '../shared/log.ts';
import type { MutationOutcome } from './mutator.ts';
import { type AdmissionRequest, parseReview, review } from './admission-review.ts';
import type { Pod } from './pod-types.ts';
import type { WebhookMetrics } from './webhook-metrics.ts';

export interface AdmissionServerOptions {
  tls: Pick<SecureContextOptions, 'cert' | 'key'>;
  mutate(pod: Pod, namespace: string): Promise<MutationOutcome>;
  metrics: WebhookMetrics;
  logger: Logger;
}

/** The API server sends at most ~3 MiB objects; leave room for oldObject and the envelope. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/**
 * Open connections the admission listener keeps. Its clients are the API servers (a few
 * keep-alive connections each), but any pod that reaches the Service can connect: beyond the
 * cap the oldest idle connection is closed, so idle sockets cannot grow the webhook's memory
 * and the API servers are still answered (the class of issue #13, item 9).
 */
export const MAX_ADMISSION_CONNECTIONS = 128;

/**
 * HTTPS `POST /mutate`: AdmissionReview in, AdmissionReview out, nothing else. Pods that opted
 * in are patched, bad annotations are denied with the annotation and the fix, a body that is
 * not an AdmissionReview gets 400 with a one-line reason (the JSON error body of
 * shared/http-error.ts, as every HTTP error of this program). No request can throw out of here:
 * an unexpected error is logged and answered 500 (the webhook's failurePolicy decides).
 * Rotate the certificate with `server.setSecureContext()` (see tls-reloader.ts).
 */
export function createAdmissionServer(options: AdmissionServerOptions): Server {
  const log = options.logger.child({ component: 'admission' });
  const server = createServer(
    { ...options.tls, headersTimeout: 10_000, requestTimeout: 30_000 },
    (req, res) => {
      const stop = options.metrics.requestDuration.startTimer();
      handle(req, res, options).then(
        (result) => {
          if (result) options.metrics.injections.inc({ result });
          stop();
        },
        (error: unknown) => {
          options.metrics.injections.inc({ result: 'error' });
          stop();
          log.error(
            { event: 'admission_failed', err: error },
            'unexpected error answering an AdmissionReview',
          );
          if (!res.headersSent) sendError(res, 'INTERNAL_ERROR', 'internal error; see the webhook log');
          else res.destroy();
        },
      );
    },
  );
  capConnections(server, {
    max: MAX_ADMISSION_CONNECTIONS,
    onEvict: () => options.metrics.connectionsDropped.inc(),
  });
  answerClientErrors(server);
  return server;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: AdmissionServerOptions,
): Promise<MutationOutcome['result'] | undefined> {
  const path = (req.url ?? '').split('?', 1)[0];
  if (path !== '/mutate') {
    sendError(res, 'HTTP_NOT_FOUND', 'not found; the admission endpoint is POST /mutate');
    return undefined;
  }
  if (req.method !== 'POST') {
    sendError(res, 'HTTP_METHOD_NOT_ALLOWED', 'method not allowed; use POST', { allow: 'POST' });
    return undefined;
  }
  let request: AdmissionRequest;
  try {
    request = parseReview(await readBody(req));
  } catch (error) {
    if (!(error instanceof SidecarError)) throw error;
    sendError(res, error.code, error.message);
    return undefined;
  }
  const kind = request.kind?.kind;
  if (
    (kind !== undefined && kind !== 'Pod') ||
    request.operation !== 'CREATE' ||
    request.object === undefined
  ) {
    sendJson(res, 200, review({ uid: request.uid, allowed: true }));
    return 'skipped';
  }
  const pod = request.object;
  const outcome = await options.mutate(pod, request.namespace ?? pod.metadata?.namespace ?? 'default');
  const response: Record<string, unknown> = { uid: request.uid, allowed: outcome.result !== 'rejected' };
  if (outcome.denial !== undefined)
    response.status = { code: 400, reason: 'BadRequest', message: outcome.denial };
  if (outcome.patch !== undefined) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(outcome.patch)).toString('base64');
  }
  if (outcome.warnings.length > 0) response.warnings = outcome.warnings;
  sendJson(res, 200, review(response));
  if (outcome.result === 'rejected')
    options.logger.info(
      { event: 'pod_rejected', namespace: request.namespace, uid: request.uid, reason: outcome.denial },
      'pod rejected',
    );
  return outcome.result;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new SidecarError('HTTP_BODY_TOO_LARGE', `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
