//! `hostile-panic`: a fixture for the host's sandbox tests; `render` panics with a
//! recognisable message, which the SDK's panic hook sends to the host's log before the trap.

use kubectl_pattern_sdk::prelude::*;

/// The text the host's test looks for.
pub const MARKER: &str = "hostile-panic: deliberate panic KP-PANIC-4711";

struct HostilePanic;

impl Pattern for HostilePanic {
    type Params = Map<String, Value>;

    fn describe() -> PatternInfo {
        PatternInfo::new(
            "hostile-panic",
            PatternKind::Sidecar,
            "0.1.0",
            "Test fixture: render panics",
        )
        .docs(
            "A sandbox test fixture: render panics with a known message.",
            "Testing that the host shows a plugin's panic message.",
            "Anything else.",
            "(none)",
        )
    }

    fn render(req: Request) -> Result<Contribution, RenderError> {
        panic!("{MARKER} (instance {})", req.instance());
    }
}

export_pattern!(HostilePanic);
