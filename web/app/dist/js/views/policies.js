// Standing policies: let every enterprise of a sector (or one enterprise)
// use some of my data on fixed terms without asking each time (SetPolicy),
// and take them back (ClearPolicy).
import { levelWords, sectorWords } from "../describe.js";
import { h } from "../dom.js";
import { formatPoints, shortId, termWords } from "../format.js";
import { getLang, t } from "../i18n.js";
import { CATEGORIES, PURPOSES } from "../vocab.js";
import { empty, facts, field, levelSelect, section, sectorSelect, termPicker, wholeNumber } from "../widgets.js";
import { enterpriseLabel } from "./consents.js";
export function policiesView(ctx) {
    return {
        title: "nav.policies",
        live: false,
        render: () => {
            const d = ctx.session.data;
            const list = d.policies.map((p) => {
                const target = "sector" in p.target ? t("pol.sector", { sector: sectorWords(p.target.sector) }) : enterpriseLabel(ctx, p.target.enterprise);
                return h("li", { class: "card" }, h("div", { class: "card-head" }, h("h3", {}, target)), facts([
                    ["consent.categories", p.categories.map(termWords).join(t("list.sep"))],
                    ["consent.purposes", p.purposes.map(termWords).join(t("list.sep"))],
                    ["consent.level", levelWords(p.level)],
                    ["pol.min_price", t("unit.points_per_use", { n: formatPoints(p.min_price, getLang()) })],
                    ["consent.id", h("span", { class: "mono" }, shortId(p.id))],
                ]), h("button", { type: "button", class: "danger", "aria-label": t("a11y.for", { action: t("pol.clear"), name: target }), "on:click": () => void ctx.sign({ kind: "ClearPolicy", policy: p.id }).then(() => ctx.rerender()) }, t("pol.clear")));
            });
            const sector = sectorSelect();
            const cats = termPicker("grant.categories", CATEGORIES, [], "policy-categories");
            const purps = termPicker("grant.purposes", PURPOSES, [], "policy-purposes", "terms.placeholder_purpose");
            const level = levelSelect("aggregate");
            const price = h("input", { type: "number", min: 0, step: 1, inputmode: "numeric", value: 1 });
            const err = h("p", { class: "field-error", role: "alert" });
            const form = h("form", { "on:submit": async (e) => {
                    e.preventDefault();
                    const p = wholeNumber(price);
                    const problem = cats.values().length === 0 ? t("grant.need_category") : purps.values().length === 0 ? t("grant.need_purpose") : p === null || Number.isNaN(p) ? t("grant.bad_price") : null;
                    err.textContent = problem ?? "";
                    if (problem)
                        return;
                    const ok = await ctx.sign({ kind: "SetPolicy", target: { sector: sector.value }, categories: cats.values(), purposes: purps.values(), level: level.value, min_price: p });
                    if (ok)
                        ctx.rerender();
                } }, field("pol.for_sector", sector), cats.el, purps.el, field("grant.level", level, t("grant.level_hint")), field("pol.min_price", price, t("pol.min_price_hint")), err, h("button", { type: "submit", class: "primary" }, t("pol.set")));
            return h("div", { class: "stack" }, h("p", { class: "lead" }, t("pol.lead")), list.length ? h("ul", { class: "cards" }, list) : empty("pol.none"), section("pol.new_title", form));
        },
    };
}
