//! The executable headers of the release binaries, read by hand (ELF, PE, Mach-O): the
//! architecture each archive claims, a static linux binary, a console windows binary that needs
//! only system DLLs, and the macOS minimum version and libraries of a darwin binary.

/// What a binary's header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `linux`, `windows` or `darwin`, from the format.
    pub os: &'static str,
    /// `amd64` or `arm64`, from the machine field.
    pub arch: &'static str,
    /// ELF: has a PT_INTERP (is dynamically linked).
    pub interpreter: bool,
    /// PE: the DLLs it imports; Mach-O: the dylibs it loads.
    pub libraries: Vec<String>,
    /// Mach-O: the minimum macOS version (`LC_BUILD_VERSION`/`LC_VERSION_MIN_MACOSX`), as
    /// (major, minor).
    pub min_os: Option<(u32, u32)>,
    /// PE: the subsystem is the console (3).
    pub console: bool,
}

fn u16le(b: &[u8], at: usize) -> Result<u16, String> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| format!("truncated header at {at}"))
}

fn u32le(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| format!("truncated header at {at}"))
}

fn u64le(b: &[u8], at: usize) -> Result<usize, String> {
    let s = b.get(at..at + 8).ok_or("truncated header")?;
    let v = u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]);
    usize::try_from(v).map_err(|e| e.to_string())
}

fn at(v: u32) -> usize {
    usize::try_from(v).unwrap()
}

fn cstr(b: &[u8], from: usize) -> String {
    let rest = b.get(from..).unwrap_or_default();
    let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end]).into_owned()
}

/// Parses the header of the executable in `b`.
pub fn parse(b: &[u8]) -> Result<Header, String> {
    let mut h = Header {
        os: "",
        arch: "",
        interpreter: false,
        libraries: Vec::new(),
        min_os: None,
        console: false,
    };
    if b.starts_with(b"\x7fELF") {
        h.os = "linux";
        h.arch = match u16le(b, 18)? {
            62 => "amd64",
            183 => "arm64",
            m => return Err(format!("ELF machine {m}")),
        };
        let (phoff, phentsize, phnum) = (u64le(b, 32)?, u16le(b, 54)?, u16le(b, 56)?);
        for i in 0..usize::from(phnum) {
            h.interpreter |= u32le(b, phoff + i * usize::from(phentsize))? == 3; // PT_INTERP
        }
    } else if b.starts_with(b"MZ") {
        pe(b, &mut h)?;
    } else if b.starts_with(&[0xcf, 0xfa, 0xed, 0xfe]) {
        macho(b, &mut h)?;
    } else {
        return Err("not an ELF, PE or 64-bit Mach-O executable".into());
    }
    Ok(h)
}

fn pe(b: &[u8], h: &mut Header) -> Result<(), String> {
    h.os = "windows";
    let pe = at(u32le(b, 0x3c)?);
    if b.get(pe..pe + 4) != Some(b"PE\0\0") {
        return Err("no PE signature".into());
    }
    h.arch = match u16le(b, pe + 4)? {
        0x8664 => "amd64",
        0xaa64 => "arm64",
        m => return Err(format!("PE machine {m:#x}")),
    };
    let sections = usize::from(u16le(b, pe + 6)?);
    let opt = pe + 24;
    let opt_size = usize::from(u16le(b, pe + 20)?);
    if u16le(b, opt)? != 0x20b {
        return Err("not PE32+".into());
    }
    h.console = u16le(b, opt + 68)? == 3;
    // The section table maps the import directory's RVA to a file offset.
    let table = opt + opt_size;
    let offset = |rva: u32| -> Result<usize, String> {
        for s in 0..sections {
            let sec = table + s * 40;
            let (vsize, vaddr, raw) =
                (u32le(b, sec + 8)?, u32le(b, sec + 12)?, u32le(b, sec + 20)?);
            if (vaddr..vaddr + vsize).contains(&rva) {
                return Ok(at(rva - vaddr + raw));
            }
        }
        Err(format!("rva {rva:#x} is in no section"))
    };
    let imports = u32le(b, opt + 112 + 8)?;
    if imports != 0 {
        let mut desc = offset(imports)?;
        loop {
            let name = u32le(b, desc + 12)?;
            if name == 0 {
                break;
            }
            h.libraries
                .push(cstr(b, offset(name)?).to_ascii_lowercase());
            desc += 20;
        }
    }
    Ok(())
}

fn macho(b: &[u8], h: &mut Header) -> Result<(), String> {
    h.os = "darwin";
    h.arch = match u32le(b, 4)? {
        0x0100_0007 => "amd64",
        0x0100_000c => "arm64",
        c => return Err(format!("Mach-O cputype {c:#x}")),
    };
    let mut cmd = 32;
    for _ in 0..u32le(b, 16)? {
        let (kind, size) = (u32le(b, cmd)?, at(u32le(b, cmd + 4)?));
        let version = |v: u32| (v >> 16, (v >> 8) & 0xff);
        match kind {
            0x32 if u32le(b, cmd + 8)? == 1 => h.min_os = Some(version(u32le(b, cmd + 12)?)),
            0x24 => h.min_os = Some(version(u32le(b, cmd + 8)?)),
            0x0c | 0x18 | 0x8000_001f => {
                h.libraries.push(cstr(b, cmd + at(u32le(b, cmd + 8)?)));
            }
            _ => {}
        }
        cmd += size;
    }
    Ok(())
}

#[test]
fn the_test_binary_itself_parses_as_what_it_is() {
    let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let h = parse(&me).unwrap();
    assert_eq!(h.os, std::env::consts::OS);
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    assert_eq!(h.arch, arch);
    assert!(parse(b"#!/bin/sh\n").is_err());
}
