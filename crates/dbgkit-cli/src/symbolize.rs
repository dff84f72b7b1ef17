//! `dbgkit symbolize`: names for addresses of an ELF file, offline, in the
//! output format of binutils `addr2line -f -i -C` (one function line and one
//! `file:line` line per inline level).

use anyhow::{bail, Context, Result};
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

fn parse_address(text: &str) -> Result<u64> {
    let t = text.trim();
    let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    u64::from_str_radix(hex, 16).with_context(|| format!("bad address {t:?}: expected hexadecimal"))
}

pub fn run(args: SymbolizeArgs) -> Result<i32> {
    if !args.exe.is_file() {
        bail!("no such file: {}", args.exe.display());
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
        for frame in frames {
            let function = frame.function.as_deref().unwrap_or("??");
            match frame.location {
                Some(l) if l.line == 0 => writeln!(out, "{function}\n{}:?", l.file)?,
                Some(l) => writeln!(out, "{function}\n{}:{}", l.file, l.line)?,
                None => writeln!(out, "{function}\n??:?")?,
            }
        }
        Ok(())
    };
    if args.addrs.is_empty() {
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            answer(parse_address(&line)?, &mut out)?;
        }
    } else {
        for a in &args.addrs {
            answer(parse_address(a)?, &mut out)?;
        }
    }
    out.flush()?;
    Ok(0)
}
