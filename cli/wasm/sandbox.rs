//! What the sandbox links for a guest: the harmless WASI 0.2 interfaces (an empty
//! environment, stdio to bounded memory pipes, clocks, random, exit, and a filesystem with
//! no preopened directory) from wasmtime-wasi over an empty context, with `wasi:io/poll`'s
//! blocking calls bounded by the call's deadline; `wasi:sockets` as in-house empty stubs
//! that trap when called (so guests whose libc imports them still instantiate); and nothing
//! else: any other import is refused by name before the plugin runs.

use std::time::Instant;

use wasmtime::component::{Component, Linker, Resource};
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::io::poll::{Host as _, HostPollable as _};
use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random, sync};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable};
use wasmtime_wasi::random::WasiRandom;

use super::runtime::State;

/// Interfaces (without their `@version`) the sandbox implements.
const LINKED: [&str; 19] = [
    "kubectl-pattern:plugin/types",
    "kubectl-pattern:plugin/host",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
];

/// Randomness: harmless, and what language runtimes seed their hash maps with.
const RANDOM: [&str; 3] = [
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];

/// Interfaces imported by common libcs (wasi-libc, CPython) that the sandbox stubs: every
/// function traps, naming itself.
const STUBBED: [&str; 7] = [
    "wasi:sockets/network",
    "wasi:sockets/instance-network",
    "wasi:sockets/tcp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/udp",
    "wasi:sockets/udp-create-socket",
    "wasi:sockets/ip-name-lookup",
];

/// The `wasi:io/poll` instance wasmtime-wasi defines (its WIT's version); guests importing
/// an older 0.2 version are linked to it by semver.
const POLL: &str = "wasi:io/poll@0.2.12";

/// The first import of `names` the sandbox neither implements nor stubs, if any.
pub fn unsupported<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    names.into_iter().find(|name| {
        let interface = name.split('@').next().unwrap_or(name);
        !LINKED.contains(&interface)
            && !RANDOM.contains(&interface)
            && !STUBBED.contains(&interface)
    })
}

/// A blocking WASI call (a sleep, a poll) that reached the call's deadline.
#[derive(Debug)]
pub struct HostDeadline;

impl std::fmt::Display for HostDeadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a blocking WASI call reached the plugin's deadline")
    }
}

impl std::error::Error for HostDeadline {}

/// Runs a blocking host future until it completes or `deadline` passes.
fn bounded<T>(
    deadline: Instant,
    f: impl std::future::Future<Output = wasmtime::Result<T>>,
) -> wasmtime::Result<T> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    wasmtime_wasi::runtime::in_tokio(async { tokio::time::timeout(remaining, f).await })
        .unwrap_or_else(|_elapsed| Err(wasmtime::Error::new(HostDeadline)))
}

/// Links the WASI part of the sandbox, and stubs the sockets `component` imports.
pub fn add_to_linker(linker: &mut Linker<State>, component: &Component) -> wasmtime::Result<()> {
    let l = linker;
    clocks::wall_clock::add_to_linker::<State, WasiClocks>(l, State::clocks)?;
    clocks::monotonic_clock::add_to_linker::<State, WasiClocks>(l, State::clocks)?;
    random::random::add_to_linker::<State, WasiRandom>(l, State::random)?;
    random::insecure::add_to_linker::<State, WasiRandom>(l, State::random)?;
    random::insecure_seed::add_to_linker::<State, WasiRandom>(l, State::random)?;
    cli::exit::add_to_linker::<State, WasiCli>(l, State::cli)?;
    cli::environment::add_to_linker::<State, WasiCli>(l, State::cli)?;
    cli::stdin::add_to_linker::<State, WasiCli>(l, State::cli)?;
    cli::stdout::add_to_linker::<State, WasiCli>(l, State::cli)?;
    cli::stderr::add_to_linker::<State, WasiCli>(l, State::cli)?;
    cli::terminal_input::add_to_linker::<State, WasiCli>(l, State::cli)?;
    cli::terminal_output::add_to_linker::<State, WasiCli>(l, State::cli)?;
    cli::terminal_stdin::add_to_linker::<State, WasiCli>(l, State::cli)?;
    cli::terminal_stdout::add_to_linker::<State, WasiCli>(l, State::cli)?;
    cli::terminal_stderr::add_to_linker::<State, WasiCli>(l, State::cli)?;
    filesystem::preopens::add_to_linker::<State, WasiFilesystem>(l, State::filesystem)?;
    sync::filesystem::types::add_to_linker::<State, WasiFilesystem>(l, State::filesystem)?;
    wasmtime_wasi::p2::bindings::io::error::add_to_linker::<State, Table>(l, State::table)?;
    sync::io::streams::add_to_linker::<State, Table>(l, State::table)?;
    sync::io::poll::add_to_linker::<State, Table>(l, State::table)?;
    // The two calls that wait: replaced by versions that give up at the call's deadline.
    l.allow_shadowing(true);
    let mut poll = l.instance(POLL)?;
    poll.func_wrap(
        "poll",
        |mut store, (pollables,): (Vec<Resource<DynPollable>>,)| {
            let deadline = store.data().deadline;
            let table = store.data_mut().table();
            bounded(deadline, table.poll(pollables)).map(|ready| (ready,))
        },
    )?;
    poll.func_wrap(
        "[method]pollable.block",
        |mut store, (pollable,): (Resource<DynPollable>,)| {
            let deadline = store.data().deadline;
            let table = store.data_mut().table();
            bounded(deadline, table.block(pollable))
        },
    )?;
    l.allow_shadowing(false);
    stub_sockets(l, component)
}

/// Defines the sockets interfaces `component` imports, at the version it imports: each
/// function traps naming itself, each resource is an empty host type (never created).
fn stub_sockets(linker: &mut Linker<State>, component: &Component) -> wasmtime::Result<()> {
    use wasmtime::component::ResourceType;
    use wasmtime::component::types::ComponentItem;
    let engine = linker.engine().clone();
    for (name, item) in component.component_type().imports(&engine) {
        let interface = name.split('@').next().unwrap_or(name);
        let ComponentItem::ComponentInstance(instance) = item.ty else {
            continue;
        };
        if !STUBBED.contains(&interface) {
            continue;
        }
        let mut stub = linker.instance(name)?;
        for (export, item) in instance.exports(&engine) {
            match item.ty {
                ComponentItem::ComponentFunc(_) => {
                    let what = format!("{name}#{export}");
                    stub.func_new(export, move |_, _, _, _| {
                        Err(wasmtime::format_err!(
                            "it called {what}: the sandbox has no network"
                        ))
                    })?;
                }
                // wasi:io's resources, which the sockets interfaces use: the real ones.
                ComponentItem::Resource(_) if export == "pollable" => {
                    stub.resource(export, ResourceType::host::<DynPollable>(), |mut s, rep| {
                        s.data_mut()
                            .table()
                            .delete(Resource::<DynPollable>::new_own(rep))?;
                        Ok(())
                    })?;
                }
                ComponentItem::Resource(_) if export == "input-stream" => {
                    stub.resource(
                        export,
                        ResourceType::host::<DynInputStream>(),
                        |mut s, rep| {
                            s.data_mut()
                                .table()
                                .delete(Resource::<DynInputStream>::new_own(rep))?;
                            Ok(())
                        },
                    )?;
                }
                ComponentItem::Resource(_) if export == "output-stream" => {
                    stub.resource(
                        export,
                        ResourceType::host::<DynOutputStream>(),
                        |mut s, rep| {
                            s.data_mut()
                                .table()
                                .delete(Resource::<DynOutputStream>::new_own(rep))?;
                            Ok(())
                        },
                    )?;
                }
                // The sockets' own resources: never created, as every constructor traps.
                ComponentItem::Resource(_) => {
                    stub.resource(export, ResourceType::host::<()>(), |_, _| Ok(()))?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The resource table, as wasmtime-wasi's io bindings want it.
struct Table;

impl wasmtime::component::HasData for Table {
    type Data<'a> = &'a mut wasmtime::component::ResourceTable;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_outside_the_sandbox_are_named() {
        let python_like = [
            "wasi:io/poll@0.2.9",
            "wasi:filesystem/preopens@0.2.9",
            "wasi:sockets/tcp@0.2.9",
            "wasi:random/random@0.2.9",
            "kubectl-pattern:plugin/host@0.2.0",
        ];
        assert_eq!(unsupported(python_like), None);
        assert_eq!(
            unsupported(["wasi:io/poll@0.2.6", "wasi:http/outgoing-handler@0.2.0"]),
            Some("wasi:http/outgoing-handler@0.2.0")
        );
        assert_eq!(
            unsupported(["wasi:keyvalue/store@0.2.0-draft"]),
            Some("wasi:keyvalue/store@0.2.0-draft")
        );
    }
}
