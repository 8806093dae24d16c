// "Who holds my consent": every consent, with what it allows and how much of
// it was used; pause, resume, revoke; revoke all.

import type { Ctx, View } from "../app.js";
import { levelWords, scoreWords } from "../describe.js";
import { h } from "../dom.js";
import { formatDateTime, formatPoints, shortId, termWords } from "../format.js";
import { getLang, t, type Key } from "../i18n.js";
import { ratingOf } from "../ratings.js";
import type { Consent } from "../types.js";
import { empty, facts } from "../widgets.js";
import { downloadReceipt } from "./records.js";

export function statusKey(c: Consent): Key {
  switch (c.status) {
    case "ConsentGiven":
      return "status.given";
    case "ConsentPaused":
      return "status.paused";
    case "ConsentWithdrawn":
      return "status.withdrawn";
    case "ConsentExpired":
      return "status.expired";
  }
}

export function enterpriseLabel(ctx: Ctx, account: string): string {
  return ctx.session.enterpriseName(account) ?? shortId(account);
}

function card(ctx: Ctx, c: Consent): HTMLElement {
  const name = enterpriseLabel(ctx, c.enterprise);
  const actions: HTMLElement[] = [];
  const act = (label: Key, kind: "PauseConsent" | "ResumeConsent" | "RevokeConsent", cls: string, testid: string) =>
    h("button", { type: "button", class: cls, "data-testid": testid, "aria-label": t("a11y.for", { action: t(label), name }), "on:click": () => void ctx.sign({ kind, consent: c.id }) }, t(label));
  if (c.status === "ConsentGiven") actions.push(act("consent.pause", "PauseConsent", "secondary", "pause"));
  if (c.status === "ConsentPaused") actions.push(act("consent.resume", "ResumeConsent", "secondary", "resume"));
  if (c.status === "ConsentGiven" || c.status === "ConsentPaused") actions.push(act("consent.revoke", "RevokeConsent", "danger", "revoke"));
  actions.push(
    h("button", { type: "button", class: "secondary", "aria-label": t("a11y.for", { action: t("records.consent_receipt"), name }), "on:click": () => void downloadReceipt(ctx, "consent", c.id) }, t("records.receipt")),
  );
  const score = ratingOf(c);
  const uses = c.max_uses != null ? t("consent.uses_of", { used: c.used, max: c.max_uses }) : t("consent.uses_unlimited", { used: c.used });
  return h(
    "li",
    { class: `card consent status-${c.status}`, "data-consent": c.id, "data-status": c.status },
    h(
      "div",
      { class: "card-head" },
      h("h3", {}, h("a", { href: `#/enterprises/${c.enterprise}` }, name)),
      h("span", { class: `badge ${c.status}`, "data-testid": "consent-status" }, t(statusKey(c))),
    ),
    facts([
      ["consent.categories", c.categories.map(termWords).join(t("list.sep"))],
      ["consent.purposes", c.purposes.map(termWords).join(t("list.sep"))],
      ["consent.level", levelWords(c.level)],
      ["consent.price", t("unit.points_per_use", { n: formatPoints(c.price_per_use, getLang()) })],
      ["consent.uses", uses],
      ["consent.expiry", c.expires_at != null ? formatDateTime(c.expires_at) : t("consent.never")],
      ["consent.granted", formatDateTime(c.granted_time)],
      ["consent.id", h("span", { class: "mono", title: c.id }, shortId(c.id))],
      ...(score !== null ? ([["consent.rating", h("span", { "data-testid": "consent-rating", "data-score": score }, scoreWords(score))]] as [Key, HTMLElement][]) : []),
    ]),
    h("div", { class: "row" }, actions),
  );
}

export function consentsView(ctx: Ctx): View {
  return {
    title: "nav.consents",
    live: true,
    render: () => {
      const d = ctx.session.data;
      const live = d.consents.filter((c) => c.status === "ConsentGiven" || c.status === "ConsentPaused");
      const order = (c: Consent) => (c.status === "ConsentGiven" ? 0 : c.status === "ConsentPaused" ? 1 : 2);
      const sorted = [...d.consents].sort((a, b) => order(a) - order(b) || b.granted_height - a.granted_height);
      return h(
        "div",
        { class: "stack" },
        h("p", { class: "lead" }, live.length === 0 ? t("consents.lead_none") : live.length === 1 ? t("consents.lead_one") : t("consents.lead", { n: live.length })),
        h(
          "div",
          { class: "row" },
          h("a", { class: "button primary", href: "#/enterprises" }, t("consents.grant_new")),
          live.length > 0
            ? h("button", { type: "button", class: "danger", "data-testid": "revoke-all", "on:click": () => void ctx.sign({ kind: "RevokeAll", enterprise: null }) }, t("consents.revoke_all"))
            : null,
        ),
        sorted.length ? h("ul", { class: "cards", "data-testid": "consents" }, sorted.map((c) => card(ctx, c))) : empty("consents.none"),
      );
    },
  };
}
