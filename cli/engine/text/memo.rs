//! A per-thread memo of work on pieces of new text (a scalar's quoting, a block's read-back)
//! that admits a piece on its second sighting: helper text that repeats in every document of a
//! stream is then answered from memory, while text met once (a plugin's configuration with the
//! workload's name in it) costs one hash, not a copy of the text and of its value. (`keep`
//! admits at once, for text that is asked for again right away.) Keys are hashed with foldhash:
//! they are whole blocks of text, and SipHash weighed on every document.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use foldhash::fast::RandomState;

/// Pieces kept before the memo starts again (the helpers of a run are far fewer).
const CAPACITY: usize = 1024;

/// Text already answered (`answers`), and hashes of text met once (`seen`).
pub(super) struct Memo<V> {
    answers: HashMap<String, V, RandomState>,
    seen: HashSet<u64, RandomState>,
    hasher: RandomState,
}

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Memo {
            answers: HashMap::default(),
            seen: HashSet::default(),
            hasher: RandomState::default(),
        }
    }
}

impl<V> Memo<V> {
    /// The answer kept for `text`.
    pub(super) fn get(&self, text: &str) -> Option<&V> {
        self.answers.get(text)
    }

    /// Keeps `answer()` for `text` when `text` was offered before; the first time, only its
    /// hash is noted (a hash collision only admits a piece early: answers are keyed by text).
    pub(super) fn offer(&mut self, text: &str, answer: impl FnOnce() -> V) {
        let hash = self.hasher.hash_one(text);
        if self.seen.len() >= CAPACITY {
            self.seen.clear();
        }
        if !self.seen.insert(hash) {
            self.keep(text, answer());
        }
    }

    /// Keeps `answer` for `text` now (for text that is looked up again right away).
    pub(super) fn keep(&mut self, text: &str, answer: V) {
        if self.answers.len() >= CAPACITY {
            self.answers.clear();
        }
        self.answers.insert(text.to_string(), answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_piece_is_kept_from_its_second_offer() {
        let mut memo = Memo::default();
        let mut made = 0;
        memo.offer("a: 1", || {
            made += 1;
            1
        });
        assert_eq!(memo.get("a: 1"), None);
        assert_eq!(made, 0, "the first offer makes no answer");
        memo.offer("a: 1", || {
            made += 1;
            1
        });
        assert_eq!(memo.get("a: 1"), Some(&1));
        assert_eq!(made, 1);
        assert_eq!(memo.get("a: 2"), None);
    }

    #[test]
    fn the_memo_stays_bounded() {
        let mut memo = Memo::default();
        for i in 0..3 * CAPACITY {
            let text = i.to_string();
            memo.offer(&text, || i);
            memo.offer(&text, || i);
        }
        assert!(memo.answers.len() <= CAPACITY && memo.seen.len() <= CAPACITY);
        let last = (3 * CAPACITY - 1).to_string();
        assert_eq!(memo.get(&last), Some(&(3 * CAPACITY - 1)));
    }
}
