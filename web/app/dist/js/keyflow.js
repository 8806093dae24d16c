// Making, importing, unlocking and revealing the key. The seed is in memory
// only while it is encrypted or turned into a non-extractable WebCrypto key,
// then zeroed; what stays in the browser is the encrypted record.
import { SigningKey, toHex } from "./lib.js";
import { forgetVault, loadVault, saveVault } from "./store.js";
import { decryptSeed, encryptSeed, parseBackup } from "./vault.js";
async function keyOf(seed) {
    try {
        return await SigningKey.fromSeed(seed, { extractable: false });
    }
    finally {
        seed.fill(0);
    }
}
/** A new random key, stored encrypted under `passphrase`. */
export async function createKey(passphrase) {
    const seed = crypto.getRandomValues(new Uint8Array(32));
    const key = await SigningKey.fromSeed(seed, { extractable: false });
    await saveVault(await encryptSeed(seed, key.account, passphrase));
    seed.fill(0);
    return key;
}
/** A key from its 32-byte seed (from `assent keys export-seed`), stored encrypted. */
export async function importSeed(seed, passphrase) {
    const key = await SigningKey.fromSeed(seed, { extractable: false });
    await saveVault(await encryptSeed(seed, key.account, passphrase));
    seed.fill(0);
    return key;
}
/** A key from this app's backup file; the passphrase is the one it was made under. */
export async function importBackup(text, passphrase) {
    const record = parseBackup(text);
    const seed = await decryptSeed(record, passphrase);
    const key = await SigningKey.fromSeed(seed, { extractable: false });
    seed.fill(0);
    if (key.account !== record.account)
        throw new Error("the backup's account does not match its key");
    await saveVault(record);
    return key;
}
/** The stored key, unlocked; throws VaultError("wrong_passphrase"). */
export async function unlock(passphrase) {
    const record = await loadVault();
    if (!record)
        throw new Error("no key in this browser");
    return keyOf(await decryptSeed(record, passphrase));
}
/** The seed as 64 hex (for `assent keys import NAME --seed-file -`), after the passphrase. */
export async function revealSeed(passphrase) {
    const record = await loadVault();
    if (!record)
        throw new Error("no key in this browser");
    const seed = await decryptSeed(record, passphrase);
    try {
        return toHex(seed);
    }
    finally {
        seed.fill(0);
    }
}
export async function storedRecord() {
    return loadVault();
}
export { forgetVault };
