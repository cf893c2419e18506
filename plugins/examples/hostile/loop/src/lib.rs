//! `hostile-loop`: a fixture for the host's sandbox tests; `render` spins forever, so the
//! host must interrupt it (fuel or epoch deadline).

use kubectl_pattern_sdk::prelude::*;

struct HostileLoop;

impl Pattern for HostileLoop {
    type Params = Map<String, Value>;

    fn describe() -> PatternInfo {
        PatternInfo::new(
            "hostile-loop",
            PatternKind::Sidecar,
            "0.1.0",
            "Test fixture: render never returns",
        )
        .docs(
            "A sandbox test fixture: render loops forever.",
            "Testing the host's render deadline.",
            "Anything else.",
            "(none)",
        )
    }

    fn render(_req: Request) -> Result<Contribution, RenderError> {
        log::info("hostile-loop: entering an endless loop");
        let mut counter: u64 = 0;
        loop {
            counter = std::hint::black_box(counter.wrapping_add(1));
        }
    }
}

export_pattern!(HostileLoop);
