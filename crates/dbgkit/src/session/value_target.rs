//! The session as the target that typed values are read from and printed
//! against: memory of a process, the session's types, symbols for `<sym>`
//! annotations, C++ static members, pretty printers.

use super::Session;
use crate::debuginfo::format::FormatTarget;
use crate::debuginfo::pretty::Printed;
use crate::debuginfo::types::{Member, Type, TypeTable};
use crate::debuginfo::value::{Value, ValueError, ValueTarget};
use crate::error::Error;

/// Reads and prints values of one process.
pub(crate) struct SessionTarget<'a> {
    pub session: &'a mut Session,
    pub pid: i32,
}

impl<'a> SessionTarget<'a> {
    pub fn new(session: &'a mut Session, pid: i32) -> SessionTarget<'a> {
        SessionTarget { session, pid }
    }
}

/// gdb's `<symbol+offset>` text for an address, when it is in a symbol of a module.
pub(crate) fn symbol_text(session: &mut Session, pid: i32, address: u64) -> Option<String> {
    let place = session.symbolize(pid, address).ok()?;
    place.module.as_ref()?;
    let name = place.symbol?;
    if place.offset == 0 {
        Some(name)
    } else {
        Some(format!("{name}+{}", place.offset))
    }
}

impl ValueTarget for SessionTarget<'_> {
    fn types(&self) -> &TypeTable {
        &self.session.symbols.types
    }

    fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> Result<(), ValueError> {
        self.session.read_memory(self.pid, address, buf).map_err(|e| match e {
            Error::UnmappedMemory { address, .. } => ValueError::Memory(address),
            _ => ValueError::Memory(address),
        })
    }
}

impl FormatTarget for SessionTarget<'_> {
    fn symbol_at(&mut self, address: u64) -> Option<String> {
        symbol_text(self.session, self.pid, address)
    }

    fn static_member(&mut self, owner: &Type, member: &Member) -> Option<Value> {
        let name = format!("{}::{}", owner.name.as_deref()?, member.name.as_deref()?);
        self.session.global_value(self.pid, &name).ok().flatten()
    }

    fn pretty_print(&mut self, value: &Value) -> Option<Result<Printed, ValueError>> {
        let printer = self.session.symbols.printers.find(&self.session.symbols.types, value.ty)?;
        Some(printer.print(value, self, 200))
    }

    fn as_value_target(&mut self) -> &mut dyn ValueTarget {
        self
    }
}
