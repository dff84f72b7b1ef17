//! x86_64 instruction work for breakpoints: the out-of-line plans (shared
//! with the Windows stub, in the `dbgkit-x86` crate), and what needs the
//! engine's registers: a `call`'s target when it is emulated.

use super::registers::Registers;
use iced_x86::{Decoder, DecoderOptions, FlowControl, Instruction, OpKind, Register};

pub(crate) use dbgkit_x86::out_of_line::{decode, plan_out_of_line, OutOfLine, INT3, MAX_INSTRUCTION_LEN, SLOT_SIZE};

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
    fn finds_the_loader_start_user_point() {
        let bytes = [0x48, 0x89, 0xe7, 0xe8, 0xf8, 0x0b, 0x00, 0x00, 0x49, 0x89, 0xc4];
        assert_eq!(after_first_call(0x1ab70, &bytes), Some(0x1ab78));
    }
}
