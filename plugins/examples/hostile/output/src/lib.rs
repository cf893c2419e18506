//! `hostile-output`: a fixture for the host's sandbox tests; `render` returns a huge
//! contribution: a 64 MiB warning (mode `warning`) or 4096 containers of 16 KiB each
//! (mode `containers`), so the host must cap what it accepts.

use kubectl_pattern_sdk::prelude::*;

const WARNING_BYTES: usize = 64 << 20;
const CONTAINERS: usize = 4096;
const ARG_BYTES: usize = 16 << 10;

struct HostileOutput;

impl Pattern for HostileOutput {
    type Params = Map<String, Value>;

    fn describe() -> PatternInfo {
        PatternInfo::new(
            "hostile-output",
            PatternKind::Sidecar,
            "0.1.0",
            "Test fixture: render returns too much",
        )
        .docs(
            "A sandbox test fixture: render returns a 64 MiB warning or 4096 large containers.",
            "Testing the host's output limits.",
            "Anything else.",
            "(none)",
        )
        .param(
            Param::enumeration("mode", "What to flood.", ["warning", "containers"])
                .default("warning"),
        )
    }

    fn render(req: Request) -> Result<Contribution, RenderError> {
        let mut c = Contribution::new();
        if req.params().get("mode").and_then(Value::as_str) == Some("containers") {
            let filler = "x".repeat(ARG_BYTES);
            for i in 0..CONTAINERS {
                c.add_container(
                    ContainerBuilder::new(format!("flood-{i}"), "busybox:1.36")
                        .args(["echo", filler.as_str()]),
                );
            }
        } else {
            c.warn("W".repeat(WARNING_BYTES));
        }
        Ok(c)
    }
}

export_pattern!(HostileOutput);
