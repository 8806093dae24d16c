// The locked state: the key is stored encrypted; the passphrase opens it.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { forgetVault, unlock } from "../keyflow.js";
import { VaultError } from "../vault.js";
import { field, section } from "../widgets.js";
export function vaultErrorWords(e) {
    if (e instanceof VaultError) {
        switch (e.code) {
            case "wrong_passphrase":
                return t("vault.wrong_passphrase");
            case "no_webcrypto":
                return t("vault.no_webcrypto");
            case "weak_passphrase":
                return t("key.passphrase_short", { n: 8 });
            case "not_json":
                return t("vault.not_json");
            case "not_a_backup":
                return t("vault.not_a_backup");
            case "unsupported_version":
                return t("vault.unsupported_version");
            case "bad_field":
                return t("vault.bad_field", { field: e.detail });
        }
    }
    return e instanceof Error ? e.message : String(e);
}
export function unlockView(account, done, forgotten) {
    const pass = h("input", { type: "password", autocomplete: "current-password", "data-testid": "unlock-passphrase" });
    const err = h("p", { class: "field-error", role: "alert", "data-testid": "unlock-error" });
    const btn = h("button", { type: "submit", class: "primary", "data-testid": "unlock" }, t("unlock.button"));
    const form = h("form", { "on:submit": async (e) => {
            e.preventDefault();
            btn.disabled = true;
            err.textContent = t("key.working");
            try {
                done(await unlock(pass.value));
            }
            catch (x) {
                err.textContent = vaultErrorWords(x);
                btn.disabled = false;
                pass.select();
            }
        } }, h("p", {}, t("unlock.intro")), h("p", { class: "mono small break" }, account), field("key.passphrase", pass), err, btn);
    const forget = h("button", { type: "button", class: "danger", "on:click": async () => {
            if (!window.confirm(t("unlock.forget_confirm")))
                return;
            await forgetVault();
            forgotten();
        } }, t("unlock.forget"));
    setTimeout(() => pass.focus(), 0);
    return h("div", { class: "stack" }, section("unlock.key_title", form), section("unlock.lost_title", h("p", {}, t("unlock.lost")), forget));
}
