//! Merging sorted inputs, the newest value of each key winning: the state
//! and index runs when a level fills (`runs.rs`), and the persister's
//! unpersisted blocks when it writes a checkpoint (`persister.rs`).
//!
//! The inputs meet in a tournament: each inner node of a complete binary
//! tree over them holds the winner of its two children (the least key; on a
//! tie the newer input, which has the lower index), so the root is the next
//! entry. When the winner moves on, only its path to the root is played
//! again: log2(inputs) key comparisons per entry. A scan of every input's
//! key for the least, and another for the older inputs holding the same
//! key, cost about twice the number of inputs; a sorted map built from all
//! of them, about log2(entries) comparisons per entry and an allocation.

/// One sorted input: its next key, if it has one left. Keys are strictly
/// ascending within an input.
pub(crate) trait Contender {
    fn head(&self) -> Option<&[u8]>;
}

/// The winners' tree: `nodes[1]` is the root, node `j`'s children are `2j`
/// and `2j + 1`, and input `i` is leaf `width + i`.
pub(crate) struct Tournament {
    nodes: Vec<usize>,
    width: usize,
}

impl Tournament {
    /// The tree over `inputs` (newest first); `None` when there are none.
    pub(crate) fn new<C: Contender>(inputs: &[C]) -> Option<Tournament> {
        let last = inputs.len().checked_sub(1)?;
        let width = inputs.len().next_power_of_two();
        // Leaves past the inputs repeat the last input: it meets itself, and
        // a tie goes to the lower index, so they change no result.
        let mut nodes = vec![0; 2 * width];
        for (i, leaf) in nodes[width..].iter_mut().enumerate() {
            *leaf = i.min(last);
        }
        for j in (1..width).rev() {
            nodes[j] = play(nodes[2 * j], nodes[2 * j + 1], inputs);
        }
        Some(Tournament { nodes, width })
    }

    /// The input holding the next entry, if any input has one left.
    pub(crate) fn winner<C: Contender>(&self, inputs: &[C]) -> Option<usize> {
        let w = self.nodes[1];
        inputs[w].head().is_some().then_some(w)
    }

    /// Plays input `i`'s path to the root again after it moved on.
    pub(crate) fn replay<C: Contender>(&mut self, i: usize, inputs: &[C]) {
        let mut j = (self.width + i) / 2;
        while j >= 1 {
            self.nodes[j] = play(self.nodes[2 * j], self.nodes[2 * j + 1], inputs);
            j /= 2;
        }
    }
}

/// The winner of `a` and `b`: an input with entries left over one without,
/// the least key, and on a tie the newer (lower) input.
fn play<C: Contender>(a: usize, b: usize, inputs: &[C]) -> usize {
    match (inputs[a].head(), inputs[b].head()) {
        (Some(_), None) => a,
        (None, Some(_)) => b,
        (None, None) => a.min(b),
        (Some(ka), Some(kb)) => match ka.cmp(kb) {
            std::cmp::Ordering::Less => a,
            std::cmp::Ordering::Greater => b,
            std::cmp::Ordering::Equal => a.min(b),
        },
    }
}

/// A sorted map's entries as an input.
pub(crate) struct MapInput<'a, V> {
    rest: std::collections::btree_map::Iter<'a, Vec<u8>, V>,
    next: Option<(&'a Vec<u8>, &'a V)>,
}

impl<'a, V> MapInput<'a, V> {
    pub(crate) fn new(map: &'a std::collections::BTreeMap<Vec<u8>, V>) -> MapInput<'a, V> {
        let mut rest = map.iter();
        let next = rest.next();
        MapInput { rest, next }
    }
}

impl<V> Contender for MapInput<'_, V> {
    fn head(&self) -> Option<&[u8]> {
        self.next.map(|(k, _)| k.as_slice())
    }
}

/// Every key of `maps` (newest first) once, in key order, with the value
/// of the newest map that holds it.
pub(crate) fn merge_maps<'a, V>(
    maps: impl IntoIterator<Item = &'a std::collections::BTreeMap<Vec<u8>, V>>,
) -> Vec<(&'a Vec<u8>, &'a V)> {
    let mut inputs: Vec<MapInput<'a, V>> = maps.into_iter().map(MapInput::new).collect();
    let mut out: Vec<(&'a Vec<u8>, &'a V)> =
        Vec::with_capacity(inputs.iter().map(|m| m.rest.len() + 1).max().unwrap_or(0));
    let Some(mut tree) = Tournament::new(&inputs) else {
        return out;
    };
    while let Some(w) = tree.winner(&inputs) {
        let input = &mut inputs[w];
        if let Some((k, v)) = input.next {
            if out.last().is_none_or(|(last, _)| *last != k) {
                out.push((k, v));
            }
        }
        input.next = input.rest.next();
        tree.replay(w, &inputs);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::collections::BTreeMap;

    use super::*;

    proptest::proptest! {
        /// Up to 19 maps (counts that are and are not powers of two, empty
        /// maps among them) give every key once, in order, with the newest
        /// map's value.
        #[test]
        fn maps_merge_to_each_key_once_with_its_newest_value(
            maps in proptest::collection::vec(
                proptest::collection::btree_map(
                    proptest::collection::vec(0u8..4, 0..4),
                    proptest::num::u16::ANY,
                    0..40,
                ),
                0..20,
            )
        ) {
            // Newest first: the model lets later (older) maps fill gaps only.
            let mut want = BTreeMap::new();
            for m in &maps {
                for (k, v) in m {
                    want.entry(k.clone()).or_insert(*v);
                }
            }
            let got: Vec<(Vec<u8>, u16)> = merge_maps(&maps)
                .into_iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect();
            proptest::prop_assert_eq!(got, want.into_iter().collect::<Vec<_>>());
        }
    }
}
