// The key vault under Node's WebCrypto: round trip, wrong passphrase,
// tampering, and the backup file's parse errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MIN_ITERATIONS, VaultError, backupText, decryptSeed, encryptSeed, parseBackup, parseSeedHex } from "../dist/js/vault.js";

const seed = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const account = "assent1w4v8s5jl5m3ulgqemlqgfua747aulgqj2qgu56g59k7tpjtq5g2sgqkkp6";
const record = await encryptSeed(seed, account, "a good passphrase");

const code = (c) => (e) => e instanceof VaultError && e.code === c;

test("a seed encrypted under a passphrase decrypts with it", async () => {
  assert.deepEqual(await decryptSeed(record, "a good passphrase"), seed);
  assert.equal(record.kdf.iterations, MIN_ITERATIONS);
  assert.equal(record.kdf.name, "PBKDF2");
  assert.equal(record.cipher.name, "AES-GCM");
  assert.equal(record.kdf.salt.length, 32);
  assert.equal(record.cipher.iv.length, 24);
  assert.ok(!JSON.stringify(record).includes("0102030405"), "no plaintext seed in the record");
});

test("a wrong passphrase is refused", async () => {
  await assert.rejects(decryptSeed(record, "another passphrase"), code("wrong_passphrase"));
});

test("two encryptions of one seed differ (random salt and IV)", async () => {
  const again = await encryptSeed(seed, account, "a good passphrase");
  assert.notEqual(again.kdf.salt, record.kdf.salt);
  assert.notEqual(again.cipher.iv, record.cipher.iv);
  assert.notEqual(again.ciphertext, record.ciphertext);
});

test("the account is bound: a record with another account does not open", async () => {
  const other = { ...record, account: "assent1cjlrkzqqmmvp2yf6699t6vzfns36kjutwuddggr6glnnwsadylwqeye2jx" };
  await assert.rejects(decryptSeed(other, "a good passphrase"), code("wrong_passphrase"));
});

test("a short passphrase is refused", async () => {
  await assert.rejects(encryptSeed(seed, account, "short"), code("weak_passphrase"));
});

test("the backup file round-trips and its errors are named", () => {
  assert.deepEqual(parseBackup(backupText(record)), record);
  assert.throws(() => parseBackup("not json"), code("not_json"));
  assert.throws(() => parseBackup("{}"), code("not_a_backup"));
  assert.throws(() => parseBackup(JSON.stringify({ ...record, version: 2 })), code("unsupported_version"));
  assert.throws(() => parseBackup(JSON.stringify({ ...record, kdf: { ...record.kdf, iterations: 1000 } })), code("bad_field"));
  assert.throws(() => parseBackup(JSON.stringify({ ...record, ciphertext: "00" })), code("bad_field"));
  assert.throws(() => parseBackup(JSON.stringify({ ...record, account: "bob" })), code("bad_field"));
  assert.throws(() => parseBackup(JSON.stringify({ ...record, cipher: { ...record.cipher, iv: "zz" } })), code("bad_field"));
});

test("a typed seed: 64 hex, spaces and 0x tolerated", () => {
  const hex = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
  assert.deepEqual(parseSeedHex(hex), seed);
  assert.deepEqual(parseSeedHex(` 0x${hex.toUpperCase()}\n`), seed);
  assert.equal(parseSeedHex(hex.slice(2)), null);
  assert.equal(parseSeedHex(`${hex.slice(2)}zz`), null);
});
