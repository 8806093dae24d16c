// Formatting, request matching, ratings as the chain gives them, the event-stream parser, the language
// choice and rejection words.
import assert from "node:assert/strict";
import { test } from "node:test";
import { blockTime, formatBps, formatPoints, formatScore, fromDateTimeInput, shortId, termWords, timeAtHeight, toDateTimeInput } from "../dist/js/format.js";
import { matchRequests, targetedTags } from "../dist/js/matching.js";
import { SseParser } from "../dist/js/sse.js";
import { detectLang, rejection, setLang, t } from "../dist/js/i18n.js";
import { cumulative } from "../dist/js/chart.js";
import { ratingOf, ratingsWith } from "../dist/js/ratings.js";
import { scoreWords } from "../dist/js/describe.js";

test("amounts are grouped by thousands, exactly, even above 2^53", () => {
  assert.equal(formatPoints(0, "en"), "0");
  assert.equal(formatPoints(1234567, "en"), "1,234,567");
  assert.equal(formatPoints("18446744073709551615", "zh-CN"), "18,446,744,073,709,551,615");
  assert.equal(formatPoints(-1500, "en"), "-1,500");
});

test("basis points, scores, ids and DPV terms", () => {
  assert.equal(formatBps(5000), "50%");
  assert.equal(formatBps(9950), "99.5%");
  assert.equal(formatBps(1), "0.01%");
  assert.equal(formatBps(null), null);
  assert.equal(formatScore(425), "4.25");
  assert.equal(shortId("assent1cjlrkzqqmmvp2yf6699t6vzfns36kjutwuddggr6glnnwsadylwqeye2jx"), "assent1cjl…e2jx");
  assert.equal(shortId("1bdbf9ef1d695643f6c2858e910189d10d6d977210726a23b6edcdab3ad44cef"), "1bdbf9ef…4cef");
  assert.equal(termWords("DirectMarketing"), "Direct Marketing");
  assert.equal(termWords("Purchase"), "Purchase");
});

test("dates round-trip through a datetime-local input", () => {
  const ms = new Date(2026, 11, 4, 16, 5).getTime();
  assert.equal(toDateTimeInput(ms), "2026-12-04T16:05");
  assert.equal(fromDateTimeInput("2026-12-04T16:05"), ms);
  assert.equal(fromDateTimeInput("tomorrow"), null);
});

test("a block's time is interpolated between known blocks", () => {
  const a = [{ height: 10, time: 1000 }, { height: 20, time: 2000 }, { height: 40, time: 3000 }];
  assert.equal(timeAtHeight(15, a), 1500);
  assert.equal(timeAtHeight(30, a), 2500);
  assert.equal(timeAtHeight(50, a), 3500);
  assert.equal(timeAtHeight(5, a), 500);
  assert.equal(timeAtHeight(20, a), 2000);
  assert.equal(timeAtHeight(7, [{ height: 7, time: 9 }]), 9);
  assert.equal(timeAtHeight(8, [{ height: 7, time: 9 }]), null);
  assert.equal(timeAtHeight(8, []), null);
});

test("a use's time is its block's time; estimated only when the node no longer keeps the block", () => {
  const a = [{ height: 10, time: 1000 }, { height: 20, time: 2000 }];
  assert.deepEqual(blockTime(1234, 15, a), { time: 1234, estimated: false });
  assert.deepEqual(blockTime(0, 15, a), { time: 0, estimated: false });
  assert.deepEqual(blockTime(null, 15, a), { time: 1500, estimated: true });
  assert.deepEqual(blockTime(undefined, 15, []), { time: null, estimated: true });
});

test("cumulative earnings are ordered by time", () => {
  assert.deepEqual(cumulative([{ time: 3, amount: 5 }, { time: 1, amount: 2 }]), [{ time: 1, total: 2 }, { time: 3, total: 7 }]);
});

const req = (id, enterprise, target_tags, open = true) => ({ id, enterprise, target_tags, open, categories: ["Purchase"], purposes: ["DirectMarketing"], level: "aggregate", price_per_use: 1, posted_height: 1, expires_at: 9, grants: 0 });

test("requests match my tags, requests open to all, and sectors I follow", () => {
  const rs = [req("a", "e1", ["running"]), req("b", "e1", ["chess"]), req("c", "e2", []), req("d", "e3", ["chess"]), req("e", "e1", ["running"], false), req("f", "e1", ["vegan", "running"])];
  const sector = (e) => ({ e1: "retail", e2: "media", e3: "travel" })[e];
  const m = matchRequests(rs, ["running", "vegan"], ["travel"], sector, ["f"], []);
  assert.deepEqual(m.map((x) => x.request.id), ["a", "c", "d"]);
  assert.deepEqual(m[0].tags, ["running"]);
  assert.equal(m[1].open_to_all, true);
  assert.equal(m[2].by_sector, true);
  assert.deepEqual(matchRequests(rs, ["running"], [], sector, [], ["a"]).map((x) => x.request.id), ["c", "f"]);
  assert.deepEqual(targetedTags(rs), ["chess", "running", "vegan"]);
});

test("the event-stream parser handles split chunks, CRLF, comments and ids", () => {
  const p = new SseParser();
  assert.deepEqual(p.push(": keep-alive\n\nid: 12:0\nevent: use_settled\nda"), []);
  assert.deepEqual(p.push('ta: {"height":12}\r\n\r'), []);
  assert.deepEqual(p.push("\nevent: gap\ndata: {\"resume_from\":\"12:0\"}\n\n"), [
    { event: "use_settled", data: '{"height":12}', id: "12:0" },
    { event: "gap", data: '{"resume_from":"12:0"}', id: null },
  ]);
  assert.deepEqual(p.push("data: a\ndata: b\n\n"), [{ event: "message", data: "a\nb", id: null }]);
});

test("the language follows the browser's preference, English by default", () => {
  assert.equal(detectLang(["zh-TW", "en"]), "zh-CN");
  assert.equal(detectLang(["fr-FR", "en-GB"]), "en");
  assert.equal(detectLang(["de"]), "en");
});

test("rejections are told in words, in both languages, else the ledger's reason", () => {
  setLang("en", false);
  assert.equal(rejection("consent_revoked", "consent x was revoked"), "the consent was revoked");
  assert.equal(rejection("would_be_rejected:not_covered", "…"), t("reject.not_covered"));
  assert.equal(rejection("some_new_code", "the ledger's words"), "the ledger's words");
  setLang("zh-CN", false);
  assert.equal(rejection("consent_revoked", "x"), "该授权已被撤销");
  assert.equal(t("unit.points", { n: 3 }), "3 积分");
  setLang("en", false);
});

test("ratings come from the chain: a rated consent is shown with its score, only the others are offered", () => {
  const cs = [
    { id: "c1", enterprise: "acme", rating: 4 },
    { id: "c2", enterprise: "acme", rating: null },
    { id: "c3", enterprise: "other", rating: null },
    { id: "c4", enterprise: "acme", rating: 1 },
    { id: "c5", enterprise: "acme" }, // a node that says nothing: not rated as far as the app knows
  ];
  assert.equal(ratingOf(cs[0]), 4);
  assert.equal(ratingOf(cs[1]), null);
  assert.equal(ratingOf(cs[4]), null);
  const { rated, open } = ratingsWith(cs, "acme");
  assert.deepEqual(rated.map((r) => [r.consent.id, r.score]), [["c1", 4], ["c4", 1]]);
  assert.deepEqual(open.map((c) => c.id), ["c2", "c5"]);
  assert.deepEqual(ratingsWith(cs, "nobody"), { rated: [], open: [] });
  setLang("en", false);
  assert.equal(scoreWords(4), "4 — good");
  assert.equal(scoreWords(7), "7");
  setLang("zh-CN", false);
  assert.equal(scoreWords(4), "4 — 良好");
  setLang("en", false);
});
