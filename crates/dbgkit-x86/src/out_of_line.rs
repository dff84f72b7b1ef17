//! Running the instruction under a breakpoint without removing the
//! breakpoint byte.
//!
//! Every instruction except `call` is re-encoded at a scratch address in the
//! target (RIP-relative operands and branch targets fixed up by iced-x86's
//! block encoder) followed by a jump back to the next original instruction.
//! A `call` is emulated instead, so that the return address it pushes is the
//! original one and never a scratch address.

use iced_x86::{
    BlockEncoder, BlockEncoderOptions, Code, Decoder, DecoderOptions, FlowControl, Instruction, InstructionBlock,
    OpKind,
};

/// The int3 opcode.
pub const INT3: u8 = 0xcc;
/// The longest x86 instruction.
pub const MAX_INSTRUCTION_LEN: usize = 15;

/// How to execute the original instruction under a breakpoint.
#[derive(Clone, Debug)]
pub enum OutOfLine {
    /// Place `code` at the slot address and run it: it ends by jumping back.
    Relocated { code: Vec<u8> },
    /// Emulate a call: push `return_address`, then go to the target.
    Call { instruction: Instruction, return_address: u64 },
    /// Cannot run out of line: restore the byte and single-step (all other threads stopped).
    SingleStep,
}

/// Decodes the instruction at `address` from its original bytes.
pub fn decode(address: u64, bytes: &[u8]) -> Option<Instruction> {
    let mut decoder = Decoder::with_ip(64, bytes, address, DecoderOptions::NONE);
    let instruction = decoder.decode();
    (!instruction.is_invalid()).then_some(instruction)
}

/// Plans out-of-line execution of the instruction at `address`, given its
/// original bytes, for a slot at `slot_address`.
pub fn plan_out_of_line(address: u64, bytes: &[u8], slot_address: u64) -> OutOfLine {
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
    let near_branch =
        matches!(instruction.op0_kind(), OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64);
    if near_branch && instruction.near_branch_target() == address {
        // A branch to itself (a spin loop): relocated, it would branch to
        // its copy and spin there, never meeting the breakpoint again.
        return OutOfLine::SingleStep;
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
pub const SLOT_SIZE: usize = 64;

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
        // A branch to itself must come back to the breakpoint, not spin in its copy.
        for spin in [&[0xeb, 0xfe][..], &[0x75, 0xfe], &[0xe2, 0xfe], &[0xe9, 0xfb, 0xff, 0xff, 0xff]] {
            assert!(matches!(plan_out_of_line(0x401000, spin, 0x402000), OutOfLine::SingleStep), "{spin:x?}");
        }
        // int3 cannot be relocated meaningfully.
        assert!(matches!(plan_out_of_line(0x401000, &[0xcc], 0x402000), OutOfLine::SingleStep));
    }
}
