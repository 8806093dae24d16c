// "What you see is what you sign", in the reader's language: the words of a
// tx body decoded from the bytes about to be signed (Session.prepare). The
// package's English `describeTx` of the same body is shown beside it.

import { formatDateTime, formatPoints, shortId, termWords } from "./format.js";
import { getLang, t } from "./i18n.js";
import type { TxBody } from "./lib.js";

function list(xs: string[]): string {
  return xs.map(termWords).join(t("list.sep"));
}

function pts(n: unknown): string {
  return t("unit.points", { n: formatPoints(String(n), getLang()) });
}

export function levelWords(level: string): string {
  return level === "aggregate" ? t("level.aggregate") : level === "pseudonymous" ? t("level.pseudonymous") : level === "identified" ? t("level.identified") : level;
}

export function sectorWords(sector: string): string {
  const k = `sector.${sector}`;
  const v = t(k as never);
  return v === k ? sector : v;
}

/** A rating's score in words ("4 — good"); the bare number if one were ever outside 1–5. */
export function scoreWords(n: number): string {
  return Number.isInteger(n) && n >= 1 && n <= 5 ? t(`ent.score_${n}` as never) : String(n);
}

/** Lines describing `body`; `name` gives an enterprise's name for its account. */
export function describeBody(body: TxBody, name: (account: string) => string | undefined): string[] {
  const who = (a: string) => (name(a) ? `${name(a)} (${shortId(a)})` : a);
  const p = body.payload;
  switch (p.kind) {
    case "RegisterConsumer":
      return [t("tx.register", { n: p.tags.commitments.length })];
    case "SetTags":
      return [t("tx.set_tags", { n: p.tags.commitments.length })];
    case "GrantConsent": {
      const lines = [
        t("tx.grant", { enterprise: who(p.enterprise) }),
        t("tx.grant.categories", { list: list(p.categories) }),
        t("tx.grant.purposes", { list: list(p.purposes) }),
        t("tx.grant.level", { level: levelWords(p.level) }),
        t("tx.grant.price", { price: pts(p.price_per_use) }),
        p.max_uses != null ? t("tx.grant.max_uses", { n: String(p.max_uses) }) : t("tx.grant.no_max"),
        p.expires_at != null ? t("tx.grant.expires", { when: formatDateTime(Number(p.expires_at)) }) : t("tx.grant.no_expiry"),
      ];
      if (p.request != null) lines.push(t("tx.grant.request", { id: shortId(p.request) }));
      return lines;
    }
    case "RevokeConsent":
      return [t("tx.revoke", { id: p.consent })];
    case "PauseConsent":
      return [t("tx.pause", { id: p.consent })];
    case "ResumeConsent":
      return [t("tx.resume", { id: p.consent })];
    case "RevokeAll":
      return [p.enterprise != null ? t("tx.revoke_all_of", { enterprise: who(p.enterprise) }) : t("tx.revoke_all")];
    case "SetPolicy": {
      const target = "sector" in p.target ? t("tx.policy.sector", { sector: sectorWords(p.target.sector) }) : who(p.target.enterprise);
      return [
        t("tx.policy", { target }),
        t("tx.grant.categories", { list: list(p.categories) }),
        t("tx.grant.purposes", { list: list(p.purposes) }),
        t("tx.grant.level", { level: levelWords(p.level) }),
        t("tx.policy.min_price", { price: pts(p.min_price) }),
      ];
    }
    case "ClearPolicy":
      return [t("tx.clear_policy", { id: p.policy })];
    case "Rate":
      return [t("tx.rate", { enterprise: who(p.enterprise), score: p.score, id: shortId(p.consent) })];
    default:
      // Kinds this app never builds (PostRequest, RecordUse, Transfer): the package's words.
      return [t("tx.other", { kind: p.kind })];
  }
}
