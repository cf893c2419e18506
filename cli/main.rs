//! The `kubectl-pattern` binary: parse, run, report errors, exit.

fn main() -> std::process::ExitCode {
    kubectl_pattern::main()
}
