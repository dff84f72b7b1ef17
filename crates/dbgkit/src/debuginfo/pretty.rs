//! Pretty printers: values shown by their contents rather than their
//! representation. Built in: C++ `std::string` and `std::vector` (as
//! libstdc++'s printers show them in gdb), Rust `String`, `Vec`, `&str`
//! and slices (as rust-gdb's printers show them). More can be registered
//! (the Python module does, for printers written in Python); the last
//! registered printer that claims a type wins.

use super::access::{as_u64, field};
use super::format::format_chars;
use super::types::{TypeId, TypeKind, TypeTable};
use super::value::{Value, ValueError, ValueTarget};
use std::rc::Rc;

/// What a printer made of a value.
#[derive(Clone, Debug)]
pub enum Printed {
    /// The whole text (`"alice"`).
    Text(String),
    /// A summary and children: `summary = {child, child}`; children with a
    /// name print as `name = value`.
    Children { summary: String, children: Vec<(Option<String>, Value)>, rust_style: bool },
}

/// A pretty printer.
pub trait PrettyPrinter {
    /// A short name, for listings.
    fn name(&self) -> &str;
    /// Whether it prints values of the type named `type_name` (typedefs
    /// and qualifiers taken off; `ty` is that stripped type).
    fn matches(&self, type_name: &str, table: &TypeTable, ty: TypeId) -> bool;
    /// Prints a value; children beyond `limit` need not be made.
    fn print(&self, value: &Value, target: &mut dyn ValueTarget, limit: usize) -> Result<Printed, ValueError>;
}

/// The registered printers.
#[derive(Clone)]
pub struct PrettyPrinters {
    list: Vec<Rc<dyn PrettyPrinter>>,
}

impl Default for PrettyPrinters {
    fn default() -> Self {
        PrettyPrinters {
            list: vec![
                Rc::new(CppString),
                Rc::new(CppVector),
                Rc::new(RustString),
                Rc::new(RustVec),
                Rc::new(RustStr),
                Rc::new(RustSlice),
            ],
        }
    }
}

impl std::fmt::Debug for PrettyPrinters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.list.iter().map(|p| p.name().to_string())).finish()
    }
}

impl PrettyPrinters {
    /// Adds a printer; it is asked before the others.
    pub fn add(&mut self, printer: Rc<dyn PrettyPrinter>) {
        self.list.push(printer);
    }

    /// Removes the printers with this name; returns how many there were.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.list.len();
        self.list.retain(|p| p.name() != name);
        before - self.list.len()
    }

    /// The names of the printers, the most recently added first.
    pub fn names(&self) -> Vec<String> {
        self.list.iter().rev().map(|p| p.name().to_string()).collect()
    }

    /// The printer that claims a value's type, if any.
    pub fn find(&self, table: &TypeTable, ty: TypeId) -> Option<Rc<dyn PrettyPrinter>> {
        let stripped = table.strip(ty);
        let t = table.get(stripped);
        let name = t.name.as_deref()?;
        if !matches!(t.kind, TypeKind::Composite(_)) {
            return None;
        }
        self.list.iter().rev().find(|p| p.matches(name, table, stripped)).cloned()
    }
}

fn member(value: &Value, name: &str, target: &mut dyn ValueTarget) -> Result<Value, ValueError> {
    field(value, name, target).ok_or_else(|| ValueError::Unavailable(format!("there is no member named {name}")))
}

/// Reads `len` bytes of a string (at most `limit`).
fn string_bytes(
    address: u64,
    len: u64,
    limit: usize,
    target: &mut dyn ValueTarget,
) -> Result<(Vec<u8>, bool), ValueError> {
    let shown = len.min(limit as u64) as usize;
    let mut bytes = vec![0u8; shown];
    if shown > 0 {
        target.read_memory(address, &mut bytes)?;
    }
    Ok((bytes, len > limit as u64))
}

/// The data pointer inside a Rust `Vec`/`String`: down through `buf`,
/// `inner`, `ptr`, `pointer` until a pointer (the layout changes between
/// Rust versions).
fn rust_data_pointer(value: &Value, target: &mut dyn ValueTarget) -> Result<u64, ValueError> {
    let mut current = value.clone();
    for _ in 0..8 {
        let table = target.types();
        if matches!(table.get(table.strip(current.ty)).kind, TypeKind::Pointer(_)) {
            return as_u64(&current, target);
        }
        let next = ["buf", "inner", "ptr", "pointer"].iter().find_map(|n| field(&current, n, target));
        current = next.ok_or_else(|| ValueError::Unavailable("unknown layout of a Rust vector".into()))?;
    }
    Err(ValueError::Unavailable("unknown layout of a Rust vector".into()))
}

fn template_type(table: &TypeTable, ty: TypeId, name: &str) -> Option<TypeId> {
    match &table.get(table.strip(ty)).kind {
        TypeKind::Composite(c) => c.template_types.iter().find(|(n, _)| n == name).map(|(_, t)| *t),
        _ => None,
    }
}

fn elements(
    pointee: TypeId,
    start: u64,
    count: u64,
    limit: usize,
    target: &mut dyn ValueTarget,
) -> Vec<(Option<String>, Value)> {
    let size = target.types().size_of(pointee).unwrap_or(1).max(1);
    (0..count.min(limit as u64 + 1)).map(|i| (None, Value::at(pointee, start.wrapping_add(i * size)))).collect()
}

struct CppString;

impl PrettyPrinter for CppString {
    fn name(&self) -> &str {
        "std::string"
    }
    fn matches(&self, name: &str, _: &TypeTable, _: TypeId) -> bool {
        name.starts_with("std::__cxx11::basic_string<char,") || name.starts_with("std::basic_string<char,")
    }
    fn print(&self, value: &Value, target: &mut dyn ValueTarget, limit: usize) -> Result<Printed, ValueError> {
        let plus = member(value, "_M_dataplus", target)?;
        let pointer = as_u64(&member(&plus, "_M_p", target)?, target)?;
        let len = as_u64(&member(value, "_M_string_length", target)?, target)?;
        let (bytes, truncated) = string_bytes(pointer, len, limit, target)?;
        let chars: Vec<u32> = bytes.iter().map(|&b| b as u32).collect();
        Ok(Printed::Text(format_chars(&chars, 10, truncated)))
    }
}

struct CppVector;

impl PrettyPrinter for CppVector {
    fn name(&self) -> &str {
        "std::vector"
    }
    fn matches(&self, name: &str, _: &TypeTable, _: TypeId) -> bool {
        name.starts_with("std::vector<") && !name.starts_with("std::vector<bool,")
    }
    fn print(&self, value: &Value, target: &mut dyn ValueTarget, limit: usize) -> Result<Printed, ValueError> {
        let implementation = member(value, "_M_impl", target)?;
        let start_value = member(&implementation, "_M_start", target)?;
        let start = as_u64(&start_value, target)?;
        let finish = as_u64(&member(&implementation, "_M_finish", target)?, target)?;
        let end = as_u64(&member(&implementation, "_M_end_of_storage", target)?, target)?;
        let table = target.types();
        let TypeKind::Pointer(pointee) = table.get(table.strip(start_value.ty)).kind else {
            return Err(ValueError::Unavailable("unknown layout of std::vector".into()));
        };
        let size = table.size_of(pointee).unwrap_or(1).max(1);
        let len = finish.wrapping_sub(start) / size;
        let capacity = end.wrapping_sub(start) / size;
        let summary = format!("std::vector of length {len}, capacity {capacity}");
        Ok(Printed::Children { summary, children: elements(pointee, start, len, limit, target), rust_style: false })
    }
}

struct RustString;

impl PrettyPrinter for RustString {
    fn name(&self) -> &str {
        "alloc::string::String"
    }
    fn matches(&self, name: &str, _: &TypeTable, _: TypeId) -> bool {
        name == "alloc::string::String"
    }
    fn print(&self, value: &Value, target: &mut dyn ValueTarget, limit: usize) -> Result<Printed, ValueError> {
        let vec = member(value, "vec", target)?;
        let pointer = rust_data_pointer(&vec, target)?;
        let len = as_u64(&member(&vec, "len", target)?, target)?;
        let (bytes, truncated) = string_bytes(pointer, len, limit, target)?;
        Ok(Printed::Text(format_chars(&utf8_chars(&bytes), 10, truncated)))
    }
}

/// UTF-8 bytes as characters (a bad sequence keeps its bytes).
fn utf8_chars(bytes: &[u8]) -> Vec<u32> {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.chars().map(|c| c as u32).collect(),
        Err(_) => bytes.iter().map(|&b| b as u32).collect(),
    }
}

struct RustVec;

impl PrettyPrinter for RustVec {
    fn name(&self) -> &str {
        "alloc::vec::Vec"
    }
    fn matches(&self, name: &str, _: &TypeTable, _: TypeId) -> bool {
        name.starts_with("alloc::vec::Vec<")
    }
    fn print(&self, value: &Value, target: &mut dyn ValueTarget, limit: usize) -> Result<Printed, ValueError> {
        let pointer = rust_data_pointer(value, target)?;
        let len = as_u64(&member(value, "len", target)?, target)?;
        let element = template_type(target.types(), value.ty, "T")
            .ok_or_else(|| ValueError::Unavailable("the element type of a Vec is not described".into()))?;
        let summary = format!("Vec(size={len})");
        Ok(Printed::Children { summary, children: elements(element, pointer, len, limit, target), rust_style: true })
    }
}

struct RustStr;

impl PrettyPrinter for RustStr {
    fn name(&self) -> &str {
        "&str"
    }
    fn matches(&self, name: &str, _: &TypeTable, _: TypeId) -> bool {
        name == "&str" || name == "&mut str"
    }
    fn print(&self, value: &Value, target: &mut dyn ValueTarget, limit: usize) -> Result<Printed, ValueError> {
        let pointer = as_u64(&member(value, "data_ptr", target)?, target)?;
        let len = as_u64(&member(value, "length", target)?, target)?;
        let (bytes, truncated) = string_bytes(pointer, len, limit, target)?;
        Ok(Printed::Text(format_chars(&utf8_chars(&bytes), 10, truncated)))
    }
}

struct RustSlice;

impl PrettyPrinter for RustSlice {
    fn name(&self) -> &str {
        "&[T]"
    }
    fn matches(&self, name: &str, _: &TypeTable, _: TypeId) -> bool {
        name.starts_with("&[") || name.starts_with("&mut [")
    }
    fn print(&self, value: &Value, target: &mut dyn ValueTarget, limit: usize) -> Result<Printed, ValueError> {
        let data = member(value, "data_ptr", target)?;
        let pointer = as_u64(&data, target)?;
        let len = as_u64(&member(value, "length", target)?, target)?;
        let table = target.types();
        let TypeKind::Pointer(element) = table.get(table.strip(data.ty)).kind else {
            return Err(ValueError::Unavailable("unknown layout of a slice".into()));
        };
        let name = table.get(table.strip(value.ty)).name.clone().unwrap_or_default();
        let summary = format!("{name}(size={len})");
        Ok(Printed::Children { summary, children: elements(element, pointer, len, limit, target), rust_style: true })
    }
}
