// The language of the page: English or Simplified Chinese, every
// user-visible string from the catalogue (src/catalogue/), `{name}`
// placeholders filled from params. `<html lang>` follows the choice.
import { en } from "./catalogue/en.js";
import { zh } from "./catalogue/zh.js";
import { loadLang, saveLang } from "./store.js";
export const LANGS = ["en", "zh-CN"];
const CATALOGUES = { en, "zh-CN": zh };
let lang = "en";
/** The language a browser prefers, among ours: zh* -> zh-CN, else English. */
export function detectLang(preferred) {
    for (const p of preferred) {
        const l = p.toLowerCase();
        if (l.startsWith("zh"))
            return "zh-CN";
        if (l.startsWith("en"))
            return "en";
    }
    return "en";
}
export function initLang() {
    const saved = loadLang();
    const nav = typeof navigator === "undefined" ? [] : (navigator.languages ?? [navigator.language]);
    setLang(saved === "en" || saved === "zh-CN" ? saved : detectLang(nav), false);
    return lang;
}
export function setLang(l, remember = true) {
    lang = l;
    if (remember)
        saveLang(l);
    if (typeof document !== "undefined") {
        document.documentElement.lang = l;
        document.title = t("app.title");
    }
}
export function getLang() {
    return lang;
}
export function t(key, params = {}) {
    const s = CATALOGUES[lang][key] ?? en[key];
    return s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}
/** Whether the catalogue has `key` (for codes from the ledger). */
export function has(key) {
    return key in en;
}
/** A ledger rejection in words: the catalogue's for a known code, else the ledger's own reason. */
export function rejection(code, reason) {
    const c = (code ?? "").replace(/^(would_be_rejected|stateless_check):/, "");
    const k = `reject.${c}`;
    if (has(k))
        return t(k);
    return reason || c || t("reject.unknown");
}
