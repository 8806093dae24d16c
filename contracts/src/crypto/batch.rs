//! The batch equation of ZIP-215, on curve25519-dalek 4.
//!
//! `ed25519-consensus` defines the rule (its single check is the ledger's
//! `verify`), and its batch verifier runs the same equation on
//! curve25519-dalek-ng, whose only backend on stable Rust is the serial
//! one. curve25519-dalek 4, already in the tree under ed25519-dalek, picks
//! its AVX2 backend at run time for multiscalar multiplication, which is
//! most of a batch's cost after point decompression. The equation, the
//! decompression rule and the hash are those of ZIP-215:
//!
//! - `A` and `R` are accepted in any encoding that decompresses, canonical
//!   or not (curve25519-dalek reduces `y` modulo p and takes the sign bit
//!   as given, as dalek-ng does);
//! - `s` must be canonical (`s < ℓ`);
//! - `k = H(R_bytes ‖ A_bytes ‖ M)` over the bytes as sent;
//! - with random 128-bit `zᵢ`, the batch holds if
//!   `[8]( −(Σ zᵢsᵢ)B + Σ zᵢRᵢ + Σ (zᵢkᵢ)Aᵢ )` is the identity.
//!
//! Tests pin this against `ed25519-consensus` on every small-order and
//! non-canonical encoding of `A` and `R`, and on random good and bad items.

use std::collections::HashMap;
use std::sync::Mutex;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use sha2::{Digest, Sha512};

use super::Signature;
use crate::ids::AccountId;

/// A random 128-bit blinding coefficient.
fn blinding<R: rand_core::RngCore + rand_core::CryptoRng>(rng: &mut R) -> Scalar {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    Scalar::from(u128::from_le_bytes(b))
}

/// Decompressed signer keys kept across batches, so a signer who signs
/// again costs one point decompression less (about a third of a batched
/// check here). A cache only: decompression is a pure function of the
/// key's bytes, so answers never depend on what it holds.
///
/// Bounded: two generations of `per_generation` keys each; when the newer
/// fills, the older is dropped and the newer takes its place. A key is
/// kept only after a batch it was in held, so keys that never signed
/// validly cannot push out real signers'.
pub struct SignerKeys {
    /// `[newer, older]`.
    generations: Mutex<[HashMap<[u8; 32], EdwardsPoint>; 2]>,
    per_generation: usize,
}

impl std::fmt::Debug for SignerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignerKeys({} kept)", self.len())
    }
}

/// Keys per generation in a node's caches: at most 65,536 keys, ≈ 13 MB.
pub const SIGNER_KEYS_PER_GENERATION: usize = 32_768;

impl SignerKeys {
    pub fn new(per_generation: usize) -> SignerKeys {
        SignerKeys {
            generations: Mutex::new([HashMap::new(), HashMap::new()]),
            per_generation: per_generation.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, [HashMap<[u8; 32], EdwardsPoint>; 2]> {
        // Nothing here can be left half-done by a panic: recover the map.
        self.generations.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        let g = self.lock();
        g[0].len() + g[1].len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get_all(&self, keys: &[[u8; 32]]) -> Vec<Option<EdwardsPoint>> {
        let g = self.lock();
        keys.iter()
            .map(|k| g[0].get(k).or_else(|| g[1].get(k)).copied())
            .collect()
    }

    fn keep(&self, fresh: &[([u8; 32], EdwardsPoint)]) {
        let mut g = self.lock();
        for (k, p) in fresh {
            if g[0].len() >= self.per_generation {
                let newer = std::mem::take(&mut g[0]);
                g[1] = newer;
            }
            g[0].insert(*k, *p);
        }
    }
}

/// Whether one batch equation holds over all `items` (true for none).
/// False if any key or `R` does not decompress or any `s` is not
/// canonical: the caller then finds the bad items one by one. Signer keys
/// come from `keys` where it holds them, and go into it when the batch
/// holds.
pub(super) fn holds<R: rand_core::RngCore + rand_core::CryptoRng>(
    items: &[(AccountId, &[u8], Signature)],
    mut rng: R,
    keys: Option<&SignerKeys>,
) -> bool {
    // Items of one signer share one decompression and one term.
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_unstable_by_key(|&i| items[i].0 .0);
    let mut signers: Vec<[u8; 32]> = order.iter().map(|&i| items[i].0 .0).collect();
    signers.dedup();
    let mut cached = keys.map_or_else(|| vec![None; signers.len()], |k| k.get_all(&signers));
    cached.reverse();
    let mut fresh = Vec::new();
    let mut scalars = Vec::with_capacity(2 * items.len() + 1);
    let mut points: Vec<EdwardsPoint> = Vec::with_capacity(2 * items.len() + 1);
    scalars.push(Scalar::ZERO);
    points.push(ED25519_BASEPOINT_POINT);
    let mut b_coeff = Scalar::ZERO;
    let mut next = 0;
    while next < order.len() {
        let key = items[order[next]].0;
        let a = match cached.pop().flatten() {
            Some(a) => a,
            None => {
                let Some(a) = CompressedEdwardsY(key.0).decompress() else {
                    return false;
                };
                fresh.push((key.0, a));
                a
            }
        };
        let mut a_coeff = Scalar::ZERO;
        while let Some((_, msg, sig)) = order
            .get(next)
            .map(|&i| &items[i])
            .filter(|item| item.0 == key)
        {
            let (r_bytes, s_bytes) = sig.0.split_at(32);
            let (Ok(r_bytes), Ok(s_bytes)) =
                (<[u8; 32]>::try_from(r_bytes), <[u8; 32]>::try_from(s_bytes))
            else {
                return false;
            };
            let Some(r) = CompressedEdwardsY(r_bytes).decompress() else {
                return false;
            };
            let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else {
                return false;
            };
            let k = Scalar::from_hash(
                Sha512::new()
                    .chain_update(r_bytes)
                    .chain_update(key.0)
                    .chain_update(msg),
            );
            let z = blinding(&mut rng);
            b_coeff -= z * s;
            a_coeff += z * k;
            scalars.push(z);
            points.push(r);
            next += 1;
        }
        scalars.push(a_coeff);
        points.push(a);
    }
    scalars[0] = b_coeff;
    let held = EdwardsPoint::vartime_multiscalar_mul(&scalars, &points)
        .mul_by_cofactor()
        .is_identity();
    if held {
        // Signers' keys that are not of small order are strong keys, so a
        // registering consumer's key is not decompressed again when its
        // block checks it.
        super::strong_keys::keep(
            fresh
                .iter()
                .filter(|(_, a)| !a.is_small_order())
                .map(|(k, _)| *k),
        );
    }
    if let (true, Some(keys)) = (held, keys) {
        keys.keep(&fresh);
    }
    held
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::crypto::{signing_message, Keypair, TX_SIGNATURE_TAG};
    use curve25519_dalek::constants::EIGHT_TORSION;

    /// What `ed25519-consensus` says of the same items, singly and batched.
    fn consensus_says(items: &[(AccountId, &[u8], Signature)]) -> (Vec<bool>, bool) {
        let single = items
            .iter()
            .map(|(a, m, s)| {
                ed25519_consensus::VerificationKey::try_from(a.0)
                    .and_then(|vk| vk.verify(&ed25519_consensus::Signature::from(s.0), m))
                    .is_ok()
            })
            .collect();
        let mut v = ed25519_consensus::batch::Verifier::new();
        for (a, m, s) in items {
            v.queue((
                ed25519_consensus::VerificationKeyBytes::from(a.0),
                ed25519_consensus::Signature::from(s.0),
                m,
            ));
        }
        (single, v.verify(rand::rngs::OsRng).is_ok())
    }

    /// Every encoding of every small-order point: canonical, with the sign
    /// bit flipped, and `y + p` where that still fits in 255 bits.
    fn small_order_encodings() -> Vec<[u8; 32]> {
        let mut out = Vec::new();
        for t in EIGHT_TORSION {
            let c = t.compress().to_bytes();
            for sign in [0u8, 0x80] {
                let mut e = c;
                e[31] = (e[31] & 0x7f) | sign;
                out.push(e);
                // y < 19: y + p = y + 2^255 - 19 is another encoding of y.
                let y_small = e[1..31].iter().all(|b| *b == 0) && e[31] & 0x7f == 0 && e[0] < 19;
                if y_small {
                    let mut n = [0xffu8; 32];
                    n[0] = 0xed_u8.wrapping_add(e[0]);
                    n[31] = 0x7f | sign;
                    out.push(n);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    #[test]
    fn small_order_and_non_canonical_points_get_the_rule_s_answer() {
        let encodings = small_order_encodings();
        // 10 distinct encodings with either sign bit, plus y + p for
        // y ∈ {0, 1} with either sign bit: ZIP-215's 14 cases.
        assert_eq!(encodings.len(), 14);
        let msg = b"Zcash".as_slice();
        let mut agreed = 0;
        for a in &encodings {
            for r in &encodings {
                for s_byte in [0u8, 1] {
                    let mut sig = [0u8; 64];
                    sig[..32].copy_from_slice(r);
                    sig[32] = s_byte;
                    let items = [(AccountId(*a), msg, Signature(sig))];
                    let (single, batched) = consensus_says(&items);
                    let ours = holds(&items, rand::rngs::OsRng, None);
                    assert_eq!(
                        ours,
                        single[0],
                        "A {} R {} s {s_byte}",
                        hex::encode(a),
                        hex::encode(r)
                    );
                    assert_eq!(
                        ours,
                        batched,
                        "A {} R {} s {s_byte}",
                        hex::encode(a),
                        hex::encode(r)
                    );
                    agreed += usize::from(ours);
                }
            }
        }
        // s = 0 over small-order A and R holds (cofactored rule); both
        // answers occur.
        assert!(agreed > 0 && agreed < encodings.len() * encodings.len() * 2);
        // Batches that held over small-order keys made none of them a
        // strong key, while a real signer's key is one.
        for a in &encodings {
            assert!(
                crate::crypto::is_weak_key(&AccountId(*a)),
                "{}",
                hex::encode(a)
            );
        }
        let real = Keypair::from_seed([77; 32]);
        let sig = ed25519_consensus::SigningKey::from(real.seed()).sign(msg);
        let items = [(real.account(), msg, Signature(sig.to_bytes()))];
        assert!(holds(&items, rand::rngs::OsRng, None));
        assert!(super::super::strong_keys::known(&real.account().0));
        assert!(!crate::crypto::is_weak_key(&real.account()));
    }

    #[test]
    fn batches_of_good_bad_and_repeated_signers_answer_as_the_rule_does() {
        let keys: Vec<Keypair> = (0..12u8).map(|i| Keypair::from_seed([i; 32])).collect();
        let msgs: Vec<Vec<u8>> = (0..40u32)
            .map(|i| signing_message(TX_SIGNATURE_TAG, b"chain", &i.to_le_bytes()))
            .collect();
        let good: Vec<(AccountId, &[u8], Signature)> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let k = &keys[i % keys.len()];
                let sig = Signature(
                    ed25519_consensus::SigningKey::from(k.seed())
                        .sign(m)
                        .to_bytes(),
                );
                (k.account(), m.as_slice(), sig)
            })
            .collect();
        assert!(holds(&good, rand::rngs::OsRng, None));
        assert!(holds(&[], rand::rngs::OsRng, None));
        // One change anywhere in one item breaks the equation.
        for (i, change) in [(0usize, 0usize), (17, 31), (39, 32), (5, 63)] {
            let mut bad = good.clone();
            bad[i].2 .0[change] ^= 1;
            let (single, batched) = consensus_says(&bad);
            assert!(!single[i] && !batched);
            assert!(
                !holds(&bad, rand::rngs::OsRng, None),
                "item {i} byte {change}"
            );
        }
        let mut wrong_signer = good.clone();
        wrong_signer[3].0 = keys[4].account();
        assert!(!holds(&wrong_signer, rand::rngs::OsRng, None));
        let other_msg = signing_message(TX_SIGNATURE_TAG, b"other chain", &3u32.to_le_bytes());
        let mut wrong_msg = good.clone();
        wrong_msg[3].1 = &other_msg;
        assert!(!holds(&wrong_msg, rand::rngs::OsRng, None));
        // A non-canonical s (s + ℓ) is refused, as the rule refuses it.
        let mut s_plus_l = good.clone();
        let sig = &mut s_plus_l[7].2 .0;
        let ell: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for (b, e) in sig[32..].iter_mut().zip(ell) {
            let v = u16::from(*b) + u16::from(e) + carry;
            *b = v as u8;
            carry = v >> 8;
        }
        let (single, batched) = consensus_says(&s_plus_l);
        assert!(!single[7] && !batched);
        assert!(!holds(&s_plus_l, rand::rngs::OsRng, None));
        // A key or R that is not a point at all: the batch fails, as the
        // rule refuses the item (a key it cannot read, or no R).
        let not_a_point = (0u8..=255)
            .map(|b| [b; 32])
            .find(|e| CompressedEdwardsY(*e).decompress().is_none())
            .unwrap();
        let mut garbage_key = good.clone();
        garbage_key[9].0 = AccountId(not_a_point);
        let mut garbage_r = good.clone();
        garbage_r[9].2 .0[..32].copy_from_slice(&not_a_point);
        for bad in [garbage_key, garbage_r] {
            let (single, batched) = consensus_says(&bad);
            assert!(!single[9] && !batched);
            assert!(!holds(&bad, rand::rngs::OsRng, None));
        }
        // Each good item also passes the rule's single check.
        assert!(consensus_says(&good).0.iter().all(|ok| *ok));
    }

    #[test]
    fn kept_keys_change_no_answer_stay_bounded_and_come_only_from_batches_that_held() {
        let keys: Vec<Keypair> = (0..10u8)
            .map(|i| Keypair::from_seed([i + 50; 32]))
            .collect();
        let msgs: Vec<Vec<u8>> = (0..30u32).map(|i| i.to_le_bytes().to_vec()).collect();
        let good: Vec<(AccountId, &[u8], Signature)> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let k = &keys[i % keys.len()];
                let sig = ed25519_consensus::SigningKey::from(k.seed()).sign(m);
                (k.account(), m.as_slice(), Signature(sig.to_bytes()))
            })
            .collect();
        let mut bad = good.clone();
        bad[11].2 .0[40] ^= 4;

        // A batch that fails keeps nothing.
        let cache = SignerKeys::new(4);
        assert!(!holds(&bad, rand::rngs::OsRng, Some(&cache)));
        assert!(cache.is_empty());
        // One that holds keeps its signers, at most two generations' worth.
        assert!(holds(&good, rand::rngs::OsRng, Some(&cache)));
        assert!((4..=8).contains(&cache.len()), "{}", cache.len());
        // With keys kept, every answer is still the rule's.
        for _ in 0..2 {
            assert!(holds(&good, rand::rngs::OsRng, Some(&cache)));
            assert!(!holds(&bad, rand::rngs::OsRng, Some(&cache)));
            let mut wrong_signer = good.clone();
            wrong_signer[2].0 = keys[3].account();
            assert!(!holds(&wrong_signer, rand::rngs::OsRng, Some(&cache)));
            let answers = crate::crypto::verify_batch_with(&bad, rand::rngs::OsRng, Some(&cache));
            let single = consensus_says(&bad).0;
            assert_eq!(
                answers.iter().map(|a| a.is_ok()).collect::<Vec<_>>(),
                single
            );
        }
        assert!(cache.len() <= 8);
    }
}
