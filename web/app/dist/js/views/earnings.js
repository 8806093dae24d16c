// Earnings: the total the ledger counts, per enterprise, and over time.
import { cumulative, earningsChart } from "../chart.js";
import { h } from "../dom.js";
import { formatPoints } from "../format.js";
import { getLang, t } from "../i18n.js";
import { empty, section } from "../widgets.js";
import { enterpriseLabel } from "./consents.js";
import { anchors, useTime } from "./uses.js";
export function earningsView(ctx) {
    return {
        title: "nav.earnings",
        live: true,
        render: () => {
            const d = ctx.session.data;
            const e = d.earnings;
            const lang = getLang();
            const settled = d.uses.filter((u) => u.settled);
            const per = new Map();
            for (const u of settled) {
                const p = per.get(u.enterprise) ?? { points: 0, uses: 0, units: 0 };
                p.points += u.to_consumer;
                p.uses += 1;
                p.units += u.units ?? 0;
                per.set(u.enterprise, p);
            }
            const anch = anchors(d);
            const times = settled.map((u) => useTime(u, anch));
            const items = settled.map((u, i) => ({ time: times[i].time ?? d.status?.time_ms ?? 0, amount: u.to_consumer }));
            // The ledger counts units of data paid for; the uses it lists say how many uses that was.
            const paidUses = settled.length;
            const unitsNote = paidUses === 1 ? t("earn.units_in_one_use") : t("earn.units_in_uses", { n: formatPoints(paidUses, lang) });
            const rows = [...per.entries()].sort((a, b) => b[1].points - a[1].points);
            return h("div", { class: "stack" }, h("div", { class: "totals" }, h("div", { class: "total" }, h("span", { class: "total-label" }, t("earn.total")), h("span", { class: "total-value", "data-testid": "earned" }, e ? formatPoints(e.earned, lang) : "0"), h("span", { class: "muted" }, t("unit.points_word"))), h("div", { class: "total" }, h("span", { class: "total-label" }, t("earn.balance")), h("span", { class: "total-value" }, e ? formatPoints(e.balance, lang) : "0"), h("span", { class: "muted" }, t("unit.points_word"))), h("div", { class: "total" }, h("span", { class: "total-label" }, t("earn.uses_settled")), h("span", { class: "total-value", "data-testid": "units-paid" }, e ? formatPoints(e.uses_settled, lang) : "0"), h("span", { class: "muted" }, unitsNote))), e && e.referral_earned > 0 ? h("p", {}, t("earn.referral", { n: formatPoints(e.referral_earned, lang) })) : null, section("earn.over_time", items.length ? earningsChart(cumulative(items), t("earn.chart_label"), d.status?.time_ms ?? Date.now()) : empty("earn.chart_empty"), times.some((w) => w.estimated) ? h("p", { class: "hint" }, t("uses.time_note")) : null), section("earn.per_enterprise", rows.length
                ? h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("earn.enterprise")), h("th", { scope: "col", class: "num" }, t("earn.uses")), h("th", { scope: "col", class: "num" }, t("earn.units_col")), h("th", { scope: "col", class: "num" }, t("earn.points")))), h("tbody", {}, rows.map(([a, p]) => h("tr", {}, h("td", {}, enterpriseLabel(ctx, a)), h("td", { class: "num" }, formatPoints(p.uses, lang)), h("td", { class: "num" }, formatPoints(p.units, lang)), h("td", { class: "num" }, formatPoints(p.points, lang))))))
                : empty("earn.none")));
        },
    };
}
