// Enterprises: the public ranking with sector and reputation; one
// enterprise's profile, a way to grant it a consent, and a rating (Rate)
// for one I have dealt with.

import type { Ctx, View } from "../app.js";
import { scoreWords, sectorWords } from "../describe.js";
import { h } from "../dom.js";
import { formatBps, formatPoints, formatScore, shortId, termWords } from "../format.js";
import { getLang, t } from "../i18n.js";
import { ratingsWith } from "../ratings.js";
import type { Consent, Enterprise } from "../types.js";
import { empty, facts, field, section } from "../widgets.js";

function reputation(e: Enterprise): [Parameters<typeof t>[0], string][] {
  const r = e.reputation;
  return [
    ["ent.honoured", formatBps(r.honoured_bps) ?? t("ent.no_uses_yet")],
    ["ent.rating", r.ratings ? t(r.ratings === 1 ? "ent.rating_value_one" : "ent.rating_value", { score: formatScore(r.average_score_x100), n: r.ratings }) : t("ent.unrated")],
    ["ent.points_paid", t("unit.points", { n: formatPoints(r.points_paid, getLang()) })],
    ["ent.after_revocation", String(r.uses_after_revocation)],
  ];
}

export function enterprisesView(ctx: Ctx): View {
  return {
    title: "nav.enterprises",
    live: true,
    render: () => {
      const list = [...ctx.session.data.enterprises.values()];
      return h(
        "div",
        { class: "stack" },
        h("p", { class: "lead" }, t("ent.lead")),
        list.length
          ? h(
              "ul",
              { class: "cards", "data-testid": "enterprises" },
              list.map((e) =>
                h(
                  "li",
                  { class: "card", "data-enterprise": e.account },
                  h("div", { class: "card-head" }, h("h3", {}, h("a", { href: `#/enterprises/${e.account}` }, e.name)), h("span", { class: "badge" }, sectorWords(e.sector))),
                  facts(reputation(e)),
                  h("div", { class: "row" }, h("a", { class: "button secondary", href: `#/enterprises/${e.account}`, "aria-label": t("a11y.for", { action: t("ent.profile"), name: e.name }) }, t("ent.profile"))),
                ),
              ),
            )
          : empty("ent.none"),
      );
    },
  };
}

export function enterpriseView(ctx: Ctx, account: string): View {
  return {
    title: "ent.profile",
    live: true,
    render: () => {
      const d = ctx.session.data;
      const e = d.enterprises.get(account);
      if (!e) return h("div", { class: "stack" }, empty("ent.unknown"), h("a", { href: "#/enterprises" }, t("ent.back")));
      const profile = facts([
        ["ent.name", e.name],
        ["ent.sector", sectorWords(e.sector)],
        ["ent.jurisdiction", e.jurisdiction],
        ["ent.policy", h("span", { class: "break" }, e.policy_url)],
        ["ent.status", e.status === "active" ? t("ent.active") : t("ent.suspended")],
        ["ent.account", h("span", { class: "mono break" }, e.account)],
        ...(e.contact ? ([["ent.contact", [e.contact.email, e.contact.phone, e.contact.address].filter(Boolean).join(" · ")]] as [Parameters<typeof t>[0], string][]) : []),
        ...reputation(e),
      ]);
      // Rate: once per consent, for a consent I gave this enterprise. The
      // node's consents carry their rating (null when not rated), so a rated
      // consent is shown with its score and not offered again, whichever
      // device rated it.
      let rate: HTMLElement | null = null;
      const { rated: given, open } = ratingsWith(d.consents, account);
      const consentWords = (c: Consent) => t("ent.rate_consent", { id: shortId(c.id), cats: c.categories.map(termWords).join(t("list.sep")) });
      const givenList = given.length
        ? h(
            "ul",
            { class: "plain", "data-testid": "ratings-given" },
            given.map(({ consent: c, score }) => h("li", { "data-consent": c.id, "data-score": score }, h("span", {}, consentWords(c)), h("strong", {}, scoreWords(score)))),
          )
        : null;
      if (open.length) {
        const consentSel = h("select", {}, open.map((c) => h("option", { value: c.id }, consentWords(c))));
        const score = h("select", { "data-testid": "rate-score" }, [5, 4, 3, 2, 1].map((n) => h("option", { value: n }, scoreWords(n))));
        rate = section(
          "ent.rate_title",
          h(
            "form",
            { "on:submit": (ev: Event) => {
              ev.preventDefault();
              const consent = consentSel.value;
              const n = Number(score.value);
              // Once committed, the refreshed consents carry the rating.
              void ctx.sign({ kind: "Rate", enterprise: account, consent, score: n });
            } },
            h("p", {}, t("ent.rate_intro")),
            field("ent.rate_which", consentSel),
            field("ent.rate_score", score),
            h("button", { type: "submit", class: "primary", "data-testid": "rate" }, t("ent.rate_button")),
          ),
          givenList ? h("div", { class: "sub-block" }, h("h3", {}, t("ent.rated_title")), givenList) : null,
        );
      } else if (givenList) {
        rate = section("ent.rated_title", givenList);
      }
      return h(
        "div",
        { class: "stack" },
        h("h2", { class: "page-sub" }, e.name),
        section("ent.on_ledger", profile),
        e.status === "active"
          ? h("a", { class: "button primary", href: `#/grant?enterprise=${e.account}`, "data-testid": "grant-this" }, t("ent.grant", { name: e.name }))
          : h("p", { class: "note" }, t("ent.suspended_note")),
        rate,
        h("a", { href: "#/enterprises" }, t("ent.back")),
      );
    },
  };
}
