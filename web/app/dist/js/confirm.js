// The confirmation step of every tx: a modal dialog showing the words of
// the body decoded from the bytes about to be signed, the package's own
// description of the same body, the sender, nonce and size; then, on
// "Sign and send", the ledger's verdict in words.
import { describeBody } from "./describe.js";
import { h } from "./dom.js";
import { rejection, t } from "./i18n.js";
import { ApiError, describeTx } from "./lib.js";
import { isUnreachable } from "./session.js";
function dialogShell() {
    const d = h("dialog", { class: "confirm", "aria-labelledby": "confirm-title" });
    document.body.append(d);
    d.addEventListener("close", () => d.remove());
    return d;
}
function errorWords(e) {
    if (e instanceof ApiError)
        return rejection(e.code, e.message);
    if (isUnreachable(e))
        return t("conn.unreachable");
    return e instanceof Error ? e.message : String(e);
}
/** Runs the confirm-sign-send flow; resolves true when the tx was committed. */
export async function confirmAndSend(session, payload, say) {
    let prepared;
    try {
        prepared = await session.prepare(payload);
    }
    catch (e) {
        say(() => t("tx.prepare_failed", { why: errorWords(e) }), "error");
        return false;
    }
    const d = dialogShell();
    return new Promise((done) => {
        let finished = false;
        const finish = (v) => {
            if (!finished) {
                finished = true;
                done(v);
            }
        };
        d.addEventListener("close", () => finish(false));
        const status = h("p", { class: "tx-status", role: "status", "aria-live": "polite" });
        const cancel = h("button", { type: "button", class: "secondary", "on:click": () => d.close() }, t("action.cancel"));
        const send = h("button", { type: "button", class: "primary", "data-testid": "confirm-sign" }, t("tx.sign_send"));
        send.addEventListener("click", async () => {
            send.disabled = true;
            cancel.disabled = true;
            status.className = "tx-status";
            status.textContent = t("tx.sending");
            try {
                const { status: st } = await session.send(prepared);
                if (st.status === "committed") {
                    status.className = "tx-status ok";
                    status.textContent = t("tx.committed", { height: String(st.height ?? "") });
                    say(() => t("tx.committed", { height: String(st.height ?? "") }), "ok");
                    finish(true);
                    setTimeout(() => d.close(), 600);
                }
                else {
                    status.className = "tx-status error";
                    status.textContent = t("tx.rejected", { why: rejection(st.code, st.reason) });
                    cancel.disabled = false;
                    cancel.textContent = t("action.close");
                    finish(false);
                }
            }
            catch (e) {
                status.className = "tx-status error";
                status.textContent = t("tx.refused", { why: errorWords(e) });
                cancel.disabled = false;
                cancel.textContent = t("action.close");
                finish(false);
            }
        });
        const lines = describeBody(prepared.decoded, (a) => session.enterpriseName(a));
        d.append(h("h2", { id: "confirm-title" }, t("tx.confirm_title")), h("p", { class: "muted" }, t("tx.confirm_intro")), h("ul", { class: "tx-lines", "data-testid": "tx-lines" }, lines.map((l) => h("li", {}, l))), h("details", {}, h("summary", {}, t("tx.details")), h("p", { class: "mono small" }, describeTx(prepared.decoded)), h("p", { class: "small" }, t("tx.details_bytes", { n: prepared.bytes.length, nonce: String(prepared.decoded.nonce) }))), status, h("div", { class: "row end" }, cancel, send));
        d.showModal();
        send.focus();
    });
}
