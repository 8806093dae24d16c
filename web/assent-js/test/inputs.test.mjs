// Bad input is a clear error, never a wrong encoding; keys move in and out as seeds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import {
  SigningKey,
  accountFromText,
  decodeBody,
  describeTx,
  encodeBody,
  fromHex,
  recoverTags,
  signRead,
  tagSet,
  toHex,
  verifySignature,
} from "../dist/index.js";

const vectors = JSON.parse(readFileSync(new URL("./vectors.json", import.meta.url), "utf8"));
const byName = (n) => structuredClone(vectors.txs.find((v) => v.name === n).body);

function refused(body, pattern) {
  assert.throws(() => encodeBody(body), pattern);
}

test("wrong fields, values and kinds are refused naming the field", () => {
  const grant = byName("grant_consent_all_options");
  refused({ ...grant, payload: { ...grant.payload, max_use: 5 } }, /unknown field `max_use`/);
  refused({ ...grant, payload: { ...grant.payload, level: "Pseudonymous" } }, /GrantConsent.level must be one of aggregate, pseudonymous, identified/);
  refused({ ...grant, payload: { ...grant.payload, price_per_use: -1 } }, /price_per_use must be between 0 and 2\^64-1, got -1/);
  refused({ ...grant, payload: { ...grant.payload, price_per_use: 2 ** 60 } }, /bigint or decimal text above 2\^53/);
  refused({ ...grant, payload: { ...grant.payload, price_per_use: "18446744073709551616" } }, /between 0 and 2\^64-1/);
  refused({ ...grant, payload: { ...grant.payload, price_per_use: 1.5 } }, /whole number/);
  refused({ ...grant, payload: { ...grant.payload, categories: "Purchase" } }, /categories must be an array/);
  refused({ ...grant, payload: { ...grant.payload, categories: ["Pur chase"] } }, /categories\[0\] must be a DPV term/);
  refused({ ...grant, payload: { ...grant.payload, request: "abcd" } }, /GrantConsent.request must be 64 hex characters/);
  const e = grant.payload.enterprise;
  const typo = e.slice(0, -1) + (e.endsWith("q") ? "p" : "q");
  refused({ ...grant, payload: { ...grant.payload, enterprise: typo } }, /not an account address: its checksum is wrong/);
  refused({ ...grant, payload: { ...grant.payload, enterprise: "cosmos1abc" } }, /not an account address/);
  refused({ ...grant, sender: undefined }, /lacks the field `sender`/);
  const { enterprise, ...noEnterprise } = grant.payload;
  refused({ ...grant, payload: noEnterprise }, /lacks the field `enterprise`/);

  const record = byName("record_use");
  refused({ ...record, payload: { kind: "RecordUse", uses: [] } }, /non-empty array/);
  refused({ ...record, payload: { kind: "RecordUse", uses: [{ ...record.payload.uses[0], units: 0 }] } }, /units must be a whole number from 1/);
  refused({ ...record, payload: { kind: "RecordUse", uses: [{ ...record.payload.uses[0], basis: { consent: "00".repeat(32), policy: "00".repeat(32) } }] } }, /exactly one of `consent` or `policy`/);
  refused({ ...record, payload: { kind: "RecordUse", uses: [{ ...record.payload.uses[0], evidence_hash: "zz".repeat(32) }] } }, /evidence_hash must be 64 hex/);

  const rate = byName("rate");
  refused({ ...rate, payload: { ...rate.payload, score: 6 } }, /score must be 1 \(worst\) to 5/);
  const set = byName("set_tags");
  const cs = set.payload.tags.commitments;
  refused({ ...set, payload: { kind: "SetTags", tags: ["runner"] } }, /SetTags.tags must be an object/);
  refused({ ...set, payload: { kind: "SetTags", tags: { epoch: 1, commitments: ["runner"] } } }, /SetTags.tags.commitments\[0\] must be 64 hex/);
  refused({ ...set, payload: { kind: "SetTags", tags: { commitments: cs } } }, /lacks the field `epoch`/);
  refused({ ...set, payload: { kind: "SetTags", tags: { epoch: 1, commitments: [...cs].reverse() } } }, /must be sorted ascending/);
  refused({ ...set, payload: { kind: "SetTags", tags: { epoch: 1, commitments: [cs[0], cs[0]] } } }, /is listed twice/);
  refused({ ...set, payload: { kind: "SetTags", tags: { epoch: 1, commitments: [...cs, "ff".repeat(32)] } } }, /17 tag commitments given; at most 16/);
  refused({ ...byName("set_policy_sector"), payload: { ...byName("set_policy_sector").payload, target: { sector: "banking" } } }, /sector must be one of retail/);
  refused({ ...rate, payload: { kind: "Mint", to: rate.sender, amount: 1 } }, /unsupported kind Mint: this package encodes RegisterConsumer/);
  refused({ ...rate, payload: { kind: "Steal" } }, /unknown payload kind "Steal"/);
  refused({ ...rate, nonce: "1e3" }, /nonce must be a whole number/);
});

test("tag sets refuse bad tags and too many, and count a repeat once", async () => {
  const key = await SigningKey.fromSeed("11".repeat(32));
  const me = key.account;
  await assert.rejects(tagSet(key, "c", me, 0, ["Runner"]), /tags\[0\]: tag "Runner" must be 1-32 characters of a-z, 0-9 and -/);
  await assert.rejects(tagSet(key, "c", me, 0, "runner"), /tags must be an array of tags/);
  await assert.rejects(tagSet(key, "c", "cosmos1abc", 0, []), /consumer: .* is not an account address/);
  await assert.rejects(tagSet(key, "c", me, -1, []), /epoch must be between 0 and 2\^64-1/);
  const many = Array.from({ length: 17 }, (_, i) => `t${i}`);
  await assert.rejects(tagSet(key, "c", me, 0, many), /17 tags given; at most 16/);
  const a = await tagSet(key, "c", me, 0, ["vegan", " runner ", "runner"]);
  assert.deepEqual(a, await tagSet(key, "c", me, 0, ["runner", "vegan"]));
  // A new epoch: every commitment differs, so a reader cannot tell which tags stayed.
  const b = await tagSet(key, "c", me, 1, ["runner", "vegan"]);
  assert.ok(b.commitments.every((c) => !a.commitments.includes(c)));
  await assert.rejects(recoverTags(key, "c", me, { epoch: 0 }, []), /a set of tag commitments is/);
});

test("u64 inputs as number, bigint and text encode alike", () => {
  const t = byName("transfer_max_amount");
  const a = toHex(encodeBody(t));
  assert.equal(toHex(encodeBody({ ...t, nonce: 2n ** 64n - 1n, payload: { ...t.payload, amount: 2n ** 64n - 1n } })), a);
  const small = byName("rate");
  assert.equal(toHex(encodeBody({ ...small, nonce: 6n })), toHex(encodeBody({ ...small, nonce: "6" })));
});

test("a tx of a kind the package cannot read is refused, not shown half-read", () => {
  // A Mint body: sender, nonce 0, variant 13, then its fields.
  const rate = vectors.txs.find((v) => v.name === "rate");
  const mint = fromHex(rate.body_hex.slice(0, 64) + "00" + "0d" + "11".repeat(32) + "05");
  assert.throws(() => decodeBody(mint), /the tx is a Mint, which this package does not decode; do not sign it here/);
});

test("a generated key moves to the CLI as a seed and back", async () => {
  const key = await SigningKey.generate();
  const seedHex = await key.exportSeedHex();
  assert.match(seedHex, /^[0-9a-f]{64}$/);
  const again = await SigningKey.fromSeed(seedHex);
  assert.equal(again.account, key.account);
  assert.deepEqual(accountFromText(key.account), key.publicKey);
  const msg = new TextEncoder().encode("hello");
  assert.ok(await verifySignature(key.account, msg, await again.signRaw(msg)));
  const locked = await SigningKey.fromSeed(seedHex, { extractable: false });
  assert.equal(locked.account, key.account);
  // A locked key still derives its tag salts: the same set as the open key.
  assert.deepEqual(await tagSet(locked, "c", key.account, 3, ["runner"]), await tagSet(key, "c", key.account, 3, ["runner"]));
  await assert.rejects(locked.exportSeed(), /extractable: false; its seed cannot be read back/);
  await assert.rejects(SigningKey.fromSeed("abcd"), /seed must be 32 bytes/);
});

test("every decoded vector has a description naming what it does", () => {
  const words = {
    RegisterConsumer: "register as a consumer with 16 tag commitments (epoch 0;",
    SetTags: "interest tags",
    GrantConsent: "grant",
    RevokeConsent: "revoke consent",
    PauseConsent: "pause consent",
    ResumeConsent: "resume consent",
    RevokeAll: "revoke every consent",
    SetPolicy: "use my",
    ClearPolicy: "clear policy",
    PostRequest: "ask consumers",
    RecordUse: "record 2 uses",
    Rate: "4 of 5",
    Transfer: "points to assent1",
  };
  for (const v of vectors.txs) {
    const text = describeTx(decodeBody(fromHex(v.body_hex)));
    assert.ok(text.includes(words[v.body.payload.kind]), `${v.name}: ${text}`);
  }
});

test("read signatures refuse what a node would refuse", async () => {
  const key = await SigningKey.fromSeed("11".repeat(32));
  await assert.rejects(signRead(key, "c", "GET", "/x", { created: 10, expires: 311, nonce: "n" }), /0 to 300 s after created/);
  await assert.rejects(signRead(key, "c", "GET", "/x", { nonce: "bad nonce" }), /nonce must be 1 to 64/);
  await assert.rejects(signRead(key, "c", "get", "/x"), /upper-case HTTP method/);
  await assert.rejects(signRead(key, "c", "GET", "x"), /starting with \//);
  await assert.rejects(signRead(key, "", "GET", "/x"), /chain id is 1 to 64 bytes/);
  const h = await signRead(key, "c", "GET", "/x");
  assert.match(h["Signature-Input"], /;nonce="[0-9a-f]{32}";/);
});
