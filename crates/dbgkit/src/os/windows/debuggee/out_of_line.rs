//! Out-of-line breakpoints: the instruction under each of the debugger's int3s
//! is copied, relocated, into scratch memory near it (`VirtualAllocEx`),
//! followed by a jump back; a thread resumed on the breakpoint runs the copy.
//! One debug event per hit instead of two (the int3 and the trap-flag
//! step), and no other thread is held meanwhile. Where an instruction cannot
//! be copied (a `call`, an `int3`), or no memory is free near it, the
//! trap-flag step-over stays.

use super::Debuggee;
use crate::os::windows::error::WindowsError;
use dbgkit_x86::out_of_line::{decode, plan_out_of_line, OutOfLine, MAX_INSTRUCTION_LEN, SLOT_SIZE};
use std::ffi::c_void;
use windows_sys::Win32::System::Memory::{VirtualAllocEx, MEM_COMMIT, MEM_RESERVE, PAGE_EXECUTE_READWRITE};

/// Scratch memory is taken in allocation-granularity blocks.
const BLOCK: u64 = 0x1_0000;
/// How far from a breakpoint its copy may be: a relocated RIP-relative
/// operand or jump must still reach its target (±2 GiB).
const REACH: u64 = 0x4000_0000;

/// The copy of the instruction under one breakpoint. Kept when the
/// breakpoint goes (a thread may still be in it, and the same breakpoint
/// planted again reuses it: gdb and the engine lift and plant breakpoints
/// around every step).
#[derive(Clone, Copy, Debug)]
pub(super) struct Copy {
    /// The original bytes it was made from.
    bytes: [u8; MAX_INSTRUCTION_LEN],
    slot: u64,
    /// The original instruction's length, and its copy's (the jump back follows it).
    original_len: u64,
    copy_len: u64,
}

/// The scratch blocks, and how much of each is handed out.
#[derive(Default)]
pub(super) struct Scratch {
    blocks: Vec<(u64, u64)>,
}

impl Scratch {
    /// A free slot within `REACH` of `address`, from the blocks already taken.
    fn slot_near(&mut self, address: u64) -> Option<u64> {
        let (base, used) = self
            .blocks
            .iter_mut()
            .find(|(base, used)| *used + SLOT_SIZE as u64 <= BLOCK && base.abs_diff(address) < REACH)?;
        let slot = *base + *used;
        *used += SLOT_SIZE as u64;
        Some(slot)
    }
}

impl Debuggee {
    /// Prepares the copy of the instruction under the debugger's breakpoint at
    /// `address` (its original byte is `original`); nothing when it cannot run out of line.
    pub(super) fn prepare_out_of_line(&mut self, address: u64, original: u8) {
        let mut bytes = [0u8; MAX_INSTRUCTION_LEN];
        let n = self.read_raw(address, &mut bytes);
        if n == 0 {
            return;
        }
        bytes[0] = original;
        // The instruction's other bytes may hold the debugger's int3s too.
        for (&at, &byte) in self.breakpoints.range(address + 1..address + n as u64) {
            bytes[(at - address) as usize] = byte;
        }
        if self.out_of_line.get(&address).is_some_and(|copy| copy.bytes == bytes) {
            return;
        }
        // Only an instruction that can run elsewhere takes a slot (not a `call`).
        if !matches!(plan_out_of_line(address, &bytes[..n], address), OutOfLine::Relocated { .. }) {
            self.out_of_line.remove(&address);
            return;
        }
        let Some(slot) = self.scratch_slot_near(address) else { return };
        let (Some(original), OutOfLine::Relocated { code }) =
            (decode(address, &bytes[..n]), plan_out_of_line(address, &bytes[..n], slot))
        else {
            return;
        };
        let Some(copy) = decode(slot, &code) else { return };
        if self.write_raw(slot, &code).is_ok() {
            let copy = Copy { bytes, slot, original_len: original.len() as u64, copy_len: copy.len() as u64 };
            self.out_of_line.insert(address, copy);
        }
    }

    /// A slot near `address`, from a new block when the ones taken are full or far.
    fn scratch_slot_near(&mut self, address: u64) -> Option<u64> {
        if let Some(slot) = self.scratch.slot_near(address) {
            return Some(slot);
        }
        // Free address space is looked for below the breakpoint first (an
        // image's neighbourhood), then above.
        let start = address & !(BLOCK - 1);
        let candidates = (1..0x400u64)
            .map(|k| start.wrapping_sub(k * BLOCK))
            .chain((1..0x400u64).map(|k| start.wrapping_add(k * BLOCK)));
        for hint in candidates.filter(|h| *h != 0 && h.abs_diff(address) < REACH) {
            // SAFETY: plain call on the process handle; the system picks nothing else than `hint`.
            let got = unsafe {
                VirtualAllocEx(
                    self.process,
                    hint as *const c_void,
                    BLOCK as usize,
                    MEM_RESERVE | MEM_COMMIT,
                    PAGE_EXECUTE_READWRITE,
                )
            } as u64;
            if got != 0 {
                self.scratch.blocks.push((got, 0));
                return self.scratch.slot_near(address);
            }
        }
        None
    }

    /// Runs thread `tid`, resumed on the debugger's breakpoint at `address`,
    /// through the copy of its instruction; false when it has none.
    pub(super) fn run_out_of_line(&mut self, tid: u32, address: u64) -> Result<bool, WindowsError> {
        match self.out_of_line.get(&address).filter(|_| self.breakpoints.contains_key(&address)) {
            Some(copy) => {
                self.set_pc(tid, copy.slot)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// A thread stopped inside a copy is put where the program would be:
    /// on its breakpoint when the copied instruction did not complete (a
    /// fault; resumed, it runs the copy again), after the original
    /// instruction when only the jump back is left (a step).
    pub(super) fn pc_out_of_slot(&self, tid: u32) -> Result<(), WindowsError> {
        let pc = self.pc(tid)?;
        for (&address, copy) in &self.out_of_line {
            if pc == copy.slot {
                return self.set_pc(tid, address);
            }
            if pc == copy.slot + copy.copy_len {
                return self.set_pc(tid, address + copy.original_len);
            }
        }
        Ok(())
    }

    /// `monitor breakpoints`: each of the debugger's breakpoints and how a thread gets over it.
    pub fn breakpoint_lines(&self) -> String {
        let mut out = String::new();
        for &address in self.breakpoints.keys() {
            match self.out_of_line.get(&address) {
                Some(copy) => out.push_str(&format!("breakpoint {address:#x} out-of-line {:#x}\n", copy.slot)),
                None => out.push_str(&format!("breakpoint {address:#x} trap-flag\n")),
            }
        }
        if out.is_empty() {
            out.push_str("no breakpoints\n");
        }
        out
    }
}
