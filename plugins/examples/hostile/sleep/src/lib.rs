//! `hostile-sleep`: a fixture for the host's sandbox tests; `render` sleeps in a WASI host
//! call (monotonic-clock subscribe + poll block), which epoch interruption cannot stop, so
//! the host's watchdog must.

use kubectl_pattern_sdk::prelude::*;

struct HostileSleep;

impl Pattern for HostileSleep {
    type Params = Map<String, Value>;

    fn describe() -> PatternInfo {
        PatternInfo::new(
            "hostile-sleep",
            PatternKind::Sidecar,
            "0.1.0",
            "Test fixture: render sleeps for an hour",
        )
        .docs(
            "A sandbox test fixture: render blocks in a host sleep.",
            "Testing that a call blocked in the host stops at the deadline.",
            "Anything else.",
            "(none)",
        )
    }

    fn render(_req: Request) -> Result<Contribution, RenderError> {
        log::info("hostile-sleep: sleeping in the host");
        std::thread::sleep(std::time::Duration::from_secs(3600));
        Err(RenderError::Failed("woke up".into()))
    }
}

export_pattern!(HostileSleep);
