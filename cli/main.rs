//! The `kubectl-pattern` binary: parse, run, report errors, exit.

// The static linux release binaries link musl, whose allocator made the multi-threaded stream
// 2.3x slower than with glibc (1.1 s of system time on 10,000 Deployments; BENCHMARKS.md,
// "Release binaries"). mimalloc brings them back to glibc's speed; on glibc it also does less
// work than glibc's own allocator (callgrind, `add log-shipper` on 1,000 Deployments: 1,165 M
// -> 874 M instructions). Every linux build uses it, so the binary that `scripts/bench`
// measures allocates like the released ones.
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kubectl_pattern::main()
}
