//! Disassembly with iced-x86: instructions decoded from target memory (the
//! original bytes, never a breakpoint's `0xCC`), with branch targets and
//! RIP-relative operands named by the session's symbols
//! (`call counter!bump`, `mov rax, [counter!value]`).
//!
//! ```no_run
//! # let mut session = dbgkit::Session::new(); let (pid, rip) = (1, 0x401000);
//! for insn in session.disassemble(pid, rip, 8)? {
//!     println!("{:016x} {:<20} {}", insn.address, insn.hex_bytes(), insn.text);
//! }
//! # Ok::<(), dbgkit::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::session::Session;
use iced_x86::{
    Decoder, DecoderOptions, FlowControl, Formatter, IntelFormatter, Mnemonic, SymbolResolver, SymbolResult,
};
use std::collections::HashMap;

/// The longest x86 instruction, in bytes.
pub const MAX_INSTRUCTION_LEN: usize = 15;

/// The most instructions one call disassembles (and, times
/// [`MAX_INSTRUCTION_LEN`], the widest range it reads): a user's count is
/// checked against it before any memory is taken.
pub const MAX_DISASSEMBLY: usize = 100_000;

/// How control leaves an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// To the next instruction.
    Next,
    /// `call` (direct or indirect): the next instruction runs when it returns.
    Call,
    /// `ret`, `iret`, `sysret`.
    Return,
    /// `jmp` (direct or indirect).
    Jump,
    /// `jcc`, `loop`, `jrcxz`.
    ConditionalJump,
    /// `int n`, `int3`, `syscall`, `sysenter`.
    Interrupt,
    /// Bytes that do not decode, `ud2`.
    Invalid,
}

/// One decoded instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    pub address: u64,
    pub bytes: Vec<u8>,
    /// Intel syntax; branch targets and RIP-relative addresses are shown by
    /// name when a symbol covers them.
    pub text: String,
    pub flow: Flow,
    /// The target of a direct branch or call.
    pub target: Option<u64>,
    /// The address of a RIP-relative memory operand.
    pub memory: Option<u64>,
    /// A string instruction with a `rep`/`repe`/`repne` prefix (it may run
    /// many times at one address).
    pub repeated: bool,
}

impl Instruction {
    /// The address of the next instruction in memory.
    pub fn next_address(&self) -> u64 {
        self.address.wrapping_add(self.bytes.len() as u64)
    }

    /// The bytes as hexadecimal, no spaces (`e8d2ffffff`).
    pub fn hex_bytes(&self) -> String {
        self.bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether stepping over this instruction means running until the next
    /// one (a call, or a repeated string instruction).
    pub fn steps_over(&self) -> bool {
        self.flow == Flow::Call || self.repeated
    }
}

/// Names addresses for the formatter from a table filled beforehand.
struct Names(HashMap<u64, String>);

impl SymbolResolver for Names {
    fn symbol(
        &mut self,
        _instruction: &iced_x86::Instruction,
        _operand: u32,
        _instruction_operand: Option<u32>,
        address: u64,
        _address_size: u32,
    ) -> Option<SymbolResult<'_>> {
        self.0.get(&address).map(|name| SymbolResult::with_str(address, name.as_str()))
    }
}

fn formatter(names: HashMap<u64, String>) -> IntelFormatter {
    let mut f = IntelFormatter::with_options(Some(Box::new(Names(names))), None);
    let o = f.options_mut();
    o.set_hex_prefix("0x");
    o.set_hex_suffix("");
    o.set_uppercase_hex(false);
    o.set_space_after_operand_separator(true);
    o.set_branch_leading_zeros(false);
    o.set_first_operand_char_index(8);
    f
}

fn flow_of(insn: &iced_x86::Instruction) -> Flow {
    if insn.is_invalid() {
        return Flow::Invalid;
    }
    match insn.flow_control() {
        FlowControl::Call | FlowControl::IndirectCall if insn.mnemonic() == Mnemonic::Call => Flow::Call,
        FlowControl::Call | FlowControl::IndirectCall | FlowControl::Interrupt => Flow::Interrupt,
        FlowControl::Return => Flow::Return,
        FlowControl::UnconditionalBranch | FlowControl::IndirectBranch => Flow::Jump,
        FlowControl::ConditionalBranch => Flow::ConditionalJump,
        FlowControl::Exception => Flow::Invalid,
        FlowControl::Next | FlowControl::XbeginXabortXend => Flow::Next,
    }
}

/// One decoded instruction before formatting; `len` is 1 for bytes that do not decode.
struct Raw {
    insn: iced_x86::Instruction,
    len: usize,
}

/// The raw decode, without formatting.
fn decode_raw(address: u64, bytes: &[u8], max: usize) -> Vec<Raw> {
    let mut decoder = Decoder::with_ip(64, bytes, address, DecoderOptions::NONE);
    let mut out = Vec::new();
    while decoder.can_decode() && out.len() < max {
        let position = decoder.position();
        let insn = decoder.decode();
        if insn.is_invalid() {
            // An instruction cut short by the end of the bytes is left out.
            if decoder.last_error() == iced_x86::DecoderError::NoMoreBytes && !out.is_empty() {
                break;
            }
            // Garbage: one byte, and decoding goes on after it.
            let next = position + 1;
            if decoder.set_position(next).is_err() {
                break;
            }
            decoder.set_ip(address + next as u64);
            let mut bad = iced_x86::Instruction::default();
            bad.set_ip(address + position as u64);
            out.push(Raw { insn: bad, len: 1 });
            continue;
        }
        out.push(Raw { len: insn.len(), insn });
    }
    out
}

fn finish(raw: &[Raw], address: u64, bytes: &[u8], names: HashMap<u64, String>) -> Vec<Instruction> {
    let mut f = formatter(names);
    raw.iter()
        .map(|Raw { insn, len }| {
            let start = (insn.ip() - address) as usize;
            let mut text = String::new();
            if insn.is_invalid() {
                text.push_str("(bad)");
            } else {
                f.format(insn, &mut text);
            }
            let target = match insn.flow_control() {
                FlowControl::Call | FlowControl::UnconditionalBranch | FlowControl::ConditionalBranch
                    if !insn.is_invalid() && insn.near_branch_target() != 0 =>
                {
                    Some(insn.near_branch_target())
                }
                _ => None,
            };
            Instruction {
                address: insn.ip(),
                bytes: bytes[start..start + len].to_vec(),
                text,
                flow: flow_of(insn),
                target,
                memory: (!insn.is_invalid() && insn.is_ip_rel_memory_operand()).then(|| insn.ip_rel_memory_address()),
                repeated: insn.is_string_instruction() && (insn.has_rep_prefix() || insn.has_repne_prefix()),
            }
        })
        .collect()
}

/// Decodes at most `max` instructions from `bytes`, which start at
/// `address`. Addresses are shown as numbers (no symbols). Bytes that do not
/// decode become one-byte `(bad)` instructions; an instruction cut short at
/// the end of `bytes` is left out (unless it is the only one).
pub fn decode(address: u64, bytes: &[u8], max: usize) -> Vec<Instruction> {
    let raw = decode_raw(address, bytes, max);
    finish(&raw, address, bytes, HashMap::new())
}

impl Session {
    /// Disassembles `count` instructions of process `pid` from `address`,
    /// naming branch targets and RIP-relative operands.
    pub fn disassemble(&mut self, pid: i32, address: u64, count: usize) -> Result<Vec<Instruction>> {
        if count > MAX_DISASSEMBLY {
            return Err(Error::InvalidArgument(format!(
                "cannot disassemble {count} instructions at once (at most {MAX_DISASSEMBLY})"
            )));
        }
        let mut bytes = vec![0u8; count.saturating_mul(MAX_INSTRUCTION_LEN).max(MAX_INSTRUCTION_LEN)];
        let n = self.read_memory_partial(pid, address, &mut bytes)?;
        if n == 0 {
            return Err(Error::UnmappedMemory { pid, address, len: 1 });
        }
        bytes.truncate(n);
        let raw = decode_raw(address, &bytes, count);
        let names = self.names_for(pid, &raw);
        Ok(finish(&raw, address, &bytes, names))
    }

    /// Disassembles the instructions that start in `start..end`.
    pub fn disassemble_range(&mut self, pid: i32, start: u64, end: u64) -> Result<Vec<Instruction>> {
        let len = end.saturating_sub(start);
        if len > (MAX_DISASSEMBLY * MAX_INSTRUCTION_LEN) as u64 {
            return Err(Error::InvalidArgument(format!(
                "cannot disassemble {len:#x} bytes at once (at most {:#x})",
                MAX_DISASSEMBLY * MAX_INSTRUCTION_LEN
            )));
        }
        let len = len as usize;
        let mut bytes = vec![0u8; len + MAX_INSTRUCTION_LEN];
        let n = self.read_memory_partial(pid, start, &mut bytes)?;
        if n == 0 {
            return Err(Error::UnmappedMemory { pid, address: start, len: len.max(1) });
        }
        bytes.truncate(n);
        let mut raw = decode_raw(start, &bytes, usize::MAX);
        raw.retain(|r| r.insn.ip() < end);
        let names = self.names_for(pid, &raw);
        Ok(finish(&raw, start, &bytes, names))
    }

    /// Names of every address the instructions point at, for the formatter.
    fn names_for(&mut self, pid: i32, raw: &[Raw]) -> HashMap<u64, String> {
        let mut names = HashMap::new();
        for Raw { insn, .. } in raw {
            if insn.is_invalid() {
                continue;
            }
            let mut wanted = Vec::new();
            if matches!(
                insn.flow_control(),
                FlowControl::Call | FlowControl::UnconditionalBranch | FlowControl::ConditionalBranch
            ) && insn.near_branch_target() != 0
            {
                wanted.push(insn.near_branch_target());
            }
            if insn.is_ip_rel_memory_operand() {
                wanted.push(insn.ip_rel_memory_address());
            }
            for address in wanted {
                if names.contains_key(&address) {
                    continue;
                }
                if let Ok(s) = self.symbolize(pid, address) {
                    if s.module.is_some() {
                        names.insert(address, s.to_string());
                    }
                }
            }
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_calls_jumps_and_rip_relative_operands() {
        // call +0 ; jne -2 ; mov rax, [rip+0x10] ; rep movsb ; ret
        let bytes =
            [0xe8, 0x00, 0x00, 0x00, 0x00, 0x75, 0xfe, 0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00, 0xf3, 0xa4, 0xc3];
        let insns = decode(0x1000, &bytes, 10);
        assert_eq!(insns.len(), 5);
        assert_eq!(insns[0].flow, Flow::Call);
        assert_eq!(insns[0].target, Some(0x1005));
        assert_eq!(insns[0].text, "call    0x1005");
        assert!(insns[0].steps_over());
        assert_eq!(insns[1].flow, Flow::ConditionalJump);
        assert_eq!(insns[1].target, Some(0x1005));
        assert_eq!(insns[2].memory, Some(0x100e + 0x10));
        assert_eq!(insns[2].text, "mov     rax, [0x101e]", "RIP-relative operands show their address");
        assert!(insns[3].repeated && insns[3].steps_over());
        assert_eq!(insns[4].flow, Flow::Return);
        assert_eq!(insns[4].next_address(), 0x1011);
        assert_eq!(insns[0].hex_bytes(), "e800000000");
    }

    #[test]
    fn names_come_from_the_resolver() {
        let bytes = [0xe8, 0x00, 0x00, 0x00, 0x00];
        let raw = decode_raw(0x1000, &bytes, 1);
        let names = HashMap::from([(0x1005, "m!f".to_string())]);
        let insns = finish(&raw, 0x1000, &bytes, names);
        assert_eq!(insns[0].text, "call    m!f");
    }

    #[test]
    fn syscall_is_not_a_call_and_garbage_is_bad() {
        let insns = decode(0, &[0x0f, 0x05, 0x06, 0x90, 0xe8, 0x00], 5);
        assert_eq!(insns[0].flow, Flow::Interrupt);
        assert_eq!(insns[1].flow, Flow::Invalid);
        assert_eq!(insns[1].text, "(bad)");
        assert_eq!(insns[1].bytes.len(), 1);
        assert_eq!(insns[2].text, "nop");
        assert_eq!(insns.len(), 3, "the cut call is left out");
    }
}
