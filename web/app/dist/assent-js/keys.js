// Ed25519 keys through WebCrypto (`crypto.subtle`, in Node.js 20 and
// Chromium). A key is its 32-byte secret seed, the same seed the assent CLI
// keeps encrypted in its keystore (keys/src/keystore.rs) and takes with
// `assent keys import NAME --seed-hex HEX`. The seed is also the HKDF input
// of what a consumer derives from its key (tag salts, keys/src/derive.rs),
// held as a non-extractable WebCrypto HKDF key beside the signing key.
import { concat, fromHex, show, toHex, utf8 } from "./bytes.js";
import { accountFromText, accountToText } from "./ids.js";
import { decodeBody, encodeBody, encodeSignedTx } from "./tx.js";
import { txId, txSigningMessage } from "./uses.js";
// PKCS #8 wrapping of a raw Ed25519 seed (RFC 8410): SEQUENCE { version 0,
// AlgorithmIdentifier { 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } }.
const PKCS8_PREFIX = fromHex("302e020100300506032b657004220420");
const ED25519 = { name: "Ed25519" };
// Each key's seed as an HKDF key, kept out of the class so that only this
// package's own derivations (src/tags.ts) reach it: it is not exported from
// the package.
const hkdfKeys = new WeakMap();
function subtle() {
    if (typeof crypto === "undefined" || !crypto.subtle) {
        throw new Error("WebCrypto (crypto.subtle) is not available: use Node.js 20 or later, or a browser page served over https or from localhost");
    }
    return crypto.subtle;
}
function buf(b) {
    return b;
}
function fromBase64Url(s) {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "=");
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}
/** An Ed25519 signing key. */
export class SigningKey {
    key;
    publicKey;
    constructor(key, 
    /** The 32-byte public key. */
    publicKey, hkdf) {
        this.key = key;
        this.publicKey = publicKey;
        hkdfKeys.set(this, hkdf);
    }
    /**
     * A new random key. `extractable` (default true) lets [`exportSeed`] give
     * the seed back, to back it up or move it to the CLI.
     */
    static async generate(options = {}) {
        subtle(); // a clear error where WebCrypto is missing
        const seed = crypto.getRandomValues(new Uint8Array(32));
        try {
            return await SigningKey.fromSeed(seed, options);
        }
        finally {
            seed.fill(0);
        }
    }
    /**
     * The key whose secret seed is `seed` (32 bytes, or 64 hex characters as
     * the CLI's `--seed-hex` takes). With `extractable: false` the seed cannot
     * be read back from the returned key.
     */
    static async fromSeed(seed, options = {}) {
        const raw = typeof seed === "string" ? fromHex(seed.trim(), "seed", 32) : seed;
        if (!(raw instanceof Uint8Array) || raw.length !== 32) {
            throw new Error(`an Ed25519 seed is 32 bytes (64 hex characters), got ${show(seed)}`);
        }
        const pkcs8 = buf(concat(PKCS8_PREFIX, raw));
        // WebCrypto gives the public key of an imported private key only through
        // a JWK export, which needs an extractable key.
        const tmp = await subtle().importKey("pkcs8", pkcs8, ED25519, true, ["sign"]);
        const jwk = await subtle().exportKey("jwk", tmp);
        if (typeof jwk.x !== "string")
            throw new Error("WebCrypto gave no public key for this seed");
        const pub = fromBase64Url(jwk.x);
        const extractable = options.extractable ?? true;
        const key = extractable ? tmp : await subtle().importKey("pkcs8", pkcs8, ED25519, false, ["sign"]);
        pkcs8.fill(0);
        const hkdf = await subtle().importKey("raw", buf(raw), "HKDF", false, ["deriveBits"]);
        return new SigningKey(key, pub, hkdf);
    }
    /** The account id of this key (`assent1…`): the account it opens, or the key an account rotated to. */
    get account() {
        return accountToText(this.publicKey);
    }
    /** The 32-byte secret seed (for a backup or `assent keys import NAME --seed-hex`). Handle with care. */
    async exportSeed() {
        if (!this.key.extractable) {
            throw new Error("this key was made with extractable: false; its seed cannot be read back");
        }
        const pkcs8 = new Uint8Array(await subtle().exportKey("pkcs8", this.key));
        if (pkcs8.length !== 48)
            throw new Error(`unexpected PKCS #8 export of ${pkcs8.length} bytes`);
        return pkcs8.slice(16);
    }
    /** The seed as 64 hex characters, as `assent keys import --seed-hex` takes it. */
    async exportSeedHex() {
        return toHex(await this.exportSeed());
    }
    /** A raw Ed25519 signature over `message` (already framed with its domain tag). */
    async signRaw(message) {
        return new Uint8Array(await subtle().sign(ED25519, this.key, buf(message)));
    }
    /**
     * Signs a tx body for `chainId`. `body.sender` is the account (with a
     * rotated key it differs from this key's own id). The returned `body` is
     * decoded from the very bytes signed.
     */
    async signTx(chainId, body) {
        const bodyBytes = encodeBody(body);
        const decoded = decodeBody(bodyBytes);
        // A RecordUse is signed by its UsesCommitment, any other kind by its body.
        const signature = await this.signRaw(await txSigningMessage(chainId, bodyBytes));
        return {
            body: decoded,
            bodyBytes,
            id: await txId(bodyBytes),
            signature,
            bytes: encodeSignedTx(bodyBytes, signature),
        };
    }
}
/**
 * 32 bytes of HKDF-SHA256(ikm = `key`'s seed, salt = `domain`, info = each
 * part prefixed by its length as a u64 LE): `hkdf32` of keys/src/derive.rs.
 * Internal to the package (not exported from index.ts).
 */
export async function hkdf32(key, domain, parts) {
    const ikm = hkdfKeys.get(key);
    if (ikm === undefined)
        throw new Error("not a SigningKey of this package");
    const info = [];
    for (const p of parts) {
        const len = new Uint8Array(8);
        new DataView(len.buffer).setBigUint64(0, BigInt(p.length), true);
        info.push(len, p);
    }
    const params = { name: "HKDF", hash: "SHA-256", salt: buf(utf8(domain)), info: buf(concat(...info)) };
    return new Uint8Array(await subtle().deriveBits(params, ikm, 256));
}
/** Checks an Ed25519 signature by `account` (`assent1…`) over `message` (framed). */
export async function verifySignature(account, message, signature) {
    const pub = await subtle().importKey("raw", buf(accountFromText(account)), ED25519, false, ["verify"]);
    return subtle().verify(ED25519, pub, buf(signature), buf(message));
}
