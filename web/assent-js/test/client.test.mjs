// The client against a stand-in node on 127.0.0.1 that checks what a real
// node checks: tx bytes and signature, and signed reads over the exact path
// and query that arrive.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";

import {
  ApiError,
  Client,
  READ_SIGNATURE_TAG,
  SigningKey,
  decodeSignedTx,
  signatureBase,
  signingMessage,
  splitTarget,
  txId,
  txSigningMessage,
  verifySignature,
} from "../dist/index.js";

const CHAIN = "assent-client-test";

async function readerOf(req) {
  const input = req.headers["signature-input"];
  const sig = req.headers["signature"];
  if (!input || !sig) return null;
  const params = input.slice("assent=".length);
  const keyid = /keyid="([^"]+)"/.exec(params)[1];
  const [path, query] = splitTarget(req.url);
  const base = signatureBase(req.method, path, query, params);
  const bytes = Uint8Array.from(atob(sig.slice("assent=:".length, -1)), (c) => c.charCodeAt(0));
  const ok = await verifySignature(keyid, signingMessage(READ_SIGNATURE_TAG, CHAIN, new TextEncoder().encode(base)), bytes);
  return ok ? keyid : "bad";
}

async function fakeNode(t) {
  const seen = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = new Uint8Array(Buffer.concat(chunks));
    const send = (status, json) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(json));
    };
    const reader = await readerOf(req);
    seen.push({ method: req.method, url: req.url, reader });
    if (req.method === "GET" && req.url === "/v1/status") return send(200, { chain_id: CHAIN });
    if (req.method === "POST" && req.url === "/v1/txs") {
      assert.equal(req.headers["content-type"], "application/octet-stream");
      const tx = decodeSignedTx(body);
      const ok = await verifySignature(
        tx.body.sender,
        await txSigningMessage(CHAIN, tx.bodyBytes),
        Uint8Array.from(Buffer.from(tx.signature, "hex")),
      );
      if (!ok) return send(400, { code: "bad_signature", message: "the signature does not verify" });
      return send(202, { tx_id: await txId(tx.bodyBytes) });
    }
    if (reader === null) return send(401, { code: "unsigned", message: "sign this read" });
    if (reader === "bad") return send(401, { code: "bad_signature", message: "no" });
    if (req.url.startsWith("/v1/txs/")) return send(200, { tx_id: req.url.slice(8), status: "committed", height: 3 });
    if (req.url.startsWith("/v1/accounts/")) return send(200, { next_nonce: 7 });
    return send(200, { url: req.url, reader });
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${server.address().port}`, seen };
}

test("submits a signed RecordUse and reads its status with a signed read", async (t) => {
  const node = await fakeNode(t);
  const acme = await SigningKey.fromSeed("22".repeat(32));
  const client = new Client({ node: node.url, key: acme });
  const nonce = await client.nextNonce(acme.account);
  assert.equal(nonce, 7);
  const tx = await acme.signTx(await client.chainId(), {
    sender: acme.account,
    nonce,
    payload: {
      kind: "RecordUse",
      uses: [
        {
          consumer: (await SigningKey.fromSeed("11".repeat(32))).account,
          basis: { consent: "c0".repeat(32) },
          category: "Purchase",
          purpose: "DirectMarketing",
          level: "pseudonymous",
          units: 1,
          evidence_hash: "e1".repeat(32),
        },
      ],
    },
  });
  assert.equal(await client.submitTx(tx), tx.id);
  const status = await client.txStatus(tx.id);
  assert.equal(status.status, "committed");
  const signedReads = node.seen.filter((s) => s.method === "GET" && s.url !== "/v1/status");
  assert.ok(signedReads.length >= 2);
  for (const s of signedReads) assert.equal(s.reader, acme.account, s.url);
});

test("the signed target is the one on the wire, query and all", async (t) => {
  const node = await fakeNode(t);
  const key = await SigningKey.fromSeed("11".repeat(32));
  const client = new Client({ node: node.url, key, chainId: CHAIN });
  const a = await client.get(`/v1/consumers/${key.account}/uses?limit=5&x=a b`);
  assert.equal(a.reader, key.account);
  assert.equal(a.url, `/v1/consumers/${key.account}/uses?limit=5&x=a%20b`);
});

test("refusals carry the node's code; a signed read without a key is refused before sending", async (t) => {
  const node = await fakeNode(t);
  const anon = new Client({ node: node.url, chainId: CHAIN });
  await assert.rejects(anon.get("/v1/accounts/x"), (e) => e instanceof ApiError && e.status === 401 && e.code === "unsigned");
  await assert.rejects(anon.get("/v1/accounts/x", { signed: true }), /needs a signed read: give the client a key/);
  const other = new Client({ node: node.url, key: await SigningKey.fromSeed("33".repeat(32)), chainId: "another-chain" });
  await assert.rejects(other.get("/v1/accounts/x"), (e) => e instanceof ApiError && e.code === "bad_signature");
  await assert.rejects(anon.get("http://elsewhere.invalid/v1/status"), /a path starts with \//);
});

test("an unreachable node says so", async () => {
  const server = createServer();
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const port = server.address().port;
  await new Promise((ok) => server.close(ok));
  const client = new Client({ node: `http://127.0.0.1:${port}`, chainId: CHAIN });
  await assert.rejects(client.get("/v1/status"), /unreachable/);
});

// A node at capacity: it takes `room` txs per request and refuses the rest
// `overloaded` with `Retry-After: retryAfterS`, and `retry_after_ms` when
// given (ARCHITECTURE.md decision 39).
async function busyNode(t, room, { retryAfterS = 1, retryAfterMs } = {}) {
  const posts = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString();
    posts.push({ url: req.url, at: Date.now() });
    const busy = { code: "overloaded", message: "the network is busy", retry_after_ms: retryAfterMs };
    const header = { "content-type": "application/json", "retry-after": String(retryAfterS) };
    if (req.url === "/v1/txs") {
      if (posts.length === 1) {
        res.writeHead(429, header);
        return res.end(JSON.stringify(busy));
      }
      res.writeHead(202, { "content-type": "application/json" });
      return res.end(JSON.stringify({ tx_id: "ab".repeat(32) }));
    }
    const txs = JSON.parse(body).txs;
    const results = txs.map((h, i) => (i < room ? { tx_id: h.slice(0, 8) } : busy));
    const over = txs.length > room;
    res.writeHead(200, header);
    res.end(JSON.stringify({
      accepted: Math.min(room, txs.length),
      results,
      retry_after_s: over ? retryAfterS : undefined,
      retry_after_ms: over ? retryAfterMs : undefined,
    }));
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${server.address().port}`, posts };
}

test("an overloaded node is asked again after its Retry-After, and patience ends", async (t) => {
  const node = await busyNode(t, 2);
  const client = new Client({ node: node.url, chainId: CHAIN });
  const id = await client.submitTx(new Uint8Array([1, 2, 3]));
  assert.equal(id, "ab".repeat(32));
  assert.equal(node.posts.length, 2);
  assert.ok(node.posts[1].at - node.posts[0].at >= 950, "waited the Retry-After");

  // A batch of 3 at 2 per request: the third goes again and is taken.
  node.posts.length = 0;
  const txs = [1, 2, 3].map((b) => new Uint8Array(8).fill(b));
  const out = await client.submitBatch(txs);
  assert.equal(out.accepted, 3);
  assert.deepEqual(out.results.map((r) => r.tx_id), ["01010101", "02020202", "03030303"]);
  assert.equal(node.posts.length, 2);

  // Without patience the refusal comes back as it is.
  const hasty = new Client({ node: node.url, chainId: CHAIN, patienceMs: 0 });
  const once = await hasty.submitBatch(txs);
  assert.equal(once.accepted, 2);
  assert.equal(once.results[2].code, "overloaded");
});

test("a node's wait in milliseconds is followed instead of its whole-second Retry-After", async (t) => {
  // The header says 30 s: coming back well before it shows the milliseconds were used.
  const node = await busyNode(t, 1, { retryAfterS: 30, retryAfterMs: 150 });
  const client = new Client({ node: node.url, chainId: CHAIN });
  assert.equal(await client.submitTx(new Uint8Array([1])), "ab".repeat(32));
  const single = node.posts[1].at - node.posts[0].at;
  assert.ok(single >= 140 && single < 20_000, `waited ${single} ms, not the node's 150 ms`);
  // A batch of two at one per request: the second goes again after 150 ms.
  node.posts.length = 0;
  const out = await client.submitBatch([new Uint8Array(8).fill(2), new Uint8Array(8).fill(3)]);
  assert.equal(out.accepted, 2);
  const batch = node.posts[1].at - node.posts[0].at;
  assert.ok(batch >= 140 && batch < 20_000, `waited ${batch} ms, not the node's 150 ms`);
});
