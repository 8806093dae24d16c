// "Uses of my data": every use an enterprise recorded, newest first, paid
// or refused (with the ledger's reason in words), filtered by enterprise and
// outcome; each use's receipt.

import type { Ctx, View } from "../app.js";
import { h } from "../dom.js";
import { blockTime, formatDateTime, formatPoints, termWords, type BlockTime } from "../format.js";
import { getLang, rejection, t } from "../i18n.js";
import type { Data } from "../session.js";
import type { UseRow } from "../types.js";
import { empty, field } from "../widgets.js";
import { enterpriseLabel } from "./consents.js";
import { downloadReceipt } from "./records.js";

/** Known (height, time) pairs: uses with their block's time, consent grants and the head. */
export function anchors(d: Data): { height: number; time: number }[] {
  const a = d.consents.map((c) => ({ height: c.granted_height, time: c.granted_time }));
  for (const u of d.uses) if (u.time !== null && u.time !== undefined) a.push({ height: u.height, time: u.time });
  if (d.status) a.push({ height: d.status.height, time: d.status.time_ms });
  return a;
}

export type UseTime = BlockTime;

/** When a use happened: its block's time, else (block no longer kept) an estimate from the anchors. */
export function useTime(u: UseRow, anch: { height: number; time: number }[]): UseTime {
  return blockTime(u.time, u.height, anch);
}

/** "2026-12-04 16:05", or "about 2026-12-04 16:05" when estimated, or "" when unknown. */
export function whenWords(w: UseTime): string {
  if (w.time === null) return "";
  return w.estimated ? t("uses.about", { when: formatDateTime(w.time) }) : formatDateTime(w.time);
}

const filters = { enterprise: "", outcome: "" };

function row(ctx: Ctx, u: UseRow, when: UseTime): HTMLElement {
  const name = enterpriseLabel(ctx, u.enterprise);
  const outcome = u.settled
    ? h("span", { class: "badge ConsentGiven" }, t("uses.paid", { n: formatPoints(u.to_consumer, getLang()) }))
    : h("span", { class: "badge ConsentWithdrawn" }, t("uses.refused"));
  return h(
    "li",
    { class: `use ${u.settled ? "settled" : "refused"}`, "data-use": u.use_id, "data-settled": String(u.settled) },
    h("div", { class: "use-when" }, h("time", when.time !== null ? { datetime: new Date(when.time).toISOString() } : {}, whenWords(when)), h("span", { class: "muted small" }, t("uses.block", { h: u.height }))),
    h(
      "div",
      { class: "use-what" },
      h("strong", {}, name),
      h("span", {}, t(u.units === 1 ? "uses.what_one" : "uses.what", { category: termWords(u.category ?? "?"), purpose: termWords(u.purpose ?? "?"), units: u.units ?? 0 })),
      u.settled ? null : h("span", { class: "reason", "data-testid": "refused-reason" }, t("uses.why", { why: rejection(u.code, u.reason) })),
    ),
    h(
      "div",
      { class: "use-out" },
      outcome,
      h("button", { type: "button", class: "link", "aria-label": t("a11y.for", { action: t("records.use_receipt"), name }), "on:click": () => void downloadReceipt(ctx, "use", u.use_id) }, t("records.receipt")),
    ),
  );
}

export function usesView(ctx: Ctx): View {
  return {
    title: "nav.uses",
    live: true,
    render: () => {
      const d = ctx.session.data;
      const ents = [...new Set(d.uses.map((u) => u.enterprise))];
      const entSel = h(
        "select",
        { "data-testid": "uses-enterprise", "on:change": (e: Event) => {
          filters.enterprise = (e.target as HTMLSelectElement).value;
          ctx.rerender();
        } },
        h("option", { value: "" }, t("uses.all_enterprises")),
        ents.map((a) => h("option", { value: a, selected: filters.enterprise === a }, enterpriseLabel(ctx, a))),
      );
      const outSel = h(
        "select",
        { "data-testid": "uses-outcome", "on:change": (e: Event) => {
          filters.outcome = (e.target as HTMLSelectElement).value;
          ctx.rerender();
        } },
        h("option", { value: "" }, t("uses.all_outcomes")),
        h("option", { value: "paid", selected: filters.outcome === "paid" }, t("uses.only_paid")),
        h("option", { value: "refused", selected: filters.outcome === "refused" }, t("uses.only_refused")),
      );
      const shown = d.uses.filter(
        (u) => (!filters.enterprise || u.enterprise === filters.enterprise) && (!filters.outcome || (filters.outcome === "paid") === u.settled),
      );
      const anch = anchors(d);
      const times = shown.map((u) => useTime(u, anch));
      return h(
        "div",
        { class: "stack" },
        h("p", { class: "lead" }, t("uses.lead")),
        h("div", { class: "filters" }, field("uses.filter_enterprise", entSel), field("uses.filter_outcome", outSel)),
        h("p", { class: "muted", "data-testid": "uses-count" }, t("uses.count", { shown: shown.length, total: d.uses.length })),
        shown.length ? h("ol", { class: "timeline", "data-testid": "uses" }, shown.map((u, i) => row(ctx, u, times[i]!))) : empty(d.uses.length ? "uses.none_filtered" : "uses.none"),
        times.some((w) => w.estimated) ? h("p", { class: "hint", "data-testid": "time-note" }, t("uses.time_note")) : null,
      );
    },
  };
}
