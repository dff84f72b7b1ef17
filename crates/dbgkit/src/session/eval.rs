//! Expressions evaluated against a process: registers of a thread, its
//! memory, and the symbols of its modules.

use super::Session;
use crate::arch::registers::Registers;
use crate::error::{Error, Result};
use crate::expr::{EvalContext, Expr};

/// The engine's side of the expression language.
struct ProcessContext<'a> {
    session: &'a mut Session,
    pid: i32,
    registers: Option<Registers>,
    /// The typed error behind the last failed symbol, so callers can tell
    /// "not loaded yet" from "wrong".
    symbol_error: Option<Error>,
}

impl EvalContext for ProcessContext<'_> {
    fn register(&mut self, name: &str) -> Option<u64> {
        self.registers.as_ref()?.get(name)
    }

    fn read_memory(&mut self, address: u64, size: usize) -> std::result::Result<u64, String> {
        let mut buf = [0u8; 8];
        self.session.read_memory(self.pid, address, &mut buf[..size]).map_err(|e| match e {
            // The expression's error already says where and how much.
            Error::UnmappedMemory { .. } => "memory is not mapped".to_string(),
            other => other.to_string(),
        })?;
        Ok(u64::from_le_bytes(buf))
    }

    fn symbol(&mut self, name: &str) -> std::result::Result<u64, String> {
        self.session.lookup(self.pid, name).map_err(|e| {
            let text = e.to_string();
            self.symbol_error = Some(e);
            text
        })
    }
}

/// Evaluates an expression only to see that every name in it is known: a
/// register (any value will do) or a symbol of the process. Memory is not
/// read (every word reads as 1), so `poi(rsp)` needs no stopped thread.
struct NameCheck<'a> {
    session: &'a mut Session,
    pid: i32,
    unknown: Option<Error>,
}

impl EvalContext for NameCheck<'_> {
    fn register(&mut self, name: &str) -> Option<u64> {
        let known = Registers::default().get(name).is_some();
        if !known && self.unknown.is_none() {
            self.unknown = Some(Error::InvalidArgument(format!("no register or variable named {name:?}")));
        }
        known.then_some(1)
    }

    fn read_memory(&mut self, _address: u64, _size: usize) -> std::result::Result<u64, String> {
        Ok(1)
    }

    fn symbol(&mut self, name: &str) -> std::result::Result<u64, String> {
        self.session.lookup(self.pid, name).map_err(|e| {
            let text = e.to_string();
            self.unknown.get_or_insert(e);
            text
        })
    }
}

impl Session {
    /// Whether every name in `expr` is a register or a symbol of `pid`
    /// (arithmetic that fails on made-up values is not this check's business).
    pub(crate) fn check_names(&mut self, pid: i32, expr: &Expr) -> Result<()> {
        let mut ctx = NameCheck { session: self, pid, unknown: None };
        let _ = expr.evaluate(&mut ctx);
        match ctx.unknown {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Evaluates an expression in the context of thread `tid` of `pid`
    /// (registers need a stopped thread).
    ///
    /// ```no_run
    /// # let mut session = dbgkit::Session::new(); let (pid, tid) = (1, 1);
    /// let value = session.eval(pid, tid, "poi(rsp+8) + 0x10")?;
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn eval(&mut self, pid: i32, tid: i32, text: &str) -> Result<u64> {
        let expr = crate::expr::parse(text).map_err(|error| Error::BadExpression { text: text.into(), error })?;
        let registers = self.registers(pid, tid).ok();
        self.evaluate(pid, registers, &expr)
    }

    /// Evaluates a parsed expression; symbol failures keep their own error.
    pub(crate) fn evaluate(&mut self, pid: i32, registers: Option<Registers>, expr: &Expr) -> Result<u64> {
        self.process(pid)?;
        let mut ctx = ProcessContext { session: self, pid, registers, symbol_error: None };
        match expr.evaluate(&mut ctx) {
            Ok(v) => Ok(v),
            Err(error) => Err(match ctx.symbol_error.take() {
                Some(typed) if !matches!(typed, Error::BadExpression { .. }) => typed,
                _ => Error::BadExpression { text: expr.text().to_string(), error },
            }),
        }
    }

    /// Evaluates an expression that needs no registers (symbols, numbers,
    /// memory): where a breakpoint or watchpoint expression points.
    pub fn resolve(&mut self, pid: i32, text: &str) -> Result<u64> {
        self.resolve_location(pid, text)
    }

    /// Where a breakpoint expression points, without any thread's registers.
    pub(crate) fn resolve_location(&mut self, pid: i32, text: &str) -> Result<u64> {
        let expr = crate::expr::parse(text).map_err(|error| Error::BadExpression { text: text.into(), error })?;
        self.evaluate(pid, None, &expr)
    }
}
