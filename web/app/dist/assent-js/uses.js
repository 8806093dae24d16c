// What a RecordUse's id and signature cover (decision 34,
// contracts/src/use_tree.rs and tx/envelope.rs): not its body but
// `UsesCommitment {sender, nonce, count, uses_root}`, where `uses_root` is
// the Merkle root over its uses' tagged leaves, so that a consumer's use
// receipt can prove one use without showing the others. Every other kind is
// identified and signed by its body. `txId` and `txSigningMessage` pick the
// right one from the body bytes.
import { Reader, Writer } from "./bincode.js";
import { toHex } from "./bytes.js";
import { accountFromText, taggedHash } from "./ids.js";
import { merkleRoot, taggedLeaf } from "./merkle.js";
import { ALL_KINDS, TX_ID_TAG, TX_SIGNATURE_TAG, decodeBody, signingMessage, writeUse, } from "./tx.js";
/** Tag of a use's leaf in its RecordUse's uses tree (`use_tree::USE_LEAF_TAG`). */
export const USE_LEAF_TAG = "assent/use-leaf/v1";
/** Domain tag of a RecordUse's signature (`crypto::USES_SIGNATURE_TAG`). */
export const USES_SIGNATURE_TAG = "assent/tx-uses/v1";
/** Tag of a RecordUse's tx id hash (`use_tree::USES_TXID_TAG`). */
export const USES_TX_ID_TAG = "assent/txid-uses/v1";
const RECORD_USE = ALL_KINDS.indexOf("RecordUse");
/** The canonical bytes of one use (`codec::encode(&Use)`), as inside a RecordUse body. */
export function encodeUse(use) {
    const w = new Writer();
    writeUse(w, use, "use");
    return w.bytes();
}
/** A use's leaf (`use_tree::use_leaf`): its bytes under `assent/use-leaf/v1`. */
export async function useLeaf(use) {
    return taggedLeaf(USE_LEAF_TAG, [encodeUse(use)]);
}
/** The Merkle root over the uses' leaves, in tx order (64 hex). */
export async function usesRoot(uses) {
    return toHex(await merkleRoot(await Promise.all(uses.map(useLeaf))));
}
/** `UsesCommitment::of(sender, nonce, uses)`. */
export async function usesCommitment(sender, nonce, uses) {
    const root = await merkleRoot(await Promise.all(uses.map(useLeaf)));
    const w = new Writer();
    w.raw(accountFromText(sender, "sender"));
    w.u64(nonce, "nonce");
    w.u64(uses.length, "count");
    w.raw(root);
    return { sender, nonce, count: uses.length, uses_root: toHex(root), bytes: w.bytes() };
}
/** What the tx whose body is `bodyBytes` is signed and identified by. */
export async function covered(bodyBytes) {
    // Sender, nonce, then the payload's variant: only a RecordUse needs the rest read.
    const r = new Reader(bodyBytes);
    r.raw(32, "sender");
    r.u64("nonce");
    if (r.variant("payload") !== RECORD_USE) {
        return { signatureTag: TX_SIGNATURE_TAG, idTag: TX_ID_TAG, bytes: bodyBytes };
    }
    const body = decodeBody(bodyBytes);
    if (body.payload.kind !== "RecordUse")
        throw new Error("a RecordUse body did not decode as one");
    const c = await usesCommitment(body.sender, body.nonce, body.payload.uses);
    return { signatureTag: USES_SIGNATURE_TAG, idTag: USES_TX_ID_TAG, bytes: c.bytes };
}
/**
 * The tx id (64 hex): `Hash32::tagged("assent/txid/v1", [body bytes])`, but
 * for a RecordUse `Hash32::tagged("assent/txid-uses/v1", [UsesCommitment bytes])`.
 */
export async function txId(bodyBytes) {
    const c = await covered(bodyBytes);
    return toHex(await taggedHash(c.idTag, [c.bytes]));
}
/**
 * The exact bytes the sender signs for `chainId` (`SignedTx::signing_message`):
 * `assent/tx/v1 ‖ len(chain id) ‖ chain id ‖ body`, but for a RecordUse
 * `assent/tx-uses/v1 ‖ … ‖ UsesCommitment bytes`.
 */
export async function txSigningMessage(chainId, bodyBytes) {
    const c = await covered(bodyBytes);
    return signingMessage(c.signatureTag, chainId, c.bytes);
}
