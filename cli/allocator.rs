//! The allocator of every linux build (only compiled there): mimalloc, committing on demand.
//!
//! Why mimalloc: the static (musl) release binaries were 2.3x slower on the 10,000-Deployment
//! stream with musl's allocator, and on glibc builds glibc's allocator did a quarter of the
//! stream's instructions (callgrind, `add log-shipper` on 1,000 Deployments: 1,165 M with glibc,
//! 874 M with mimalloc). BENCHMARKS.md has the runs.
//!
//! Why the option: by default mimalloc commits a whole arena up front on linux and keeps what
//! it touched resident; the stream's peak RSS went from 10 MiB (glibc) to 27 MiB. Committing on
//! demand keeps it near glibc's for the same speed. The first arena is reserved by the first
//! allocation, before `main`, so the option is set from a constructor (`.init_array`), which
//! the loader runs before the Rust runtime starts.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs [`configure`] before anything allocates.
#[allow(unsafe_code)]
#[used]
#[unsafe(link_section = ".init_array")]
static CONFIGURE_AT_LOAD: extern "C" fn() = configure;

/// `mi_option_arena_eager_commit` in mimalloc.h (the same index in mimalloc 2 and 3).
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Commits arenas on demand, unless `MIMALLOC_ARENA_EAGER_COMMIT` says otherwise. Runs at load
/// (see the module docs).
#[allow(unsafe_code)]
extern "C" fn configure() {
    if std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_none() {
        // SAFETY: mi_option_set stores a plain integer in mimalloc's option table (it takes
        // no pointers and needs no initialisation first); mimalloc reads it when reserving an
        // arena.
        unsafe { libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The constructor ran before the tests' `main` (a linker that dropped the `.init_array`
    /// entry would leave mimalloc's default, 2: eager on linux). Run without
    /// `MIMALLOC_ARENA_EAGER_COMMIT` in the environment, as CI does.
    #[test]
    #[allow(unsafe_code)]
    fn arenas_are_committed_on_demand_from_load() {
        // SAFETY: reads one integer from mimalloc's option table.
        let value = unsafe { libmimalloc_sys::mi_option_get(ARENA_EAGER_COMMIT) };
        assert_eq!(value, 0);
    }
}
