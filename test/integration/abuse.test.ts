import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { MAX_CREDENTIAL_CONNECTIONS } from '../../src/sidecar/credentials-server.ts';
import { SidecarProcess } from '../helpers/sidecar-process.ts';

function rssMiB(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) / 1024;
}

async function heapUsedMiB(opsUrl: string): Promise<number> {
  const text = await (await fetch(`${opsUrl}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1]) / 1048576;
}

async function get(url: string, authorization?: string): Promise<number> {
  const r = await fetch(url, { headers: authorization ? { authorization } : {} });
  await r.arrayBuffer();
  return r.status;
}

/** Opens a keep-alive connection, sends one request and resolves with the status line. */
async function keepAliveRequest(
  port: number,
  authorization: string,
): Promise<{ socket: Socket; status: string }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${authorization}\r\n\r\n`);
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  return { socket, status: chunk.toString('latin1').split('\r\n', 1)[0]! };
}

// Memory is reported (t.diagnostic), not asserted: numbers belong to the benchmark.
test(
  'abuse: 1000 keep-alive connections with wrong tokens, oversized headers and no auth; at most 128 stay open, good clients still served',
  { timeout: 60_000 },
  async (t) => {
    const p = await SidecarProcess.start();
    t.after(() => p.close());
    await p.ready();
    const token = await p.authToken();
    const { port } = new URL(p.credentialsUrl);
    for (let i = 0; i < 20; i++) assert.equal(await get(p.credentialsUrl, token), 200);
    const baseline = rssMiB(p.child.pid!);
    const heapBaseline = await heapUsedMiB(p.opsUrl);

    const open: Socket[] = [];
    t.after(() => {
      for (const s of open) s.destroy();
    });
    const batches = 10;
    for (let b = 0; b < batches; b++) {
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => keepAliveRequest(Number(port), `wrong-${b}-${i}`)),
      );
      for (const r of results) {
        assert.equal(r.status, 'HTTP/1.1 401 Unauthorized');
        open.push(r.socket);
      }
    }
    assert.equal(open.length, 1000);
    const peak = rssMiB(p.child.pid!);
    const heapPeak = await heapUsedMiB(p.opsUrl);

    // With the endpoint full of idle keep-alive connections, good clients are served, bad ones refused.
    assert.equal(await get(p.credentialsUrl, token), 200);
    assert.equal(await get(p.credentialsUrl), 401);
    const big = await fetch(p.credentialsUrl, {
      headers: { authorization: token, 'x-pad': 'a'.repeat(64 * 1024) },
    }).then(
      (r) => r.status,
      () => 'reset',
    );
    assert.ok(big === 431 || big === 'reset', `64 KiB header refused (${big})`);

    const closed = open.filter((s) => !s.destroyed).map((s) => once(s, 'close'));
    for (const s of open) s.destroy();
    await Promise.all(closed);
    open.length = 0;
    for (let i = 0; i < 20; i++) assert.equal(await get(p.credentialsUrl, token), 200);
    const after = rssMiB(p.child.pid!);
    const heapAfter = await heapUsedMiB(p.opsUrl);
    t.diagnostic(
      `RSS MiB: baseline ${baseline.toFixed(1)}, after 1000 connections ${peak.toFixed(1)}, after ${after.toFixed(1)}; ` +
        `heap used MiB: ${heapBaseline.toFixed(1)}, ${heapPeak.toFixed(1)}, ${heapAfter.toFixed(1)}`,
    );

    const metrics = await (await fetch(`${p.opsUrl}/metrics`)).text();
    assert.match(metrics, /sts_sidecar_credential_requests_total\{status="401"\} 1001/);
    // Issue #13, item 9: the connection cap closed the oldest idle connections to make room.
    const dropped = Number(
      /sts_sidecar_connections_dropped_total\{listener="credentials"\} (\d+)/.exec(metrics)?.[1],
    );
    assert.ok(dropped >= 1000 - MAX_CREDENTIAL_CONNECTIONS, `${dropped} dropped`);
    assert.equal(await p.stop(), 0, 'still a clean exit after the abuse');
  },
);
