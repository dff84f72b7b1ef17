//! The summary: one line per cluster, most severe first, then the
//! representative report of each.

use dbgkit::signal_name;
use dbgkit::triage::{signal_code_name, Analysis, Cluster, Outcome, Record};
use std::io::Write;
use std::time::Duration;

/// How many frames a representative report shows.
const REPORT_FRAMES: usize = 12;

pub fn print(
    out: &mut impl Write,
    records: &[Record],
    clusters: &[Cluster],
    elapsed: Duration,
    jobs: usize,
    reports: bool,
) -> std::io::Result<()> {
    let count = |o: fn(&Outcome) -> bool| records.iter().filter(|r| o(&r.outcome)).count();
    let crashes = count(|o| *o == Outcome::Crash);
    let hangs = count(|o| *o == Outcome::Hang);
    let clean = count(|o| *o == Outcome::NoCrash);
    let errors = count(|o| matches!(o, Outcome::Error(_)));
    writeln!(
        out,
        "{} inputs: {crashes} crashes and {hangs} hangs in {} clusters, {clean} without a crash, {errors} errors ({:.1} s, {jobs} jobs)",
        records.len(),
        clusters.len(),
        elapsed.as_secs_f64()
    )?;
    if clusters.is_empty() {
        return errors_list(out, records);
    }
    writeln!(out)?;
    let rows: Vec<[String; 7]> = clusters
        .iter()
        .enumerate()
        .map(|(rank, c)| {
            let representative = &records[c.representative];
            let smallest = &records[c.smallest];
            let place = representative.analysis.as_ref().map(crash_place).unwrap_or_default();
            [
                (rank + 1).to_string(),
                c.severity.name().to_string(),
                c.class.id(),
                c.members.len().to_string(),
                c.hash.clone(),
                format!("{} ({} B)", short_path(&smallest.input), smallest.size),
                place,
            ]
        })
        .collect();
    let header = ["#", "severity", "class", "inputs", "hash", "smallest", "where"];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else if i == 0 || i == 3 {
                text.push_str(&format!("{cell:>w$}  "));
            } else {
                text.push_str(&format!("{cell:<w$}  "));
            }
        }
        text.trim_end().to_string()
    };
    writeln!(out, "{}", line(&header))?;
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        writeln!(out, "{}", line(&cells))?;
    }
    if reports {
        for (rank, c) in clusters.iter().enumerate() {
            writeln!(out)?;
            report(out, rank + 1, c, records)?;
        }
    }
    errors_list(out, records)
}

fn errors_list(out: &mut impl Write, records: &[Record]) -> std::io::Result<()> {
    for r in records {
        if let Outcome::Error(e) = &r.outcome {
            writeln!(out, "error: {}: {e}", r.input.display())?;
        }
    }
    Ok(())
}

/// The input's path as given, shortened to its last two components.
fn short_path(path: &std::path::Path) -> String {
    let parts: Vec<String> = path.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let keep = parts.len().saturating_sub(2);
    parts[keep..].join("/")
}

/// Where the crash is: the first frame of the hash, with its line.
fn crash_place(a: &Analysis) -> String {
    let first = a
        .frames
        .iter()
        .find(|f| f.module.is_some() && !dbgkit::triage::is_runtime_frame(f.module.as_deref(), f.function.as_deref()));
    match first {
        Some(f) => f.describe(),
        None => a.hash_frames.first().cloned().unwrap_or_else(|| "-".into()),
    }
}

/// One cluster's representative report.
fn report(out: &mut impl Write, rank: usize, c: &Cluster, records: &[Record]) -> std::io::Result<()> {
    let r = &records[c.representative];
    let Some(a) = &r.analysis else { return Ok(()) };
    writeln!(
        out,
        "== {rank}. {} {} ({} inputs, hash {}) ==",
        c.severity.name(),
        c.class.id(),
        c.members.len(),
        c.hash
    )?;
    writeln!(out, "  {}", a.explanation())?;
    writeln!(
        out,
        "  input: {} ({} B); smallest: {} ({} B)",
        r.input.display(),
        r.size,
        records[c.smallest].input.display(),
        records[c.smallest].size
    )?;
    if let Some(signal) = a.signal {
        let code = a.code.map(|c| format!(" {}", signal_code_name(signal, c))).unwrap_or_default();
        let fault = a.fault_address.map(|f| format!(" fault address {f:#x}")).unwrap_or_default();
        let access = match (a.access, a.bad_address) {
            (Some(access), Some(bad)) => format!(", {} of {bad:#x}", access.name()),
            (Some(access), None) => format!(", {}", access.name()),
            _ => String::new(),
        };
        writeln!(out, "  signal: {}{code}{fault}{access}", signal_name(signal))?;
    }
    if let Some(i) = &a.instruction {
        let operand = match (&i.memory_operand, i.memory_address) {
            (Some(text), Some(address)) => format!("    ; {text} = {address:#x}"),
            _ => String::new(),
        };
        let bytes: String = i.bytes.iter().map(|b| format!("{b:02x}")).collect();
        writeln!(out, "  instruction: {:016x} {bytes:<16} {}{operand}", i.address, i.text)?;
    }
    if let Some(e) = &a.exception_type {
        writeln!(out, "  exception type: {e}")?;
    }
    if let Some(s) = &a.sanitizer {
        if let Some(note) = &s.location_note {
            writeln!(out, "  {note}")?;
        }
        for (title, stack) in [("allocated", &s.allocation_stack), ("freed", &s.free_stack)] {
            if let Some(frame) = stack.iter().find(|f| {
                !dbgkit::triage::is_runtime_frame(f.module.as_deref(), f.function.as_deref())
                    && f.function.as_deref().is_some_and(|n| !n.starts_with("__interceptor"))
            }) {
                writeln!(
                    out,
                    "  {title} at: {} {}",
                    frame.function.as_deref().unwrap_or("?"),
                    frame.location.as_deref().unwrap_or("")
                )?;
            }
        }
    }
    if let Some(regs) = &a.registers {
        let names = [
            "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
            "r15", "rip",
        ];
        for chunk in names.chunks(4) {
            let cells: Vec<String> =
                chunk.iter().map(|n| format!("{n:>3}={:016x}", regs.get(n).unwrap_or(0))).collect();
            writeln!(out, "  {}", cells.join(" "))?;
        }
    }
    writeln!(out, "  stack:")?;
    for f in a.frames.iter().take(REPORT_FRAMES) {
        writeln!(out, "    #{:<2} {:016x} {}", f.number, f.pc, f.describe())?;
    }
    if a.frames.len() > REPORT_FRAMES {
        writeln!(out, "    ... {} more frames", a.frames.len() - REPORT_FRAMES)?;
    }
    if let Some(why) = &a.stack_stopped {
        writeln!(out, "    ({why})")?;
    }
    Ok(())
}
