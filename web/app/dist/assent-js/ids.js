// Account ids (bech32m `assent1…` of the 32-byte ed25519 key), 32-byte
// hashes (64 hex) and the ledger's tagged SHA-256 (`Hash32::tagged` in
// contracts/src/ids.rs).
import * as bech32m from "./bech32m.js";
import { concat, fromHex, show, toHex, utf8 } from "./bytes.js";
/** Human-readable part of account addresses. */
export const ACCOUNT_HRP = "assent";
/** An account id's text (`assent1…`) from its 32 key bytes. */
export function accountToText(key) {
    if (!(key instanceof Uint8Array) || key.length !== 32) {
        throw new Error(`an account key is 32 bytes, got ${show(key)}`);
    }
    return bech32m.encode(ACCOUNT_HRP, key);
}
/** The 32 key bytes of an account id text (`assent1…`); `what` names the field in the error. */
export function accountFromText(text, what = "account") {
    const bad = (why) => new Error(`${what}: ${show(text)} is not an account address: ${why} (expected bech32m text starting with \`assent1\`)`);
    if (typeof text !== "string")
        throw bad("not a string");
    const d = bech32m.decode(text.trim());
    if ("error" in d)
        throw bad(d.error);
    if (d.hrp !== ACCOUNT_HRP)
        throw bad(`prefix is \`${d.hrp}\``);
    if (d.data.length !== 32)
        throw bad(`holds ${d.data.length} bytes, not 32`);
    return d.data;
}
/** The 32 bytes of a hash id (64 hex characters); `what` names the field in the error. */
export function hashFromText(text, what = "hash") {
    if (typeof text !== "string" || !/^[0-9a-fA-F]{64}$/.test(text)) {
        throw new Error(`${what} must be 64 hex characters (a 32-byte id), got ${show(text)}`);
    }
    return fromHex(text, what, 32);
}
export function hashToText(bytes) {
    return toHex(bytes);
}
/** SHA-256 through WebCrypto. */
export async function sha256(data) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}
function lenLe64(n) {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
    return out;
}
/**
 * `Hash32::tagged(tag, parts)`: SHA-256 over `len(tag) || tag || (len(part) || part)*`,
 * every length a little-endian u64, so no two part lists hash alike.
 */
export async function taggedHash(tag, parts) {
    const t = utf8(tag);
    const chunks = [lenLe64(t.length), t];
    for (const p of parts)
        chunks.push(lenLe64(p.length), p);
    return sha256(concat(...chunks));
}
