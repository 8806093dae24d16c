// Requests from enterprises that match my tags or the sectors I follow,
// matched here (no node learns which match): accept (a grant answering the
// request, terms pre-filled) or ignore (remembered in this browser). Also
// where my interests are changed.

import type { Ctx, View } from "../app.js";
import { levelWords, sectorWords } from "../describe.js";
import { h } from "../dom.js";
import { formatDateTime, formatPoints, termWords } from "../format.js";
import { getLang, t } from "../i18n.js";
import { matchRequests, type Match } from "../matching.js";
import { empty, facts, section } from "../widgets.js";
import { enterpriseLabel } from "./consents.js";
import { interestsForm } from "./interests.js";

function card(ctx: Ctx, m: Match): HTMLElement {
  const r = m.request;
  const s = ctx.session;
  const name = enterpriseLabel(ctx, r.enterprise);
  const why = m.tags.length ? t("req.why_tags", { tags: m.tags.join(t("list.sep")) }) : m.by_sector ? t("req.why_sector") : t("req.why_open");
  return h(
    "li",
    { class: "card", "data-request": r.id },
    h("div", { class: "card-head" }, h("h3", {}, name), h("span", { class: "badge" }, sectorWords(s.data.enterprises.get(r.enterprise)?.sector ?? ""))),
    h("p", { class: "muted" }, why),
    facts([
      ["consent.categories", r.categories.map(termWords).join(t("list.sep"))],
      ["consent.purposes", r.purposes.map(termWords).join(t("list.sep"))],
      ["consent.level", levelWords(r.level)],
      ["consent.price", t("unit.points_per_use", { n: formatPoints(r.price_per_use, getLang()) })],
      ["req.open_until", formatDateTime(r.expires_at)],
    ]),
    h(
      "div",
      { class: "row" },
      h("a", { class: "button primary", href: `#/grant?request=${r.id}`, "aria-label": t("a11y.for", { action: t("req.accept"), name }) }, t("req.accept")),
      h("button", { type: "button", class: "secondary", "aria-label": t("a11y.for", { action: t("req.ignore"), name }), "on:click": () => void s.savePrefs({ ...s.prefs, ignored: [...s.prefs.ignored, r.id] }) }, t("req.ignore")),
    ),
  );
}

export function requestsView(ctx: Ctx): View {
  return {
    title: "nav.requests",
    live: false,
    render: () => {
      const s = ctx.session;
      const d = s.data;
      const now = d.status?.time_ms ?? Date.now();
      const open = d.requests.filter((r) => r.open !== false && r.expires_at > now);
      const answered = d.consents.map((c) => c.request).filter((x): x is string => !!x);
      const matches = matchRequests(open, d.tags, s.prefs.sectors, (a) => d.enterprises.get(a)?.sector, s.prefs.ignored, answered);
      const ignored = s.prefs.ignored.length;
      return h(
        "div",
        { class: "stack" },
        h("p", { class: "lead" }, t("req.lead")),
        h("p", { class: "muted" }, d.tags.length ? t("req.my_tags", { tags: d.tags.join(t("list.sep")) }) : t("req.no_tags")),
        matches.length ? h("ul", { class: "cards" }, matches.map((m) => card(ctx, m))) : empty("req.none"),
        ignored
          ? h("button", { type: "button", class: "secondary", "on:click": () => void s.savePrefs({ ...s.prefs, ignored: [] }).then(() => ctx.rerender()) }, t("req.unignore", { n: ignored }))
          : null,
        section("interests.title", h("p", {}, t("register.private")), interestsForm(ctx, false)),
      );
    },
  };
}
