//! krew's manifest rules, as krew applies them, read in its source (kubernetes-sigs/krew):
//! `internal/index/validation/validate.go` (ValidatePlugin, validatePlatform, validateFiles,
//! validateSelector), `cmd/validate-krew-manifest/main.go` (the krew-index check: file name,
//! line lengths, supported platforms, overlapping selectors, an install per platform),
//! `internal/installation/semver` (versions start with `v`) and the download verifier (the
//! archive's sha256). Each check names its rule. Installing is in `install.rs`.

use std::path::Path;

use serde_json::Value;

/// The `<os, arch>` pairs we ship; krew-index's check refuses a selector that matches none of
/// the platforms krew knows, and these six are among them.
pub const PLATFORMS: [(&str, &str); 6] = [
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("windows", "amd64"),
    ("windows", "arm64"),
];

fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Go's `k8s.io/apimachinery/pkg/util/version.ParseSemantic` after krew's `v` check.
fn is_krew_semver(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let core = rest.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p == &"0" || !p.starts_with('0'))
        })
}

/// The `<os, arch>` a platform's selector selects, for `matchLabels` selectors (the only form
/// our manifest uses; `matchExpressions` gives `None`, so a change of form is noticed).
pub fn selected(platform: &Value) -> Option<(String, String)> {
    let sel = &platform["selector"];
    if sel.get("matchExpressions").is_some() {
        return None;
    }
    let ml = sel["matchLabels"].as_object()?;
    Some((
        ml.get("os")?.as_str()?.to_string(),
        ml.get("arch")?.as_str()?.to_string(),
    ))
}

/// Broken rules, collected.
#[derive(Default)]
struct Rules(Vec<String>);

impl Rules {
    fn rule(&mut self, ok: bool, msg: String) {
        if !ok {
            self.0.push(msg);
        }
    }
}

/// The structural rules of `ValidatePlugin` and krew-index's manifest check; `file_name` is the
/// manifest's file name (the index requires `<plugin name>.yaml`; `None` skips that rule for a
/// manifest installed with `--manifest`). Returns every broken rule.
pub fn validate(m: &Value, file_name: Option<&str>) -> Vec<String> {
    let mut r = Rules::default();
    plugin_rules(&mut r, m, file_name);
    let spec = &m["spec"];
    text_rules(&mut r, spec);
    let platforms = spec["platforms"].as_array().cloned().unwrap_or_default();
    r.rule(!platforms.is_empty(), "ValidatePlugin: no platforms".into());
    let mut seen = Vec::new();
    for (i, p) in platforms.iter().enumerate() {
        platform_rules(&mut r, i, p, &mut seen);
    }
    r.0
}

/// apiVersion, kind and the plugin's (file) name.
fn plugin_rules(r: &mut Rules, m: &Value, file_name: Option<&str>) {
    r.rule(
        m["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2",
        "ValidatePlugin: apiVersion must be krew.googlecontainertools.github.com/v1alpha2".into(),
    );
    r.rule(
        m["kind"] == "Plugin",
        "ValidatePlugin: kind must be Plugin".into(),
    );
    let name = m["metadata"]["name"].as_str().unwrap_or_default();
    // IsSafePluginName: ^[\w-]+$ and not a reserved Windows device name.
    let reserved = ["CON", "PRN", "AUX", "NUL"];
    let device = |n: &str| {
        n.len() == 4
            && n.is_ascii()
            && (n[..3].eq_ignore_ascii_case("COM") || n[..3].eq_ignore_ascii_case("LPT"))
            && (b'1'..=b'9').contains(&n.as_bytes()[3])
    };
    r.rule(
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            && !reserved.iter().any(|d| d.eq_ignore_ascii_case(name))
            && !device(name),
        format!("IsSafePluginName: {name:?}"),
    );
    if let Some(file) = file_name {
        r.rule(
            file == format!("{name}.yaml"),
            format!("validate-krew-manifest: the file must be named {name}.yaml, not {file}"),
        );
    }
}

/// The descriptions and the version.
fn text_rules(r: &mut Rules, spec: &Value) {
    let short = spec["shortDescription"].as_str().unwrap_or_default();
    r.rule(
        !short.is_empty(),
        "ValidatePlugin: no shortDescription".into(),
    );
    r.rule(
        !short.contains(['\r', '\n']),
        "ValidatePlugin: line break in shortDescription".into(),
    );
    // validate-krew-manifest warns about long lines; krew-index reviewers ask for them fixed.
    for (field, max) in [
        ("shortDescription", 70),
        ("description", 80),
        ("caveats", 80),
    ] {
        for line in spec[field].as_str().unwrap_or_default().lines() {
            r.rule(
                line.len() <= max || !line.trim().contains(' '),
                format!("validateLineLength: a {field} line is over {max} characters: {line:?}"),
            );
        }
    }
    let version = spec["version"].as_str().unwrap_or_default();
    r.rule(
        is_krew_semver(version),
        format!("semver.Parse: version {version:?} is not v<semver>"),
    );
}

/// One platform: uri, sha256, bin, files and a selector no other platform has.
fn platform_rules(r: &mut Rules, i: usize, p: &Value, seen: &mut Vec<(String, String)>) {
    let at = format!("spec.platforms[{i}]");
    r.rule(
        p["uri"].as_str().is_some_and(|u| !u.is_empty()),
        format!("{at}: validatePlatform: uri has to be set"),
    );
    let sha = p["sha256"].as_str().unwrap_or_default();
    r.rule(
        is_sha256(sha),
        format!("{at}: validatePlatform: sha256 {sha:?} must match ^[a-f0-9]{{64}}$"),
    );
    r.rule(
        p["bin"].as_str().is_some_and(|b| !b.is_empty()),
        format!("{at}: validatePlatform: bin has to be set"),
    );
    // validateFiles: unspecified, or non-empty with from and to set.
    if let Some(files) = p.get("files") {
        let files = files.as_array().cloned().unwrap_or_default();
        r.rule(
            !files.is_empty(),
            format!("{at}: validateFiles: files is empty"),
        );
        for f in &files {
            r.rule(
                f["from"].as_str().is_some_and(|s| !s.is_empty())
                    && f["to"].as_str().is_some_and(|s| !s.is_empty()),
                format!("{at}: validateFiles: from and to have to be set: {f}"),
            );
        }
    }
    // validateSelector: present, non-empty, only the keys os and arch.
    let keys: Vec<String> = p["selector"]["matchLabels"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    r.rule(
        !keys.is_empty() && keys.iter().all(|k| k == "os" || k == "arch"),
        format!("{at}: validateSelector: keys {keys:?}"),
    );
    match selected(p) {
        Some((os, arch)) if PLATFORMS.contains(&(os.as_str(), arch.as_str())) => {
            // isOverlappingPlatformSelectors: one platform per <os, arch>.
            r.rule(
                !seen.contains(&(os.clone(), arch.clone())),
                format!("{at}: overlapping selector {os}/{arch}"),
            );
            seen.push((os, arch));
        }
        other => r.rule(
            false,
            format!("{at}: the selector matches no supported platform: {other:?}"),
        ),
    }
}

/// The download verifier's rule for one platform: the archive at its uri (here: the file of the
/// same name in `dir`) has the manifest's sha256. Returns the archive's bytes.
pub fn archive_for(platform: &Value, dir: &Path) -> Result<Vec<u8>, String> {
    let uri = platform["uri"].as_str().ok_or("no uri")?;
    let name = uri.rsplit('/').next().unwrap_or_default();
    let bytes = std::fs::read(dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
    let got = sha256_hex(&bytes);
    let want = platform["sha256"].as_str().unwrap_or_default();
    if got != want {
        return Err(format!("{name}: sha256 is {got}, the manifest says {want}"));
    }
    Ok(bytes)
}

/// sha256 as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
