// The app's entry: language, the key's state (none, locked, unlocked), the
// shell (navigation, language switch, lock, connection banner, status
// messages) and hash routing (`#/consents`), so the node needs no fallback
// route.
import { confirmAndSend } from "./confirm.js";
import { h } from "./dom.js";
import { LANGS, getLang, initLang, setLang, t } from "./i18n.js";
import { Client } from "./lib.js";
import { Session } from "./session.js";
import { loadVault } from "./store.js";
import { consentsView } from "./views/consents.js";
import { earningsView } from "./views/earnings.js";
import { enterpriseView, enterprisesView } from "./views/enterprises.js";
import { grantView } from "./views/grant.js";
import { registerView } from "./views/interests.js";
import { keyView, saveBackup } from "./views/key.js";
import { policiesView } from "./views/policies.js";
import { recordsView } from "./views/records.js";
import { requestsView } from "./views/requests.js";
import { unlockView } from "./views/unlock.js";
import { usesView } from "./views/uses.js";
import { welcome } from "./views/welcome.js";
const AUTO_LOCK_MS = 15 * 60_000;
const NAV = [
    ["#/consents", "nav.consents"],
    ["#/requests", "nav.requests"],
    ["#/uses", "nav.uses"],
    ["#/earnings", "nav.earnings"],
    ["#/enterprises", "nav.enterprises"],
    ["#/policies", "nav.policies"],
    ["#/records", "nav.records"],
    ["#/key", "nav.key"],
];
const root = document.getElementById("app");
let session = null;
let fresh = false;
let current = null;
let lastActive = Date.now();
let bootError = false;
const status = h("div", { class: "status", role: "status", "aria-live": "polite", "data-testid": "status" });
const banner = h("div", { class: "banner-slot" });
/**
 * The status notice: its words are rendered from the catalogue on every
 * draw (so a switch of language re-renders it), and it belongs to the route
 * it was said on: navigating elsewhere clears it (ctx.go carries it along).
 */
let notice = null;
function routeNow() {
    return location.hash.split("?")[0] || "#/consents";
}
function drawStatus() {
    status.className = `status ${notice?.kind ?? ""}`;
    status.textContent = notice ? notice.words() : "";
}
function say(words, kind) {
    notice = { words, kind, route: routeNow() };
    drawStatus();
}
function langSelect() {
    const sel = h("select", { id: "lang", "aria-label": t("lang.label"), "data-testid": "lang", "on:change": (e) => {
            setLang(e.target.value);
            draw();
        } }, LANGS.map((l) => h("option", { value: l, selected: l === getLang(), lang: l }, t(l === "en" ? "lang.en" : "lang.zh"))));
    return h("div", { class: "lang" }, sel);
}
function drawBanner() {
    const unreachable = bootError || session?.connection === "unreachable";
    banner.replaceChildren(unreachable
        ? h("div", { class: "banner", role: "alert", "data-testid": "unreachable" }, h("p", {}, h("strong", {}, t("conn.unreachable_title")), " ", t("conn.unreachable")), h("button", { type: "button", class: "secondary", "on:click": () => (session ? session.retry() : void boot()) }, t("conn.retry")))
        : session?.connection === "connecting" && !session.data.loaded
            ? h("div", { class: "banner info", role: "status" }, h("p", {}, t("conn.connecting")))
            : "");
}
function shell(title, body, nav) {
    const route = location.hash.split("?")[0] || "#/consents";
    const registered = session?.data.registered ?? false;
    const links = nav && session ? (registered ? NAV : NAV.filter(([r]) => r === "#/key" || r === "#/enterprises")) : [];
    const header = h("header", { class: "top" }, h("div", { class: "brand" }, h("img", { src: "icon.svg", alt: "", width: 28, height: 28 }), h("span", {}, t("app.name"))), links.length
        ? h("nav", { "aria-label": t("nav.label") }, h("ul", {}, links.map(([href, key]) => h("li", {}, h("a", { href, "aria-current": route.startsWith(href) ? "page" : false }, t(key))))))
        : null, h("div", { class: "tools" }, langSelect(), session ? h("button", { type: "button", class: "secondary", "data-testid": "lock-top", "on:click": lock }, t("action.lock")) : null));
    drawBanner();
    if (notice && notice.route !== routeNow())
        notice = null;
    drawStatus();
    const main = h("main", { id: "main", tabindex: -1 }, title ? h("h1", {}, t(title)) : null, body);
    root.replaceChildren(h("a", { class: "skip", href: "#main", "on:click": (e) => {
            e.preventDefault();
            main.focus();
        } }, t("a11y.skip")), header, banner, status, main);
}
function ctxFor(s, query) {
    return {
        session: s,
        query,
        go: (r) => {
            // A notice said just before (the tx that led here) comes along.
            if (notice)
                notice.route = r.split("?")[0];
            if (location.hash === r)
                draw();
            else
                location.hash = r;
        },
        rerender: () => draw(),
        sign: (p) => confirmAndSend(s, p, say),
        say,
        lock,
    };
}
function pick(s) {
    const [path, q] = (location.hash || "#/consents").split("?");
    const query = new URLSearchParams(q ?? "");
    const ctx = ctxFor(s, query);
    const parts = (path ?? "").replace(/^#\//, "").split("/");
    if (!s.data.registered && s.data.loaded && parts[0] !== "key" && parts[0] !== "enterprises")
        return registerView(ctx);
    switch (parts[0]) {
        case "requests":
            return requestsView(ctx);
        case "uses":
            return usesView(ctx);
        case "earnings":
            return earningsView(ctx);
        case "enterprises":
            return parts[1] ? enterpriseView(ctx, parts[1]) : enterprisesView(ctx);
        case "grant":
            return grantView(ctx);
        case "policies":
            return policiesView(ctx);
        case "records":
            return recordsView(ctx);
        case "key":
            return keyView(ctx, fresh);
        default:
            return consentsView(ctx);
    }
}
let preScreen = null;
function draw() {
    document.title = t("app.title");
    if (!session) {
        preScreen?.();
        return;
    }
    if (!session.data.loaded) {
        shell(null, h("p", { class: "muted" }, t("conn.loading")), false);
        return;
    }
    current = pick(session);
    let body = current.render();
    if (fresh && current.title === "register.title") {
        body = h("div", { class: "stack" }, h("section", { class: "card note" }, h("h2", {}, t("keyscreen.backup_title")), h("p", {}, t("keyscreen.fresh")), h("button", { type: "button", class: "secondary", "on:click": () => void saveBackup(ctxFor(session, new URLSearchParams())) }, t("keyscreen.backup_button"))), body);
    }
    shell(current.title, body, true);
}
function lock() {
    // What was said belongs to the unlocked session (the auto-lock says its own after).
    notice = null;
    session?.stop();
    session = null;
    current = null;
    void boot();
}
async function unlocked(key, isFresh) {
    fresh = isFresh;
    let chainId;
    try {
        chainId = await new Client({ node: location.origin }).chainId();
    }
    catch {
        bootError = true;
        drawBanner();
        setTimeout(() => void unlocked(key, isFresh), 3000);
        return;
    }
    bootError = false;
    const s = new Session(key, chainId);
    session = s;
    lastActive = Date.now();
    let lastConn = s.connection;
    let lastRegistered = s.data.registered;
    s.onChange(() => {
        if (session !== s)
            return;
        // A change of data rebuilds live screens; forms keep what was typed.
        const flipped = s.data.registered !== lastRegistered || s.connection !== lastConn;
        if (!current || current.live || flipped)
            draw();
        else
            drawBanner();
        lastConn = s.connection;
        lastRegistered = s.data.registered;
    });
    draw();
    await s.start();
    if (isFresh)
        location.hash = "#/register";
    draw();
}
async function boot() {
    preScreen = () => void boot();
    if (typeof crypto === "undefined" || !crypto.subtle) {
        shell("insecure.title", h("div", { class: "stack" }, h("p", { class: "lead" }, t("insecure.body")), h("p", {}, t("insecure.how"))), false);
        return;
    }
    let record;
    try {
        record = await loadVault();
    }
    catch (e) {
        shell("storage.title", h("p", {}, t("storage.body", { why: String(e) })), false);
        return;
    }
    if (!record) {
        shell("welcome.title", welcome((key, isFresh) => void unlocked(key, isFresh)), false);
        return;
    }
    shell("unlock.title", unlockView(record.account, (key) => void unlocked(key, false), () => void boot()), false);
}
window.addEventListener("hashchange", () => {
    if (session)
        draw();
});
for (const ev of ["pointerdown", "keydown"])
    window.addEventListener(ev, () => (lastActive = Date.now()), { passive: true });
setInterval(() => {
    if (session && Date.now() - lastActive > AUTO_LOCK_MS && !document.querySelector("dialog[open]")) {
        lock();
        say(() => t("unlock.auto_locked"));
    }
}, 30_000);
initLang();
void boot();
