//! Reads release archives the way krew's downloader does (`internal/download/downloader.go`):
//! the format is chosen by the content's magic bytes (Go's `http.DetectContentType`: gzip or zip,
//! nothing else), entries with `..` or an absolute path are refused, and a tar may hold only
//! regular files and directories. Written independently of `scripts/release_pack.py` (which
//! writes the archives with Python's tarfile/zipfile), so the two check each other.

use std::io::Read;

/// One archive entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The path inside the archive, `/`-separated, without a trailing `/`.
    pub path: String,
    /// True for a directory entry.
    pub dir: bool,
    /// The permission bits recorded for the entry.
    pub mode: u32,
    /// The contents (empty for a directory).
    pub data: Vec<u8>,
}

/// The archive kinds krew extracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `application/x-gzip` (a gzipped tar).
    TarGz,
    /// `application/zip`.
    Zip,
}

/// What krew's MIME sniffing makes of `bytes`; `None` is "not a supported archive format".
pub fn kind(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(&[0x1f, 0x8b, 0x08]) {
        Some(Kind::TarGz)
    } else if bytes.starts_with(b"PK\x03\x04") {
        Some(Kind::Zip)
    } else {
        None
    }
}

/// krew's `suspiciousPath`: no `..` anywhere, not absolute.
fn check_path(path: &str) -> Result<(), String> {
    if path.contains("..") {
        return Err(format!("suspicious entry {path:?}"));
    }
    if path.starts_with('/') || path.starts_with('\\') {
        return Err(format!("absolute entry {path:?}"));
    }
    Ok(())
}

/// Every entry of the archive in `bytes`, in archive order; an error where krew would refuse it.
pub fn read(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    match kind(bytes) {
        Some(Kind::TarGz) => read_tar_gz(bytes),
        Some(Kind::Zip) => read_zip(bytes),
        None => Err("not a gzip or zip archive (krew detects the format by content)".into()),
    }
}

fn octal(field: &[u8]) -> Result<u64, String> {
    let text = std::str::from_utf8(field).map_err(|e| e.to_string())?;
    let text = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(text, 8).map_err(|e| format!("bad octal {text:?}: {e}"))
}

fn cstr(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

fn read_tar_gz(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut tar)
        .map_err(|e| format!("gzip: {e}"))?;
    let mut entries = Vec::new();
    let mut at = 0;
    while at + 512 <= tar.len() {
        let header = &tar[at..at + 512];
        if header.iter().all(|&b| b == 0) {
            break;
        }
        let size = usize::try_from(octal(&header[124..136])?).map_err(|e| e.to_string())?;
        let mode = u32::try_from(octal(&header[100..108])?).map_err(|e| e.to_string())?;
        let name = match cstr(&header[345..500]) {
            prefix if prefix.is_empty() => cstr(&header[0..100]),
            prefix => format!("{prefix}/{}", cstr(&header[0..100])),
        };
        let data_at = at + 512;
        let data = tar
            .get(data_at..data_at + size)
            .ok_or("truncated tar")?
            .to_vec();
        at = data_at + size.div_ceil(512) * 512;
        let dir = match header[156] {
            b'0' | 0 => false,
            b'5' => true,
            // Go's reader folds pax headers into the next entry; krew skips the global one.
            b'g' if name == "pax_global_header" => continue,
            other => {
                return Err(format!(
                    "{name}: tar entry type {:?} (krew extracts only regular files and directories)",
                    other as char
                ));
            }
        };
        check_path(&name)?;
        let path = name.trim_end_matches('/').to_string();
        entries.push(Entry {
            path,
            dir,
            mode: mode & 0o7777,
            data,
        });
    }
    Ok(entries)
}

fn u16_at(b: &[u8], at: usize) -> Result<usize, String> {
    let s = b.get(at..at + 2).ok_or("truncated zip")?;
    Ok(usize::from(u16::from_le_bytes([s[0], s[1]])))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, String> {
    let s = b.get(at..at + 4).ok_or("truncated zip")?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn usize_at(b: &[u8], at: usize) -> Result<usize, String> {
    usize::try_from(u32_at(b, at)?).map_err(|e| e.to_string())
}

fn read_zip(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    // The end-of-central-directory record is the last 22 bytes when there is no comment.
    let eocd = bytes
        .len()
        .checked_sub(22)
        .filter(|&at| u32_at(bytes, at) == Ok(0x0605_4b50))
        .ok_or("no zip end record (or a zip comment)")?;
    let count = u16_at(bytes, eocd + 10)?;
    let mut at = usize_at(bytes, eocd + 16)?;
    let mut entries = Vec::new();
    for _ in 0..count {
        if u32_at(bytes, at)? != 0x0201_4b50 {
            return Err("bad central directory entry".into());
        }
        let method = u16_at(bytes, at + 10)?;
        let csize = usize_at(bytes, at + 20)?;
        let name_len = u16_at(bytes, at + 28)?;
        let extra_len = u16_at(bytes, at + 30)?;
        let comment_len = u16_at(bytes, at + 32)?;
        let external = u32_at(bytes, at + 38)?;
        let local = usize_at(bytes, at + 42)?;
        let name = String::from_utf8_lossy(&bytes[at + 46..at + 46 + name_len]).into_owned();
        at += 46 + name_len + extra_len + comment_len;
        check_path(&name)?;
        let data_at = local + 30 + u16_at(bytes, local + 26)? + u16_at(bytes, local + 28)?;
        let raw = bytes.get(data_at..data_at + csize).ok_or("truncated zip")?;
        let data = match method {
            0 => raw.to_vec(),
            8 => {
                let mut out = Vec::new();
                flate2::read::DeflateDecoder::new(raw)
                    .read_to_end(&mut out)
                    .map_err(|e| format!("{name}: inflate: {e}"))?;
                out
            }
            m => return Err(format!("{name}: zip method {m}")),
        };
        entries.push(Entry {
            dir: name.ends_with('/'),
            path: name.trim_end_matches('/').to_string(),
            mode: (external >> 16) & 0o7777,
            data,
        });
    }
    Ok(entries)
}
