//! `dbgkit symbolize`: names for addresses of an ELF file, offline, in the
//! output format of binutils `addr2line -f -i -C` (one function line and one
//! `file:line` line per inline level).

use anyhow::Result;
use dbgkit::symbols::{DebugSearchPath, ModuleSymbols};
use std::io::{BufRead, Write};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct SymbolizeArgs {
    /// The ELF file (executable, shared library, or debug file).
    #[arg(short = 'e', long = "exe")]
    exe: PathBuf,
    /// Also search this directory for separate debug files; repeatable.
    #[arg(long = "debug-dir")]
    debug_dirs: Vec<PathBuf>,
    /// Print each address before its frames (as `addr2line -a`).
    #[arg(short = 'a', long = "addresses")]
    addresses: bool,
    /// File addresses (hexadecimal, `0x` optional); read from standard input when none is given.
    addrs: Vec<String>,
}

/// An address as binutils reads one (`bfd_scan_vma`): the hexadecimal
/// digits at the start of the text, `0x` optional; none is address 0, so a
/// line that is not an address is answered `??` and the next one goes on.
fn parse_address(text: &str) -> u64 {
    let t = text.trim_start();
    let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    hex.chars().map_while(|c| c.to_digit(16)).fold(0u64, |acc, d| acc.wrapping_shl(4) | u64::from(d))
}

/// Whether a file is ELF (anything else is "file format not recognized", as addr2line says).
fn is_elf(path: &std::path::Path) -> std::io::Result<bool> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let mut file = std::fs::File::open(path)?;
    Ok(file.read_exact(&mut magic).is_ok() && magic == *b"\x7fELF")
}

pub fn run(args: SymbolizeArgs) -> Result<i32> {
    // As addr2line: a file that cannot be used is an error and exit status 1.
    let unusable = match is_elf(&args.exe) {
        Ok(true) => None,
        Ok(false) => Some("file format not recognized".to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("No such file".to_string()),
        Err(e) => Some(e.to_string()),
    };
    if let Some(why) = unusable.or_else(|| args.exe.is_dir().then(|| "is a directory".to_string())) {
        eprintln!("dbgkit symbolize: {}: {why}", args.exe.display());
        return Ok(1);
    }
    let mut search = DebugSearchPath::default();
    for dir in args.debug_dirs.iter().rev() {
        search.add(dir);
    }
    let symbols = ModuleSymbols::load(&args.exe, None, &search);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let answer = |address: u64, out: &mut dyn Write| -> Result<()> {
        if args.addresses {
            writeln!(out, "0x{address:016x}")?;
        }
        let frames = symbols.frames_at(address);
        if frames.is_empty() {
            writeln!(out, "??\n??:0")?;
        }
        // The line table's discriminator belongs to the innermost frame, as addr2line prints it.
        let discriminator = symbols
            .dwarf
            .as_ref()
            .and_then(|d| d.discriminator(address))
            .map(|n| format!(" (discriminator {n})"))
            .unwrap_or_default();
        for (i, frame) in frames.into_iter().enumerate() {
            let function = frame.function.as_deref().unwrap_or("??");
            let discriminator = if i == 0 { discriminator.as_str() } else { "" };
            match frame.location {
                Some(l) if l.line == 0 => writeln!(out, "{function}\n{}:?", l.file)?,
                Some(l) => writeln!(out, "{function}\n{}:{}{discriminator}", l.file, l.line)?,
                None => writeln!(out, "{function}\n??:?")?,
            }
        }
        Ok(())
    };
    if args.addrs.is_empty() {
        // One answer per line, as addr2line gives (it flushes each, for pipes both ways).
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            answer(parse_address(&line), &mut out)?;
            out.flush()?;
        }
    } else {
        for a in &args.addrs {
            answer(parse_address(a), &mut out)?;
        }
    }
    out.flush()?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_read_as_binutils_reads_them() {
        assert_eq!(parse_address("0x1170"), 0x1170);
        assert_eq!(parse_address("  1170\n"), 0x1170);
        assert_eq!(parse_address("12zz"), 0x12);
        assert_eq!(parse_address("zzz"), 0);
        assert_eq!(parse_address(""), 0);
        assert_eq!(parse_address("ffffffffffffffffff"), u64::MAX);
    }
}
