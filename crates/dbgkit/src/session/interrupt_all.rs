//! Breaking into every running process at once (Ctrl-C in a front end,
//! PyDbgEng's `SetInterrupt`).

use super::Session;

impl Session {
    /// Stops every debugged process that is running; each reports a
    /// `BreakIn` event. Returns the pids broken into. A process that ends
    /// meanwhile is skipped: its exit is its next event.
    pub fn break_in_all(&mut self) -> Vec<i32> {
        let mut stopped = Vec::new();
        for pid in self.processes() {
            if matches!(self.is_stopped(pid), Ok(false)) && self.break_in(pid).is_ok() {
                stopped.push(pid);
            }
        }
        stopped
    }
}
