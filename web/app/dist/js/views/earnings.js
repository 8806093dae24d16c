// Earnings: the total the ledger counts, per enterprise, and over time.
import { cumulative, earningsChart } from "../chart.js";
import { h } from "../dom.js";
import { formatPoints, timeAtHeight } from "../format.js";
import { getLang, t } from "../i18n.js";
import { empty, section } from "../widgets.js";
import { enterpriseLabel } from "./consents.js";
import { anchors } from "./uses.js";
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
                const p = per.get(u.enterprise) ?? { points: 0, uses: 0 };
                p.points += u.to_consumer;
                p.uses += 1;
                per.set(u.enterprise, p);
            }
            const anch = anchors(d);
            const items = settled.map((u) => ({ time: timeAtHeight(u.height, anch) ?? d.status?.time_ms ?? 0, amount: u.to_consumer }));
            const rows = [...per.entries()].sort((a, b) => b[1].points - a[1].points);
            return h("div", { class: "stack" }, h("div", { class: "totals" }, h("div", { class: "total" }, h("span", { class: "total-label" }, t("earn.total")), h("span", { class: "total-value", "data-testid": "earned" }, e ? formatPoints(e.earned, lang) : "0"), h("span", { class: "muted" }, t("unit.points_word"))), h("div", { class: "total" }, h("span", { class: "total-label" }, t("earn.balance")), h("span", { class: "total-value" }, e ? formatPoints(e.balance, lang) : "0"), h("span", { class: "muted" }, t("unit.points_word"))), h("div", { class: "total" }, h("span", { class: "total-label" }, t("earn.uses_settled")), h("span", { class: "total-value" }, e ? formatPoints(e.uses_settled, lang) : "0"), h("span", { class: "muted" }, t("earn.units")))), e && e.referral_earned > 0 ? h("p", {}, t("earn.referral", { n: formatPoints(e.referral_earned, lang) })) : null, section("earn.over_time", earningsChart(cumulative(items), t("earn.chart_label"), d.status?.time_ms ?? Date.now()), h("p", { class: "hint" }, t("uses.time_note"))), section("earn.per_enterprise", rows.length
                ? h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("earn.enterprise")), h("th", { scope: "col", class: "num" }, t("earn.uses")), h("th", { scope: "col", class: "num" }, t("earn.points")))), h("tbody", {}, rows.map(([a, p]) => h("tr", {}, h("td", {}, enterpriseLabel(ctx, a)), h("td", { class: "num" }, String(p.uses)), h("td", { class: "num" }, formatPoints(p.points, lang))))))
                : empty("earn.none")));
        },
    };
}
