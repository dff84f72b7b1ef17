//! Conditions and commands gdb hands the server with a breakpoint
//! (`ConditionalBreakpoints+`, `BreakpointCommands+`):
//! `Z0,addr,kind;Xlen,bytes...;cmds:persist,Xlen,bytes...`. At a hit the
//! server evaluates them itself, so a breakpoint whose condition is false,
//! or a `dprintf` the server prints, costs no round trip to gdb.

use std::io::Write;

use crate::agent_expr::{AgentContext, AgentError, AgentExpr};
use crate::arch::GdbRegisters;
use crate::target::ServerTarget;

/// What gdb attached to one breakpoint. A new `Z` packet for the same
/// address replaces it, as in gdbserver.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BreakpointOptions {
    /// The hit is reported when any of these is true (or cannot be evaluated).
    pub conditions: Vec<AgentExpr>,
    /// Run at a reported hit; a breakpoint with commands is then not reported.
    pub commands: Vec<AgentExpr>,
}

impl BreakpointOptions {
    fn is_empty(&self) -> bool {
        self.conditions.is_empty() && self.commands.is_empty()
    }
}

/// For a `Z0` or `Z1` packet: the packet without its options (as gdbstub
/// reads it), the breakpoint's address and its options. `None` for any
/// other packet.
pub fn split(body: &[u8]) -> Option<(Vec<u8>, u64, BreakpointOptions)> {
    if !(body.starts_with(b"Z0,") || body.starts_with(b"Z1,")) {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let (plain, options) = text.split_once(';').unwrap_or((text, ""));
    let address = u64::from_str_radix(plain[3..].split(',').next()?, 16).ok()?;
    Some((plain.as_bytes().to_vec(), address, parse_options(options)))
}

/// The options after the first `;`. Conditions follow one another; the
/// commands come after `cmds:` and a persistence flag (kept or not when gdb
/// disconnects; this server drops them with the connection either way). A
/// part that does not parse is skipped to the next `;`, as gdbserver does.
fn parse_options(mut text: &str) -> BreakpointOptions {
    let mut options = BreakpointOptions::default();
    while !text.is_empty() {
        text = text.strip_prefix(';').unwrap_or(text);
        if text.starts_with('X') {
            match AgentExpr::parse_packed(text) {
                Some((expr, rest)) => {
                    options.conditions.push(expr);
                    text = rest;
                }
                None => text = skip_part(text),
            }
        } else if let Some(rest) = text.strip_prefix("cmds:") {
            text = rest.get(2..).unwrap_or("");
            while let Some((expr, rest)) = AgentExpr::parse_packed(text) {
                options.commands.push(expr);
                text = rest;
            }
            if !text.starts_with(';') {
                text = skip_part(text);
            }
        } else {
            text = skip_part(text.get(1..).unwrap_or(""));
        }
    }
    options
}

/// `text` from its next `;` on (empty when there is none).
fn skip_part(text: &str) -> &str {
    text.find(';').map_or("", |at| &text[at..])
}

impl ServerTarget {
    /// Keeps what gdb sent with the breakpoint at `address` of the current process.
    pub(crate) fn set_breakpoint_options(&mut self, address: u64, options: BreakpointOptions) {
        if options.is_empty() {
            self.points.options.remove(&address);
        } else {
            self.points.options.insert(address, options);
        }
    }

    /// Whether the hit of thread `tid` on the breakpoint at `address` goes
    /// unreported: every condition gdb gave is false, or the breakpoint's
    /// commands ran here (a `dprintf` printed by the server, as gdbserver's).
    pub(crate) fn hit_is_silent(&mut self, pid: i32, tid: i32, address: u64) -> bool {
        // Taken out while it runs (the context borrows the whole target), not copied.
        let Some(options) = self.points.options.remove(&address) else { return false };
        let silent = self.run_breakpoint_options(&options, pid, tid, address);
        self.points.options.insert(address, options);
        silent
    }

    /// [`ServerTarget::hit_is_silent`] with the options in hand.
    fn run_breakpoint_options(&mut self, options: &BreakpointOptions, pid: i32, tid: i32, address: u64) -> bool {
        let mut context = HitContext { target: self, pid, tid, registers: None };
        if !options.conditions.is_empty() {
            let any_true = options.conditions.iter().any(|condition| match condition.evaluate(&mut context) {
                Ok(value) => value.is_none_or(|v| v != 0),
                Err(why) => {
                    // gdb evaluates it then.
                    crate::debug_log!(context.target, "condition at {address:#x}: {why}");
                    true
                }
            });
            if !any_true {
                return true;
            }
        }
        if options.commands.is_empty() {
            return false;
        }
        for command in &options.commands {
            if let Err(why) = command.evaluate(&mut context) {
                crate::debug_log!(context.target, "command at {address:#x}: {why}");
            }
        }
        true
    }
}

/// Registers below this number (general, `rip`, `eflags`, segments) come
/// from the general registers alone; the others need the x87, SSE and AVX
/// state read too.
const GENERAL_REGISTERS: u16 = 24;

/// The thread at its hit, as agent expressions see it.
struct HitContext<'a> {
    target: &'a mut ServerTarget,
    pid: i32,
    tid: i32,
    /// Read at the first `reg`; `true` once the vector state is in too.
    registers: Option<(GdbRegisters, bool)>,
}

impl AgentContext for HitContext<'_> {
    fn register(&mut self, number: u16) -> Result<u64, AgentError> {
        let complete_needed = number >= GENERAL_REGISTERS;
        if self.registers.as_ref().is_none_or(|&(_, complete)| complete_needed && !complete) {
            let registers = if complete_needed {
                self.target.read_all_registers(self.tid).map_err(|_| AgentError::Register(number))?
            } else {
                let general =
                    self.target.session.registers(self.pid, self.tid).map_err(|_| AgentError::Register(number))?;
                GdbRegisters::from_engine(&general, &Default::default())
            };
            self.registers = Some((registers, complete_needed));
        }
        let bytes = self.registers.as_ref().and_then(|(r, _)| r.register_bytes(number as usize));
        match bytes {
            Some(bytes) if bytes.len() <= 8 => {
                let mut value = [0u8; 8];
                value[..bytes.len()].copy_from_slice(&bytes);
                Ok(u64::from_le_bytes(value))
            }
            _ => Err(AgentError::Register(number)),
        }
    }

    fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> Result<(), AgentError> {
        self.target.session.read_memory(self.pid, address, buf).map_err(|_| AgentError::Memory(address))
    }

    fn print(&mut self, text: &[u8]) {
        // The server's standard output, as gdbserver's agent prints; the
        // protocol never uses it (stdio mode moves the protocol elsewhere).
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text).and_then(|()| stdout.flush());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_breakpoint_packet_has_no_options() {
        let (plain, address, options) = split(b"Z0,401136,1").unwrap();
        assert_eq!(plain, b"Z0,401136,1");
        assert_eq!(address, 0x401136);
        assert_eq!(options, BreakpointOptions::default());
        assert!(split(b"Z2,1000,4").is_none());
        assert!(split(b"m1000,4").is_none());
    }

    #[test]
    fn conditions_and_commands_are_taken_apart() {
        let (plain, _, options) = split(b"Z0,401136,1;X2,2201X1,27;cmds:1,X1,27X2,2227").unwrap();
        assert_eq!(plain, b"Z0,401136,1");
        assert_eq!(options.conditions, vec![AgentExpr::new(vec![0x22, 1]), AgentExpr::new(vec![0x27])]);
        assert_eq!(options.commands, vec![AgentExpr::new(vec![0x27]), AgentExpr::new(vec![0x22, 0x27])]);
    }

    #[test]
    fn random_options_never_panic() {
        let pieces = ["X", "X1,", "X2,22", "27", ";", "cmds:", "1,", "0,", "zz", "\u{e9}", ",", "X3,2201"];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let options: String = (0..(state % 8)).map(|i| pieces[((state >> (i * 4)) % 12) as usize]).collect();
            let packet = format!("Z0,1000,1;{options}");
            assert!(split(packet.as_bytes()).is_some(), "{packet}");
        }
    }

    #[test]
    fn a_part_that_does_not_parse_is_skipped() {
        let (_, _, options) = split(b"Z1,1000,1;Q5,zz;X9,22;X1,27").unwrap();
        assert_eq!(options.conditions, vec![AgentExpr::new(vec![0x27])]);
        assert!(options.commands.is_empty());
    }
}
