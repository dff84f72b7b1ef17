//! Source-level commands: variables (`dv`, `info locals`, `info args`),
//! typed expressions (`print`/`p EXPR`, `p/x`, WinDbg's `??`), types
//! (`dt`, `ptype`, `whatis`), assignment (`set var`), source text (`list`,
//! `lsa`) and places (`info line`, `info source`, `info frame`). All of
//! them work in the selected frame (`frame N`, `up`, `down`), with the
//! engine's typed evaluation; the text is gdb's where gdb has the command.

use super::commands::Call;
use super::debugger::{say, Current, Debugger};
use anyhow::{anyhow, bail, Result};
use dbgkit::{SourceFrame, VariableKind};

/// The source frames of the current thread and the selected one.
fn selected(dbg: &mut Debugger) -> Result<(Current, Vec<SourceFrame>)> {
    let c = dbg.stopped()?;
    let frames = dbg.session.source_frames(c.pid, c.tid)?;
    if c.frame >= frames.len() {
        bail!("no frame {}: the stack has {}", c.frame, frames.len());
    }
    Ok((c, frames))
}

/// The physical frame (of `Session::stack`) the selected frame belongs to.
pub fn physical_frame(dbg: &mut Debugger, c: Current) -> Result<usize> {
    let frames = dbg.session.source_frames(c.pid, c.tid)?;
    frames
        .get(c.frame)
        .map(|f| f.physical)
        .ok_or_else(|| anyhow!("no frame {}: the stack has {}", c.frame, frames.len()))
}

/// `r` in an outer frame: the registers unwinding recovered there (the
/// others are unknown in that frame: `<not saved>`, as gdb says).
pub fn outer_frame_registers(dbg: &mut Debugger, c: Current, physical: usize, text: &str) -> Result<()> {
    let stack = dbg.session.stack(c.pid, c.tid)?;
    let frame = stack.frames.get(physical).ok_or_else(|| anyhow!("no frame {}", c.frame))?;
    let value = |name: &str| -> String {
        match frame.registers.get(name) {
            Some(v) => format!("{v:016x}"),
            None => "<not saved>     ".to_string(),
        }
    };
    if text.is_empty() {
        let rows: [&[&str]; 6] = [
            &["rax", "rbx", "rcx"],
            &["rdx", "rsi", "rdi"],
            &["rip", "rsp", "rbp"],
            &["r8", "r9", "r10"],
            &["r11", "r12", "r13"],
            &["r14", "r15"],
        ];
        for row in rows {
            let line: Vec<String> = row.iter().map(|n| format!("{n:>3}={}", value(n))).collect();
            say!("{}", line.join(" ").trim_end());
        }
        say!("(frame {}: only the registers the unwinder recovered are known)", c.frame);
        dbg.show_place(c.pid, frame.pc, None);
        return Ok(());
    }
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if item.contains('=') {
            bail!("frame {} is not the innermost: registers are set in frame 0 (frame 0, then r)", c.frame);
        }
        let name = item.trim_start_matches(['@', '$']).to_ascii_lowercase();
        if dbgkit::Registers::default().get(&name).is_none() {
            bail!("unknown register {name:?}: r alone lists them");
        }
        say!("{name}={}", value(&name).trim_end());
    }
    Ok(())
}

/// `$N = ` for the next value of the history.
fn history_prefix(dbg: &mut Debugger) -> String {
    dbg.values_printed += 1;
    format!("${} = ", dbg.values_printed)
}

/// A format letter of `print/FMT`: the last letter (a count is meaningless for print).
fn format_letter(call: &Call) -> Result<Option<char>> {
    let Some(fmt) = call.fmt else { return Ok(None) };
    let letter = fmt.chars().rev().find(|c| c.is_ascii_alphabetic());
    match letter {
        Some(c) if "xduotcazsf".contains(c) => Ok(Some(c)),
        Some(c) => bail!("Undefined output format \"{c}\"."),
        None => Ok(None),
    }
}

/// `print EXPR`, `p EXPR`, `p/x EXPR`, `output EXPR`: gdb's print.
pub fn print(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    let format = format_letter(call)?;
    if text.is_empty() {
        bail!("give an expression: print counter, p/x mask, p *list");
    }
    let c = dbg.stopped()?;
    let value = dbg.session.evaluate_typed(c.pid, c.tid, c.frame, text)?;
    let shown = match format {
        Some(f) => dbg.session.format_typed(c.pid, &value.value, Some(f))?,
        None => value.text,
    };
    if call.name == "output" {
        say!("{shown}");
    } else {
        let prefix = history_prefix(dbg);
        say!("{prefix}{shown}");
    }
    Ok(())
}

/// WinDbg's `?? EXPR`: the C++ evaluator; the type, then the value (a
/// struct's members one a line).
pub fn evaluate_cpp(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    if text.is_empty() {
        bail!("give a C/C++ expression: ?? list->next->value, ?? sizeof(struct node)");
    }
    let c = dbg.stopped()?;
    let value = dbg.session.evaluate_typed(c.pid, c.tid, c.frame, text)?;
    let members = dbg.session.member_values(c.pid, &value.value).unwrap_or_default();
    if members.is_empty() {
        say!("{} {}", value.type_name, value.text);
        return Ok(());
    }
    say!("{}", value.type_name);
    print_members(&members, value.value.address());
    Ok(())
}

/// `dt`'s member lines: `   +0x008 name             : 0x4006f4 "one"`.
fn print_members(members: &[(dbgkit::FieldInfo, String)], _address: Option<u64>) {
    for (field, text) in members {
        let name = if field.is_base {
            format!("__BaseClass {}", field.type_name)
        } else {
            field.name.clone().unwrap_or_else(|| "<anonymous>".into())
        };
        let bits =
            field.bits.map(|(offset, size)| format!(" (Pos {offset}, {size} Bit{})", if size == 1 { "" } else { "s" }));
        let place = if field.is_static { "=static".to_string() } else { format!("+{:#05x}", field.offset) };
        say!("   {place} {name:<16} : {text}{}", bits.unwrap_or_default());
    }
}

/// `dt TYPE [ADDR]`, `dt VAR`: a type's layout, or an object's members.
pub fn display_type(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    if text.is_empty() {
        bail!("dt TYPE [ADDR] or dt VARIABLE: dt struct node, dt struct node 0x601040, dt list");
    }
    let pid = dbg.process()?;
    // `dt TYPE ADDR`: the last word is an address when the rest names a type.
    if let Some((type_text, address_text)) = text.rsplit_once(char::is_whitespace) {
        if let Ok(info) = dbg.session.find_type(pid, type_text.trim()) {
            let address = dbg.eval(address_text.trim())?;
            let object = dbg.session.object_at(info.id, address);
            say!("{} at {address:#x}", info.name);
            let members = dbg.session.member_values(pid, &object)?;
            if members.is_empty() {
                say!("   {}", dbg.session.format_typed(pid, &object, None)?);
            }
            print_members(&members, Some(address));
            return Ok(());
        }
    }
    if let Ok(info) = dbg.session.find_type(pid, text) {
        say!("{}", info.name);
        if info.fields.is_empty() {
            say!("   {}", info.declaration);
        }
        for field in &info.fields {
            let name = if field.is_base {
                format!("__BaseClass {}", field.type_name)
            } else {
                field.name.clone().unwrap_or_else(|| "<anonymous>".into())
            };
            let place = if field.is_static { "=static".to_string() } else { format!("+{:#05x}", field.offset) };
            let bits = field.bits.map(|(o, s)| format!(" (Pos {o}, {s} Bit{})", if s == 1 { "" } else { "s" }));
            say!("   {place} {name:<16} : {}{}", field.type_name, bits.unwrap_or_default());
        }
        return Ok(());
    }
    // A variable (or any expression): its type and members.
    let c = dbg.stopped()?;
    let value = dbg.session.evaluate_typed(c.pid, c.tid, c.frame, text).map_err(|e| match e {
        dbgkit::Error::UnknownName(name) => anyhow!("no type or variable named {name}"),
        other => other.into(),
    })?;
    let mut value = value;
    // A pointer: what it points to, as WinDbg's dt does.
    if value.type_name.ends_with('*') {
        if let Ok(target) = dbg.session.evaluate_typed(c.pid, c.tid, c.frame, &format!("*({text})")) {
            value = target;
        }
    }
    say!("{}", value.type_name);
    let members = dbg.session.member_values(c.pid, &value.value)?;
    if members.is_empty() {
        say!("   {}", value.text);
    }
    print_members(&members, value.value.address());
    Ok(())
}

/// `ptype EXPR|TYPE`.
pub fn ptype(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    if text.is_empty() {
        bail!("give an expression or a type: ptype list, ptype struct node");
    }
    let (pid, tid, frame) = where_to_evaluate(dbg)?;
    let shown = dbg.session.ptype(pid, tid, frame, text)?;
    say!("type = {shown}");
    Ok(())
}

/// `whatis EXPR|TYPE`.
pub fn whatis(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    if text.is_empty() {
        bail!("give an expression or a type: whatis list, whatis binary_op");
    }
    let (pid, tid, frame) = where_to_evaluate(dbg)?;
    let shown = dbg.session.whatis(pid, tid, frame, text)?;
    say!("type = {shown}");
    Ok(())
}

/// The process, thread and frame to evaluate in: the selected ones when
/// stopped; types alone need only a process.
fn where_to_evaluate(dbg: &mut Debugger) -> Result<(i32, i32, usize)> {
    match dbg.stopped() {
        Ok(c) => Ok((c.pid, c.tid, c.frame)),
        Err(e) => {
            let pid = dbg.process().map_err(|_| e)?;
            Ok((pid, pid, 0))
        }
    }
}

fn variables(dbg: &mut Debugger, kind: Option<VariableKind>) -> Result<Vec<dbgkit::Variable>> {
    let c = dbg.stopped()?;
    match dbg.session.frame_variables(c.pid, c.tid, c.frame) {
        Ok(vars) => Ok(vars.into_iter().filter(|v| kind.is_none_or(|k| v.kind == k)).collect()),
        Err(dbgkit::Error::NoDebugInfo(_)) => bail!("No symbol table info available."),
        Err(e) => Err(e.into()),
    }
}

/// gdb's `info locals`.
pub fn info_locals(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    let vars = variables(dbg, Some(VariableKind::Local))?;
    if vars.is_empty() {
        say!("No locals.");
    }
    for v in vars {
        say!("{} = {}", v.name, v.text);
    }
    Ok(())
}

/// gdb's `info args`.
pub fn info_args(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    let vars = variables(dbg, Some(VariableKind::Argument))?;
    if vars.is_empty() {
        say!("No arguments.");
    }
    for v in vars {
        say!("{} = {}", v.name, v.text);
    }
    Ok(())
}

/// WinDbg's `dv [/t] [PATTERN]`: parameters and locals, names aligned;
/// `/t` shows the types.
pub fn display_variables(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let mut with_types = call.fmt.is_some_and(|f| f.contains('t'));
    let mut pattern = None;
    for word in call.args.split_whitespace() {
        match word {
            "/t" | "/T" => with_types = true,
            w if w.starts_with('/') => bail!("dv knows /t (types); {w} is not an option"),
            w => pattern = Some(dbgkit::wildcard::to_regex(w)),
        }
    }
    let regex = match pattern {
        Some(p) => Some(regex_lite(&p)?),
        None => None,
    };
    let vars: Vec<dbgkit::Variable> =
        variables(dbg, None)?.into_iter().filter(|v| regex.as_ref().is_none_or(|r| r(&v.name))).collect();
    // WinDbg right-aligns the names (with their types for /t).
    let left = |v: &dbgkit::Variable| if with_types { format!("{} {}", v.type_name, v.name) } else { v.name.clone() };
    let width = vars.iter().map(|v| left(v).len()).max().unwrap_or(0).max(14);
    for v in &vars {
        say!("{:>width$} = {}", left(v), v.text);
    }
    Ok(())
}

/// A matcher for the anchored wildcard regex `args::wildcard_regex` makes.
fn regex_lite(pattern: &str) -> Result<impl Fn(&str) -> bool> {
    let body: Vec<char> = pattern.trim_start_matches('^').trim_end_matches('$').chars().collect();
    fn go(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('.') if p.get(1) == Some(&'*') => (0..=s.len()).any(|i| go(&p[2..], &s[i..])),
            Some('.') => !s.is_empty() && go(&p[1..], &s[1..]),
            Some('\\') if p.len() > 1 => s.first() == Some(&p[1]) && go(&p[2..], &s[1..]),
            Some(c) => s.first() == Some(c) && go(&p[1..], &s[1..]),
        }
    }
    Ok(move |name: &str| {
        let s: Vec<char> = name.chars().collect();
        go(&body, &s)
    })
}

/// `set var LVALUE = EXPR`: assignment through the type; `set var $REG = X`
/// and `set var {TYPE}ADDR = X` as plain `set` does.
pub fn set_variable(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    if text.starts_with('$') && !text.starts_with("$_") || text.starts_with('{') {
        return super::memory::set(dbg, call);
    }
    if text.is_empty() || !text.contains('=') {
        bail!("set var VARIABLE = EXPR: set var counter = 5, set var p->next = 0");
    }
    let c = dbg.stopped()?;
    dbg.session.evaluate_typed(c.pid, c.tid, c.frame, text)?;
    Ok(())
}

// ---- source text -----------------------------------------------------------

/// The selected frame's file and line.
fn frame_line(dbg: &mut Debugger) -> Result<(String, u32)> {
    let (c, frames) = selected(dbg)?;
    let location = frames[c.frame].location.clone().ok_or_else(|| anyhow!("no source line is known for this frame"))?;
    if location.line == 0 {
        bail!("no source line is known for this frame");
    }
    Ok((location.file, location.line))
}

/// Prints lines `first..=last` of a file, gdb's way (`80\t    text`).
fn print_lines(dbg: &mut Debugger, file: &str, first: u32, last: u32, mark: Option<u32>) -> Result<u32> {
    let mut printed = 0;
    let mut shown_last = first.saturating_sub(1);
    for line in first.max(1)..=last {
        let Some(text) = dbg.source_line(file, line) else { break };
        match mark {
            Some(m) => say!("{}{line:>5}  {text}", if m == line { ">" } else { " " }),
            None => say!("{line}\t{text}"),
        }
        printed += 1;
        shown_last = line;
    }
    if printed == 0 {
        bail!("Line number {first} out of range; \"{file}\" has fewer lines.");
    }
    Ok(shown_last)
}

/// Resolves `list`'s argument to a file and a center line.
fn list_target(dbg: &mut Debugger, text: &str) -> Result<(String, u32)> {
    if let Ok(line) = text.parse::<u32>() {
        let (file, _) = match &dbg.listing {
            Some((f, l)) => (f.clone(), *l),
            None => frame_line(dbg)?,
        };
        return Ok((file, line));
    }
    let pid = dbg.process()?;
    let locations = dbg.session.breakpoint_locations(pid, text)?;
    let first = locations.first().ok_or_else(|| anyhow!("Function \"{text}\" not defined."))?;
    let location = first.location.clone().ok_or_else(|| anyhow!("no source line is known for {text}"))?;
    Ok((location.file, location.line))
}

/// gdb's `list [LINE | FUNCTION | FILE:LINE | FIRST,LAST]`: ten lines
/// around a place; `list` again goes on.
pub fn list(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    let (file, first, last) = if text.is_empty() {
        match dbg.listing.clone() {
            Some((file, next)) => (file, next, next + 9),
            None => {
                let (file, line) = frame_line(dbg)?;
                let first = line.saturating_sub(5).max(1);
                (file, first, first + 9)
            }
        }
    } else if let Some((a, b)) = text.split_once(',') {
        let (file, first) = list_target(dbg, a.trim())?;
        let last: u32 = b.trim().parse().map_err(|_| anyhow!("list FIRST,LAST takes line numbers"))?;
        (file, first, last)
    } else {
        let (file, line) = list_target(dbg, text)?;
        let first = line.saturating_sub(5).max(1);
        (file, first, first + 9)
    };
    let shown_last = print_lines(dbg, &file, first, last, None)?;
    dbg.listing = Some((file, shown_last + 1));
    Ok(())
}

/// WinDbg's `lsa ADDR`: the source around an address, its line marked.
pub fn list_address(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    let address = if text.is_empty() { dbg.frame_pc()? } else { dbg.eval(text)? };
    let pid = dbg.process()?;
    let range = dbg.session.line_range(pid, address)?.ok_or_else(|| anyhow!("no source line for {address:#x}"))?;
    let line = range.location.line;
    let first = line.saturating_sub(5).max(1);
    let shown_last = print_lines(dbg, &range.location.file, first, line + 4, Some(line))?;
    dbg.listing = Some((range.location.file, shown_last + 1));
    Ok(())
}

/// gdb's `<symbol+offset>` for an address.
fn gdb_symbol(dbg: &mut Debugger, pid: i32, address: u64) -> String {
    match dbg.session.symbolize(pid, address) {
        Ok(s) => match (s.symbol, s.offset) {
            (Some(name), 0) => format!(" <{}>", dbgkit_name(&name)),
            (Some(name), off) => format!(" <{}+{off}>", dbgkit_name(&name)),
            _ => String::new(),
        },
        Err(_) => String::new(),
    }
}

/// A C++ symbol name without its parameters, as gdb's `<...>` shows it.
fn dbgkit_name(name: &str) -> String {
    match name.find('(') {
        Some(i) if !name[..i].ends_with("operator") => name[..i].to_string(),
        _ => name.to_string(),
    }
}

/// gdb's `info line [LOCATION]`.
pub fn info_line(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let text = call.args.trim();
    let pid = dbg.process()?;
    let address = if text.is_empty() {
        dbg.frame_pc()?
    } else if let Some(expression) = text.strip_prefix('*') {
        dbg.eval(expression.trim())?
    } else {
        match dbg.session.lookup(pid, text) {
            Ok(a) => a,
            Err(_) => dbg
                .session
                .breakpoint_locations(pid, text)?
                .first()
                .map(|l| l.address)
                .ok_or_else(|| anyhow!("no code for {text}"))?,
        }
    };
    let Some(range) = dbg.session.line_range(pid, address)? else {
        say!("No line number information available for address {address:#x}{}", gdb_symbol(dbg, pid, address));
        return Ok(());
    };
    let start_symbol = gdb_symbol(dbg, pid, range.start);
    let end_symbol = gdb_symbol(dbg, pid, range.end);
    say!(
        "Line {} of \"{}\" starts at address {:#x}{start_symbol} and ends at {:#x}{end_symbol}.",
        range.location.line,
        range.file_as_written,
        range.start,
        range.end
    );
    Ok(())
}

/// gdb's `info source`.
pub fn info_source(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    let pid = dbg.process()?;
    let pc = dbg.frame_pc()?;
    let Some(info) = dbg.session.source_info(pid, pc)? else {
        say!("No current source file.");
        return Ok(());
    };
    say!("Current source file is {}", info.name);
    if let Some(dir) = &info.comp_dir {
        say!("Compilation directory is {dir}");
    }
    say!("Located in {}", info.path);
    if let Ok(text) = std::fs::read_to_string(&info.path) {
        say!("Contains {} lines.", text.lines().count());
    }
    say!("Source language is {}.", info.language);
    if let Some(producer) = &info.producer {
        say!("Producer is {producer}.");
    }
    say!("Compiled with DWARF {} debugging format.", info.dwarf_version);
    Ok(())
}

/// gdb's `info frame`: the selected frame's addresses, caller and callee,
/// arguments and what is known of its saved registers.
pub fn info_frame(dbg: &mut Debugger, _call: &Call) -> Result<()> {
    let (c, frames) = selected(dbg)?;
    let frame = frames[c.frame].clone();
    let stack = dbg.session.stack(c.pid, c.tid)?;
    let physical = &stack.frames[frame.physical];
    let caller = stack.frames.get(frame.physical + 1);
    let function = frame.function.clone().unwrap_or_else(|| "??".into());
    let place = frame
        .location
        .as_ref()
        .map(|l| {
            let file =
                std::path::Path::new(&l.file).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            format!(" ({file}:{})", l.line)
        })
        .unwrap_or_default();
    say!("Stack level {}, frame at {:#x}:", c.frame, physical.cfa);
    let saved = caller.map(|f| format!("; saved rip = {:#x}", f.pc)).unwrap_or_default();
    say!(" rip = {:#x} in {function}{place}{saved}", frame.pc);
    if frame.inlined {
        say!(" inlined into frame {}", c.frame + 1);
    }
    if let Some(caller) = caller {
        say!(" called by frame at {:#x}", caller.cfa);
    }
    if frame.physical > 0 {
        say!(" caller of frame at {:#x}", stack.frames[frame.physical - 1].cfa);
    }
    if let Some(info) = dbg.session.source_info(c.pid, physical.lookup_pc())? {
        say!(" source language {}.", info.language);
    }
    let args: Vec<String> = match dbg.session.frame_variables(c.pid, c.tid, c.frame) {
        Ok(vars) => {
            vars.iter().filter(|v| v.kind == VariableKind::Argument).map(|v| format!("{}={}", v.name, v.text)).collect()
        }
        Err(_) => Vec::new(),
    };
    say!(" Arglist at {:#x}, args: {}", physical.cfa.wrapping_sub(16), args.join(", "));
    say!(" Locals at {:#x}, Previous frame's sp is {:#x}", physical.cfa.wrapping_sub(16), physical.cfa);
    if physical.cfa != 0 {
        say!(" Saved registers:");
        say!("  rip at {:#x}", physical.cfa.wrapping_sub(8));
    }
    Ok(())
}
