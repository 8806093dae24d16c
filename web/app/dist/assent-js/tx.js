// Transactions: the payload kinds this package encodes, the body, the signed
// tx, the tx id and the signing message, byte for byte as
// contracts/src/tx/envelope.rs encodes them with the canonical codec.
//
// Field names are those of the ledger's JSON (serde, snake_case); each payload
// carries its `kind` (`"GrantConsent"`, …). u64 fields take a number, a bigint
// or decimal text and read back as a number, or as decimal text above 2^53.
import { Reader, Writer, fromU64 } from "./bincode.js";
import { concat, show, toHex, utf8 } from "./bytes.js";
import { accountFromText, accountToText, hashFromText, hashToText } from "./ids.js";
/** Domain tag of tx signatures (`TX_SIGNATURE_TAG`; a RecordUse's is `USES_SIGNATURE_TAG`, src/uses.ts). */
export const TX_SIGNATURE_TAG = "assent/tx/v1";
/** Tag of the tx id hash (a RecordUse's is `USES_TX_ID_TAG`, src/uses.ts). */
export const TX_ID_TAG = "assent/txid/v1";
/** `Level`'s variants in encoding order. */
export const LEVELS = ["aggregate", "pseudonymous", "identified"];
/** `Sector`'s variants in encoding order. */
export const SECTORS = [
    "retail", "finance", "health", "insurance", "telecom", "media",
    "advertising", "travel", "education", "technology", "energy", "public",
];
/** Most tag commitments in a set (`tx::MAX_TAGS`); the CLI and `tagSet` pad every set to it. */
export const MAX_TAGS = 16;
/** Every kind of `Payload` in contracts/src/tx/envelope.rs, in variant (encoding) order. */
export const ALL_KINDS = [
    "RegisterConsumer", "SetTags", "GrantConsent", "RevokeConsent", "RevokeAll",
    "PauseConsent", "ResumeConsent", "SetPolicy", "ClearPolicy", "PostRequest",
    "RecordUse", "Rate", "Transfer", "Mint", "Propose", "Vote", "SetContact",
    "LinkIdentity", "UnlinkIdentity", "NameReferrer", "RotateKey", "SetGuardians",
    "SupportRecovery", "CancelRecovery", "ClaimRecovery",
];
/** The kinds this package encodes and decodes. */
export const SUPPORTED_KINDS = [
    "RegisterConsumer", "SetTags", "GrantConsent", "RevokeConsent", "RevokeAll",
    "PauseConsent", "ResumeConsent", "SetPolicy", "ClearPolicy", "PostRequest",
    "RecordUse", "Rate", "Transfer",
];
function fields(v, what, required, optional = []) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
        throw new Error(`${what} must be an object, got ${show(v)}`);
    }
    const o = v;
    for (const k of Object.keys(o)) {
        if (!required.includes(k) && !optional.includes(k)) {
            const all = [...required, ...optional].filter((f) => f !== "kind");
            throw new Error(`${what} has an unknown field \`${k}\`; its fields are ${all.join(", ")}`);
        }
    }
    for (const k of required) {
        if (o[k] === undefined)
            throw new Error(`${what} lacks the field \`${k}\``);
    }
    return o;
}
function account(w, v, what) {
    w.raw(accountFromText(v, what));
}
function hash(w, v, what) {
    w.raw(hashFromText(v, what));
}
function level(w, v, what) {
    const i = LEVELS.indexOf(v);
    if (i < 0)
        throw new Error(`${what} must be one of ${LEVELS.join(", ")}, got ${show(v)}`);
    w.variant(i);
}
function term(w, v, what) {
    if (typeof v !== "string" || !/^[A-Za-z][A-Za-z0-9]*$/.test(v)) {
        throw new Error(`${what} must be a DPV term such as Purchase or DirectMarketing, got ${show(v)}`);
    }
    w.str(v, what);
}
function terms(w, v, what) {
    w.seq(v, what, (w, t, i) => term(w, t, `${what}[${i}]`));
}
/** A consumer interest tag: 1-32 characters of a-z, 0-9 and `-` (`Tag::check`). */
function tag(w, v, what) {
    if (typeof v !== "string" || !/^[a-z0-9-]{1,32}$/.test(v)) {
        throw new Error(`${what}: tag ${show(v)} must be 1-32 characters of a-z, 0-9 and -`);
    }
    w.str(v, what);
}
function tags(w, v, what) {
    w.seq(v, what, (w, t, i) => tag(w, t, `${what}[${i}]`));
}
/**
 * `TagCommitments { epoch, commitments }`: the epoch as a varint, then the
 * 32-byte commitments. Refuses what the ledger's stateless check refuses
 * (more than 16, not strictly ascending) so a bad set fails here, not at the node.
 */
function tagCommitments(w, v, what) {
    const o = fields(v, what, ["epoch", "commitments"]);
    w.u64(o.epoch, `${what}.epoch`);
    const cs = o.commitments;
    if (!Array.isArray(cs)) {
        throw new Error(`${what}.commitments must be an array of 64-hex tag commitments (make the set with tagSet), got ${show(cs)}`);
    }
    if (cs.length > MAX_TAGS) {
        throw new Error(`${what}.commitments: ${cs.length} tag commitments given; at most ${MAX_TAGS} are allowed`);
    }
    const bytes = cs.map((c, i) => hashFromText(c, `${what}.commitments[${i}]`));
    for (let i = 1; i < bytes.length; i++) {
        const order = compareBytes(bytes[i - 1], bytes[i]);
        if (order === 0)
            throw new Error(`${what}.commitments: tag commitment ${toHex(bytes[i])} is listed twice`);
        if (order > 0) {
            throw new Error(`${what}.commitments must be sorted ascending (so their order reveals nothing); tagSet sorts them`);
        }
    }
    w.u64(bytes.length);
    for (const b of bytes)
        w.raw(b);
}
function compareBytes(a, b) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
        if (a[i] !== b[i])
            return a[i] - b[i];
    }
    return a.length - b.length;
}
function oneOf(v, what, keys) {
    const o = fields(v, what, [], keys);
    const present = Object.keys(o);
    if (present.length !== 1) {
        throw new Error(`${what} must have exactly one of ${keys.map((k) => `\`${k}\``).join(" or ")}, got ${show(v)}`);
    }
    const k = present[0];
    return [k, o[k]];
}
/** Appends one use's canonical encoding (a field of RecordUse). */
export function writeUse(w, v, what) {
    const u = fields(v, what, ["consumer", "basis", "category", "purpose", "level", "units", "evidence_hash"]);
    account(w, u.consumer, `${what}.consumer`);
    const [b, id] = oneOf(u.basis, `${what}.basis`, ["consent", "policy"]);
    w.variant(b === "consent" ? 0 : 1);
    hash(w, id, `${what}.basis.${b}`);
    term(w, u.category, `${what}.category`);
    term(w, u.purpose, `${what}.purpose`);
    level(w, u.level, `${what}.level`);
    if (typeof u.units !== "number" || !Number.isInteger(u.units) || u.units < 1 || u.units > 0xffffffff) {
        throw new Error(`${what}.units must be a whole number from 1 to 4294967295, got ${show(u.units)}`);
    }
    w.u32(u.units, `${what}.units`);
    hash(w, u.evidence_hash, `${what}.evidence_hash`);
}
/** Appends the canonical encoding of `payload`. */
export function writePayload(w, payload) {
    const kind = payload?.kind;
    const what = `payload ${typeof kind === "string" ? kind : ""}`.trim();
    const p = (req, opt = []) => fields(payload, what, ["kind", ...req], opt);
    const index = ALL_KINDS.indexOf(kind);
    if (typeof kind !== "string" || index < 0) {
        throw new Error(`unknown payload kind ${show(kind)}; the kinds are ${ALL_KINDS.join(", ")}`);
    }
    if (!SUPPORTED_KINDS.includes(kind)) {
        throw new Error(`unsupported kind ${kind}: this package encodes ${SUPPORTED_KINDS.join(", ")}; sign a ${kind} with the assent CLI`);
    }
    w.variant(index);
    switch (kind) {
        case "RegisterConsumer":
        case "SetTags": {
            const o = p(["tags"]);
            tagCommitments(w, o.tags, `${kind}.tags`);
            return;
        }
        case "GrantConsent": {
            const o = p(["enterprise", "categories", "purposes", "level", "price_per_use"], ["max_uses", "expires_at", "request"]);
            account(w, o.enterprise, "GrantConsent.enterprise");
            terms(w, o.categories, "GrantConsent.categories");
            terms(w, o.purposes, "GrantConsent.purposes");
            level(w, o.level, "GrantConsent.level");
            w.u64(o.price_per_use, "GrantConsent.price_per_use");
            w.option(o.max_uses, (w, v) => w.u64(v, "GrantConsent.max_uses"));
            w.option(o.expires_at, (w, v) => w.u64(v, "GrantConsent.expires_at"));
            w.option(o.request, (w, v) => hash(w, v, "GrantConsent.request"));
            return;
        }
        case "RevokeConsent":
        case "PauseConsent":
        case "ResumeConsent": {
            const o = p(["consent"]);
            hash(w, o.consent, `${kind}.consent`);
            return;
        }
        case "RevokeAll": {
            const o = p([], ["enterprise"]);
            w.option(o.enterprise, (w, v) => account(w, v, "RevokeAll.enterprise"));
            return;
        }
        case "SetPolicy": {
            const o = p(["target", "categories", "purposes", "level", "min_price"]);
            const [t, v] = oneOf(o.target, "SetPolicy.target", ["sector", "enterprise"]);
            if (t === "sector") {
                const i = SECTORS.indexOf(v);
                if (i < 0)
                    throw new Error(`SetPolicy.target.sector must be one of ${SECTORS.join(", ")}, got ${show(v)}`);
                w.variant(0).variant(i);
            }
            else {
                w.variant(1);
                account(w, v, "SetPolicy.target.enterprise");
            }
            terms(w, o.categories, "SetPolicy.categories");
            terms(w, o.purposes, "SetPolicy.purposes");
            level(w, o.level, "SetPolicy.level");
            w.u64(o.min_price, "SetPolicy.min_price");
            return;
        }
        case "ClearPolicy": {
            const o = p(["policy"]);
            hash(w, o.policy, "ClearPolicy.policy");
            return;
        }
        case "PostRequest": {
            const o = p(["categories", "purposes", "level", "price_per_use", "duration_ms", "target_tags"]);
            terms(w, o.categories, "PostRequest.categories");
            terms(w, o.purposes, "PostRequest.purposes");
            level(w, o.level, "PostRequest.level");
            w.u64(o.price_per_use, "PostRequest.price_per_use");
            w.u64(o.duration_ms, "PostRequest.duration_ms");
            tags(w, o.target_tags, "PostRequest.target_tags");
            return;
        }
        case "RecordUse": {
            const o = p(["uses"]);
            if (!Array.isArray(o.uses) || o.uses.length === 0) {
                throw new Error("RecordUse.uses must be a non-empty array of uses");
            }
            w.seq(o.uses, "RecordUse.uses", (w, u, i) => writeUse(w, u, `RecordUse.uses[${i}]`));
            return;
        }
        case "Rate": {
            const o = p(["enterprise", "consent", "score"]);
            account(w, o.enterprise, "Rate.enterprise");
            hash(w, o.consent, "Rate.consent");
            if (typeof o.score !== "number" || !Number.isInteger(o.score) || o.score < 1 || o.score > 5) {
                throw new Error(`Rate.score must be 1 (worst) to 5 (best), got ${show(o.score)}`);
            }
            w.u8(o.score, "Rate.score");
            return;
        }
        case "Transfer": {
            const o = p(["to", "amount"]);
            account(w, o.to, "Transfer.to");
            w.u64(o.amount, "Transfer.amount");
            return;
        }
    }
}
/** The canonical bytes of a tx body (`TxBody::encode`). */
export function encodeBody(body) {
    const b = fields(body, "tx body", ["sender", "nonce", "payload"]);
    const w = new Writer();
    account(w, b.sender, "sender");
    w.u64(b.nonce, "nonce");
    writePayload(w, b.payload);
    return w.bytes();
}
/**
 * `crypto::signing_message`: `tag || len(chain id) (1 byte) || chain id ||
 * message`. A tx's message and tag depend on its kind: use `txSigningMessage`
 * (src/uses.ts).
 */
export function signingMessage(tag, chainId, message) {
    const c = utf8(chainId);
    if (chainId.length === 0 || c.length > 64) {
        throw new Error(`a chain id is 1 to 64 bytes, got ${show(chainId)}`);
    }
    return concat(utf8(tag), Uint8Array.of(c.length), c, message);
}
/** The bytes of a signed tx (`SignedTx::encode`): the body, then the 64-byte signature. */
export function encodeSignedTx(bodyBytes, signature) {
    if (signature.length !== 64)
        throw new Error(`an ed25519 signature is 64 bytes, got ${signature.length}`);
    // Checks that the body is one whole, canonical body this package can read.
    decodeBody(bodyBytes);
    return concat(bodyBytes, signature);
}
function readAccount(r, what) {
    return accountToText(r.raw(32, what));
}
function readHash(r, what) {
    return hashToText(r.raw(32, what));
}
function readLevel(r, what) {
    const i = r.variant(what);
    const l = LEVELS[i];
    if (l === undefined)
        throw new Error(`${what}: level variant ${i} does not exist`);
    return l;
}
function readStrings(r, what) {
    return r.seq(what, (r, i) => r.str(`${what}[${i}]`));
}
function readU64(r, what) {
    return fromU64(r.u64(what));
}
/** Reads one payload (the inverse of [`writePayload`]). */
export function readPayload(r) {
    const i = r.variant("payload");
    const kind = ALL_KINDS[i];
    if (kind === undefined)
        throw new Error(`payload variant ${i} is no tx kind this package knows`);
    if (!SUPPORTED_KINDS.includes(kind)) {
        throw new Error(`the tx is a ${kind}, which this package does not decode; do not sign it here (inspect it with the assent CLI)`);
    }
    switch (kind) {
        case "RegisterConsumer":
        case "SetTags":
            return {
                kind: kind,
                tags: {
                    epoch: readU64(r, "tags.epoch"),
                    commitments: r.seq("tags.commitments", (r, i) => readHash(r, `tags.commitments[${i}]`)),
                },
            };
        case "GrantConsent":
            return {
                kind: "GrantConsent",
                enterprise: readAccount(r, "enterprise"),
                categories: readStrings(r, "categories"),
                purposes: readStrings(r, "purposes"),
                level: readLevel(r, "level"),
                price_per_use: readU64(r, "price_per_use"),
                max_uses: r.option("max_uses", (r) => readU64(r, "max_uses")),
                expires_at: r.option("expires_at", (r) => readU64(r, "expires_at")),
                request: r.option("request", (r) => readHash(r, "request")),
            };
        case "RevokeConsent":
        case "PauseConsent":
        case "ResumeConsent":
            return { kind: kind, consent: readHash(r, "consent") };
        case "RevokeAll":
            return { kind: "RevokeAll", enterprise: r.option("enterprise", (r) => readAccount(r, "enterprise")) };
        case "SetPolicy": {
            const t = r.variant("target");
            let target;
            if (t === 0) {
                const s = r.variant("sector");
                const sector = SECTORS[s];
                if (sector === undefined)
                    throw new Error(`sector variant ${s} does not exist`);
                target = { sector };
            }
            else if (t === 1) {
                target = { enterprise: readAccount(r, "target enterprise") };
            }
            else {
                throw new Error(`policy target variant ${t} does not exist`);
            }
            return {
                kind: "SetPolicy",
                target,
                categories: readStrings(r, "categories"),
                purposes: readStrings(r, "purposes"),
                level: readLevel(r, "level"),
                min_price: readU64(r, "min_price"),
            };
        }
        case "ClearPolicy":
            return { kind: "ClearPolicy", policy: readHash(r, "policy") };
        case "PostRequest":
            return {
                kind: "PostRequest",
                categories: readStrings(r, "categories"),
                purposes: readStrings(r, "purposes"),
                level: readLevel(r, "level"),
                price_per_use: readU64(r, "price_per_use"),
                duration_ms: readU64(r, "duration_ms"),
                target_tags: readStrings(r, "target_tags"),
            };
        case "RecordUse":
            return {
                kind: "RecordUse",
                uses: r.seq("uses", (r, i) => {
                    const w = `uses[${i}]`;
                    const consumer = readAccount(r, `${w}.consumer`);
                    const b = r.variant(`${w}.basis`);
                    if (b !== 0 && b !== 1)
                        throw new Error(`${w}.basis variant ${b} does not exist`);
                    const id = readHash(r, `${w}.basis`);
                    return {
                        consumer,
                        basis: b === 0 ? { consent: id } : { policy: id },
                        category: r.str(`${w}.category`),
                        purpose: r.str(`${w}.purpose`),
                        level: readLevel(r, `${w}.level`),
                        units: r.u32(`${w}.units`),
                        evidence_hash: readHash(r, `${w}.evidence_hash`),
                    };
                }),
            };
        case "Rate":
            return {
                kind: "Rate",
                enterprise: readAccount(r, "enterprise"),
                consent: readHash(r, "consent"),
                score: r.u8("score"),
            };
        case "Transfer":
            return { kind: "Transfer", to: readAccount(r, "to"), amount: readU64(r, "amount") };
    }
}
function readBody(r) {
    return { sender: readAccount(r, "sender"), nonce: readU64(r, "nonce"), payload: readPayload(r) };
}
/** Decodes exactly one canonical tx body: what the bytes say, to show before signing them. */
export function decodeBody(bytes) {
    const r = new Reader(bytes);
    const body = readBody(r);
    r.end();
    return body;
}
/** Decodes a signed tx's bytes into its body, body bytes and signature (hex). */
export function decodeSignedTx(bytes) {
    const r = new Reader(bytes);
    const body = readBody(r);
    const bodyBytes = bytes.slice(0, r.offset);
    const signature = toHex(r.raw(64, "signature"));
    r.end();
    return { body, bodyBytes, signature };
}
