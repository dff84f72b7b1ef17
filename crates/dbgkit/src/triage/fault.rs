//! The fault itself: which instruction faulted, on which memory operand,
//! reading, writing or executing, and what that makes the crash.
//!
//! Pure: everything about the target comes in as [`FaultFacts`] (registers,
//! the bytes at `rip`, the memory map, two words of the stack), so the same
//! code serves a live process and a core file, and is tested on byte strings.

use super::class::{Access, CrashClass};
use crate::arch::registers::Registers;
use crate::arch::x86_64::register_value;
use crate::MemoryRegion;
use iced_x86::{
    Decoder, DecoderOptions, FlowControl, Formatter, InstructionInfoFactory, IntelFormatter, Mnemonic, OpAccess, OpKind,
};

/// Addresses below this are "near null" (CERT's and CASR's 64 KiB).
pub const NEAR_NULL: u64 = 0x1_0000;
/// An access this close to the stack pointer is an access to the stack.
const NEAR_STACK_POINTER: u64 = 0x1_0000;
/// Linux keeps this gap (`stack_guard_gap`, 256 pages) below a stack that grows down.
const STACK_GUARD_GAP: u64 = 256 * 4096;
/// The signal code of a fault the kernel raised itself (a general-protection
/// fault on a non-canonical address): `si_addr` is then 0, not the address.
pub const SI_KERNEL: i32 = 0x80;
/// `si_code`s of `SIGFPE` for integer division by zero and overflow.
const FPE_INTDIV: i32 = 1;
const FPE_INTOVF: i32 = 2;

/// What is known about the target at the fault.
#[derive(Clone, Copy, Debug)]
pub struct FaultFacts<'a> {
    pub signal: i32,
    /// `si_code`.
    pub code: i32,
    /// `si_addr`, for the signals that have one.
    pub fault_address: Option<u64>,
    pub registers: &'a Registers,
    /// The bytes at `rip` (up to 15), `None` when `rip` is not readable.
    pub code_bytes: Option<&'a [u8]>,
    pub regions: &'a [MemoryRegion],
    /// The word just below the stack pointer (what a `ret` just popped).
    pub word_below_sp: Option<u64>,
    /// The word at the stack pointer (what a `call` just pushed).
    pub word_at_sp: Option<u64>,
    /// The input of the run, to tell addresses made of its bytes.
    pub input: Option<&'a [u8]>,
}

/// The faulting instruction, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultingInstruction {
    pub address: u64,
    pub bytes: Vec<u8>,
    /// Intel syntax (`mov dword ptr [rax], 0x1`).
    pub text: String,
    /// The memory operand that faulted, as written (`dword ptr [rax+0x8]`),
    /// or `[rsp]` style for the implicit stack access of `push`, `call`, `ret`.
    pub memory_operand: Option<String>,
    /// Its address, computed from the registers.
    pub memory_address: Option<u64>,
    /// What the instruction does with that operand.
    pub access: Option<Access>,
}

/// What the fault makes of the crash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultFinding {
    pub class: CrashClass,
    pub access: Option<Access>,
    /// The bad address: `si_addr`, or the operand's computed address when
    /// the kernel does not give one (non-canonical addresses).
    pub address: Option<u64>,
    pub instruction: Option<FaultingInstruction>,
}

/// One memory access of an instruction, with its computed address.
struct UsedMemory {
    address: u64,
    size: u64,
    access: Access,
    /// The operand's text, when the access is an explicit operand.
    text: Option<String>,
}

fn region_of(regions: &[MemoryRegion], address: u64) -> Option<&MemoryRegion> {
    regions.iter().find(|r| r.start <= address && address < r.end)
}

fn is_canonical(address: u64) -> bool {
    let top = address >> 47;
    top == 0 || top == 0x1_ffff
}

/// Whether an address is made of bytes of the input (at least four of
/// them, in either byte order): a pointer the input chose.
pub fn address_from_input(address: u64, input: &[u8]) -> bool {
    let significant = 8 - (address.leading_zeros() / 8) as usize;
    if significant < 4 {
        return false;
    }
    let little = &address.to_le_bytes()[..significant];
    let big: Vec<u8> = little.iter().rev().copied().collect();
    input.windows(significant).any(|w| w == little || w == big.as_slice())
}

/// Decodes the instruction at `rip` and lists its memory accesses.
fn decode(facts: &FaultFacts) -> Option<(iced_x86::Instruction, Vec<UsedMemory>)> {
    let bytes = facts.code_bytes?;
    let regs = facts.registers;
    let mut decoder = Decoder::with_ip(64, bytes, regs.rip, DecoderOptions::NONE);
    let insn = decoder.decode();
    if insn.is_invalid() {
        return None;
    }
    let mut formatter = IntelFormatter::new();
    formatter.options_mut().set_hex_prefix("0x");
    formatter.options_mut().set_hex_suffix("");
    formatter.options_mut().set_uppercase_hex(false);
    let explicit: Option<String> = (0..insn.op_count()).find(|&i| insn.op_kind(i) == OpKind::Memory).map(|i| {
        let mut text = String::new();
        let _ = formatter.format_operand(&insn, &mut text, i);
        text
    });
    let mut factory = InstructionInfoFactory::new();
    let info = factory.info(&insn);
    let mut used = Vec::new();
    for memory in info.used_memory() {
        let access = match memory.access() {
            OpAccess::Read | OpAccess::CondRead => Access::Read,
            OpAccess::Write | OpAccess::CondWrite | OpAccess::ReadWrite | OpAccess::ReadCondWrite => Access::Write,
            _ => continue,
        };
        let address = memory.virtual_address(0, |reg, _, _| register_value(regs, reg.full_register()));
        let Some(address) = address else { continue };
        let implicit_stack = memory.base() == iced_x86::Register::RSP && !insn.op_kinds().any(|k| k == OpKind::Memory);
        let text = if implicit_stack {
            let offset = address.wrapping_sub(regs.rsp) as i64;
            Some(match offset {
                0 => "[rsp]".to_string(),
                o if o < 0 => format!("[rsp-{:#x}]", -o),
                o => format!("[rsp+{o:#x}]"),
            })
        } else {
            explicit.clone()
        };
        used.push(UsedMemory { address, size: memory.memory_size().size().max(1) as u64, access, text });
    }
    Some((insn, used))
}

fn instruction_text(insn: &iced_x86::Instruction) -> String {
    let mut formatter = IntelFormatter::new();
    let o = formatter.options_mut();
    o.set_hex_prefix("0x");
    o.set_hex_suffix("");
    o.set_uppercase_hex(false);
    o.set_space_after_operand_separator(true);
    o.set_first_operand_char_index(8);
    let mut text = String::new();
    formatter.format(insn, &mut text);
    text
}

/// The access that faulted: the one containing `si_addr`; for a
/// non-canonical address (no `si_addr`), the one whose address is not
/// canonical; otherwise the first.
fn faulting_access<'u>(used: &'u [UsedMemory], facts: &FaultFacts) -> Option<&'u UsedMemory> {
    let given = facts.fault_address.filter(|_| facts.code != SI_KERNEL);
    if let Some(address) = given {
        let page = |a: u64| a & !0xfff;
        if let Some(u) = used.iter().find(|u| u.address <= address && address < u.address.wrapping_add(u.size)) {
            return Some(u);
        }
        if let Some(u) = used.iter().find(|u| page(u.address) == page(address)) {
            return Some(u);
        }
    }
    used.iter().find(|u| !is_canonical(u.address)).or(used.first())
}

/// A return address: a word pointing into executable memory.
fn looks_like_code(facts: &FaultFacts, word: Option<u64>) -> bool {
    word.and_then(|w| region_of(facts.regions, w)).is_some_and(|r| r.executable)
}

/// Classifies a fault from what the target shows at the moment of the signal.
pub fn classify_fault(facts: &FaultFacts) -> FaultFinding {
    let regs = facts.registers;
    let pc = regs.rip;
    let decoded = decode(facts);
    let mut instruction = decoded.as_ref().map(|(insn, _)| FaultingInstruction {
        address: pc,
        bytes: facts.code_bytes.map(|b| b[..insn.len().min(b.len())].to_vec()).unwrap_or_default(),
        text: instruction_text(insn),
        memory_operand: None,
        memory_address: None,
        access: None,
    });
    let finding = |class, access, address, instruction| FaultFinding { class, access, address, instruction };

    // Executing where there is no code: the pc itself is the bad address.
    let pc_region = region_of(facts.regions, pc);
    let cannot_execute = facts.code_bytes.is_none() || pc_region.is_none_or(|r| !r.executable);
    let executing = matches!(
        facts.signal,
        crate::signal_numbers::SIGSEGV | crate::signal_numbers::SIGBUS | crate::signal_numbers::SIGILL
    ) && (cannot_execute
            // SIGILL's address is always the pc; SIGSEGV's is the pc only when fetching the instruction failed.
            || (facts.signal == crate::signal_numbers::SIGSEGV && facts.fault_address == Some(pc) && facts.code != SI_KERNEL));
    if executing {
        let class = if pc_region.is_some_and(|r| !r.executable) {
            CrashClass::ExecuteNonExecutable
        } else if facts.word_below_sp == Some(pc) {
            CrashClass::ReturnToInvalid
        } else if looks_like_code(facts, facts.word_at_sp) {
            CrashClass::BranchInvalid
        } else {
            CrashClass::ExecuteInvalid
        };
        return finding(class, Some(Access::Execute), Some(pc), None);
    }

    match facts.signal {
        crate::signal_numbers::SIGSEGV | crate::signal_numbers::SIGBUS => {
            let Some((insn, used)) = decoded else {
                return finding(CrashClass::ReadInvalid, None, facts.fault_address, instruction);
            };
            let Some(access) = faulting_access(&used, facts) else {
                // No memory operand: a fault on the instruction's own bytes, or something else odd.
                let class = if facts.signal == crate::signal_numbers::SIGBUS {
                    CrashClass::BusError
                } else {
                    CrashClass::ReadInvalid
                };
                return finding(class, None, facts.fault_address, instruction);
            };
            if let Some(i) = instruction.as_mut() {
                i.memory_operand = access.text.clone();
                i.memory_address = Some(access.address);
                i.access = Some(access.access);
            }
            let bad = match facts.fault_address {
                Some(a) if facts.code != SI_KERNEL => a,
                _ => access.address,
            };
            let class = if facts.signal == crate::signal_numbers::SIGBUS {
                CrashClass::BusError
            } else if is_stack_exhaustion(facts, bad) {
                CrashClass::StackExhaustion
            } else if matches!(insn.flow_control(), FlowControl::IndirectBranch | FlowControl::IndirectCall)
                && access.access == Access::Read
                && !access.text.as_deref().is_some_and(|t| t.starts_with("[rsp"))
            {
                CrashClass::BranchInvalid
            } else if insn.mnemonic() == Mnemonic::Ret && access.access == Access::Read {
                // `ret` read its own stack: the stack pointer itself is bad.
                CrashClass::ReturnToInvalid
            } else {
                let from_input = facts.input.is_some_and(|input| address_from_input(bad, input));
                match (access.access, from_input, bad < NEAR_NULL) {
                    (Access::Write, true, _) => CrashClass::WriteInputAddress,
                    (Access::Write, false, true) => CrashClass::WriteNearNull,
                    (Access::Write, false, false) => CrashClass::WriteInvalid,
                    (_, true, _) => CrashClass::ReadInputAddress,
                    (_, false, true) => CrashClass::ReadNearNull,
                    (_, false, false) => CrashClass::ReadInvalid,
                }
            };
            finding(class, Some(access.access), Some(bad), instruction)
        }
        crate::signal_numbers::SIGFPE => {
            let class = match facts.code {
                FPE_INTDIV | FPE_INTOVF => CrashClass::DivisionByZero,
                _ if decoded.as_ref().is_some_and(|(i, _)| matches!(i.mnemonic(), Mnemonic::Div | Mnemonic::Idiv)) => {
                    CrashClass::DivisionByZero
                }
                _ => CrashClass::Signal(crate::signal_numbers::SIGFPE),
            };
            finding(class, None, facts.fault_address, instruction)
        }
        crate::signal_numbers::SIGILL => {
            let trap = decoded
                .as_ref()
                .is_some_and(|(i, _)| matches!(i.mnemonic(), Mnemonic::Ud2 | Mnemonic::Ud0 | Mnemonic::Ud1));
            let class = if trap { CrashClass::Trap } else { CrashClass::IllegalInstruction };
            finding(class, None, facts.fault_address, instruction)
        }
        crate::signal_numbers::SIGTRAP => finding(CrashClass::Trap, None, None, instruction),
        crate::signal_numbers::SIGABRT => finding(CrashClass::Abort, None, None, instruction),
        other => finding(CrashClass::Signal(other), None, None, instruction),
    }
}

/// A fault on the stack just past its end: close to the stack pointer, in
/// memory that is not readable, with the stack's lowest mapping just above.
fn is_stack_exhaustion(facts: &FaultFacts, bad: u64) -> bool {
    let sp = facts.registers.rsp;
    if bad.abs_diff(sp) > NEAR_STACK_POINTER {
        return false;
    }
    if region_of(facts.regions, bad).is_some_and(|r| r.readable) {
        return false;
    }
    facts.regions.iter().any(|r| r.writable && r.start > bad && r.start - bad <= STACK_GUARD_GAP + NEAR_STACK_POINTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(start: u64, end: u64, perms: &str, path: &str) -> MemoryRegion {
        let p = perms.as_bytes();
        MemoryRegion {
            start,
            end,
            readable: p[0] == b'r',
            writable: p[1] == b'w',
            executable: p[2] == b'x',
            shared: false,
            offset: 0,
            path: path.into(),
        }
    }

    fn map() -> Vec<MemoryRegion> {
        vec![
            region(0x400000, 0x401000, "r-xp", "/bin/x"),
            region(0x600000, 0x601000, "rw-p", "[heap]"),
            region(0x7ffffffde000, 0x7ffffffff000, "rw-p", "[stack]"),
        ]
    }

    fn facts<'a>(
        signal: i32,
        code: i32,
        fault: Option<u64>,
        regs: &'a Registers,
        bytes: Option<&'a [u8]>,
        regions: &'a [MemoryRegion],
    ) -> FaultFacts<'a> {
        FaultFacts {
            signal,
            code,
            fault_address: fault,
            registers: regs,
            code_bytes: bytes,
            regions,
            word_below_sp: None,
            word_at_sp: None,
            input: None,
        }
    }

    const SEGV_MAPERR: i32 = 1;

    #[test]
    fn null_read_and_write_are_told_apart() {
        let regions = map();
        let regs = Registers { rip: 0x400100, rax: 0, rsp: 0x7fffffffe000, ..Default::default() };
        // mov eax, [rax]
        let read = classify_fault(&facts(
            crate::signal_numbers::SIGSEGV,
            SEGV_MAPERR,
            Some(0),
            &regs,
            Some(&[0x8b, 0x00]),
            &regions,
        ));
        assert_eq!(read.class, CrashClass::ReadNearNull);
        assert_eq!(read.access, Some(Access::Read));
        let insn = read.instruction.unwrap();
        assert_eq!(insn.text, "mov     eax, [rax]");
        assert_eq!(insn.memory_operand.as_deref(), Some("[rax]"));
        // mov dword ptr [rax+0x10], 1
        let bytes = [0xc7, 0x40, 0x10, 0x01, 0x00, 0x00, 0x00];
        let write = classify_fault(&facts(
            crate::signal_numbers::SIGSEGV,
            SEGV_MAPERR,
            Some(0x10),
            &regs,
            Some(&bytes),
            &regions,
        ));
        assert_eq!(write.class, CrashClass::WriteNearNull);
        assert_eq!(write.instruction.unwrap().memory_address, Some(0x10));
        // add [rax], ecx: read and write, counted as a write.
        let rmw = classify_fault(&facts(
            crate::signal_numbers::SIGSEGV,
            SEGV_MAPERR,
            Some(0),
            &regs,
            Some(&[0x01, 0x08]),
            &regions,
        ));
        assert_eq!(rmw.access, Some(Access::Write));
    }

    #[test]
    fn addresses_from_the_input_and_non_canonical_ones() {
        let regions = map();
        let regs = Registers { rip: 0x400100, rax: 0x4141414141414141, rsp: 0x7fffffffe000, ..Default::default() };
        let input = b"xxAAAAAAAAyy";
        let mut f = facts(crate::signal_numbers::SIGSEGV, SI_KERNEL, Some(0), &regs, Some(&[0x89, 0x08]), &regions); // mov [rax], ecx
        f.input = Some(input);
        let found = classify_fault(&f);
        assert_eq!(found.class, CrashClass::WriteInputAddress);
        assert_eq!(found.address, Some(0x4141414141414141));
        f.input = Some(b"nothing here");
        assert_eq!(classify_fault(&f).class, CrashClass::WriteInvalid);
        assert!(address_from_input(0x00000000deadbeef, &[0xef, 0xbe, 0xad, 0xde]));
        assert!(address_from_input(0x00000000deadbeef, &[0xde, 0xad, 0xbe, 0xef]));
        assert!(!address_from_input(0x1000, &[0x00, 0x10, 0, 0]), "too few bytes to tell");
    }

    #[test]
    fn executing_bad_addresses() {
        let regions = map();
        // Returned to a smashed address: it is still just below the stack pointer.
        let regs = Registers { rip: 0x4242424242, rsp: 0x7fffffffe008, ..Default::default() };
        let mut f = facts(crate::signal_numbers::SIGSEGV, SEGV_MAPERR, Some(0x4242424242), &regs, None, &regions);
        f.word_below_sp = Some(0x4242424242);
        assert_eq!(classify_fault(&f).class, CrashClass::ReturnToInvalid);
        // Called through a bad pointer: a return address into code on top of the stack.
        f.word_below_sp = None;
        f.word_at_sp = Some(0x400123);
        assert_eq!(classify_fault(&f).class, CrashClass::BranchInvalid);
        f.word_at_sp = None;
        assert_eq!(classify_fault(&f).class, CrashClass::ExecuteInvalid);
        // Jumped into the heap.
        let regs = Registers { rip: 0x600010, rsp: 0x7fffffffe008, ..Default::default() };
        let f = facts(crate::signal_numbers::SIGSEGV, 2, Some(0x600010), &regs, Some(&[0x90]), &regions);
        let found = classify_fault(&f);
        assert_eq!((found.class, found.access), (CrashClass::ExecuteNonExecutable, Some(Access::Execute)));
    }

    #[test]
    fn stack_exhaustion_is_a_push_below_the_stack() {
        let regions = map();
        let regs = Registers { rip: 0x400100, rsp: 0x7fffffefe000, ..Default::default() };
        // push rbp, the stack pointer just under the lowest stack page's guard gap
        let f =
            facts(crate::signal_numbers::SIGSEGV, SEGV_MAPERR, Some(0x7fffffefdff8), &regs, Some(&[0x55]), &regions);
        let found = classify_fault(&f);
        assert_eq!(found.class, CrashClass::StackExhaustion);
        assert_eq!(found.instruction.unwrap().memory_operand.as_deref(), Some("[rsp-0x8]"));
    }

    #[test]
    fn division_traps_and_calls_through_memory() {
        let regions = map();
        let regs = Registers { rip: 0x400100, rsp: 0x7fffffffe000, rax: 0x10, ..Default::default() };
        // idiv ecx
        let f = facts(crate::signal_numbers::SIGFPE, FPE_INTDIV, Some(0x400100), &regs, Some(&[0xf7, 0xf9]), &regions);
        assert_eq!(classify_fault(&f).class, CrashClass::DivisionByZero);
        // ud2
        let f = facts(crate::signal_numbers::SIGILL, 2, Some(0x400100), &regs, Some(&[0x0f, 0x0b]), &regions);
        assert_eq!(classify_fault(&f).class, CrashClass::Trap);
        // call qword ptr [rax]: the target could not be read.
        let f = facts(crate::signal_numbers::SIGSEGV, SEGV_MAPERR, Some(0x10), &regs, Some(&[0xff, 0x10]), &regions);
        assert_eq!(classify_fault(&f).class, CrashClass::BranchInvalid);
    }
}

/// The name of a signal's `si_code` (`SEGV_MAPERR`, `FPE_INTDIV`, `SI_KERNEL`).
pub fn signal_code_name(signal: i32, code: i32) -> String {
    let generic = match code {
        0 => Some("SI_USER"),
        SI_KERNEL => Some("SI_KERNEL"),
        -1 => Some("SI_QUEUE"),
        -2 => Some("SI_TIMER"),
        -6 => Some("SI_TKILL"),
        _ => None,
    };
    if let Some(name) = generic {
        return name.to_string();
    }
    let names: &[&str] = match signal {
        crate::signal_numbers::SIGSEGV => &["SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR"],
        crate::signal_numbers::SIGBUS => &["BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"],
        crate::signal_numbers::SIGILL => &[
            "ILL_ILLOPC",
            "ILL_ILLOPN",
            "ILL_ILLADR",
            "ILL_ILLTRP",
            "ILL_PRVOPC",
            "ILL_PRVREG",
            "ILL_COPROC",
            "ILL_BADSTK",
        ],
        crate::signal_numbers::SIGFPE => &[
            "FPE_INTDIV",
            "FPE_INTOVF",
            "FPE_FLTDIV",
            "FPE_FLTOVF",
            "FPE_FLTUND",
            "FPE_FLTRES",
            "FPE_FLTINV",
            "FPE_FLTSUB",
        ],
        crate::signal_numbers::SIGTRAP => &["TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT"],
        _ => &[],
    };
    usize::try_from(code - 1).ok().and_then(|i| names.get(i)).map(|n| n.to_string()).unwrap_or_else(|| code.to_string())
}

#[cfg(test)]
mod code_names {
    #[test]
    fn codes_are_named_per_signal() {
        assert_eq!(super::signal_code_name(crate::signal_numbers::SIGSEGV, 1), "SEGV_MAPERR");
        assert_eq!(super::signal_code_name(crate::signal_numbers::SIGFPE, 1), "FPE_INTDIV");
        assert_eq!(super::signal_code_name(crate::signal_numbers::SIGSEGV, 0x80), "SI_KERNEL");
        assert_eq!(super::signal_code_name(crate::signal_numbers::SIGABRT, -6), "SI_TKILL");
        assert_eq!(super::signal_code_name(crate::signal_numbers::SIGSEGV, 99), "99");
    }
}
