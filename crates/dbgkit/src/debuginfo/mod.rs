//! Source-level debug information: types, variables and their values.
//!
//! The DWARF of each module is read lazily (`units.rs`): a compilation
//! unit is parsed the first time an address or a name inside it is asked
//! for, and indexed in one walk. From there:
//!
//! - `types.rs` is the type model and the session's [`TypeTable`]; types are
//!   read from their DIEs one level at a time (`type_reader.rs`);
//! - `scopes.rs` finds the variables in scope at a pc (blocks and inlined
//!   functions included), `location.rs` evaluates where each one lives;
//! - `value.rs` is a typed [`Value`], `access.rs` its parts;
//! - `format.rs` prints values the way gdb does, `typenames.rs` types
//!   (`whatis`, `ptype`), `pretty.rs` has the pretty printers.
//!
//! The engine ties these to a stopped thread in `session/variables.rs` and
//! `session/typed_eval.rs`; the typed expression language is `expr::typed`.

pub mod access;
pub mod cpp_names;
#[cfg(test)]
mod damaged;
pub mod format;
pub(crate) mod gdb_index;
pub(crate) mod lines;
pub mod location;
mod places;
pub mod pretty;
pub(crate) mod scopes;
pub(crate) mod type_reader;
pub mod typenames;
pub mod types;
pub(crate) mod units;
pub mod value;

pub use format::{format_value, FormatOptions, FormatTarget, Position};
pub use pretty::{PrettyPrinter, PrettyPrinters, Printed};
pub use typenames::{ptype, type_name};
pub use types::{BaseKind, Language, Member, Type, TypeId, TypeKind, TypeTable};
pub use units::ModuleDebugInfo;
pub use value::{Contents, Place, Value, ValueError, ValueTarget};
