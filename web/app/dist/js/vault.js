// The key vault's cryptography, pure WebCrypto (the same under Node's
// WebCrypto in the unit tests): a 32-byte Ed25519 seed encrypted under the
// user's passphrase. PBKDF2-SHA256 (600,000 iterations or more, 16-byte
// random salt) derives an AES-GCM-256 key; a random 96-bit IV; the account
// is bound in as additional data, so a record's account cannot be swapped.
// The stored record and the backup file are the same JSON (no plaintext
// seed): format, version, kdf parameters, salt, iv, ciphertext, account.
export const VAULT_FORMAT = "assent-app-key";
export const VAULT_VERSION = 1;
export const MIN_ITERATIONS = 600_000;
/** Why a vault operation failed; `code` selects the catalogue's words. */
export class VaultError extends Error {
    code;
    detail;
    constructor(code, detail = "") {
        super(detail ? `${code}: ${detail}` : code);
        this.code = code;
        this.detail = detail;
        this.name = "VaultError";
    }
}
/** Shortest passphrase the app accepts. */
export const MIN_PASSPHRASE = 8;
function subtle() {
    if (typeof crypto === "undefined" || !crypto.subtle)
        throw new VaultError("no_webcrypto");
    return crypto.subtle;
}
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
function unhex(s, bytes, field) {
    if (typeof s !== "string" || s.length !== bytes * 2 || !/^[0-9a-f]*$/.test(s)) {
        throw new VaultError("bad_field", `${field} must be ${bytes * 2} lower-case hex characters`);
    }
    const out = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++)
        out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
    return out;
}
function aad(account) {
    return new TextEncoder().encode(`${VAULT_FORMAT}/v${VAULT_VERSION} ${account}`);
}
async function deriveKey(passphrase, salt, iterations) {
    const base = await subtle().importKey("raw", new TextEncoder().encode(passphrase.normalize("NFC")), "PBKDF2", false, ["deriveKey"]);
    return subtle().deriveKey({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}
/** Encrypts `seed` (32 bytes) of `account` under `passphrase`. `iterations` is for tests only to raise. */
export async function encryptSeed(seed, account, passphrase, iterations = MIN_ITERATIONS) {
    if (passphrase.length < MIN_PASSPHRASE)
        throw new VaultError("weak_passphrase");
    if (seed.length !== 32)
        throw new VaultError("bad_field", "a seed is 32 bytes");
    if (iterations < MIN_ITERATIONS)
        throw new VaultError("bad_field", `at least ${MIN_ITERATIONS} iterations`);
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const key = await deriveKey(passphrase, salt, iterations);
    const ct = new Uint8Array(await subtle().encrypt({ name: "AES-GCM", iv, additionalData: aad(account) }, key, seed));
    return {
        format: VAULT_FORMAT,
        version: VAULT_VERSION,
        account,
        kdf: { name: "PBKDF2", hash: "SHA-256", iterations, salt: hex(salt) },
        cipher: { name: "AES-GCM", length: 256, iv: hex(iv) },
        ciphertext: hex(ct),
    };
}
/** The seed in `record`, or `VaultError("wrong_passphrase")`. */
export async function decryptSeed(record, passphrase) {
    const r = parseRecord(record);
    const key = await deriveKey(passphrase, unhex(r.kdf.salt, 16, "kdf.salt"), r.kdf.iterations);
    try {
        const pt = await subtle().decrypt({ name: "AES-GCM", iv: unhex(r.cipher.iv, 12, "cipher.iv"), additionalData: aad(r.account) }, key, unhex(r.ciphertext, 48, "ciphertext"));
        return new Uint8Array(pt);
    }
    catch {
        throw new VaultError("wrong_passphrase");
    }
}
/** Checks a stored record or a parsed backup file, field by field. */
export function parseRecord(v) {
    if (typeof v !== "object" || v === null || Array.isArray(v))
        throw new VaultError("not_a_backup");
    const o = v;
    if (o.format !== VAULT_FORMAT)
        throw new VaultError("not_a_backup");
    if (o.version !== VAULT_VERSION)
        throw new VaultError("unsupported_version", String(o.version));
    if (typeof o.account !== "string" || !/^assent1[02-9ac-hj-np-z]{58}$/.test(o.account)) {
        throw new VaultError("bad_field", "account");
    }
    const kdf = o.kdf;
    if (!kdf || kdf.name !== "PBKDF2" || kdf.hash !== "SHA-256")
        throw new VaultError("bad_field", "kdf");
    if (typeof kdf.iterations !== "number" || !Number.isSafeInteger(kdf.iterations) || kdf.iterations < MIN_ITERATIONS || kdf.iterations > 100_000_000) {
        throw new VaultError("bad_field", "kdf.iterations");
    }
    unhex(kdf.salt, 16, "kdf.salt");
    const cipher = o.cipher;
    if (!cipher || cipher.name !== "AES-GCM" || cipher.length !== 256)
        throw new VaultError("bad_field", "cipher");
    unhex(cipher.iv, 12, "cipher.iv");
    unhex(o.ciphertext, 48, "ciphertext");
    return {
        format: VAULT_FORMAT,
        version: VAULT_VERSION,
        account: o.account,
        kdf: { name: "PBKDF2", hash: "SHA-256", iterations: kdf.iterations, salt: kdf.salt },
        cipher: { name: "AES-GCM", length: 256, iv: cipher.iv },
        ciphertext: o.ciphertext,
    };
}
/** Parses the text of a backup file. */
export function parseBackup(text) {
    let v;
    try {
        v = JSON.parse(text);
    }
    catch {
        throw new VaultError("not_json");
    }
    return parseRecord(v);
}
/** The backup file's text (pretty JSON, one trailing newline). */
export function backupText(record) {
    return `${JSON.stringify(parseRecord(record), null, 2)}\n`;
}
/** A 64-hex seed typed or pasted by a person (spaces and a 0x prefix tolerated), or null. */
export function parseSeedHex(text) {
    const s = text.replace(/\s+/g, "").replace(/^0x/i, "").toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(s))
        return null;
    return unhex(s, 32, "seed");
}
