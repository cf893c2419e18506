//! The HTTP side of the plugin host: one current-thread tokio runtime per command, rustls with
//! the ring provider, and `plugin install https://…` downloads (no `curl` shell-out).

use std::future::Future;
use std::sync::Once;
use std::time::Duration;

/// The whole download of an `https` plugin may take this long (as the `curl` it replaces).
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);
/// Refuse plugins bigger than this: a pattern plugin is a few hundred KiB.
pub const MAX_PLUGIN_BYTES: u64 = 64 << 20;

/// Makes ring rustls' process-wide crypto provider (reqwest is built without one, so that no
/// aws-lc or cmake enters the build). Idempotent; harmless when another part of the binary
/// installed one first.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Runs `future` to completion on a fresh current-thread runtime (the commands are
/// synchronous; only the registry and download clients are async).
pub fn block_on<F: Future>(future: F) -> std::io::Result<F::Output> {
    install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(future))
}

/// Downloads an `https` URL: redirects are followed only to `https`, a non-2xx status is an
/// error, the whole transfer has a deadline and a size cap. The error says what to check.
pub fn download(url: &str) -> Result<Vec<u8>, String> {
    let fail = |why: String| format!("cannot download {url}: {why}");
    let result = block_on(async {
        let client = reqwest::Client::builder()
            .timeout(DOWNLOAD_TIMEOUT)
            .https_only(true)
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()
            .map_err(|e| describe(&e))?;
        let mut response = client.get(url).send().await.map_err(|e| describe(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the server answered {status}"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
            body.extend_from_slice(&chunk);
            if body.len() as u64 > MAX_PLUGIN_BYTES {
                return Err(format!(
                    "it is larger than {} MiB, too big for a plugin",
                    MAX_PLUGIN_BYTES >> 20
                ));
            }
        }
        Ok(body)
    });
    match result {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(why)) => Err(fail(why)),
        Err(e) => Err(fail(format!("cannot start the HTTP client ({e})"))),
    }
}

/// An HTTP client error as one line: the innermost causes say what went wrong (refused,
/// DNS, certificate, timeout), reqwest's own message only which request failed.
pub fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut causes = Vec::new();
    let mut next = err.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !causes.contains(&text) {
            causes.push(text);
        }
        next = cause.source();
    }
    let timeout =
        causes.iter().any(|c| c.contains("timed out")) || err.to_string().contains("timed out");
    match causes.last() {
        _ if timeout => "the transfer timed out".to_string(),
        Some(last) => last.clone(),
        None => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_connection_names_the_url_and_the_cause() {
        // Port 1 on the loopback address: nothing listens there.
        let err = download("https://127.0.0.1:1/p.wasm").unwrap_err();
        assert!(
            err.starts_with("cannot download https://127.0.0.1:1/p.wasm: "),
            "{err}"
        );
        assert!(err.to_lowercase().contains("refused"), "{err}");
    }

    #[test]
    fn plain_http_is_not_fetched() {
        let err = download("http://127.0.0.1:1/p.wasm").unwrap_err();
        assert!(
            err.starts_with("cannot download http://127.0.0.1:1/p.wasm"),
            "{err}"
        );
        assert!(!err.to_lowercase().contains("refused"), "{err}");
    }
}
