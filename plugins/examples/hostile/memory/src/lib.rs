//! `hostile-memory`: a fixture for the host's sandbox tests; `render` allocates 16 MiB
//! after 16 MiB (and touches every page) until the host's memory limit stops it.

use kubectl_pattern_sdk::prelude::*;

const STEP: usize = 16 << 20;

struct HostileMemory;

impl Pattern for HostileMemory {
    type Params = Map<String, Value>;

    fn describe() -> PatternInfo {
        PatternInfo::new(
            "hostile-memory",
            PatternKind::Sidecar,
            "0.1.0",
            "Test fixture: render eats all memory",
        )
        .docs(
            "A sandbox test fixture: render grows its memory by 16 MiB steps forever.",
            "Testing the host's memory limit.",
            "Anything else.",
            "(none)",
        )
    }

    fn render(_req: Request) -> Result<Contribution, RenderError> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            let mut chunk = vec![0xA5u8; STEP];
            std::hint::black_box(&mut chunk);
            hoard.push(chunk);
            log::debug(&format!("hostile-memory: holding {} MiB", hoard.len() * 16));
            std::hint::black_box(&hoard);
        }
    }
}

export_pattern!(HostileMemory);
