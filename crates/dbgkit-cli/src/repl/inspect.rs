//! Looking around: registers, stacks and frames, threads and processes,
//! disassembly, symbols, modules, the memory map, expressions.

use super::args;
use super::commands::Call;
use super::debugger::{instruction_line, no_process, say, Current, Debugger};
use super::fp_registers::is_fp_register;
use anyhow::{anyhow, bail, Result};
use dbgkit::{Registers, StackFrame};

// ---- registers ---------------------------------------------------------------

/// How many hex digits a register has (`eax`: 8, `al`: 2).
fn register_digits(name: &str) -> Option<usize> {
    let mut ones = Registers::default();
    for n in Registers::NAMES {
        ones.set(n, u64::MAX);
    }
    let mask = ones.get(name)?;
    Some((64 - mask.leading_zeros() as usize).div_ceil(4))
}

fn flags(efl: u64) -> String {
    const BITS: [(u32, &str); 9] =
        [(0, "CF"), (2, "PF"), (4, "AF"), (6, "ZF"), (7, "SF"), (8, "TF"), (9, "IF"), (10, "DF"), (11, "OF")];
    BITS.iter().filter(|(bit, _)| efl & (1 << bit) != 0).map(|(_, n)| *n).collect::<Vec<_>>().join(" ")
}

/// `r`, `r rip`, `r rax=0x10, rbx=rax+1`.
pub fn registers(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let c = dbg.stopped()?;
    // An outer frame has its own registers, as far as unwinding recovered them.
    let physical = super::source::physical_frame(dbg, c)?;
    if physical > 0 {
        return super::source::outer_frame_registers(dbg, c, physical, call.args.trim());
    }
    let text = call.args.trim();
    if text == "vector" && (call.name.starts_with("info") || call.name == "i r") {
        return dbg.show_vector_registers();
    }
    let mut regs = dbg.session.registers(c.pid, c.tid)?;
    if call.name == "info all-registers" && !text.is_empty() {
        bail!("info all-registers takes no arguments: info registers NAME shows one");
    }
    if text.is_empty() {
        let g = |n: &str| regs.get(n).unwrap_or(0);
        let rows: [&[&str]; 5] = [
            &["rax", "rbx", "rcx"],
            &["rdx", "rsi", "rdi"],
            &["rip", "rsp", "rbp"],
            &["r8", "r9", "r10"],
            &["r11", "r12", "r13"],
        ];
        for row in rows {
            let line: Vec<String> = row.iter().map(|n| format!("{n:>3}={:016x}", g(n))).collect();
            say!("{}", line.join(" "));
        }
        say!("r14={:016x} r15={:016x} efl={:08x} [{}]", g("r14"), g("r15"), g("eflags"), flags(g("eflags")));
        say!(
            "cs={:04x} ss={:04x} ds={:04x} es={:04x} fs={:04x} gs={:04x} fs_base={:016x} gs_base={:016x}",
            g("cs"),
            g("ss"),
            g("ds"),
            g("es"),
            g("fs"),
            g("gs"),
            g("fs_base"),
            g("gs_base")
        );
        // A machine's own registers (QEMU): segment bases, control registers, efer.
        let extra = dbg.session.extra_registers(c.pid, c.tid).unwrap_or_default();
        for row in extra.chunks(4) {
            let line: Vec<String> = row.iter().map(|(n, v)| format!("{n}={v:016x}")).collect();
            say!("{}", line.join(" "));
        }
        if call.name == "info all-registers" {
            dbg.show_x87_registers()?;
            dbg.show_vector_registers()?;
        }
        dbg.show_place(c.pid, regs.rip, Some(regs.rip));
        return Ok(());
    }
    let items: Vec<&str> = text.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    let mut changed = false;
    let mut shown = Vec::new();
    for item in &items {
        let (name, value) = match item.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (item.trim(), None),
        };
        let name = name.trim_start_matches(['@', '$']).to_ascii_lowercase();
        if is_fp_register(&name) {
            match value {
                Some(v) => dbg.set_fp_register(&name, v)?,
                None => shown.push(name),
            }
            continue;
        }
        if regs.get(&name).is_none() {
            let extra = dbg.session.extra_registers(c.pid, c.tid).unwrap_or_default();
            match (extra.iter().find(|(n, _)| *n == name), value) {
                (Some((n, v)), None) => {
                    say!("{n}={v:016x}");
                    continue;
                }
                (Some(_), Some(_)) => bail!("register {name} can be read, not written, here"),
                (None, _) => bail!("unknown register {name:?}: r alone lists them"),
            }
        }
        match value {
            Some(v) => {
                let value = dbg.eval(v)?;
                regs.set(&name, value);
                changed = true;
            }
            None => shown.push(name),
        }
    }
    if changed {
        dbg.session.set_registers(c.pid, c.tid, &regs)?;
    }
    for name in shown {
        if is_fp_register(&name) {
            let line = dbg.fp_register_line(&name)?;
            say!("{line}");
            continue;
        }
        let digits = register_digits(&name).unwrap_or(16);
        let value = regs.get(&name).unwrap_or(0);
        if matches!(name.as_str(), "efl" | "eflags" | "rflags") {
            say!("{name}={value:08x} [{}]", flags(value));
        } else {
            say!("{name}={value:0digits$x}");
        }
    }
    Ok(())
}

// ---- stack and frames --------------------------------------------------------

/// One line of `k`: a physical frame, or a function inlined into one.
fn source_frame_line(frame: &dbgkit::SourceFrame, physical: &StackFrame, ret: u64) -> String {
    let location = frame.location.as_ref().filter(|l| l.line != 0).map(|l| {
        let file =
            std::path::Path::new(&l.file).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        format!(" ({file}:{})", l.line)
    });
    if frame.inlined {
        let module = frame.symbol.as_ref().and_then(|s| s.module.clone()).unwrap_or_default();
        let function = frame.function.clone().unwrap_or_else(|| "??".into());
        return format!(
            "{:02} (Inline Function) ---------------- {module}!{function} (inlined){}",
            frame.number,
            location.unwrap_or_default()
        );
    }
    let name = match (&frame.symbol, frame.inline_depth) {
        // The function that inlined others: its own place is the inlined call's line.
        (Some(s), depth) if depth > 0 => format!("{s}{}", location.unwrap_or_default()),
        (Some(s), _) => s.with_location(),
        (None, _) => format!("{:#x}", physical.pc),
    };
    format!("{:02} {:016x} {:016x} {name}", frame.number, physical.sp, ret)
}

/// `k [COUNT]`: the call stack, functions inlined into a frame shown as frames of their own.
pub fn stack(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let c = dbg.stopped()?;
    let limit = if call.args.trim().is_empty() { usize::MAX } else { args::number(call.args)? as usize };
    let stack = dbg.session.stack(c.pid, c.tid)?;
    let frames = dbgkit::expand_frames(&stack.frames);
    say!(" # Child-SP         RetAddr          Call Site");
    for frame in frames.iter().take(limit) {
        let physical = &stack.frames[frame.physical];
        let ret = stack.frames.get(frame.physical + 1).map(|f| f.pc).unwrap_or(0);
        say!("{}", source_frame_line(frame, physical, ret));
    }
    if let Some(reason) = &stack.stopped {
        if limit >= frames.len() {
            say!("(the walk stopped: {reason})");
        }
    }
    Ok(())
}

fn select_frame(dbg: &mut Debugger, n: usize) -> Result<()> {
    let c = dbg.stopped()?;
    let stack = dbg.session.stack(c.pid, c.tid)?;
    let frames = dbgkit::expand_frames(&stack.frames);
    let frame = frames.get(n).ok_or_else(|| anyhow!("no frame {n}: the stack has {}", frames.len()))?;
    let physical = &stack.frames[frame.physical];
    let ret = stack.frames.get(frame.physical + 1).map(|f| f.pc).unwrap_or(0);
    dbg.current = Some(Current { frame: n, ..c });
    dbg.next_disassembly = None;
    dbg.listing = None;
    say!("{}", source_frame_line(frame, physical, ret));
    if let Some(loc) = frame.location.clone() {
        if let Some(text) = dbg.source_line(&loc.file, loc.line) {
            say!("{:>6}  {}", loc.line, text);
        }
    }
    Ok(())
}

/// `.frame [N]`.
pub fn frame(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let c = dbg.stopped()?;
    let n = if call.args.trim().is_empty() { c.frame } else { args::number(call.args)? as usize };
    select_frame(dbg, n)
}

pub fn up(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let c = dbg.stopped()?;
    let n = if call.args.trim().is_empty() { 1 } else { args::number(call.args)? as usize };
    let n = c.frame.checked_add(n).ok_or_else(|| anyhow!("no frame {n} levels up"))?;
    select_frame(dbg, n)
}

pub fn down(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let c = dbg.stopped()?;
    let n = if call.args.trim().is_empty() { 1 } else { args::number(call.args)? as usize };
    if n > c.frame {
        bail!("frame {} is the innermost", 0);
    }
    select_frame(dbg, c.frame - n)
}

// ---- threads and processes -----------------------------------------------------

fn thread_line(dbg: &mut Debugger, pid: i32, n: usize, tid: i32) -> String {
    let mark = if dbg.current.is_some_and(|c| c.tid == tid) { '.' } else { ' ' };
    let rip = dbg.session.registers(pid, tid).map(|r| r.rip).unwrap_or(0);
    let place = crate::format::place(&mut dbg.session, pid, rip).unwrap_or_default();
    format!("{mark}{n:>2}  Id: {pid}.{tid} rip={rip:016x} {place}")
}

fn list_threads(dbg: &mut Debugger) -> Result<()> {
    let c = dbg.stopped()?;
    for (n, tid) in dbg.thread_list(c.pid)? {
        let line = thread_line(dbg, c.pid, n, tid);
        say!("{line}");
    }
    Ok(())
}

fn select_thread(dbg: &mut Debugger, tid: i32) -> Result<()> {
    let c = dbg.stopped()?;
    dbg.current = Some(Current { pid: c.pid, tid, frame: 0 });
    dbg.next_disassembly = None;
    let rip = dbg.session.registers(c.pid, tid)?.rip;
    dbg.show_place(c.pid, rip, Some(rip));
    Ok(())
}

/// Runs a command with each of `tids` as the current thread, then comes back.
fn on_threads(dbg: &mut Debugger, tids: &[(usize, i32)], command: &str) -> Result<()> {
    let saved = dbg.stopped()?;
    let mut result = Ok(());
    for &(n, tid) in tids {
        if tids.len() > 1 {
            let line = thread_line(dbg, saved.pid, n, tid);
            say!("{line}");
        }
        dbg.current = Some(Current { pid: saved.pid, tid, frame: 0 });
        result = dbg.execute(command);
        if result.is_err() {
            break;
        }
    }
    if dbg.current.is_some_and(|c| c.pid == saved.pid) {
        dbg.current = Some(saved);
    }
    result
}

/// `~`, `~Ns`, `~N CMD`, `~* CMD`, `~~[TID]s`.
pub fn threads(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    if text.is_empty() {
        return list_threads(dbg);
    }
    let c = dbg.stopped()?;
    let all = dbg.thread_list(c.pid)?;
    let (which, rest): (Vec<(usize, i32)>, &str) = if let Some(rest) = text.strip_prefix('*') {
        (all.clone(), rest)
    } else if let Some(rest) = text.strip_prefix('.') {
        (all.iter().copied().filter(|&(_, t)| t == c.tid).collect(), rest)
    } else if let Some(rest) = text.strip_prefix("~[") {
        let (tid_text, rest) = rest.split_once(']').ok_or_else(|| anyhow!("~~[TID] needs its closing ]"))?;
        let tid = args::number(tid_text)? as i32;
        let found: Vec<(usize, i32)> = all.iter().copied().filter(|&(_, t)| t == tid).collect();
        if found.is_empty() {
            bail!("no thread with id {tid} in process {}", c.pid);
        }
        (found, rest)
    } else {
        let digits: String = text.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            bail!("bad thread command {text:?}: ~, ~1s, ~1 k, ~* k, ~~[TID]s");
        }
        let n: usize = digits.parse()?;
        let tid = dbg.thread_by_number(n)?;
        (vec![(n, tid)], &text[digits.len()..])
    };
    let rest = rest.trim();
    match rest {
        "" => {
            for (n, tid) in which {
                let line = thread_line(dbg, c.pid, n, tid);
                say!("{line}");
            }
            Ok(())
        }
        "s" if which.len() == 1 => select_thread(dbg, which[0].1),
        "s" => bail!("~* s: select one thread, e.g. ~1s"),
        command => on_threads(dbg, &which, command),
    }
}

/// gdb's `thread [N]`, `thread apply all|N CMD`.
pub fn thread(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    if text.is_empty() {
        let c = dbg.stopped()?;
        let n = dbg.thread_list(c.pid)?.into_iter().find(|&(_, t)| t == c.tid).map(|(n, _)| n).unwrap_or(0);
        let line = thread_line(dbg, c.pid, n, c.tid);
        say!("{line}");
        return Ok(());
    }
    if let Some(rest) = text.strip_prefix("apply") {
        let rest = rest.trim();
        let (which, command) = rest.split_once(char::is_whitespace).ok_or_else(|| anyhow!("thread apply all CMD"))?;
        let c = dbg.stopped()?;
        let all = dbg.thread_list(c.pid)?;
        let tids = if which == "all" {
            all
        } else {
            let n: usize = which.parse().map_err(|_| anyhow!("thread apply all|N CMD"))?;
            let tid = dbg.thread_by_number(n)?;
            vec![(n, tid)]
        };
        return on_threads(dbg, &tids, command.trim());
    }
    let n: usize = text.parse().map_err(|_| anyhow!("bad thread number {text:?}: info threads lists them"))?;
    let tid = dbg.thread_by_number(n)?;
    select_thread(dbg, tid)
}

/// `|`, `|Ns`.
pub fn processes(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let pids = dbg.session.processes();
    let text = call.args.trim();
    if let Some(n) = text.strip_suffix('s') {
        let n: usize = n.trim().parse().map_err(|_| anyhow!("|Ns: select process N"))?;
        let pid = *pids.get(n).ok_or_else(|| anyhow!("no process {n}"))?;
        dbg.current = Some(Current { pid, tid: pid, frame: 0 });
        return Ok(());
    }
    if pids.is_empty() {
        return Err(no_process());
    }
    for (i, pid) in pids.iter().enumerate() {
        let mark = if dbg.current.is_some_and(|c| c.pid == *pid) { '.' } else { ' ' };
        let state = if dbg.held.contains_key(pid) { "stopped" } else { "running" };
        let image = dbg.session.image(*pid).map(|p| p.display().to_string()).unwrap_or_default();
        say!("{mark}{i:>2}  pid={pid} {state} {image}");
    }
    Ok(())
}

// ---- disassembly ---------------------------------------------------------------

/// Prints `count` instructions from `address`; returns where the next would be.
pub fn disassemble_lines(dbg: &mut Debugger, address: u64, count: usize) -> Result<u64> {
    let c = dbg.current.ok_or_else(no_process)?;
    let rip = dbg.session.registers(c.pid, c.tid).ok().map(|r| r.rip);
    let insns = dbg.session.disassemble(c.pid, address, count)?;
    if let Some(place) = crate::format::place(&mut dbg.session, c.pid, address) {
        say!("{place}:");
    }
    let mut next = address;
    for insn in &insns {
        say!("{}", instruction_line(insn, rip));
        next = insn.next_address();
    }
    Ok(next)
}

/// `u [ADDR] [L COUNT]`.
pub fn unassemble(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let (address_text, count_text) = args::split_length(call.args);
    let count = match count_text {
        Some(t) => usize::try_from(args::number(&t)?)?,
        None => 8,
    };
    if count == 0 {
        bail!("the count must be at least 1");
    }
    let address = if !address_text.is_empty() {
        dbg.eval(&address_text)?
    } else if let Some(next) = dbg.next_disassembly {
        next
    } else {
        dbg.frame_pc()?
    };
    let next = disassemble_lines(dbg, address, count)?;
    dbg.next_disassembly = Some(next);
    Ok(())
}

/// `uf [ADDR]`: the whole function.
pub fn unassemble_function(dbg: &mut Debugger, call: &Call) -> Result<()> {
    // gdb's modifiers: /r (raw bytes: always shown), /m and /s (source lines), also as words.
    let mut with_source = false;
    let mut rest = call.args.trim();
    let mut modifiers: Vec<&str> = call.fmt.into_iter().collect();
    while let Some(after) = rest.strip_prefix('/') {
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        modifiers.push(&after[..end]);
        rest = after[end..].trim_start();
    }
    for m in modifiers {
        for letter in m.chars() {
            match letter {
                'r' | 'b' => {}
                'm' | 's' => with_source = true,
                other => bail!("bad modifier /{other}: /r (raw bytes), /m or /s (source lines)"),
            }
        }
    }
    let address = if rest.is_empty() { dbg.frame_pc()? } else { dbg.eval(rest)? };
    let c = dbg.current.ok_or_else(no_process)?;
    let s = dbg.session.symbolize(c.pid, address)?;
    let (Some(module), Some(raw)) = (s.module.clone(), s.raw_symbol.clone()) else {
        bail!("no function holds {address:#x}: use u {address:#x}");
    };
    let start = address - s.offset;
    let pattern = format!("^{}$", args::regex_escape(&raw));
    let size = dbg
        .session
        .search_symbols(c.pid, &pattern, Some(&module))?
        .into_iter()
        .find(|sym| sym.address == start)
        .map(|sym| sym.size)
        .unwrap_or(0);
    // A size of 0 (no size in the symbol table) or one no function has (a damaged file): the first
    // instructions, saying so.
    const BELIEVABLE: u64 = 1 << 20;
    if size == 0 || size > BELIEVABLE || start.checked_add(size).is_none() {
        if size != 0 {
            say!("(the symbol table gives {raw} a size of {size:#x}: showing its first 32 instructions)");
        }
        disassemble_lines(dbg, start, 32)?;
        return Ok(());
    }
    let rip = dbg.session.registers(c.pid, c.tid).ok().map(|r| r.rip);
    let insns = dbg.session.disassemble_range(c.pid, start, start + size)?;
    if let Some(place) = crate::format::place(&mut dbg.session, c.pid, start) {
        say!("{place}:");
    }
    let mut last_line = None;
    for insn in &insns {
        if with_source {
            let location = dbg.session.symbolize(c.pid, insn.address).ok().and_then(|s| s.location);
            if let Some(loc) = location {
                let key = (loc.file.clone(), loc.line);
                if last_line.as_ref() != Some(&key) {
                    let text = dbg.source_line(&loc.file, loc.line).unwrap_or_default();
                    say!("{}:{}", loc.file, loc.line);
                    say!("{:>6}  {}", loc.line, text);
                    last_line = Some(key);
                }
            }
        }
        say!("{}", instruction_line(insn, rip));
    }
    Ok(())
}

// ---- memory map, symbols, modules ------------------------------------------------

/// `!address [ADDR]`.
pub fn address(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let pid = dbg.process()?;
    let wanted = if call.args.trim().is_empty() { None } else { Some(dbg.eval(call.args)?) };
    let map = dbg.session.memory_map(pid)?;
    let regions: Vec<_> = map.iter().filter(|r| wanted.is_none_or(|a| r.start <= a && a < r.end)).collect();
    if regions.is_empty() {
        bail!("no mapping holds {:#x} in process {pid}", wanted.unwrap_or(0));
    }
    let ours = dbg.session.debugger_regions(pid)?;
    say!("start            end              size             perm offset   path");
    for r in regions {
        let path = if ours.iter().any(|o| o.start < r.end && r.start < o.end) {
            "[dbgkit scratch: the debugger's own code, gone after detach]".to_string()
        } else {
            r.path.clone()
        };
        say!("{:016x} {:016x} {:>16x} {} {:08x} {}", r.start, r.end, r.size(), r.permissions(), r.offset, path);
    }
    Ok(())
}

/// `ln ADDR`.
pub fn near_symbol(dbg: &mut Debugger, call: &Call) -> Result<()> {
    if call.args.trim().is_empty() {
        bail!("give an address: ln rip");
    }
    let address = dbg.eval(call.args)?;
    let pid = dbg.process()?;
    let s = dbg.session.symbolize(pid, address)?;
    if s.module.is_none() {
        bail!("no module holds {address:#x}");
    }
    say!("{address:016x} {}", s.with_location());
    for frame in s.inlined.iter().skip(1) {
        let function = frame.function.as_deref().unwrap_or("??");
        match &frame.location {
            Some(l) => say!("  inlined into {function} ({}:{})", l.file, l.line),
            None => say!("  inlined into {function}"),
        }
    }
    Ok(())
}

fn print_symbols(mut found: Vec<dbgkit::Symbol>) {
    found.sort_by(|a, b| (a.address, &a.module, &a.name).cmp(&(b.address, &b.module, &b.name)));
    found.dedup_by(|a, b| a.address == b.address && a.name == b.name && a.module == b.module);
    for s in found {
        say!("{:016x} {}!{}", s.address, s.module, s.name);
    }
}

/// `x [MODULE!]PATTERN` with WinDbg wildcards.
pub fn examine_symbols(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let pid = dbg.process()?;
    let text = call.args.trim();
    if text.is_empty() {
        bail!("give a pattern: x counter!b*, x *!malloc");
    }
    let (module_pattern, name_pattern) = text.split_once('!').unwrap_or(("*", text));
    let regex = dbgkit::wildcard::to_regex(name_pattern);
    let modules: Vec<String> = dbg
        .session
        .modules(pid)?
        .into_iter()
        .filter(|m| {
            dbgkit::symbols::module_matches(m, module_pattern) || dbgkit::wildcard::matches(module_pattern, &m.name)
        })
        .map(|m| m.name)
        .collect();
    if modules.is_empty() {
        bail!("no module matches {module_pattern:?}: lm lists them");
    }
    let mut found = Vec::new();
    for m in modules {
        found.extend(dbg.session.search_symbols(pid, &regex, Some(&m))?);
    }
    print_symbols(found);
    Ok(())
}

/// gdb's `info functions REGEX`.
pub fn info_functions(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let pid = dbg.process()?;
    let pattern = call.args.trim();
    let pattern = if pattern.is_empty() { "." } else { pattern };
    let found = dbg.session.search_symbols(pid, pattern, None)?;
    print_symbols(found);
    Ok(())
}

/// `lm`, `lm m PATTERN` (WinDbg's wildcard on the module name).
pub fn modules(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let pid = dbg.process()?;
    let words: Vec<&str> = call.args.split_whitespace().collect();
    let pattern = match words.as_slice() {
        [] => None,
        ["m", pattern] => Some(*pattern),
        _ => bail!("lm takes no arguments, or m PATTERN (lm m libc*); not {:?}", call.args),
    };
    say!("start            end              module");
    for m in dbg.session.modules(pid)? {
        if pattern.is_some_and(|p| !dbgkit::wildcard::matches(p, &m.name)) {
            continue;
        }
        say!("{:016x} {:016x} {:<24} {}", m.base, m.end(), m.name, m.path.display());
    }
    Ok(())
}

/// gdb's `info sharedlibrary [REGEX]`: the libraries (not the executable, not the vDSO).
pub fn shared_libraries(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let pid = dbg.process()?;
    let image = dbg.session.image(pid)?;
    let pattern = call.args.trim();
    let wanted: Vec<dbgkit::Module> = dbg
        .session
        .modules(pid)?
        .into_iter()
        .filter(|m| m.path != image && m.path.is_absolute())
        .filter(|m| pattern.is_empty() || m.path.to_string_lossy().contains(pattern))
        .collect();
    if wanted.is_empty() {
        say!("No shared libraries loaded at this time.");
        return Ok(());
    }
    say!("From                To                  Syms Read   Shared Object Library");
    for m in wanted {
        // As gdb: the library's code (.text), or its whole image when the file cannot tell.
        let code = m.section_range(".text").unwrap_or(m.base..m.end());
        say!("0x{:016x}  0x{:016x}  Yes         {}", code.start, code.end, m.path.display());
    }
    Ok(())
}

/// `? EXPR`: the value in decimal and hex, and the symbol it points into.
pub fn evaluate(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    if text.is_empty() {
        say!("{}", super::commands::help_overview().trim_end());
        return Ok(());
    }
    let value = dbg.eval(text)?;
    let place = dbg.current.and_then(|c| crate::format::place(&mut dbg.session, c.pid, value));
    match place {
        Some(p) => say!("{value} = {value:#x} {p}"),
        None => say!("{value} = {value:#x}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_widths() {
        assert_eq!(register_digits("rax"), Some(16));
        assert_eq!(register_digits("eax"), Some(8));
        assert_eq!(register_digits("al"), Some(2));
        assert_eq!(register_digits("nope"), None);
    }
}
