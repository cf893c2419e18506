//! Live mode against a mocked API server: `add log-shipper deploy -l app=web` over 500
//! Deployments, for several `--concurrency` values. The server answers the LIST at once and each
//! apply after a fixed latency, serving requests concurrently, and counts the requests it has
//! open at once. Prints a Markdown table of total time, requests per second and that peak, and
//! fails if the peak differs from the concurrency.
//! Run as `cargo bench --bench live` (LIVE_BENCH_OBJECTS / LIVE_BENCH_LATENCY_MS to vary).

#[path = "../tests/it/apiserver/mod.rs"]
mod apiserver;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kubectl_pattern::cluster::live::{self, InFlight, LiveOptions, Scope, Selection};
use kubectl_pattern::cluster::resource::Resource;
use serde_json::Value;

const CONCURRENCY: [usize; 3] = [1, 8, 32];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Requests the server has open now and at most.
#[derive(Default)]
struct Open {
    now: AtomicUsize,
    peak: AtomicUsize,
    served: AtomicUsize,
}

impl Open {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
        self.served.fetch_add(1, Ordering::SeqCst);
    }
}

/// Serves the list at once and every apply after `latency`, each request in its own task.
async fn serve(
    mut handle: apiserver::Handle,
    items: Arc<Vec<Value>>,
    latency: Duration,
    open: Arc<Open>,
) {
    let listed = Arc::new(apiserver::list(
        "DeploymentList",
        "apps/v1",
        "9000",
        items.to_vec(),
    ));
    while let Some((request, reply)) = handle.next_request().await {
        open.enter();
        let (items, open, listed) = (items.clone(), open.clone(), listed.clone());
        tokio::spawn(async move {
            let (parts, body) = request.into_parts();
            let bytes = body.collect_bytes().await.expect("request body");
            let answer = match parts.method.as_str() {
                "GET" => Value::clone(&listed),
                "PATCH" => {
                    tokio::time::sleep(latency).await;
                    let config: Value = serde_json::from_slice(&bytes).expect("JSON apply");
                    let name = config["metadata"]["name"].as_str().unwrap_or_default();
                    let index: usize = name.trim_start_matches("web-").parse().expect("web-N");
                    apiserver::applied(&items[index], &config, "kubectl-pattern", "9001")
                }
                other => panic!("unexpected {other} {}", parts.uri),
            };
            open.leave();
            apiserver::reply(reply, 200, &answer);
        });
    }
}

struct Measure {
    seconds: f64,
    requests: usize,
    server_peak: usize,
    client_peak: usize,
}

async fn once(items: Arc<Vec<Value>>, concurrency: usize, latency: Duration) -> Measure {
    let (conn, handle) = apiserver::connect();
    let open = Arc::new(Open::default());
    let server = tokio::spawn(serve(handle, items.clone(), latency, open.clone()));
    let action = Arc::new(apiserver::add_action(&[("log-shipper", &[])]));
    let opts = LiveOptions {
        concurrency,
        ..LiveOptions::default()
    };
    let selection = Selection::Listed {
        types: vec![Resource::Deployment],
        selector: Some("app=web".into()),
    };
    let in_flight = Arc::new(InFlight::default());
    let start = Instant::now();
    let targets = live::resolve(&conn, &selection, &Scope::Namespace("shop".into()))
        .await
        .expect("listed");
    assert_eq!(targets.len(), items.len());
    let results = live::run(&conn, targets, action, &opts, true, in_flight.clone()).await;
    let seconds = start.elapsed().as_secs_f64();
    drop(conn);
    server.await.expect("the server ends with the client");
    let failed = results.iter().filter(|r| r.is_err()).count();
    assert_eq!(failed, 0, "every object is patched");
    assert!(results.iter().all(|r| r.as_ref().is_ok_and(|o| o.written)));
    Measure {
        seconds,
        requests: open.served.load(Ordering::SeqCst),
        server_peak: open.peak.load(Ordering::SeqCst),
        client_peak: in_flight.peak.load(Ordering::SeqCst),
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this as a quick check of
    // the same properties (every object patched, peak = concurrency) on a small fleet with a
    // latency long enough for an unoptimised build.
    let bench = std::env::args().any(|a| a == "--bench");
    let (objects, latency_ms, concurrency): (u64, u64, &[usize]) = if bench {
        (500, 5, &CONCURRENCY)
    } else {
        (24, 50, &[1, 4])
    };
    let objects = env_number("LIVE_BENCH_OBJECTS", objects) as usize;
    let latency = Duration::from_millis(env_number("LIVE_BENCH_LATENCY_MS", latency_ms));
    let items: Arc<Vec<Value>> = Arc::new(
        (0..objects)
            .map(|i| apiserver::deployment("shop", &format!("web-{i}"), &format!("{}", 100 + i)))
            .map(|mut d| {
                d["metadata"]["labels"]["app"] = "web".into();
                d
            })
            .collect(),
    );
    let runs = if bench { 3 } else { 1 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    println!(
        "live mode, mocked API server: 1 LIST + {objects} applies, each apply answered after {} ms; best of {runs} runs\n",
        latency.as_millis()
    );
    println!(
        "| --concurrency | requests | total time (s) | requests/s | peak in flight (server) |"
    );
    println!("|---:|---:|---:|---:|---:|");
    let mut mismatches = Vec::new();
    for &concurrency in concurrency {
        let mut best: Option<Measure> = None;
        for _ in 0..runs {
            let m = runtime.block_on(once(items.clone(), concurrency, latency));
            if m.server_peak != concurrency || m.client_peak != concurrency {
                mismatches.push(format!(
                    "--concurrency {concurrency}: server saw {} in flight, client ran {}",
                    m.server_peak, m.client_peak
                ));
            }
            if best.as_ref().is_none_or(|b| m.seconds < b.seconds) {
                best = Some(m);
            }
        }
        let m = best.expect("at least one run");
        println!(
            "| {concurrency} | {} | {:.3} | {:.0} | {} |",
            m.requests,
            m.seconds,
            m.requests as f64 / m.seconds,
            m.server_peak
        );
    }
    if !mismatches.is_empty() {
        eprintln!(
            "peak in flight differs from --concurrency (is the latency too short for requests to overlap?):\n  {}",
            mismatches.join("\n  ")
        );
        std::process::exit(1);
    }
    println!("\npeak in flight equals --concurrency in every run");
}
