import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SidecarError } from '../../src/shared/errors.ts';
import { serializeError } from '../../src/shared/log.ts';

const SECRET = 'eyJhbGciOi.secret-session-token.sig';

test('serializeError keeps the cause chain: our errors whole, a foreign cause as type, errno and frames', () => {
  const socket = Object.assign(new Error(`connect failed, token ${SECRET}`), { code: 'ECONNRESET' });
  const inner = new SidecarError('STS_UNREACHABLE', 'STS call failed', { cause: socket });
  const outer = new SidecarError('INTERNAL_ERROR', 'unexpected failure during exchange (Error)', {
    cause: inner,
  });
  const out = serializeError(outer) as {
    code: string;
    cause: { code: string; cause: Record<string, unknown> };
  };
  assert.equal(out.code, 'INTERNAL_ERROR');
  assert.equal(out.cause.code, 'STS_UNREACHABLE');
  assert.equal(out.cause.cause.type, 'Error');
  assert.equal(out.cause.cause.errno, 'ECONNRESET');
  assert.ok(Array.isArray(out.cause.cause.stack) && out.cause.cause.stack.length > 0, 'stack frames kept');
  // A foreign cause's message can carry anything: it never reaches the log.
  assert.doesNotMatch(JSON.stringify(out), /secret-session-token/);
});

test('serializeError stops following causes after three levels', () => {
  let error: Error = new SidecarError('INTERNAL_ERROR', 'level 0');
  for (let i = 1; i <= 6; i += 1) error = new SidecarError('INTERNAL_ERROR', `level ${i}`, { cause: error });
  let depth = 0;
  for (
    let node = serializeError(error);
    node.cause !== undefined;
    node = node.cause as Record<string, unknown>
  )
    depth += 1;
  assert.equal(depth, 3);
});

test('serializeError of a foreign top-level error keeps its type and message, as before', () => {
  assert.deepEqual(serializeError(new TypeError('x is not a function')), {
    type: 'TypeError',
    message: 'x is not a function',
  });
  assert.deepEqual(serializeError('boom'), { message: 'boom' });
});
