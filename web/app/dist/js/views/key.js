// My key: the account, the encrypted backup file, revealing the seed (after
// the passphrase, with a warning) to move the key to the assent CLI, the
// commands that move a key both ways, locking and forgetting.
import { download, h } from "../dom.js";
import { t } from "../i18n.js";
import { forgetVault, revealSeed, storedRecord } from "../keyflow.js";
import { backupText } from "../vault.js";
import { command, field, section } from "../widgets.js";
import { vaultErrorWords } from "./unlock.js";
export async function saveBackup(ctx) {
    const r = await storedRecord();
    if (!r)
        return;
    const name = `assent-key-${r.account.slice(0, 14)}.json`;
    download(name, new Blob([backupText(r)], { type: "application/json" }));
    ctx.say(() => t("keyscreen.backup_saved", { name }), "ok");
}
export function keyView(ctx, fresh) {
    return {
        title: "nav.key",
        live: false,
        render: () => {
            const s = ctx.session;
            const pass = h("input", { type: "password", autocomplete: "current-password" });
            const out = h("div", { class: "reveal", "aria-live": "polite" });
            const reveal = h("form", { "on:submit": async (e) => {
                    e.preventDefault();
                    out.replaceChildren(h("p", {}, t("key.working")));
                    try {
                        const seed = await revealSeed(pass.value);
                        pass.value = "";
                        const box = h("output", { class: "mono seed break" }, seed);
                        const hide = h("button", { type: "button", class: "secondary", "on:click": () => out.replaceChildren() }, t("keyscreen.hide"));
                        out.replaceChildren(h("p", { class: "warning" }, t("keyscreen.seed_shown")), box, hide);
                    }
                    catch (x) {
                        out.replaceChildren(h("p", { class: "field-error", role: "alert" }, vaultErrorWords(x)));
                    }
                } }, h("p", { class: "warning" }, t("keyscreen.reveal_warning")), field("key.passphrase", pass), h("button", { type: "submit", class: "secondary" }, t("keyscreen.reveal")), out);
            return h("div", { class: "stack" }, fresh ? h("p", { class: "note", role: "status" }, t("keyscreen.fresh")) : null, section("keyscreen.account", h("p", { class: "mono break", "data-testid": "account" }, s.account), h("p", { class: "hint" }, t("keyscreen.account_hint"))), section("keyscreen.backup_title", h("p", {}, t("keyscreen.backup_intro")), h("p", { class: "warning" }, t("keyscreen.backup_lost")), h("button", { type: "button", class: "primary", "data-testid": "download-backup", "on:click": () => void saveBackup(ctx) }, t("keyscreen.backup_button"))), section("keyscreen.cli_title", h("p", {}, t("keyscreen.to_cli")), command(t("cmd.import")), h("p", {}, t("keyscreen.from_cli")), command(t("cmd.export")), reveal), section("keyscreen.lock_title", h("p", {}, t("keyscreen.lock_intro")), h("button", { type: "button", class: "secondary", "data-testid": "lock", "on:click": () => ctx.lock() }, t("action.lock")), h("p", { class: "warning" }, t("keyscreen.forget_intro")), h("button", { type: "button", class: "danger", "on:click": async () => {
                    if (!window.confirm(t("unlock.forget_confirm")))
                        return;
                    await forgetVault();
                    location.hash = "#/";
                    location.reload();
                } }, t("unlock.forget"))));
        },
    };
}
