//! The SDK's allocator (`plugins/sdk/src/arena.rs`) under random sequences of allocations,
//! frees and reallocations: what it hands out never overlaps, is aligned as asked, and keeps
//! its bytes. The file is compiled here, on the host, because the SDK vendors no test-only
//! crates.

// An allocator is unsafe code by nature; the rest of this crate denies it.
#[path = "../../plugins/sdk/src/arena.rs"]
#[allow(dead_code, unsafe_code)]
mod arena;

use std::alloc::{GlobalAlloc, Layout};

use arena::Arena;
use proptest::prelude::*;

fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("a valid layout")
}

#[derive(Debug, Clone)]
enum Op {
    Alloc(usize, usize),
    Free(usize),
    Realloc(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            1usize..3000,
            prop::sample::select(vec![1usize, 4, 8, 16, 32])
        )
            .prop_map(|(s, a)| Op::Alloc(s, a)),
        any::<prop::sample::Index>().prop_map(|i| Op::Free(i.index(usize::MAX))),
        (any::<prop::sample::Index>(), 1usize..3000)
            .prop_map(|(i, s)| Op::Realloc(i.index(usize::MAX), s)),
    ]
}

proptest! {
    /// Live blocks never overlap, are aligned as asked, and keep their bytes through any
    /// sequence of allocations, frees and reallocations.
    #[test]
    #[allow(unsafe_code)]
    fn live_blocks_stay_disjoint_and_intact(ops in prop::collection::vec(op(), 1..200)) {
        let arena = Arena::new();
        let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
        for (n, op) in ops.into_iter().enumerate() {
            let tag = n as u8;
            unsafe {
                match op {
                    Op::Alloc(size, align) => {
                        let l = layout(size, align);
                        let p = arena.alloc(l);
                        prop_assert!(!p.is_null() && (p as usize).is_multiple_of(align));
                        p.write_bytes(tag, size);
                        live.push((p, l, tag));
                    }
                    Op::Free(i) if !live.is_empty() => {
                        let (p, l, _) = live.swap_remove(i % live.len());
                        arena.dealloc(p, l);
                    }
                    Op::Realloc(i, size) if !live.is_empty() => {
                        let i = i % live.len();
                        let (p, l, old) = live[i];
                        let q = arena.realloc(p, l, size);
                        prop_assert!(!q.is_null() && (q as usize).is_multiple_of(l.align()));
                        let kept = l.size().min(size);
                        prop_assert!((0..kept).all(|k| *q.add(k) == old));
                        q.write_bytes(tag, size);
                        live[i] = (q, layout(size, l.align()), tag);
                    }
                    _ => {}
                }
                for &(p, l, t) in &live {
                    prop_assert!((0..l.size()).all(|k| *p.add(k) == t));
                }
                let mut spans: Vec<(usize, usize)> =
                    live.iter().map(|(p, l, _)| (*p as usize, *p as usize + l.size())).collect();
                spans.sort();
                prop_assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0));
            }
        }
        for (p, l, _) in live {
            unsafe { arena.dealloc(p, l) };
        }
    }
}
