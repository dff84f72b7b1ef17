//! A fault continued as handled re-runs the instruction that faulted: with
//! nothing changed it faults again, for ever (`trace --handle SIGSEGV`).
//! The engine notices the second identical fault (same signal, every
//! register the same) and reports it as second chance, so a front end
//! delivers it instead of flooding its user.

use super::Session;

/// Signals the processor raises on an instruction (rather than sent).
fn is_synchronous_fault(signal: i32, code: i32) -> bool {
    crate::signal_numbers::is_hardware_fault(signal) && code > 0
}

impl Session {
    /// Remembers a fault continued `Handled`: the thread's registers then.
    pub(crate) fn note_handled_fault(&mut self, pid: i32, tid: i32, signal: i32, code: i32) {
        if !is_synchronous_fault(signal, code) {
            return;
        }
        let Ok(regs) = self.regs_of(pid, tid) else { return };
        if let Some(t) = self.thread_mut(pid, tid) {
            t.handled_fault = Some((signal, regs));
        }
    }

    /// Whether this fault repeats the one last continued `Handled` on the
    /// thread without any progress (then it is reported as second chance).
    pub(crate) fn fault_repeats(&mut self, pid: i32, tid: i32, signal: i32) -> bool {
        let Some(previous) = self.thread_mut(pid, tid).and_then(|t| t.handled_fault.take()) else { return false };
        let Ok(regs) = self.regs_of(pid, tid) else { return false };
        previous == (signal, regs)
    }
}
