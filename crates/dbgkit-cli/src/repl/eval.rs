//! Expressions at the prompt: the engine's language, evaluated with the
//! registers of the selected frame (the thread's own at frame 0, those the
//! unwinder recovered further out), target memory and symbols.

use dbgkit::expr::{self, EvalContext};
use dbgkit::{Error, Registers, Session};

/// gdb writes registers as `$rax` and the pc as `$pc`: make them `@rax`, `@rip`.
pub fn gdb_registers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut in_backticks = false;
    while let Some(c) = rest.chars().next() {
        if c == '`' {
            in_backticks = !in_backticks;
        }
        if c == '$' && !in_backticks {
            let name: String = rest[1..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let lower = name.to_ascii_lowercase();
            let mapped = match lower.as_str() {
                "pc" | "ip" => Some("rip".to_string()),
                "sp" => Some("rsp".to_string()),
                "fp" => Some("rbp".to_string()),
                n if Registers::default().get(n).is_some() => Some(n.to_string()),
                _ => None,
            };
            if let Some(register) = mapped {
                out.push('@');
                out.push_str(&register);
                rest = &rest[1 + name.len()..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Registers as one frame knows them.
pub enum FrameRegisters {
    /// The thread's registers (frame 0).
    All(Registers),
    /// Registers recovered for an outer frame; the others are unknown there.
    Recovered(dbgkit::RecoveredRegisters),
    /// No thread to ask (no process, or it runs).
    None,
}

struct Context<'a> {
    session: Option<&'a mut Session>,
    pid: i32,
    registers: FrameRegisters,
}

impl EvalContext for Context<'_> {
    fn register(&mut self, name: &str) -> Option<u64> {
        match &self.registers {
            FrameRegisters::All(r) => r.get(name),
            FrameRegisters::Recovered(r) => r.get(name),
            FrameRegisters::None => None,
        }
    }

    fn read_memory(&mut self, address: u64, size: usize) -> Result<u64, String> {
        let session = self.session.as_deref_mut().ok_or("no process")?;
        let mut buf = [0u8; 8];
        session.read_memory(self.pid, address, &mut buf[..size]).map_err(|e| match e {
            Error::UnmappedMemory { .. } => "memory is not mapped".to_string(),
            other => other.to_string(),
        })?;
        Ok(u64::from_le_bytes(buf))
    }

    fn symbol(&mut self, name: &str) -> Result<u64, String> {
        let Some(session) = self.session.as_deref_mut() else {
            return Err(format!("no process to look up {name} in"));
        };
        session.lookup(self.pid, name).map_err(|e| e.to_string())
    }
}

/// Evaluates `text`; every failure is `Error::BadExpression` with its
/// column (`error.kind` says `Symbol` for a name that is not known, maybe
/// not loaded yet).
pub fn evaluate(session: Option<&mut Session>, pid: i32, registers: FrameRegisters, text: &str) -> Result<u64, Error> {
    let text = gdb_registers(text);
    let parsed = expr::parse(&text).map_err(|error| Error::BadExpression { text: text.clone(), error })?;
    let mut ctx = Context { session, pid, registers };
    parsed.evaluate(&mut ctx).map_err(|error| Error::BadExpression { text, error })
}

/// Whether an evaluation failed on a name that is not known (yet).
pub fn is_unknown_name(e: &Error) -> bool {
    matches!(e, Error::BadExpression { error, .. } if error.kind == expr::ExprErrorKind::Symbol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gdb_register_names_become_engine_registers() {
        assert_eq!(gdb_registers("$rax + $pc"), "@rax + @rip");
        assert_eq!(gdb_registers("$t0 + $sp"), "$t0 + @rsp");
        assert_eq!(gdb_registers("`$rax`"), "`$rax`");
        assert_eq!(gdb_registers("$eax"), "@eax");
    }

    #[test]
    fn without_a_process_numbers_still_work() {
        assert_eq!(evaluate(None, 0, FrameRegisters::None, "0x10 + 2*3").unwrap(), 22);
        match evaluate(None, 0, FrameRegisters::None, "1 +") {
            Err(Error::BadExpression { error, .. }) => assert_eq!(error.column, 4),
            other => panic!("{other:?}"),
        }
    }
}
