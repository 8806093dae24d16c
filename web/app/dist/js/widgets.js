// Form pieces shared by the screens: labelled fields, a picker of DPV terms
// (chips with a searchable list of the terms the ledger accepts), selects
// of levels and sectors, and small display blocks.
import { levelWords, sectorWords } from "./describe.js";
import { h, uid } from "./dom.js";
import { termWords } from "./format.js";
import { t } from "./i18n.js";
import { LEVELS, SECTORS } from "./lib.js";
/** A label above its control, with an optional hint tied by aria-describedby. */
export function field(label, control, hint) {
    const id = control.id || uid();
    control.id = id;
    const parts = [h("label", { for: id }, t(label))];
    if (hint) {
        const hid = `${id}-hint`;
        control.setAttribute("aria-describedby", hid);
        parts.push(control, h("p", { class: "hint", id: hid }, hint));
    }
    else
        parts.push(control);
    return h("div", { class: "field" }, parts);
}
export function levelSelect(value = "pseudonymous", name = "level") {
    return h("select", { name }, LEVELS.map((l) => h("option", { value: l, selected: l === value }, levelWords(l))));
}
export function sectorSelect(value = "retail", name = "sector") {
    return h("select", { name }, SECTORS.map((s) => h("option", { value: s, selected: s === value }, sectorWords(s))));
}
export function termPicker(label, vocab, initial, testid, placeholder = "terms.placeholder") {
    const chosen = new Set(initial);
    const known = new Map(vocab);
    const listId = uid("terms");
    const inputId = uid("term");
    const chips = h("ul", { class: "chips", "aria-label": t(label) });
    const error = h("p", { class: "field-error", role: "alert" });
    const input = h("input", { id: inputId, list: listId, autocomplete: "off", "data-testid": `${testid}-input`, placeholder: t(placeholder) });
    const datalist = h("datalist", { id: listId }, vocab.map(([term, lbl]) => h("option", { value: term }, lbl)));
    const draw = () => {
        chips.replaceChildren(...[...chosen].map((term) => h("li", { class: "chip" }, h("span", { title: term }, known.get(term) ?? termWords(term)), h("button", { type: "button", class: "chip-x", "aria-label": t("terms.remove", { term: known.get(term) ?? term }), "on:click": () => {
                chosen.delete(term);
                draw();
            } }, "×"))));
    };
    const add = () => {
        const v = input.value.trim();
        if (!v)
            return;
        // Accept the term or its label, case-insensitively.
        const hit = vocab.find(([term, lbl]) => term.toLowerCase() === v.toLowerCase() || lbl.toLowerCase() === v.toLowerCase());
        if (!hit) {
            error.textContent = t("terms.unknown", { term: v });
            return;
        }
        error.textContent = "";
        chosen.add(hit[0]);
        input.value = "";
        draw();
    };
    input.addEventListener("keydown", (e) => {
        if (e.key === "Enter") {
            e.preventDefault();
            add();
        }
    });
    input.addEventListener("change", () => {
        if (known.has(input.value.trim()))
            add();
    });
    draw();
    const addBtn = h("button", { type: "button", class: "secondary", "on:click": add, "data-testid": `${testid}-add` }, t("terms.add"));
    const el = h("div", { class: "field", "data-testid": testid }, h("label", { for: inputId }, t(label)), chips, h("div", { class: "row" }, input, addBtn), datalist, error);
    return { el, values: () => [...chosen] };
}
/** A titled section. */
export function section(title, ...children) {
    const text = title.includes(".") && !title.includes(" ") ? t(title) : title;
    return h("section", { class: "card" }, h("h2", {}, text), ...children.filter((c) => !!c));
}
/** A definition list of label/value pairs. */
export function facts(rows) {
    return h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, v)]).flat());
}
/** A non-negative whole number from an input, or null (empty), or NaN (invalid). */
export function wholeNumber(input) {
    const v = input.value.trim();
    if (v === "")
        return null;
    return /^\d{1,15}$/.test(v) ? Number(v) : NaN;
}
/**
 * A command line to copy: each word is kept whole when the line wraps (a
 * narrow screen would otherwise break `--genesis` after its dashes); the
 * text copied is the command itself.
 */
export function command(text) {
    return h("pre", { class: "cmd" }, text.split(/( +)/).map((w) => (w.trim() ? h("span", { class: "word" }, w) : w)));
}
/** A paragraph for an empty list. */
export function empty(key) {
    return h("p", { class: "empty" }, t(key));
}
