// Interest tags as the chain holds them: salted commitments (ARCHITECTURE.md
// decision 33), made and read back on the consumer's machine exactly as the
// assent CLI does (keys/src/derive.rs, contracts/src/tags.rs):
//
//   salt       = HKDF-SHA256(ikm = the signing key's seed, salt = "assent/tag-salt/v1",
//                            info = chain id ‖ consumer ‖ epoch (u64 LE) ‖ tag)
//   commitment = Hash32::tagged("assent/tag-commitment/v1", [chain id, consumer, tag, salt])
//   padding i  = HKDF-SHA256(seed, "assent/tag-padding/v1", chain id ‖ consumer ‖ epoch ‖ i (u64 LE))
//
// each info part prefixed by its length (u64 LE). A set is the commitments of
// the distinct tags plus padding up to MAX_TAGS, sorted ascending; the CLI
// uses the nonce of the tx that declares the set as its epoch. Pinned against
// the Rust code by the `tag_sets` vectors in test/vectors.json.
import { fromU64, toU64 } from "./bincode.js";
import { equalBytes, show, toHex, utf8 } from "./bytes.js";
import { accountFromText, hashFromText, taggedHash } from "./ids.js";
import { hkdf32 } from "./keys.js";
import { MAX_TAGS } from "./tx.js";
/** Domain tag of a tag commitment (`tags::TAG_COMMITMENT_TAG`). */
export const TAG_COMMITMENT_TAG = "assent/tag-commitment/v1";
/** HKDF salt (domain) of tag salts. */
export const TAG_SALT_DOMAIN = "assent/tag-salt/v1";
/** HKDF salt (domain) of padding commitments. */
export const TAG_PADDING_DOMAIN = "assent/tag-padding/v1";
/** A checked tag (`Tag::from_str`: trimmed, then 1-32 characters of a-z, 0-9 and -). */
export function checkTag(v, what = "tag") {
    const t = typeof v === "string" ? v.trim() : v;
    if (typeof t !== "string" || !/^[a-z0-9-]{1,32}$/.test(t)) {
        throw new Error(`${what}: tag ${show(v)} must be 1-32 characters of a-z, 0-9 and -`);
    }
    return t;
}
/** Distinct checked tags, sorted (a `BTreeSet<Tag>`: byte order, which is code-unit order for ASCII). */
function distinct(tags, what) {
    if (tags === null || typeof tags !== "object" || !(Symbol.iterator in tags)) {
        throw new Error(`${what} must be an array of tags, got ${show(tags)}`);
    }
    let i = 0;
    const set = new Set();
    for (const t of tags)
        set.add(checkTag(t, `${what}[${i++}]`));
    return [...set].sort();
}
function le64(v) {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, v, true);
    return out;
}
function scope(chainId, consumer, epoch) {
    if (typeof chainId !== "string" || chainId.length === 0) {
        throw new Error(`a chain id is a non-empty string, got ${show(chainId)}`);
    }
    return { chain: utf8(chainId), consumer: accountFromText(consumer, "consumer"), epoch: toU64(epoch, "epoch") };
}
async function saltIn(key, s, tag) {
    return hkdf32(key, TAG_SALT_DOMAIN, [s.chain, s.consumer, le64(s.epoch), utf8(tag)]);
}
async function commitIn(s, tag, salt) {
    return taggedHash(TAG_COMMITMENT_TAG, [s.chain, s.consumer, utf8(tag), salt]);
}
async function paddingIn(key, s, i) {
    return hkdf32(key, TAG_PADDING_DOMAIN, [s.chain, s.consumer, le64(s.epoch), le64(BigInt(i))]);
}
/**
 * The salt (64 hex) of `tag`'s commitment by `consumer` (`assent1…`, the
 * account `key` signs for) in the set of round `epoch` on `chainId`
 * (`derive::tag_salt`). Secret: revealing it proves this one tag.
 */
export async function tagSalt(key, chainId, consumer, epoch, tag) {
    const t = checkTag(tag);
    return toHex(await saltIn(key, scope(chainId, consumer, epoch), t));
}
/** The commitment (64 hex) to `tag` under `salt` (64 hex): `tags::commitment`, what an enterprise shown a salt checks. */
export async function commitmentOf(chainId, consumer, tag, salt) {
    const s = scope(chainId, consumer, 0);
    return toHex(await commitIn(s, checkTag(tag), hashFromText(salt, "salt")));
}
/** The commitment (64 hex) to `tag` as the client makes it (`derive::tag_commitment`). */
export async function tagCommitment(key, chainId, consumer, epoch, tag) {
    const s = scope(chainId, consumer, epoch);
    const t = checkTag(tag);
    return toHex(await commitIn(s, t, await saltIn(key, s, t)));
}
/**
 * The set a consumer declares for `tags` (`derive::tag_set`, what `assent
 * consumer register --tag …` and `consumer tags` send): the commitments of
 * the distinct tags plus padding to 16, sorted. `consumer` is the account
 * `key` signs for; `epoch` should be the nonce of the RegisterConsumer or
 * SetTags tx that carries the set (so every set has fresh salts).
 */
export async function tagSet(key, chainId, consumer, epoch, tags) {
    const s = scope(chainId, consumer, epoch);
    const ts = distinct(tags, "tags");
    if (ts.length > MAX_TAGS)
        throw new Error(`${ts.length} tags given; at most ${MAX_TAGS} are allowed`);
    const out = [];
    for (const t of ts)
        out.push(toHex(await commitIn(s, t, await saltIn(key, s, t))));
    for (let i = 0; i < MAX_TAGS - ts.length; i++)
        out.push(toHex(await paddingIn(key, s, i)));
    out.sort(); // lowercase hex sorts as the bytes do
    return { epoch: fromU64(s.epoch), commitments: out };
}
/**
 * Which of `candidates` the set `onChain` of `consumer` commits to
 * (`derive::recover_tags`). `onChain` is a payload's `tags` or the node's
 * answer to `GET /v1/consumers/{id}/tags` (a signed read by the consumer).
 * A commitment cannot be read, only tested: candidates are the tags any
 * request targets and the tags this app declared.
 */
export async function recoverTags(key, chainId, consumer, onChain, candidates) {
    if (typeof onChain !== "object" || onChain === null || !Array.isArray(onChain.commitments)) {
        throw new Error(`a set of tag commitments is { epoch, commitments: [64 hex, …] }, got ${show(onChain)}`);
    }
    const s = scope(chainId, consumer, onChain.epoch);
    const set = onChain.commitments.map((c, i) => hashFromText(c, `commitments[${i}]`));
    const has = (c) => set.some((x) => equalBytes(x, c));
    const out = { tags: [], padding: 0, unknown: 0 };
    for (const t of distinct(candidates, "candidates")) {
        if (has(await commitIn(s, t, await saltIn(key, s, t))))
            out.tags.push(t);
    }
    for (let i = 0; i < MAX_TAGS; i++)
        if (has(await paddingIn(key, s, i)))
            out.padding += 1;
    out.unknown = set.length - out.tags.length - out.padding;
    return out;
}
