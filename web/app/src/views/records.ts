// My records: the export archive (a signed GET of my export, saved through a
// Blob link) and any consent or use receipt as a JSON file, with the command
// that verifies a receipt offline.

import type { Ctx, View } from "../app.js";
import { download, h } from "../dom.js";
import { shortId } from "../format.js";
import { rejection, t } from "../i18n.js";
import { ApiError, signRead } from "../lib.js";
import { isUnreachable } from "../session.js";
import { command, empty, section } from "../widgets.js";
import { enterpriseLabel, statusKey } from "./consents.js";
import { anchors, useTime, whenWords } from "./uses.js";

function problem(ctx: Ctx, e: unknown): void {
  ctx.say(() => (e instanceof ApiError ? rejection(e.code, e.message) : isUnreachable(e) ? t("conn.unreachable") : String(e)), "error");
}

/** Downloads the receipt of a consent or a use as `consent-<id>.json` / `use-<id>.json`. */
export async function downloadReceipt(ctx: Ctx, kind: "consent" | "use", id: string): Promise<void> {
  try {
    const path = kind === "consent" ? `/v1/consents/${id}/receipt` : `/v1/uses/${id}/receipt`;
    const r = await ctx.session.client.get(path);
    download(`${kind}-${id}.json`, new Blob([`${JSON.stringify(r, null, 2)}\n`], { type: "application/json" }));
    ctx.say(() => t("records.receipt_saved", { name: `${kind}-${shortId(id)}.json` }), "ok");
  } catch (e) {
    problem(ctx, e);
  }
}

async function downloadExport(ctx: Ctx, btn: HTMLButtonElement): Promise<void> {
  const s = ctx.session;
  btn.disabled = true;
  ctx.say(() => t("records.export_working"));
  try {
    const target = `/v1/consumers/${s.account}/export`;
    const headers = await signRead(s.key, s.chainId, "GET", target);
    const res = await fetch(target, { headers: { ...headers }, cache: "no-store" });
    if (!res.ok) {
      const b = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
      throw new ApiError(res.status, b.code ?? `http_${res.status}`, b.message ?? res.statusText);
    }
    const blob = await res.blob();
    const cd = res.headers.get("content-disposition") ?? "";
    const name = /filename="([^"]+)"/.exec(cd)?.[1] ?? `assent-export-${s.account}.tar`;
    download(name, blob);
    // The file name carries the whole account; the notice shows it shortened.
    const shown = name.replace(s.account, shortId(s.account));
    const kb = Math.ceil(blob.size / 1024);
    ctx.say(() => t("records.export_saved", { name: shown, kb }), "ok");
  } catch (e) {
    if (e instanceof TypeError) ctx.say(() => t("conn.unreachable"), "error");
    else problem(ctx, e);
  } finally {
    btn.disabled = false;
  }
}

export function recordsView(ctx: Ctx): View {
  return {
    title: "nav.records",
    live: true,
    render: () => {
      const d = ctx.session.data;
      const exportBtn = h("button", { type: "button", class: "primary", "data-testid": "download-export" }, t("records.export_button"));
      exportBtn.addEventListener("click", () => void downloadExport(ctx, exportBtn));
      const consents = d.consents.map((c) =>
        h(
          "li",
          {},
          h("span", {}, t("records.consent_line", { enterprise: enterpriseLabel(ctx, c.enterprise), id: shortId(c.id), status: t(statusKey(c)) })),
          h("button", { type: "button", class: "link", "aria-label": t("a11y.for", { action: t("records.consent_receipt"), name: shortId(c.id) }), "on:click": () => void downloadReceipt(ctx, "consent", c.id) }, t("records.receipt")),
        ),
      );
      const anch = anchors(d);
      const uses = d.uses.slice(0, 50).map((u) =>
        h(
          "li",
          {},
          h("span", {}, t("records.use_line", { enterprise: enterpriseLabel(ctx, u.enterprise), id: shortId(u.use_id), when: whenWords(useTime(u, anch)) || t("uses.block", { h: u.height }) })),
          h("button", { type: "button", class: "link", "aria-label": t("a11y.for", { action: t("records.use_receipt"), name: shortId(u.use_id) }), "on:click": () => void downloadReceipt(ctx, "use", u.use_id) }, t("records.receipt")),
        ),
      );
      return h(
        "div",
        { class: "stack" },
        section("records.export_title", h("p", {}, t("records.export_intro")), exportBtn),
        section(
          "records.verify_title",
          h("p", {}, t("records.verify_intro")),
          command(t("cmd.verify")),
          h("p", { class: "hint" }, t("records.verify_genesis")),
        ),
        section("records.consent_receipts", consents.length ? h("ul", { class: "plain" }, consents) : empty("consents.none")),
        section("records.use_receipts", uses.length ? h("ul", { class: "plain" }, uses) : empty("uses.none")),
      );
    },
  };
}
