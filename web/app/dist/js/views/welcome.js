// First visit: make a new key or bring one (a 64-hex seed from the CLI, or
// this app's backup file), encrypted under a passphrase in this browser.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { createKey, importBackup, importSeed } from "../keyflow.js";
import { MIN_PASSPHRASE, parseSeedHex } from "../vault.js";
import { field, section } from "../widgets.js";
import { vaultErrorWords } from "./unlock.js";
function passphrasePair() {
    const p1 = h("input", { type: "password", autocomplete: "new-password", "data-testid": "new-passphrase" });
    const p2 = h("input", { type: "password", autocomplete: "new-password", "data-testid": "new-passphrase-again" });
    return {
        el: [field("key.passphrase", p1, t("key.passphrase_hint", { n: MIN_PASSPHRASE })), field("key.passphrase_again", p2)],
        check: () => (p1.value.length < MIN_PASSPHRASE ? t("key.passphrase_short", { n: MIN_PASSPHRASE }) : p1.value !== p2.value ? t("key.passphrase_mismatch") : null),
        value: () => p1.value,
    };
}
export function welcome(done) {
    const createErr = h("p", { class: "field-error", role: "alert" });
    const pair = passphrasePair();
    const createBtn = h("button", { type: "submit", class: "primary", "data-testid": "create-key" }, t("key.create"));
    const create = h("form", { "on:submit": async (e) => {
            e.preventDefault();
            const bad = pair.check();
            createErr.textContent = bad ?? "";
            if (bad)
                return;
            createBtn.disabled = true;
            createErr.textContent = t("key.working");
            try {
                done(await createKey(pair.value()), true);
            }
            catch (err) {
                createErr.textContent = vaultErrorWords(err);
                createBtn.disabled = false;
            }
        } }, h("p", {}, t("key.create_intro")), ...pair.el, createErr, createBtn);
    // Import: a seed or a backup file.
    const seedIn = h("textarea", { rows: 2, autocomplete: "off", spellcheck: "false", class: "mono", "data-testid": "import-seed" });
    const fileIn = h("input", { type: "file", accept: ".json,application/json", "data-testid": "import-file" });
    const passIn = h("input", { type: "password", autocomplete: "current-password", "data-testid": "import-passphrase" });
    const importErr = h("p", { class: "field-error", role: "alert" });
    const importBtn = h("button", { type: "submit", class: "primary" }, t("key.import"));
    const imp = h("form", { "on:submit": async (e) => {
            e.preventDefault();
            importErr.textContent = "";
            const file = fileIn.files?.[0];
            const pass = passIn.value;
            if (pass.length < MIN_PASSPHRASE) {
                importErr.textContent = t("key.passphrase_short", { n: MIN_PASSPHRASE });
                return;
            }
            importBtn.disabled = true;
            importErr.textContent = t("key.working");
            try {
                if (file) {
                    done(await importBackup(await file.text(), pass), false);
                }
                else {
                    const seed = parseSeedHex(seedIn.value);
                    if (!seed)
                        throw new Error(t("key.seed_invalid"));
                    done(await importSeed(seed, pass), false);
                }
            }
            catch (err) {
                importErr.textContent = vaultErrorWords(err);
                importBtn.disabled = false;
            }
        } }, h("p", {}, t("key.import_intro")), field("key.seed", seedIn, t("key.seed_hint")), field("key.backup_file", fileIn, t("key.backup_file_hint")), field("key.import_passphrase", passIn, t("key.import_passphrase_hint")), importErr, importBtn);
    return h("div", { class: "stack" }, h("p", { class: "lead" }, t("welcome.lead")), h("p", {}, t("welcome.keys_here")), section("key.create_title", create), section("key.import_title", imp));
}
