//! What is read from a stopped thread at the moment that matters: its
//! registers, the faulting instruction, its stack with names and lines, and
//! glibc's abort message. Everything goes through the session's public
//! calls, which a core file answers as well as a live process.

use super::fault::{classify_fault, FaultFacts, FaultFinding};
use crate::arch::registers::Registers;
use crate::disasm::MAX_INSTRUCTION_LEN;
use crate::error::Result;
use crate::session::Session;
use crate::unwind::StackFrame;

/// Why the thread was stopped for a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// A signal arrived for the thread (`si_code` and `si_addr` from its siginfo).
    Signal { signal: i32, code: i32, fault_address: Option<u64> },
    /// The thread entered Rust's `rust_panic`: the panic's stack, before any unwinding.
    Panic,
    /// The run was out of time and the debugger broke in.
    Hang,
}

/// One frame of a crash's stack, as reports show it. A function inlined
/// into its caller is a frame of its own (as gdb shows it), with the pc of
/// the frame it is inlined in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub number: usize,
    pub pc: u64,
    pub module: Option<String>,
    pub function: Option<String>,
    /// Offset of `pc` into the function's symbol.
    pub offset: u64,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// The frame is a function inlined into the next one.
    pub inlined: bool,
}

impl Frame {
    /// `module!function+0x1f (file.c:12)`, the way stacks are printed.
    pub fn describe(&self) -> String {
        let mut text = match (&self.module, &self.function) {
            (Some(m), Some(f)) if self.offset != 0 && !self.inlined => format!("{m}!{f}+{:#x}", self.offset),
            (Some(m), Some(f)) => format!("{m}!{f}"),
            (Some(m), None) => format!("{m}+?"),
            (None, _) => format!("{:#x}", self.pc),
        };
        if let (Some(file), Some(line)) = (&self.file, self.line) {
            let short = std::path::Path::new(file).file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
            text.push_str(&format!(" ({short}:{line})"));
        }
        text
    }
}

/// Everything read from the stopped thread.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub pid: i32,
    pub tid: i32,
    pub trigger: Trigger,
    pub registers: Registers,
    /// What the fault says (the class from the signal and instruction alone).
    pub finding: FaultFinding,
    pub frames: Vec<Frame>,
    /// Why the stack walk ended early, if it did.
    pub stack_stopped: Option<String>,
    /// glibc's last abort message (`__abort_msg`), read from the target at an abort.
    pub abort_message: Option<String>,
}

/// Reads a snapshot of thread `tid` of process `pid`, which must be
/// stopped. `input` is the run's input, to recognise addresses made of its bytes.
pub fn capture(session: &mut Session, pid: i32, tid: i32, trigger: Trigger, input: Option<&[u8]>) -> Result<Snapshot> {
    let registers = session.registers(pid, tid)?;
    let regions = session.memory_map(pid).unwrap_or_default();
    let mut code = [0u8; MAX_INSTRUCTION_LEN];
    let code_len = session.read_memory_partial(pid, registers.rip, &mut code).unwrap_or(0);
    let read_word = |session: &mut Session, address: u64| {
        let mut word = [0u8; 8];
        session.read_memory(pid, address, &mut word).ok().map(|_| u64::from_le_bytes(word))
    };
    let word_below_sp = read_word(session, registers.rsp.wrapping_sub(8));
    let word_at_sp = read_word(session, registers.rsp);
    let (signal, code_value, fault_address) = match trigger {
        Trigger::Signal { signal, code, fault_address } => (signal, code, fault_address),
        // Not a fault: only the instruction is of interest.
        Trigger::Panic | Trigger::Hang => (0, 0, None),
    };
    let facts = FaultFacts {
        signal,
        code: code_value,
        fault_address,
        registers: &registers,
        code_bytes: (code_len > 0).then_some(&code[..code_len]),
        regions: &regions,
        word_below_sp,
        word_at_sp,
        input,
    };
    let mut finding = classify_fault(&facts);
    // The session's disassembly names call targets and RIP-relative operands.
    if let Some(instruction) = finding.instruction.as_mut() {
        if let Ok(decoded) = session.disassemble(pid, registers.rip, 1) {
            if let Some(first) = decoded.first() {
                instruction.text = first.text.clone();
            }
        }
    }
    let (frames, stack_stopped) = match session.stack(pid, tid) {
        Ok(stack) => (frames_of(&stack.frames), stack.stopped),
        Err(e) => (Vec::new(), Some(format!("no stack: {e}"))),
    };
    let abort_message = if signal == crate::signal_numbers::SIGABRT { read_abort_message(session, pid) } else { None };
    Ok(Snapshot { pid, tid, trigger, registers, finding, frames, stack_stopped, abort_message })
}

/// The engine's frames as report frames, inline chains expanded.
fn frames_of(stack: &[StackFrame]) -> Vec<Frame> {
    let mut frames = Vec::new();
    for frame in stack {
        let Some(place) = &frame.symbol else {
            frames.push(Frame {
                number: frames.len(),
                pc: frame.pc,
                module: None,
                function: None,
                offset: 0,
                file: None,
                line: None,
                inlined: false,
            });
            continue;
        };
        let chain = &place.inlined;
        if chain.len() > 1 {
            for (k, inline) in chain.iter().enumerate() {
                let outermost = k + 1 == chain.len();
                frames.push(Frame {
                    number: frames.len(),
                    pc: frame.pc,
                    module: place.module.clone(),
                    function: inline.function.clone().or_else(|| outermost.then(|| place.symbol.clone()).flatten()),
                    offset: if outermost { place.offset } else { 0 },
                    file: inline.location.as_ref().map(|l| l.file.clone()),
                    line: inline.location.as_ref().map(|l| l.line).filter(|&l| l != 0),
                    inlined: !outermost,
                });
            }
            continue;
        }
        frames.push(Frame {
            number: frames.len(),
            pc: frame.pc,
            module: place.module.clone(),
            function: place.symbol.clone().or_else(|| chain.first().and_then(|f| f.function.clone())),
            offset: place.offset,
            file: place.location.as_ref().map(|l| l.file.clone()),
            line: place.location.as_ref().map(|l| l.line).filter(|&l| l != 0),
            inlined: false,
        });
    }
    frames
}

/// glibc keeps the message of its last fatal error (assertions, heap checks,
/// the stack protector) in `__abort_msg`: a pointer to `{ u32 size; char msg[]; }`.
fn read_abort_message(session: &mut Session, pid: i32) -> Option<String> {
    let variable = session.lookup(pid, "libc.so.6!__abort_msg").or_else(|_| session.lookup(pid, "__abort_msg")).ok()?;
    let mut word = [0u8; 8];
    session.read_memory(pid, variable, &mut word).ok()?;
    let record = u64::from_le_bytes(word);
    if record == 0 {
        return None;
    }
    let mut text = vec![0u8; 4096];
    let n = session.read_memory_partial(pid, record + 4, &mut text).ok()?;
    text.truncate(n);
    let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    let message = String::from_utf8_lossy(&text[..end]).trim_end().to_string();
    (!message.is_empty()).then_some(message)
}
