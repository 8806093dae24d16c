// Binary Merkle trees as contracts/src/merkle.rs builds them (RFC 6962 /
// RFC 9162 shape): leaf = SHA-256(0x00 ‖ …), inner node = SHA-256(0x01 ‖
// left ‖ right), split at the largest power of two below n. Leaves of each
// kind are tagged (`tagged_leaf`), so no leaf of one kind reads as another's.
import { concat, utf8 } from "./bytes.js";
import { sha256 } from "./ids.js";
function lenLe64(n) {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
    return out;
}
/**
 * `merkle::tagged_leaf(tag, parts)`: SHA-256 over `0x00 ‖ len(tag) ‖ tag ‖
 * (len(part) ‖ part)*`, every length a little-endian u64.
 */
export async function taggedLeaf(tag, parts) {
    const t = utf8(tag);
    const chunks = [Uint8Array.of(0), lenLe64(t.length), t];
    for (const p of parts)
        chunks.push(lenLe64(p.length), p);
    return sha256(concat(...chunks));
}
async function nodeHash(l, r) {
    return sha256(concat(Uint8Array.of(1), l, r));
}
// Largest power of two strictly below n (n >= 2), as `merkle::split`.
function split(n) {
    let k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}
/** `merkle::root`: the root over 32-byte leaf hashes (SHA-256 of nothing when there are none). */
export async function merkleRoot(leaves) {
    for (const [i, l] of leaves.entries()) {
        if (!(l instanceof Uint8Array) || l.length !== 32)
            throw new Error(`leaf ${i} is not a 32-byte hash`);
    }
    const rec = async (lo, hi) => {
        const n = hi - lo;
        if (n === 1)
            return leaves[lo];
        const k = split(n);
        return nodeHash(await rec(lo, lo + k), await rec(lo + k, hi));
    };
    return leaves.length === 0 ? sha256(new Uint8Array(0)) : rec(0, leaves.length);
}
