// What the app keeps in this browser, in IndexedDB: the encrypted key
// record (never the plain seed) and, per account, the tags and sectors the
// user chose and the requests they ignored. Ratings are not kept here: the
// node's consents say which are rated and with what score. The language is
// in localStorage (read before the first paint).
import { parseRecord } from "./vault.js";
const DB = "assent-app";
const STORE = "kv";
function open() {
    return new Promise((ok, fail) => {
        if (typeof indexedDB === "undefined") {
            fail(new Error("this browser has no IndexedDB (private mode may disable it)"));
            return;
        }
        const req = indexedDB.open(DB, 1);
        req.onupgradeneeded = () => req.result.createObjectStore(STORE);
        req.onsuccess = () => ok(req.result);
        req.onerror = () => fail(req.error ?? new Error("IndexedDB could not be opened"));
    });
}
async function tx(mode, f) {
    const db = await open();
    try {
        return await new Promise((ok, fail) => {
            const t = db.transaction(STORE, mode);
            const r = f(t.objectStore(STORE));
            t.oncomplete = () => ok(r.result);
            t.onerror = () => fail(t.error ?? new Error("IndexedDB write failed"));
            t.onabort = () => fail(t.error ?? new Error("IndexedDB write aborted"));
        });
    }
    finally {
        db.close();
    }
}
export async function loadVault() {
    const v = await tx("readonly", (s) => s.get("vault"));
    return v === undefined ? null : parseRecord(v);
}
export async function saveVault(r) {
    await tx("readwrite", (s) => s.put(r, "vault"));
}
export async function forgetVault() {
    await tx("readwrite", (s) => s.delete("vault"));
}
export async function loadPrefs(account) {
    const v = (await tx("readonly", (s) => s.get(`prefs:${account}`))) ?? {};
    const p = { tags: v.tags ?? [], sectors: v.sectors ?? [], ignored: v.ignored ?? [] };
    // An earlier version remembered the ratings sent from this browser; the
    // chain says them now, so a copy that could disagree is dropped.
    if (v.rated !== undefined)
        await savePrefs(account, p);
    return p;
}
export async function savePrefs(account, p) {
    await tx("readwrite", (s) => s.put(p, `prefs:${account}`));
}
export function loadLang() {
    try {
        return localStorage.getItem("assent-app-lang");
    }
    catch {
        return null;
    }
}
export function saveLang(lang) {
    try {
        localStorage.setItem("assent-app-lang", lang);
    }
    catch {
        // storage disabled: the choice lasts for this visit
    }
}
