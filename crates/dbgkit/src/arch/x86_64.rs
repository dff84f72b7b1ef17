//! x86_64 instruction work for breakpoints: how to run the instruction under
//! a breakpoint without removing the breakpoint byte.
//!
//! Every instruction except `call` is re-encoded at a scratch address in the
//! target (RIP-relative operands and branch targets fixed up by iced-x86's
//! block encoder) followed by a jump back to the next original instruction.
//! A `call` is emulated instead, so that the return address it pushes is the
//! original one and never a scratch address.

use super::registers::Registers;
use iced_x86::{
    BlockEncoder, BlockEncoderOptions, Code, Decoder, DecoderOptions, FlowControl, Instruction, InstructionBlock,
    OpKind, Register,
};

/// The int3 opcode.
pub(crate) const INT3: u8 = 0xcc;
/// The longest x86 instruction.
pub(crate) const MAX_INSTRUCTION_LEN: usize = 15;

/// How to execute the original instruction under a breakpoint.
#[derive(Clone, Debug)]
pub(crate) enum OutOfLine {
    /// Place `code` at the slot address and run it: it ends by jumping back.
    Relocated { code: Vec<u8> },
    /// Emulate a call: push `return_address`, then go to the target.
    Call { instruction: Instruction, return_address: u64 },
    /// Cannot run out of line: restore the byte and single-step (all other threads stopped).
    SingleStep,
}

/// Decodes the instruction at `address` from its original bytes.
pub(crate) fn decode(address: u64, bytes: &[u8]) -> Option<Instruction> {
    let mut decoder = Decoder::with_ip(64, bytes, address, DecoderOptions::NONE);
    let instruction = decoder.decode();
    (!instruction.is_invalid()).then_some(instruction)
}

/// Plans out-of-line execution of the instruction at `address`, given its
/// original bytes, for a slot at `slot_address`.
pub(crate) fn plan_out_of_line(address: u64, bytes: &[u8], slot_address: u64) -> OutOfLine {
    let Some(instruction) = decode(address, bytes) else {
        return OutOfLine::SingleStep;
    };
    match instruction.flow_control() {
        // A system call runs fine from the slot: an interrupted one restarts
        // there (the kernel rewinds rip by its length), and a new thread or
        // child starts at the jump back.
        _ if instruction.code() == Code::Syscall => {}
        FlowControl::Call | FlowControl::IndirectCall => {
            return match instruction.code() {
                Code::Call_rel32_64 | Code::Call_rm64 => {
                    OutOfLine::Call { instruction, return_address: instruction.next_ip() }
                }
                _ => OutOfLine::SingleStep,
            };
        }
        // int3, int n, ud2, xbegin: leave them to the classic path.
        FlowControl::Interrupt | FlowControl::Exception | FlowControl::XbeginXabortXend => {
            return OutOfLine::SingleStep
        }
        _ => {}
    }
    let Ok(jump_back) = Instruction::with_branch(Code::Jmp_rel32_64, instruction.next_ip()) else {
        return OutOfLine::SingleStep;
    };
    let block = [instruction, jump_back];
    match BlockEncoder::encode(64, InstructionBlock::new(&block, slot_address), BlockEncoderOptions::NONE) {
        Ok(result) if result.code_buffer.len() <= SLOT_SIZE => OutOfLine::Relocated { code: result.code_buffer },
        _ => OutOfLine::SingleStep,
    }
}

/// Bytes reserved in the scratch area for one breakpoint.
pub(crate) const SLOT_SIZE: usize = 64;

/// Where an emulated call goes, given the thread's registers and a way to read memory.
pub(crate) fn call_target(
    instruction: &Instruction,
    regs: &Registers,
    read_u64: impl Fn(u64) -> Option<u64>,
) -> Option<u64> {
    match instruction.op0_kind() {
        OpKind::NearBranch64 => Some(instruction.near_branch_target()),
        OpKind::Register => register_value(regs, instruction.op0_register()),
        OpKind::Memory => {
            let address = instruction.virtual_address(0, 0, |reg, _, _| register_value(regs, reg))?;
            read_u64(address)
        }
        _ => None,
    }
}

/// The value of a 64-bit register (and of segment bases) for address computation.
pub(crate) fn register_value(regs: &Registers, reg: Register) -> Option<u64> {
    Some(match reg {
        Register::RAX => regs.rax,
        Register::RBX => regs.rbx,
        Register::RCX => regs.rcx,
        Register::RDX => regs.rdx,
        Register::RSI => regs.rsi,
        Register::RDI => regs.rdi,
        Register::RBP => regs.rbp,
        Register::RSP => regs.rsp,
        Register::R8 => regs.r8,
        Register::R9 => regs.r9,
        Register::R10 => regs.r10,
        Register::R11 => regs.r11,
        Register::R12 => regs.r12,
        Register::R13 => regs.r13,
        Register::R14 => regs.r14,
        Register::R15 => regs.r15,
        Register::RIP => regs.rip,
        Register::FS => regs.fs_base,
        Register::GS => regs.gs_base,
        Register::ES | Register::CS | Register::SS | Register::DS => 0,
        _ => return None,
    })
}

/// Finds the return point of the first `call` within `bytes` decoded at `address`.
///
/// The dynamic loader's entry is `mov rdi, rsp; call _dl_start` followed by
/// `_dl_start_user`: the return point is where every initial library is mapped
/// and relocated but none of their initialisers has run yet.
pub(crate) fn after_first_call(address: u64, bytes: &[u8]) -> Option<u64> {
    let mut decoder = Decoder::with_ip(64, bytes, address, DecoderOptions::NONE);
    for _ in 0..8 {
        let instruction = decoder.decode();
        if instruction.is_invalid() {
            return None;
        }
        if instruction.flow_control() == FlowControl::Call {
            return Some(instruction.next_ip());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rip_relative_load_is_relocated_with_a_jump_back() {
        // mov rax, [rip+0x10] at 0x401000, next instruction at 0x401007.
        let bytes = [0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00];
        let OutOfLine::Relocated { code } = plan_out_of_line(0x401000, &bytes, 0x402000) else {
            panic!("not relocated")
        };
        let mut decoder = Decoder::with_ip(64, &code, 0x402000, DecoderOptions::NONE);
        let mov = decoder.decode();
        assert_eq!(mov.memory_displacement64(), 0x401017);
        let jmp = decoder.decode();
        assert_eq!(jmp.near_branch_target(), 0x401007);
    }

    #[test]
    fn calls_are_emulated_with_the_original_return_address() {
        let bytes = [0xe8, 0x00, 0x01, 0x00, 0x00]; // call +0x100
        let OutOfLine::Call { instruction, return_address } = plan_out_of_line(0x1000, &bytes, 0x9000) else {
            panic!()
        };
        assert_eq!(return_address, 0x1005);
        assert_eq!(call_target(&instruction, &Registers::default(), |_| None), Some(0x1105));
        let indirect = [0xff, 0xd0]; // call rax
        let OutOfLine::Call { instruction, .. } = plan_out_of_line(0x1000, &indirect, 0x9000) else { panic!() };
        let regs = Registers { rax: 0x4242, ..Default::default() };
        assert_eq!(call_target(&instruction, &regs, |_| None), Some(0x4242));
    }

    #[test]
    fn every_common_form_runs_out_of_line() {
        let forms: &[(&str, &[u8])] = &[
            ("call [rip+x]", &[0xff, 0x15, 0x10, 0x00, 0x00, 0x00]),
            ("call [rsp+8]", &[0xff, 0x54, 0x24, 0x08]),
            ("jmp short", &[0xeb, 0x05]),
            ("jmp near", &[0xe9, 0x00, 0x01, 0x00, 0x00]),
            ("je short", &[0x74, 0x05]),
            ("jne near", &[0x0f, 0x85, 0x00, 0x01, 0x00, 0x00]),
            ("loop", &[0xe2, 0xf0]),
            ("ret", &[0xc3]),
            ("push rdi", &[0x57]),
            ("pop rax", &[0x58]),
            ("mov rax, [rsp+8]", &[0x48, 0x8b, 0x44, 0x24, 0x08]),
            ("lea rax, [rip+x]", &[0x48, 0x8d, 0x05, 0x10, 0x00, 0x00, 0x00]),
            ("mov [rip+x], rdi", &[0x48, 0x89, 0x3d, 0x10, 0x00, 0x00, 0x00]),
            ("endbr64", &[0xf3, 0x0f, 0x1e, 0xfa]),
            ("syscall", &[0x0f, 0x05]),
        ];
        for (name, bytes) in forms {
            let plan = plan_out_of_line(0x401000, bytes, 0x402000);
            assert!(!matches!(plan, OutOfLine::SingleStep), "{name} falls back to the classic step");
        }
        // A relocated conditional branch keeps both its target and its fall-through.
        let OutOfLine::Relocated { code } = plan_out_of_line(0x401000, &[0x74, 0x05], 0x402000) else { panic!() };
        let mut decoder = Decoder::with_ip(64, &code, 0x402000, DecoderOptions::NONE);
        let targets: Vec<u64> = (0..2).map(|_| decoder.decode().near_branch_target()).collect();
        assert_eq!(targets, vec![0x401007, 0x401002]);
        // int3 cannot be relocated meaningfully.
        assert!(matches!(plan_out_of_line(0x401000, &[0xcc], 0x402000), OutOfLine::SingleStep));
    }

    #[test]
    fn finds_the_loader_start_user_point() {
        let bytes = [0x48, 0x89, 0xe7, 0xe8, 0xf8, 0x0b, 0x00, 0x00, 0x49, 0x89, 0xc4];
        assert_eq!(after_first_call(0x1ab70, &bytes), Some(0x1ab78));
    }
}
