// Granting a consent to an enterprise (chosen from its profile), or
// answering an enterprise's request with the request's terms pre-filled
// and editable.

import type { Ctx, View } from "../app.js";
import { h } from "../dom.js";
import { formatDateTime, fromDateTimeInput } from "../format.js";
import { t } from "../i18n.js";
import type { Level } from "../lib.js";
import { CATEGORIES, PURPOSES } from "../vocab.js";
import { field, levelSelect, section, termPicker, wholeNumber } from "../widgets.js";
import { enterpriseLabel } from "./consents.js";

export function grantView(ctx: Ctx): View {
  return {
    title: "grant.title",
    live: false,
    render: () => {
      const d = ctx.session.data;
      const request = d.requests.find((r) => r.id === ctx.query.get("request"));
      const enterprise = request?.enterprise ?? ctx.query.get("enterprise") ?? "";
      const ents = [...d.enterprises.values()].filter((e) => e.status === "active").sort((a, b) => a.name.localeCompare(b.name));
      const entSel = h(
        "select",
        { "data-testid": "grant-enterprise", disabled: !!request },
        h("option", { value: "" }, t("grant.choose_enterprise")),
        ents.map((e) => h("option", { value: e.account, selected: e.account === enterprise }, e.name)),
      );
      const cats = termPicker("grant.categories", CATEGORIES, request?.categories ?? [], "grant-categories");
      const purps = termPicker("grant.purposes", PURPOSES, request?.purposes ?? [], "grant-purposes", "terms.placeholder_purpose");
      const level = levelSelect(request?.level ?? "pseudonymous");
      const price = h("input", { type: "number", min: request?.price_per_use ?? 0, step: 1, inputmode: "numeric", value: request?.price_per_use ?? 1, "data-testid": "grant-price" });
      const maxUses = h("input", { type: "number", min: 1, step: 1, inputmode: "numeric", "data-testid": "grant-max" });
      const expiry = h("input", { type: "datetime-local", "data-testid": "grant-expiry" });
      const err = h("p", { class: "field-error", role: "alert" });
      const btn = h("button", { type: "submit", class: "primary", "data-testid": "grant-submit" }, t("grant.review"));
      const form = h(
        "form",
        { "on:submit": async (e: Event) => {
          e.preventDefault();
          const p = wholeNumber(price);
          const m = wholeNumber(maxUses);
          const exp = expiry.value ? fromDateTimeInput(expiry.value) : null;
          const problem = !entSel.value
            ? t("grant.need_enterprise")
            : cats.values().length === 0
              ? t("grant.need_category")
              : purps.values().length === 0
                ? t("grant.need_purpose")
                : p === null || Number.isNaN(p)
                  ? t("grant.bad_price")
                  : m !== null && (Number.isNaN(m) || m < 1)
                    ? t("grant.bad_max")
                    : expiry.value && (exp === null || exp <= Date.now())
                      ? t("grant.bad_expiry")
                      : null;
          err.textContent = problem ?? "";
          if (problem) return;
          btn.disabled = true;
          const ok = await ctx.sign({
            kind: "GrantConsent",
            enterprise: entSel.value,
            categories: cats.values(),
            purposes: purps.values(),
            level: level.value as Level,
            price_per_use: p!,
            max_uses: m,
            expires_at: exp,
            request: request?.id ?? null,
          });
          btn.disabled = false;
          if (ok) ctx.go("#/consents");
        } },
        request
          ? h("p", { class: "note" }, t("grant.answering", { enterprise: enterpriseLabel(ctx, request.enterprise), until: formatDateTime(request.expires_at) }))
          : null,
        field("grant.enterprise", entSel),
        cats.el,
        purps.el,
        field("grant.level", level, t("grant.level_hint")),
        field("grant.price", price, request ? t("grant.price_hint_request", { n: request.price_per_use }) : t("grant.price_hint")),
        field("grant.max_uses", maxUses, t("grant.max_uses_hint")),
        field("grant.expiry", expiry, t("grant.expiry_hint")),
        err,
        btn,
      );
      return h("div", { class: "stack" }, h("p", { class: "lead" }, t("grant.lead")), section("grant.form_title", form));
    },
  };
}
