import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { env } from '@huggingface/transformers';
import { loadEmbedder } from '../../lib/embed/transformers-embedder.js';
import { exitCodeFor } from '../../lib/util/errors.js';
import { classifyHubError } from '../../lib/embed/model-source.js';

// Only localhost: a tiny "hub" answering 404 / 401 / 403, and a closed port.
let server: Server;
let hub = '';
let closedPort = 0;
const saved = { remoteHost: env.remoteHost, allowRemoteModels: env.allowRemoteModels, allowLocalModels: env.allowLocalModels, useFSCache: env.useFSCache };

before(async () => {
  server = createServer((req, res) => {
    const status = req.url?.includes('/private-') ? 401 : req.url?.includes('/gated-') ? 403 : 404;
    res.writeHead(status).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hub = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  env.allowRemoteModels = true;
  env.useFSCache = false;
});
after(async () => {
  Object.assign(env, saved);
  await new Promise<void>((r) => server.close(() => r()));
});

async function failure(id: string, host: string): Promise<string> {
  env.remoteHost = host;
  await assert.rejects(loadEmbedder(id, { cache: false }), (e: Error) => {
    failure.last = e.message;
    failure.exit = exitCodeFor(e);
    return true;
  });
  return failure.last;
}
failure.last = '';
failure.exit = 0;

test('hub fetch failures name their real cause: connection refused, 404, 401, 403', async () => {
  const refused = await failure('someone/model-x', `http://127.0.0.1:${closedPort}/`);
  assert.match(refused, /cannot connect to the hub \(ECONNREFUSED\)/);
  assert.doesNotMatch(refused, /404|permission/);
  assert.equal(failure.exit, 1, 'no network: not an input error');
  assert.match(await failure('someone/missing-model', hub), /not found \(HTTP 404\)/);
  assert.equal(failure.exit, 2, 'a wrong model id: an input error');
  assert.match(await failure('someone/private-model', hub), /permission denied \(HTTP 401\)/);
  assert.match(await failure('someone/gated-model', hub), /permission denied \(HTTP 403\)/);
});

test('classifyHubError: DNS failure and remote-disabled wording', () => {
  const dns = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('getaddrinfo ENOTFOUND huggingface.co'), { code: 'ENOTFOUND' }) });
  assert.equal(classifyHubError(dns).kind, 'dns');
  assert.equal(classifyHubError(new Error('Error (418) occurred while trying to load file')).kind, 'other');
  assert.equal(classifyHubError(new Error('Service unavailable error occurred while trying to load file: "x".')).kind, 'server');
});
