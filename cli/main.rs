//! The `kubectl-pattern` binary: parse, run, report errors, exit.

// The static linux release binaries link musl, whose allocator made the multi-threaded stream
// 2.3x slower than with glibc (1.1 s of system time on 10,000 Deployments; BENCHMARKS.md,
// "Release binaries"). mimalloc brings them back to glibc's speed.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kubectl_pattern::main()
}
