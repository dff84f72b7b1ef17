//! Where a module's sections lie at run time, read from its file (gdb's
//! `info sharedlibrary` shows each library's `.text`).

use crate::module::Module;
use object::{Object, ObjectSection};
use std::ops::Range;

impl Module {
    /// The run-time address range of section `name` (`.text`) of the
    /// module's file; `None` when the file cannot be read or has no such section.
    pub fn section_range(&self, name: &str) -> Option<Range<u64>> {
        let data = std::fs::read(&self.path).ok()?;
        let file = object::File::parse(&*data).ok()?;
        let section = file.section_by_name(name)?;
        let start = self.bias.checked_add(section.address())?;
        Some(start..start.checked_add(section.size())?)
    }
}
