// The package against the golden vectors the Rust ledger pins
// (keys/tests/web_vectors_are_pinned.rs): same bytes, ids, signatures, tag
// commitments and read headers, and the same refusals.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import {
  SigningKey,
  decodeBody,
  decodeSignedTx,
  describeTx,
  encodeBody,
  fromHex,
  recoverTags,
  signRead,
  signatureBase,
  splitTarget,
  tagCommitment,
  tagSalt,
  tagSet,
  commitmentOf,
  taggedHash,
  toHex,
  txId,
  txSigningMessage,
  encodeUse,
  useLeaf,
  merkleRoot,
  usesCommitment,
  usesRoot,
  verifySignature,
} from "../dist/index.js";

const vectors = JSON.parse(readFileSync(new URL("./vectors.json", import.meta.url), "utf8"));

test("the tagged hash is Hash32::tagged", async () => {
  const t = vectors.tagged_hash;
  assert.equal(toHex(await taggedHash(t.tag, t.parts_hex.map((p) => fromHex(p)))), t.hash);
});

test("there are vectors of every supported kind", () => {
  const kinds = new Set(vectors.txs.map((v) => v.body.payload.kind));
  assert.equal(kinds.size, 13);
});

for (const v of vectors.txs) {
  test(`tx vector ${v.name}: same body bytes, id, signature and signed tx`, async () => {
    const key = await SigningKey.fromSeed(v.seed);
    assert.equal(key.account, v.account);
    const body = encodeBody(v.body);
    assert.equal(toHex(body), v.body_hex);
    assert.equal(await txId(body), v.tx_id);
    assert.equal(toHex(await txSigningMessage(v.chain_id, body)), v.signing_message_hex);
    const signed = await key.signTx(v.chain_id, v.body);
    assert.equal(toHex(signed.signature), v.signature);
    assert.equal(toHex(signed.bytes), v.signed_tx_hex);
    assert.equal(signed.id, v.tx_id);
    assert.ok(await verifySignature(v.account, fromHex(v.signing_message_hex), fromHex(v.signature)));
  });

  if (v.declared_tags) {
    test(`tx vector ${v.name}: tagSet makes the CLI's set for ${JSON.stringify(v.declared_tags)} (epoch = nonce)`, async () => {
      const key = await SigningKey.fromSeed(v.seed, { extractable: false });
      const set = await tagSet(key, v.chain_id, v.account, v.body.nonce, v.declared_tags);
      assert.deepEqual(set, v.body.payload.tags);
      const r = await recoverTags(key, v.chain_id, v.account, set, [...v.declared_tags, "not-declared"]);
      assert.deepEqual(r.tags, [...v.declared_tags].sort());
      assert.equal(r.padding, 16 - v.declared_tags.length);
      assert.equal(r.unknown, 0);
    });
  }

  test(`tx vector ${v.name}: the bytes decode back to exactly the input`, () => {
    assert.deepEqual(decodeBody(fromHex(v.body_hex)), v.body);
    const d = decodeSignedTx(fromHex(v.signed_tx_hex));
    assert.deepEqual(d.body, v.body);
    assert.equal(d.signature, v.signature);
    assert.equal(toHex(d.bodyBytes), v.body_hex);
    const text = describeTx(d.body);
    assert.ok(text.startsWith(`${v.account} (nonce ${v.body.nonce}): `), text);
  });
}

for (const v of vectors.invalid_bodies) {
  test(`invalid body ${v.name} is refused as the ledger refuses it`, () => {
    assert.throws(() => decodeBody(fromHex(v.body_hex)), /malformed|trailing|not valid UTF-8|variant|does not exist/);
  });
}

test("there are tag-set vectors", () => {
  assert.ok(vectors.tag_sets.length >= 4);
});

for (const v of vectors.tag_sets) {
  test(`tag-set vector ${v.name}: same salts, commitments, padded set and recovery`, async () => {
    const key = await SigningKey.fromSeed(v.seed);
    for (const e of v.each) {
      assert.equal(await tagSalt(key, v.chain_id, v.consumer, v.epoch, e.tag), e.salt, e.tag);
      assert.equal(await tagCommitment(key, v.chain_id, v.consumer, v.epoch, e.tag), e.commitment, e.tag);
      assert.equal(await commitmentOf(v.chain_id, v.consumer, e.tag, e.salt), e.commitment, e.tag);
    }
    assert.deepEqual(await tagSet(key, v.chain_id, v.consumer, v.epoch, v.tags), v.set);
    for (const r of v.recover) {
      const got = await recoverTags(await SigningKey.fromSeed(r.seed), v.chain_id, v.consumer, v.set, r.candidates);
      assert.deepEqual(got, { tags: r.tags, padding: r.padding, unknown: r.unknown });
    }
  });
}

test("there are uses-root vectors of every tree shape up to 7 leaves", () => {
  assert.deepEqual(vectors.uses_roots.map((v) => v.uses.length), [1, 2, 3, 4, 5, 7]);
});

for (const v of vectors.uses_roots) {
  test(`uses-root vector ${v.name}: same use bytes, leaves, root, commitment and RecordUse id`, async () => {
    assert.deepEqual(v.uses.map((u) => toHex(encodeUse(u))), v.use_encodings_hex);
    const leaves = await Promise.all(v.uses.map(useLeaf));
    assert.deepEqual(leaves.map(toHex), v.use_leaves);
    assert.equal(toHex(await merkleRoot(leaves)), v.uses_root);
    assert.equal(await usesRoot(v.uses), v.uses_root);
    const c = await usesCommitment(v.sender, v.nonce, v.uses);
    assert.equal(c.uses_root, v.uses_root);
    assert.equal(c.count, v.uses.length);
    assert.equal(toHex(c.bytes), v.commitment_hex);
    // A RecordUse of these uses from this sender at this nonce has the commitment's id.
    const body = encodeBody({ sender: v.sender, nonce: v.nonce, payload: { kind: "RecordUse", uses: v.uses } });
    assert.equal(await txId(body), v.tx_id);
  });
}

test("a RecordUse's id and signature cover its uses: changing one use changes both", async () => {
  const v = vectors.txs.find((t) => t.name === "record_use");
  const key = await SigningKey.fromSeed(v.seed);
  const uses = v.body.payload.uses.map((u, i) => (i === 1 ? { ...u, units: u.units + 1 } : u));
  const other = await key.signTx(v.chain_id, { ...v.body, payload: { kind: "RecordUse", uses } });
  assert.notEqual(other.id, v.tx_id);
  assert.notEqual(toHex(other.signature), v.signature);
  // And the signature does not verify over the body itself.
  assert.ok(!(await verifySignature(v.account, fromHex(v.body_hex), fromHex(v.signature))));
});

for (const v of vectors.reads) {
  test(`read vector ${v.name}: same signature base and headers`, async () => {
    const key = await SigningKey.fromSeed(v.seed);
    const [path, query] = splitTarget(v.target);
    const params = v.signature_input.slice("assent=".length);
    assert.equal(signatureBase(v.method, path, query, params), v.signature_base);
    const h = await signRead(key, v.chain_id, v.method, v.target, {
      created: v.created,
      expires: v.expires,
      nonce: v.nonce,
    });
    assert.equal(h["Signature-Input"], v.signature_input);
    assert.equal(h.Signature, v.signature);
  });
}
