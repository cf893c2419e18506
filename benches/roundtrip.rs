//! The benchmark's floor: a plain parse + emit round trip of a YAML stream with the tool's own
//! YAML module (every document parsed and re-emitted, no pattern logic, one thread).
//! Run as `ROUNDTRIP_INPUT=file cargo bench --bench roundtrip`; prints `roundtrip_seconds=…`
//! (the best of `ROUNDTRIP_RUNS` passes, 3 when unset).

use std::time::Instant;

use kubectl_pattern::engine::output::{Emit, OutputFormat, StreamWriter};
use kubectl_pattern::io::input::{self as stream, Input};

fn main() {
    let Some(path) = std::env::var_os("ROUNDTRIP_INPUT") else {
        eprintln!("roundtrip: set ROUNDTRIP_INPUT to a YAML stream; skipping");
        return;
    };
    let input = Input::File(path.into());
    let runs = match std::env::var("ROUNDTRIP_RUNS") {
        Ok(v) => match v.parse::<u32>() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("roundtrip: ROUNDTRIP_RUNS must be a positive whole number, not {v:?}");
                std::process::exit(2);
            }
        },
        Err(_) => 3,
    };
    let mut best = f64::MAX;
    let mut bytes = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let mut writer = StreamWriter::new(OutputFormat::Yaml);
        let docs = stream::read_input(&input).expect("readable input");
        for doc in docs {
            let doc = doc.expect("valid document");
            if doc.is_blank() {
                continue;
            }
            let value = doc.parse().expect("parsable document");
            // No `before` the text holds (null): the text editor declines and the document
            // is re-emitted whole, which is what this floor measures.
            let emit = Emit::Changed {
                before: serde_json::Value::Null,
                after: value,
                layout: None,
            };
            writer.push(&doc, emit).expect("emittable");
        }
        bytes = writer.finish().expect("in memory").len();
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!("roundtrip_bytes={bytes}");
    println!("roundtrip_seconds={best:.4}");
}
