//! The wasmtime side: one engine per process (epoch interruption, bounded stack), a linker
//! with the host's log import and the sandbox's WASI (`sandbox`), and a fresh `Store` per call
//! from a pre-instantiated component, with deadline and memory limits mapped to typed errors.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter,
    Store, StoreLimits, StoreLimitsBuilder, Trap,
};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::sandbox::{self, HostDeadline};
use super::{Limits, WasmError};

pub use super::bindings::wit;
use super::bindings::{self, Instance, Pre, Version};

/// How often the epoch advances: the deadline's resolution.
const TICK: Duration = Duration::from_millis(10);
/// Guest stderr kept for error messages.
const STDERR_CAPACITY: usize = 64 << 10;
/// Log messages kept per call.
const LOG_LINES: usize = 64;

/// The process-wide engine; its epoch ticker starts with it.
pub fn engine() -> Result<&'static Engine, WasmError> {
    type Shared = Arc<dyn std::error::Error + Send + Sync>;
    static ENGINE: OnceLock<Result<Engine, Shared>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut config = Config::new();
            config.wasm_component_model(true);
            config.epoch_interruption(true);
            config.max_wasm_stack(1 << 20);
            // A fresh instance per object: the pooling allocator reuses memory slots instead
            // of mapping and unmapping linear memory for every call (which dominated the cost
            // of a render). The per-call limiter still enforces the memory cap.
            let mut pool = PoolingAllocationConfig::default();
            pool.total_component_instances(32)
                .total_core_instances(512)
                .total_memories(32)
                .total_tables(128)
                .max_core_instances_per_component(32)
                .max_memories_per_component(4)
                .max_tables_per_component(8)
                .table_elements(100_000)
                .max_memory_size(4 << 30)
                // Reset small memories with memset rather than madvise: no page faults and
                // no cross-core TLB shootdowns on every call.
                .linear_memory_keep_resident(8 << 20)
                .table_keep_resident(1 << 20)
                .pagemap_scan(Enabled::Auto)
                // Calls are synchronous: no fiber stacks. The default pool of 1,000 reserved
                // them at start-up, with an mprotect call for each guard page.
                .total_stacks(0);
            let mut pooled = config.clone();
            pooled.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
            // Fall back to on-demand allocation where the address space cannot be reserved.
            let engine = Engine::new(&pooled)
                .or_else(|_| Engine::new(&config))
                .map_err(|e| Shared::from(Box::<dyn std::error::Error + Send + Sync>::from(e)))?;
            let ticker = engine.clone();
            std::thread::Builder::new()
                .name("wasm-epoch".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(TICK);
                        ticker.increment_epoch();
                    }
                })
                .map_err(|e| Arc::new(e) as Shared)?;
            Ok(engine)
        })
        .as_ref()
        .map_err(|e| WasmError::Engine(e.clone()))
}

/// What the guest can reach: logging, and WASI with nothing granted.
pub struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: Limiter,
    log: Vec<String>,
    /// When the call must end: blocking WASI calls give up then (`sandbox`).
    pub(crate) deadline: Instant,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl State {
    /// The randomness of the WASI context (for the random interfaces).
    pub(crate) fn random(&mut self) -> &mut wasmtime_wasi::random::WasiRandomCtx {
        self.wasi.random()
    }

    /// The resource table (for the io interfaces).
    pub(crate) fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// Keeps a guest log message (the first `LOG_LINES`, each at most 4 KiB).
    pub(crate) fn push_log(&mut self, level: &str, mut message: String) {
        if self.log.len() < LOG_LINES {
            truncate_chars(&mut message, 4096);
            self.log.push(format!("{level}: {message}"));
        }
    }
}

/// Store limits that also remember whether memory growth was refused (such failures are not
/// traps, so they are recognised here).
struct Limiter {
    inner: StoreLimits,
    memory_refused: bool,
    /// Bytes of all linear memories together: the cap is for the plugin, not per memory.
    memory_used: usize,
    memory_cap: usize,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self
            .memory_used
            .saturating_sub(current)
            .saturating_add(desired);
        let allowed = if total > self.memory_cap {
            Ok(false)
        } else {
            self.inner.memory_growing(current, desired, maximum)
        };
        match allowed {
            Ok(true) => self.memory_used = total,
            _ => self.memory_refused = true,
        }
        allowed
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// A compiled plugin, ready to instantiate per call.
#[derive(Clone)]
pub struct Loaded {
    /// Where it came from (for messages).
    pub path: PathBuf,
    /// The contract it was built against.
    pub version: Version,
    pre: Arc<Pre>,
}

/// Links `component` (from `path`) against the sandbox. An import the sandbox does not
/// provide is named; any other mismatch means the component is not a pattern plugin.
pub fn link(path: &Path, component: &Component) -> Result<Loaded, WasmError> {
    let engine = engine()?;
    let imports: Vec<String> = component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    if let Some(import) = sandbox::unsupported(imports.iter().map(String::as_str)) {
        return Err(WasmError::UnsupportedImport {
            path: path.to_path_buf(),
            import: import.to_string(),
        });
    }
    let exports: Vec<String> = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let version =
        Version::of(exports.iter().map(String::as_str)).ok_or_else(|| WasmError::WrongWorld {
            path: path.to_path_buf(),
            exports: if exports.is_empty() {
                "nothing".into()
            } else {
                exports.join(", ")
            },
            source: None,
        })?;
    let mut linker = Linker::<State>::new(engine);
    let link_err = |e: wasmtime::Error| WasmError::Link {
        plugin: path.display().to_string(),
        source: e.into(),
    };
    bindings::add_host(&mut linker).map_err(link_err)?;
    sandbox::add_to_linker(&mut linker, component).map_err(link_err)?;
    let pre = Pre::new(&linker, component, version).map_err(|e| WasmError::WrongWorld {
        path: path.to_path_buf(),
        exports: exports.join(", "),
        source: Some(e.into()),
    })?;
    Ok(Loaded {
        path: path.to_path_buf(),
        version,
        pre: Arc::new(pre),
    })
}

/// The outcome of one guest call, with the log lines it wrote.
pub struct Call<T> {
    /// What the guest returned.
    pub value: T,
    /// Its log messages.
    pub log: Vec<String>,
    /// Bytes of linear memory the guest grew during the call, beyond what its instance
    /// started with: 0 when the heap the component starts with was enough
    /// (`plugins/sdk/plugin-build.rs` says why that matters).
    pub grown: usize,
}

impl Loaded {
    /// Runs `f` against a fresh instance in a fresh store under `limits`.
    pub fn call<T>(
        &self,
        plugin: &str,
        limits: &Limits,
        f: impl FnOnce(&Instance, &mut Store<State>) -> wasmtime::Result<T>,
    ) -> Result<Call<T>, WasmError> {
        let engine = self.pre.engine();
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let wasi = WasiCtxBuilder::new().stderr(stderr.clone()).build();
        let inner = StoreLimitsBuilder::new()
            .memory_size(limits.memory)
            .instances(64)
            .tables(16)
            .memories(4)
            .table_elements(100_000)
            .trap_on_grow_failure(true)
            .build();
        let state = State {
            wasi,
            table: ResourceTable::new(),
            limits: Limiter {
                inner,
                memory_refused: false,
                memory_used: 0,
                memory_cap: limits.memory,
            },
            log: Vec::new(),
            deadline: Instant::now() + limits.timeout,
        };
        let mut store = Store::new(engine, state);
        store.limiter(|s| &mut s.limits);
        let ticks = (limits.timeout.as_millis() / TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        // Epoch interruption stops the guest's own code at the deadline; a guest blocked in a
        // host call (a WASI sleep or poll) is stopped there by the sandbox's bounded poll.
        let result = self.pre.instantiate(&mut store).and_then(|instance| {
            let started = store.data().limits.memory_used;
            let value = f(&instance, &mut store)?;
            Ok((
                value,
                store.data().limits.memory_used.saturating_sub(started),
            ))
        });
        let log = std::mem::take(&mut store.data_mut().log);
        match result {
            Ok((value, grown)) => Ok(Call { value, log, grown }),
            Err(e) => {
                let context = guest_context(&stderr, &log);
                let plugin = plugin.to_string();
                if store.data().limits.memory_refused {
                    return Err(WasmError::MemoryLimit {
                        plugin,
                        limit_mib: (limits.memory >> 20) as u64,
                        stderr: context,
                    });
                }
                let blocked = e.downcast_ref::<HostDeadline>().is_some();
                match e.downcast_ref::<Trap>() {
                    _ if blocked => Err(WasmError::Deadline {
                        plugin,
                        seconds: limits.timeout.as_secs_f64(),
                        stderr: context,
                    }),
                    Some(Trap::Interrupt) => Err(WasmError::Deadline {
                        plugin,
                        seconds: limits.timeout.as_secs_f64(),
                        stderr: context,
                    }),
                    Some(trap) => Err(WasmError::Trap {
                        plugin,
                        cause: Box::new(*trap),
                        stderr: context,
                    }),
                    // A host error (a stubbed import called…): its own message, not the
                    // backtrace wasmtime wraps it in.
                    None => Err(WasmError::Trap {
                        plugin,
                        cause: e.root_cause().to_string().into(),
                        stderr: context,
                    }),
                }
            }
        }
    }
}

/// Shortens `s` to at most `max` bytes, on a character boundary.
fn truncate_chars(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

/// The guest's stderr and log, for an error message ("" when both are empty).
fn guest_context(stderr: &MemoryOutputPipe, log: &[String]) -> String {
    let bytes = stderr.contents();
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    lines.extend(log.iter().cloned());
    let keep = lines.len().saturating_sub(12);
    if lines.is_empty() {
        String::new()
    } else {
        format!("\n  plugin output:\n    {}", lines[keep..].join("\n    "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_cap_covers_all_memories_together() {
        let cap = 100 << 20;
        let inner = StoreLimitsBuilder::new().memory_size(cap).build();
        let mut limiter = Limiter {
            inner,
            memory_refused: false,
            memory_used: 0,
            memory_cap: cap,
        };
        assert!(limiter.memory_growing(0, 60 << 20, None).unwrap());
        assert!(
            !limiter.memory_growing(0, 60 << 20, None).unwrap(),
            "a second memory may not take the total past the cap"
        );
        assert!(limiter.memory_refused);
        assert!(
            limiter.memory_growing(60 << 20, 90 << 20, None).unwrap(),
            "growing the first within the cap is fine"
        );
    }

    #[test]
    fn truncation_respects_characters() {
        let mut s = "日".repeat(2000);
        truncate_chars(&mut s, 4096);
        assert!(s.len() <= 4096 && s.chars().all(|c| c == '日'));
    }
}
