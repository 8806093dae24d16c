// Registering as a consumer, and changing my interests later: tags go to
// the chain only as salted commitments made with my key (assent-js
// `tagSet`, padded to 16, the tx's nonce as epoch); the tags themselves and
// the sectors I follow stay in this browser too, so requests can be matched
// here.

import type { Ctx, View } from "../app.js";
import { sectorWords } from "../describe.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { SECTORS, checkTag, tagSet } from "../lib.js";
import { field, section } from "../widgets.js";

/** Tags typed by a person: separated by commas or spaces; null and the bad one when one is invalid. */
export function parseTags(text: string): { tags: string[]; bad: string | null } {
  const parts = text.split(/[\s,，、]+/).map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const p of parts) {
    try {
      checkTag(p);
    } catch {
      return { tags: [], bad: p };
    }
  }
  return { tags: [...new Set(parts)].sort(), bad: null };
}

export function interestsForm(ctx: Ctx, register: boolean): HTMLElement {
  const s = ctx.session;
  const current = register ? s.prefs.tags : s.data.tags;
  const tagsIn = h("input", { value: current.join(", "), autocomplete: "off", "data-testid": "tags-input" });
  const boxes = SECTORS.map((sec) =>
    h("label", { class: "check" }, h("input", { type: "checkbox", value: sec, checked: s.prefs.sectors.includes(sec) }), sectorWords(sec)),
  );
  const err = h("p", { class: "field-error", role: "alert" });
  const btn = h("button", { type: "submit", class: "primary", "data-testid": register ? "register" : "save-tags" }, t(register ? "register.button" : "interests.save"));
  return h(
    "form",
    { "on:submit": async (e: Event) => {
      e.preventDefault();
      const { tags, bad } = parseTags(tagsIn.value);
      if (bad !== null) {
        err.textContent = t("interests.bad_tag", { tag: bad });
        return;
      }
      if (tags.length > 16) {
        err.textContent = t("interests.too_many");
        return;
      }
      err.textContent = "";
      const sectors = boxes.map((b) => b.querySelector("input")!).filter((i) => i.checked).map((i) => i.value);
      // Keep the choice first: the tags are candidates when reading the commitments back.
      await s.savePrefs({ ...s.prefs, tags: [...new Set([...s.prefs.tags, ...tags])].sort(), sectors });
      btn.disabled = true;
      const ok = await ctx.sign(async (nonce) => ({
        kind: register ? "RegisterConsumer" : "SetTags",
        tags: await tagSet(s.key, s.chainId, s.account, nonce, tags),
      }));
      btn.disabled = false;
      if (ok && register) ctx.go("#/consents");
    } },
    field("interests.tags", tagsIn, t("interests.tags_hint")),
    h("fieldset", { class: "sectors" }, h("legend", {}, t("interests.sectors")), h("p", { class: "hint" }, t("interests.sectors_hint")), boxes),
    err,
    btn,
  );
}

export function registerView(ctx: Ctx): View {
  return {
    title: "register.title",
    live: false,
    render: () =>
      h(
        "div",
        { class: "stack" },
        h("p", { class: "lead" }, t("register.lead")),
        h("p", {}, t("register.private")),
        section("register.form_title", interestsForm(ctx, true)),
      ),
  };
}
