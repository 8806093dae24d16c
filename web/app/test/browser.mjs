// The web app in real headless Chromium against a real network (run by
// tests/tests/web_app_works_in_chromium.rs; by hand against a devnet, see
// README.md). A consumer makes a key in the page, registers with tags,
// grants the enterprise; the enterprise records a use from the assent CLI
// and the page shows it and the earnings without a reload; the consumer
// rates the enterprise once through its profile and the page then shows the
// rating (from the chain) and no longer offers to rate; pause, resume
// and revoke go through the page's confirmation; the next use is refused
// and the page says why; the export downloads; a wrong passphrase is
// refused; 简体中文; screenshots at 1280 and 390 px; the node goes away and
// the page says so. Every request the page made must go to APP_URL's
// origin. Each step waits on a condition with a deadline, never a fixed
// sleep. Prints one JSON object as its last line.
//
// Environment: APP_URL, ASSENT_BIN, ASSENT_HOME, ASSENT_NODE,
// ASSENT_PASSPHRASE, ASSENT_KDF, ENTERPRISE, NODE_PID, SCREENSHOT_DIR,
// CHROMIUM (default /usr/bin/chromium).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { en } from "../dist/js/catalogue/en.js";
import { zh } from "../dist/js/catalogue/zh.js";

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`set ${name} (see the header of test/browser.mjs)`);
  return v;
};
const APP_URL = need("APP_URL");
const BIN = need("ASSENT_BIN");
const HOME = need("ASSENT_HOME");
const NODE = need("ASSENT_NODE");
const ENTERPRISE = process.env.ENTERPRISE ?? "acme";
const NODE_PID = Number(need("NODE_PID"));
const SHOTS = need("SCREENSHOT_DIR");
const PASSPHRASE = "correct horse battery staple";
const origin = new URL(APP_URL).origin;
mkdirSync(SHOTS, { recursive: true });

const log = (...a) => console.error(`[browser] ${a.join(" ")}`);
const shots = [];
const requests = [];
let page;
let browser;

/** Polls `f` until it returns a truthy value, or fails naming `what`. */
async function until(what, f, ms = 30_000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ""}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

function cli(args, { allowFail = false } = {}) {
  return new Promise((ok, fail) => {
    execFile(BIN, ["--home", HOME, "--node", NODE, ...args], { env: process.env, timeout: 90_000 }, (err, stdout, stderr) => {
      if (err && !allowFail) fail(new Error(`assent ${args.join(" ")} failed: ${stderr || err.message}`));
      else ok({ code: err ? (err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function shot(name) {
  const file = `${name}.png`;
  await page.screenshot({ path: join(SHOTS, file), fullPage: true });
  shots.push(file);
}

const text = (sel) => page.$eval(sel, (e) => e.textContent ?? "").catch(() => "");
const count = (sel) => page.$$eval(sel, (es) => es.length);

async function click(sel) {
  await until(`${sel} to be clickable`, async () => {
    const el = await page.$(sel);
    if (!el) return false;
    const ok = await el.evaluate((e) => !e.disabled && e.offsetParent !== null);
    if (ok) await el.click();
    return ok;
  });
}

async function type(sel, value) {
  await until(`${sel} to appear`, () => page.$(sel));
  await page.$eval(sel, (e) => (e.value = ""));
  await page.type(sel, value);
}

async function go(hash, heading) {
  await page.evaluate((h) => (location.hash = h), hash);
  await until(`the ${hash} screen`, async () => (await text("main h1")) === heading);
}

/** Signs through the confirmation dialog; returns the lines the dialog showed. */
async function confirmTx() {
  await until("the confirmation dialog", () => page.$("dialog[open] [data-testid=confirm-sign]"));
  const lines = await page.$$eval("dialog[open] [data-testid=tx-lines] li", (ls) => ls.map((l) => l.textContent));
  if (!lines.length) throw new Error("the confirmation showed no description of the tx");
  await click("dialog[open] [data-testid=confirm-sign]");
  await until("the tx to be committed", async () => {
    const st = await page.$eval("dialog[open] .tx-status", (e) => [e.className, e.textContent]).catch(() => null);
    if (st === null) return true; // closed after committing
    if (st[0].includes("error")) throw new Error(`the tx failed in the page: ${st[1]}`);
    return false;
  }, 60_000);
  await until("the dialog to close", async () => !(await page.$("dialog[open]")));
  return lines;
}

/** Every input, select, textarea and button on the page has an accessible name. */
async function checkNames(where) {
  const nameless = await page.$$eval("input, select, textarea, button", (els) =>
    els
      .filter((e) => e.type !== "hidden")
      .filter((e) => {
        if (e.getAttribute("aria-label")?.trim()) return false;
        const by = e.getAttribute("aria-labelledby");
        if (by && document.getElementById(by)?.textContent?.trim()) return false;
        if (e.labels && [...e.labels].some((l) => l.textContent?.trim())) return false;
        if (e.tagName === "BUTTON" && e.textContent?.trim()) return false;
        return true;
      })
      .map((e) => e.outerHTML.slice(0, 120)),
  );
  if (nameless.length) throw new Error(`controls without an accessible name on ${where}: ${nameless.join(" | ")}`);
}

async function main() {
  const keys = await cli(["keys", "list"]);
  const acme = keys.stdout.split("\n").map((l) => l.trim().split(/\s+/)).find((c) => c[0] === ENTERPRISE)?.[1];
  if (!acme?.startsWith("assent1")) throw new Error(`no key ${ENTERPRISE} in ${HOME}: ${keys.stdout}`);

  browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-default-apps",
      "--disable-sync",
      "--no-first-run",
      "--disable-features=Translate,OptimizationHints,MediaRouter",
      "--lang=en-US",
    ],
  });
  page = await browser.newPage();
  page.on("request", (r) => {
    requests.push(r.url());
    if (r.url().startsWith("data:")) log(`data URL requested: ${r.url().slice(0, 80)}`);
  });
  page.on("pageerror", (e) => log(`page error: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && log(`console: ${m.text()}`));
  await page.setViewport({ width: 1280, height: 900 });

  // 1. A new key and registration.
  log("1. create a key and register");
  await page.goto(APP_URL, { waitUntil: "load" });
  await until("the welcome screen", async () => (await text("main h1")) === en["welcome.title"]);
  await checkNames("the welcome screen");
  await shot("welcome-desktop");
  await type("[data-testid=new-passphrase]", PASSPHRASE);
  await type("[data-testid=new-passphrase-again]", PASSPHRASE);
  await click("[data-testid=create-key]");
  await until("the register screen", async () => (await text("main h1")) === en["register.title"], 60_000);
  await checkNames("the register screen");
  await type("[data-testid=tags-input]", "running, vegan");
  await click("[data-testid=register]");
  const regLines = await confirmTx();
  log(`   signed: ${regLines.join(" / ")}`);
  await until("the consents screen", async () => (await text("main h1")) === en["nav.consents"], 60_000);
  await go("#/key", en["nav.key"]);
  const account = (await text("[data-testid=account]")).trim();
  if (!account.startsWith("assent1")) throw new Error(`no account shown: ${account}`);
  log(`   account ${account}`);
  await page.evaluate(() => (window.__assentMarker = "still-here"));

  // 2. Grant acme, found by its profile.
  log("2. grant a consent to", ENTERPRISE);
  await go("#/enterprises", en["nav.enterprises"]);
  await click(`[data-enterprise="${acme}"] a.button`);
  await click("[data-testid=grant-this]");
  await until("the grant form", async () => (await text("main h1")) === en["grant.title"]);
  await checkNames("the grant form");
  await type("[data-testid=grant-categories-input]", "Purchase");
  await click("[data-testid=grant-categories-add]");
  await type("[data-testid=grant-purposes-input]", "DirectMarketing");
  await click("[data-testid=grant-purposes-add]");
  await type("[data-testid=grant-price]", "3");
  await shot("grant-desktop");
  await click("[data-testid=grant-submit]");
  const grantLines = await confirmTx();
  log(`   signed: ${grantLines.join(" / ")}`);
  await until("the consent on the consents screen", () => page.$("[data-consent]"), 60_000);
  const consent = await page.$eval("[data-consent]", (e) => e.getAttribute("data-consent"));
  log(`   consent ${consent}`);

  // 3. The enterprise records a use from the CLI; the page shows it live.
  log("3. acme records a use; the page updates without a reload");
  await go("#/uses", en["nav.uses"]);
  const use = (extra = []) =>
    cli(["use", "record", "--from", ENTERPRISE, "--consumer", account, "--consent", consent, "--category", "Purchase", "--purpose", "DirectMarketing", "--level", "pseudonymous", "--evidence-hash", randomBytes(32).toString("hex"), ...extra], { allowFail: true });
  const first = await use(["--units", "2"]);
  if (first.code !== 0) throw new Error(`the first use was not recorded: ${first.stderr}`);
  await until("the use on the uses screen", async () => (await count("[data-use][data-settled=true]")) === 1, 30_000);
  await go("#/earnings", en["nav.earnings"]);
  const earned = Number((await until("earnings above 0", async () => {
    const v = (await text("[data-testid=earned]")).replace(/,/g, "");
    return Number(v) > 0 ? v : null;
  })));
  if ((await page.evaluate(() => window.__assentMarker)) !== "still-here") throw new Error("the page reloaded");
  log(`   earned ${earned}`);

  // 3b. Rate the enterprise once, from its profile (the ledger takes one
  // rating per consent, revoked or not). The consents the node gives back
  // carry it: the profile shows the score and no longer offers to rate, and
  // the consent's card says it.
  log("3b. rate", ENTERPRISE, "through the page");
  const SCORE = 4;
  await go(`#/enterprises/${acme}`, en["ent.profile"]);
  await checkNames("the enterprise's profile");
  await until("the rate form", () => page.$("[data-testid=rate]"));
  await page.select("[data-testid=rate-score]", String(SCORE));
  await click("[data-testid=rate]");
  const rateLines = await confirmTx();
  log(`   signed: ${rateLines.join(" / ")}`);
  const given = `[data-testid=ratings-given] [data-consent="${consent}"]`;
  const rating = Number(await until("the rating on the profile", () => page.$eval(given, (e) => e.getAttribute("data-score")).catch(() => null), 30_000));
  if (rating !== SCORE) throw new Error(`the profile shows the rating ${rating}, not ${SCORE}`);
  if (!(await text(given)).includes(en[`ent.score_${SCORE}`])) throw new Error(`the rating is not shown in words: ${await text(given)}`);
  if (await page.$("[data-testid=rate]")) throw new Error("the profile still offers to rate after the consent was rated");
  await go("#/consents", en["nav.consents"]);
  const cardRating = await until("the rating on the consent's card", () => page.$eval(`[data-consent="${consent}"] [data-testid=consent-rating]`, (e) => [e.getAttribute("data-score"), e.textContent]).catch(() => null));
  if (Number(cardRating[0]) !== SCORE || cardRating[1] !== en[`ent.score_${SCORE}`]) throw new Error(`the consent's card shows the rating ${cardRating.join(" ")}`);

  // 4. Pause, resume, revoke through the page; the next use is refused.
  log("4. pause, resume, revoke");
  await go("#/consents", en["nav.consents"]);
  const card = `[data-consent="${consent}"]`;
  for (const [button, status] of [["pause", "ConsentPaused"], ["resume", "ConsentGiven"], ["revoke", "ConsentWithdrawn"]]) {
    await click(`${card} [data-testid=${button}]`);
    const lines = await confirmTx();
    log(`   ${button}: ${lines.join(" / ")}`);
    await until(`the consent to be ${status}`, async () => (await page.$eval(card, (e) => e.getAttribute("data-status")).catch(() => "")) === status);
  }
  await shot("consents-revoked-desktop");
  await go("#/uses", en["nav.uses"]);
  await use();
  await until("the refused use on the uses screen", async () => (await count("[data-use][data-settled=false]")) === 1, 30_000);
  const refusedReason = (await text("[data-use][data-settled=false] [data-testid=refused-reason]")).trim();
  if (!refusedReason.includes(en["reject.consent_revoked"])) throw new Error(`the refusal is not explained in words: ${refusedReason}`);
  const usesShown = await count("[data-use]");
  if ((await page.evaluate(() => window.__assentMarker)) !== "still-here") throw new Error("the page reloaded");
  await shot("uses-refused-desktop");

  // 5. The export archive, downloaded through the page.
  log("5. download the export");
  const downloads = mkdtempSync(join(tmpdir(), "assent-app-downloads-"));
  const cdp = await browser.target().createCDPSession();
  await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloads });
  await go("#/records", en["nav.records"]);
  await click("[data-testid=download-export]");
  const tar = await until("the export archive in the download directory", () => {
    const f = readdirSync(downloads).find((n) => n.endsWith(".tar"));
    return f && statSync(join(downloads, f)).size > 0 ? join(downloads, f) : null;
  }, 60_000);
  const archive = readFileSync(tar);
  const listing = archive.toString("latin1");
  for (const part of ["consumer.json", "consents.json", "uses.json", `assent-export-${account}`]) {
    if (!listing.includes(part)) throw new Error(`the export archive has no ${part}`);
  }
  const exportBytes = archive.length;
  rmSync(downloads, { recursive: true, force: true });
  log(`   ${tar.split("/").pop()}: ${exportBytes} bytes`);

  // 6. Lock; a wrong passphrase is refused with a clear message; the right one opens.
  log("6. lock and unlock");
  await click("[data-testid=lock-top]");
  await until("the unlock screen", async () => (await text("main h1")) === en["unlock.title"]);
  await checkNames("the unlock screen");
  await type("[data-testid=unlock-passphrase]", "not my passphrase");
  await click("[data-testid=unlock]");
  await until("the wrong-passphrase message", async () => (await text("[data-testid=unlock-error]")) === en["vault.wrong_passphrase"], 30_000);
  await shot("unlock-wrong-desktop");
  await type("[data-testid=unlock-passphrase]", PASSPHRASE);
  await click("[data-testid=unlock]");
  // Unlocking returns to the screen that was open.
  await until("the app after unlocking", async () => (await text("main h1")) === en["nav.records"], 60_000);

  // 8. Screenshots of the main screens at both widths.
  log("8. screenshots");
  const screens = [
    ["consents", "#/consents", "nav.consents"],
    ["uses", "#/uses", "nav.uses"],
    ["earnings", "#/earnings", "nav.earnings"],
    ["requests", "#/requests", "nav.requests"],
    ["enterprises", "#/enterprises", "nav.enterprises"],
    ["policies", "#/policies", "nav.policies"],
    ["records", "#/records", "nav.records"],
    ["key", "#/key", "nav.key"],
  ];
  for (const [width, label] of [[1280, "desktop"], [390, "phone"]]) {
    await page.setViewport({ width, height: width === 390 ? 844 : 900 });
    for (const [name, hash, key] of screens) {
      await go(hash, en[key]);
      await checkNames(`#${hash}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      if (overflow > 1) throw new Error(`${hash} is wider than ${width} px by ${overflow} px`);
      await shot(`${name}-${label}`);
    }
  }

  // 7. 简体中文.
  log("7. switch to 简体中文");
  await page.setViewport({ width: 1280, height: 900 });
  await go("#/consents", en["nav.consents"]);
  await page.select("[data-testid=lang]", "zh-CN");
  await until("the Chinese heading", async () => (await text("main h1")) === zh["nav.consents"]);
  const lang = await page.evaluate(() => document.documentElement.lang);
  if (lang !== "zh-CN") throw new Error(`<html lang> is ${lang}`);
  const zhSample = (await text("main h1")).trim();
  await shot("consents-zh-desktop");
  await page.setViewport({ width: 390, height: 844 });
  await go("#/uses", zh["nav.uses"]);
  await shot("uses-zh-phone");
  await page.setViewport({ width: 1280, height: 900 });
  await page.select("[data-testid=lang]", "en");
  await until("the English heading again", async () => (await text("main h1")) === en["nav.uses"]);

  // 9. The node goes away: the page says so.
  log("9. stop the node; wait for the banner");
  process.kill(NODE_PID, "SIGTERM");
  await until("the unreachable banner", () => page.$("[data-testid=unreachable]"), 60_000);
  await shot("unreachable-desktop");

  // 10. Every request went to the app's origin.
  // A data: URL is the browser reading bytes it already has (no request
  // leaves the machine); a blob: URL is the page's own download. Every
  // other request counts, by origin.
  const network = requests.filter((u) => !u.startsWith("data:"));
  const origins = [...new Set(network.map((u) => new URL(u).origin))].sort();
  const stray = network.filter((u) => new URL(u).origin !== origin);
  if (stray.length) throw new Error(`the page made requests outside ${origin}: ${stray.slice(0, 5).join(", ")}`);
  if ((await page.evaluate(() => window.__assentMarker)) !== "still-here") throw new Error("the page reloaded");

  await browser.close();
  console.log(
    JSON.stringify({
      account,
      consent,
      earned,
      uses_shown: usesShown,
      refused_reason: refusedReason,
      rating,
      export_bytes: exportBytes,
      requests: requests.length,
      origins,
      screenshots: shots,
      zh_sample: zhSample,
    }),
  );
}

main().catch(async (e) => {
  console.error(`browser test failed: ${e.stack ?? e.message}`);
  try {
    if (page) await page.screenshot({ path: join(SHOTS, "failure.png"), fullPage: true });
  } catch {
    // no page to capture
  }
  try {
    await browser?.close();
  } catch {
    // already gone
  }
  process.exit(1);
});
