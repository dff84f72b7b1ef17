//! Typed expressions evaluated in a frame of a stopped thread: names are
//! looked up as the program's language does (locals and parameters from
//! the innermost block out, a C++ method's members through `this`, then
//! globals of the frame's unit, its module and the other modules, then
//! functions), types by name, registers of the frame; assignments write
//! through the type. Also `whatis`/`ptype`, types by name, and breakpoint
//! conditions checked when they are set.

use super::value_target::SessionTarget;
use super::variables::FrameContext;
use super::Session;
use crate::debuginfo::access::{deref, field};
use crate::debuginfo::format::{format_value, FormatOptions, Position};
use crate::debuginfo::types::{BaseKind, Language, TypeId, TypeKind, TypeTable};
use crate::debuginfo::units::{NameKind, UnitData};
use crate::debuginfo::value::{Contents, Place, Value, ValueError, ValueTarget};
use crate::error::{Error, Result};
use crate::expr::typed::{self, TypeOracle, TypedContext, TypedExpr};
use crate::expr::{ExprError, ExprErrorKind};
use crate::module::Module;
use std::rc::Rc;

/// A value computed by [`Session::evaluate_typed`].
#[derive(Clone, Debug, PartialEq)]
pub struct TypedValue {
    pub value: Value,
    /// The type as `whatis` names it.
    pub type_name: String,
    /// The value as gdb's `print` shows it.
    pub text: String,
}

/// One member of a type, for [`TypeInfo`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldInfo {
    /// `None` for an anonymous member.
    pub name: Option<String>,
    pub type_id: TypeId,
    pub type_name: String,
    /// Byte offset in the object.
    pub offset: u64,
    /// For a bit-field: (first bit from the byte at `offset`, number of bits).
    pub bits: Option<(u64, u64)>,
    /// A base class rather than a member.
    pub is_base: bool,
    /// A C++ static member (not stored in the object).
    pub is_static: bool,
}

/// A type found by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeInfo {
    pub id: TypeId,
    /// As `whatis` names it.
    pub name: String,
    pub size: Option<u64>,
    /// Members and base classes (typedefs looked through); empty for other types.
    pub fields: Vec<FieldInfo>,
    /// The type written out as `ptype` shows it.
    pub declaration: String,
}

/// A breakpoint condition in the program's language, parsed and checked
/// against the names in scope where the breakpoint is.
#[derive(Clone, Debug)]
pub struct SourceCondition {
    expr: TypedExpr,
}

impl SourceCondition {
    /// The condition's text.
    pub fn text(&self) -> &str {
        self.expr.text()
    }
}

/// C's type keywords, with their canonical name, size and kind.
fn c_base_type(name: &str) -> Option<(&'static str, u64, BaseKind)> {
    let words: Vec<&str> = name.split_whitespace().filter(|w| *w != "const" && *w != "volatile").collect();
    let unsigned = words.contains(&"unsigned");
    let signed = words.contains(&"signed");
    let longs = words.iter().filter(|w| **w == "long").count();
    let core: Vec<&str> =
        words.iter().copied().filter(|w| !matches!(*w, "unsigned" | "signed" | "long" | "int")).collect();
    let has_int = words.contains(&"int");
    Some(match (core.as_slice(), unsigned, longs) {
        (["char"], false, 0) if signed => ("signed char", 1, BaseKind::SignedChar),
        (["char"], false, 0) => ("char", 1, BaseKind::SignedChar),
        (["char"], true, 0) => ("unsigned char", 1, BaseKind::UnsignedChar),
        (["short"], false, 0) => ("short", 2, BaseKind::Signed),
        (["short"], true, 0) => ("unsigned short", 2, BaseKind::Unsigned),
        ([], false, 0) if has_int || signed => ("int", 4, BaseKind::Signed),
        ([], true, 0) => ("unsigned int", 4, BaseKind::Unsigned),
        ([], false, 1) => ("long", 8, BaseKind::Signed),
        ([], true, 1) => ("unsigned long", 8, BaseKind::Unsigned),
        ([], false, 2) => ("long long", 8, BaseKind::Signed),
        ([], true, 2) => ("unsigned long long", 8, BaseKind::Unsigned),
        (["float"], false, 0) => ("float", 4, BaseKind::Float),
        (["double"], false, 0) => ("double", 8, BaseKind::Float),
        (["double"], false, 1) => ("long double", 16, BaseKind::Float),
        (["bool"], false, 0) => ("bool", 1, BaseKind::Bool),
        (["_Bool"], false, 0) => ("_Bool", 1, BaseKind::Bool),
        (["wchar_t"], false, 0) => ("wchar_t", 4, BaseKind::Signed),
        _ => return None,
    })
}

/// Rust's primitive types.
fn rust_base_type(name: &str) -> Option<(u64, BaseKind)> {
    Some(match name {
        "i8" => (1, BaseKind::Signed),
        "u8" => (1, BaseKind::Unsigned),
        "i16" => (2, BaseKind::Signed),
        "u16" => (2, BaseKind::Unsigned),
        "i32" => (4, BaseKind::Signed),
        "u32" => (4, BaseKind::Unsigned),
        "i64" | "isize" => (8, BaseKind::Signed),
        "u64" | "usize" => (8, BaseKind::Unsigned),
        "i128" => (16, BaseKind::Signed),
        "u128" => (16, BaseKind::Unsigned),
        "f32" => (4, BaseKind::Float),
        "f64" => (8, BaseKind::Float),
        "bool" => (1, BaseKind::Bool),
        "char" => (4, BaseKind::UnicodeChar),
        _ => return None,
    })
}

fn name_matches(qualified: &str, wanted: &str) -> bool {
    qualified == wanted
        || (qualified.len() > wanted.len()
            && qualified.ends_with(wanted)
            && qualified[..qualified.len() - wanted.len()].ends_with("::"))
}

impl Session {
    /// Modules of a process in lookup order: `first` (the frame's), then the others in load order.
    fn modules_from(&self, pid: i32, first: Option<&Module>) -> Vec<Module> {
        let mut modules = self.process(pid).map(|p| p.modules.clone()).unwrap_or_default();
        if let Some(first) = first {
            if let Some(i) = modules.iter().position(|m| m.path == first.path && m.bias == first.bias) {
                let m = modules.remove(i);
                modules.insert(0, m);
            }
        }
        modules
    }

    /// A global or static variable by name, in any module.
    pub(crate) fn global_value(&mut self, pid: i32, name: &str) -> std::result::Result<Option<Value>, ValueError> {
        self.global_value_from(pid, name, None, None)
    }

    fn global_value_from(
        &mut self,
        pid: i32,
        name: &str,
        module: Option<&Module>,
        unit: Option<&Rc<UnitData>>,
    ) -> std::result::Result<Option<Value>, ValueError> {
        let modules = self.modules_from(pid, module);
        // The frame's own unit first: cheap, and the right `static` when several units have one.
        if let (Some(module), Some(unit)) = (modules.first(), unit) {
            let symbols = self.module_symbols(pid, module);
            if let Some(debug) = symbols.debug_info().cloned() {
                let found = unit.index(&debug).globals.iter().find(|g| name_matches(&g.name, name)).map(|g| g.die);
                if let Some(die) = found {
                    return Ok(self.static_variable(pid, &debug, module.bias, unit.offset, die));
                }
            }
        }
        for m in &modules {
            let symbols = self.module_symbols(pid, m);
            let Some(debug) = symbols.debug_info().cloned() else { continue };
            let found = debug.find_names(name, NameKind::Variable);
            if let Some((_, unit_offset, die)) = found.first() {
                return Ok(self.static_variable(pid, &debug, m.bias, *unit_offset, *die));
            }
        }
        // A symbol of the symbol table, without debug information.
        for m in &modules {
            let symbols = self.module_symbols(pid, m);
            if symbols.elf.named(name).any(|e| !e.is_function) {
                return Err(ValueError::Unavailable(format!(
                    "'{name}' has unknown type; cast it to its declared type"
                )));
            }
        }
        Ok(None)
    }

    /// A function by name, as a value of its function type at its address.
    fn function_value(
        &mut self,
        pid: i32,
        name: &str,
        module: Option<&Module>,
        unit: Option<&Rc<UnitData>>,
    ) -> Option<Value> {
        let modules = self.modules_from(pid, module);
        if let (Some(module), Some(unit)) = (modules.first(), unit) {
            let symbols = self.module_symbols(pid, module);
            if let Some(debug) = symbols.debug_info().cloned() {
                let found = unit.index(&debug).functions.iter().find(|f| name_matches(&f.name, name)).cloned();
                if let Some(f) = found {
                    let ty = self.symbols.types.for_die(&debug, unit.offset, f.die);
                    return Some(Value::at(ty, module.bias.wrapping_add(f.low)));
                }
            }
        }
        for m in &modules {
            let symbols = self.module_symbols(pid, m);
            let Some(debug) = symbols.debug_info().cloned() else { continue };
            let found = debug.find_names(name, NameKind::Function);
            for (_, unit_offset, die) in found {
                let Some(unit) = debug.unit(unit_offset) else { continue };
                let Some(entry) = unit.index(&debug).functions.iter().find(|f| f.die == die).cloned() else { continue };
                let ty = self.symbols.types.for_die(&debug, unit_offset, die);
                return Some(Value::at(ty, m.bias.wrapping_add(entry.low)));
            }
        }
        // A function of the symbol table only (no debug information).
        for m in &modules {
            let symbols = self.module_symbols(pid, m);
            let address = symbols.elf.named(name).find(|e| e.is_function).map(|e| m.bias.wrapping_add(e.address));
            if let Some(address) = address {
                let ty = self.no_debug_function_type();
                return Some(Value::at(ty, address));
            }
        }
        None
    }

    fn no_debug_function_type(&mut self) -> TypeId {
        self.symbols.types.base("<text variable, no debug info>", 1, BaseKind::Signed, Language::C)
    }

    /// A type by name: a C keyword type, `struct X`, a typedef, a C++ or
    /// Rust type by qualified name; the frame's unit and module first.
    pub(crate) fn find_type_id(
        &mut self,
        pid: i32,
        name: &str,
        module: Option<&Module>,
        unit: Option<&Rc<UnitData>>,
        language: Language,
    ) -> Option<TypeId> {
        let name = name.trim();
        if name == "void" {
            return Some(self.symbols.types.void());
        }
        if language == Language::Rust {
            if let Some((size, kind)) = rust_base_type(name) {
                return Some(self.symbols.types.base(name, size, kind, Language::Rust));
            }
        }
        if let Some((canonical, size, kind)) = c_base_type(name) {
            let language = if language == Language::Rust { Language::C } else { language };
            return Some(self.symbols.types.base(canonical, size, kind, language));
        }
        let (tag, bare) = match name.split_once(' ') {
            Some((t @ ("struct" | "union" | "enum" | "class"), rest)) => (Some(t), rest.trim()),
            _ => (None, name),
        };
        let fits = |table: &TypeTable, id: TypeId| -> bool {
            let ty = table.get(id);
            match (tag, &ty.kind) {
                (None, _) => true,
                (Some("enum"), TypeKind::Enum(_)) => true,
                (Some("union"), TypeKind::Composite(c)) => c.kind == crate::debuginfo::types::CompositeKind::Union,
                (Some("struct" | "class"), TypeKind::Composite(c)) => {
                    c.kind != crate::debuginfo::types::CompositeKind::Union
                }
                _ => false,
            }
        };
        let modules = self.modules_from(pid, module);
        if let (Some(module), Some(unit)) = (modules.first(), unit) {
            let symbols = self.module_symbols(pid, module);
            if let Some(debug) = symbols.debug_info().cloned() {
                let candidates: Vec<usize> =
                    unit.index(&debug).types.iter().filter(|t| name_matches(&t.name, bare)).map(|t| t.die).collect();
                for die in candidates {
                    let id = self.symbols.types.for_die(&debug, unit.offset, die);
                    if fits(&self.symbols.types, id) {
                        return Some(id);
                    }
                }
            }
        }
        for m in &modules {
            let symbols = self.module_symbols(pid, m);
            let Some(debug) = symbols.debug_info().cloned() else { continue };
            for (_, unit_offset, die) in debug.find_names(bare, NameKind::Type) {
                let id = self.symbols.types.for_die(&debug, unit_offset, die);
                if fits(&self.symbols.types, id) {
                    return Some(id);
                }
            }
        }
        None
    }

    /// Evaluates an expression in the language of frame `frame` of a
    /// stopped thread (frames numbered as
    /// [`source_frames`](Self::source_frames) numbers them).
    ///
    /// ```no_run
    /// # let mut session = dbgkit::Session::new(); let (pid, tid) = (1, 1);
    /// let v = session.evaluate_typed(pid, tid, 0, "list->next->name")?;
    /// println!("{} ({})", v.text, v.type_name); // 0x4006f4 "two" (const char *)
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn evaluate_typed(&mut self, pid: i32, tid: i32, frame: usize, text: &str) -> Result<TypedValue> {
        let context = self.frame_context(pid, tid, frame)?;
        let value = self.evaluate_in(pid, &context, text, false)?;
        self.typed_value(pid, value, None)
    }

    /// Evaluates with no frame (globals, types, numbers), as when no thread is stopped.
    pub fn evaluate_global(&mut self, pid: i32, text: &str) -> Result<TypedValue> {
        self.process(pid)?;
        let mut evaluation = Evaluation { session: self, pid, context: None };
        let parsed = typed::parse(text, &mut evaluation).map_err(|error| bad(text, error))?;
        let value = parsed.evaluate(&mut evaluation).map_err(|error| typed_error(text, error))?;
        self.typed_value(pid, value, None)
    }

    fn evaluate_in(&mut self, pid: i32, context: &FrameContext, text: &str, no_side_effects: bool) -> Result<Value> {
        let mut evaluation = Evaluation { session: self, pid, context: Some(context) };
        let parsed = typed::parse(text, &mut evaluation).map_err(|error| bad(text, error))?;
        let value = if no_side_effects {
            parsed.evaluate_without_side_effects(&mut evaluation)
        } else {
            parsed.evaluate(&mut evaluation)
        };
        value.map_err(|error| typed_error(text, error))
    }

    /// Reads a value (as `print` does, so that a bad address is an error
    /// here) and prints it.
    fn typed_value(&mut self, pid: i32, value: Value, format: Option<char>) -> Result<TypedValue> {
        let mut target = SessionTarget::new(self, pid);
        // Read a value in memory now (as gdb does), unless it is too large: an array prints element by element.
        let size = target.types().size_of(value.ty).unwrap_or(0);
        if matches!(value.contents, Contents::Memory(_)) && size <= 64 && size > 0 {
            if let Err(e) = value.bytes(&mut target) {
                return Err(match e {
                    ValueError::Memory(address) => Error::UnmappedMemory { pid, address, len: size as usize },
                    other => Error::InvalidArgument(other.to_string()),
                });
            }
        }
        if value.is_optimized_out() {
            let type_name = crate::debuginfo::type_name(&target.session.symbols.types, value.ty);
            return Ok(TypedValue { value, type_name, text: "<optimized out>".into() });
        }
        let text = format_value(&value, &FormatOptions::with_format(format), &mut target, Position::TopLevel);
        let type_name = crate::debuginfo::type_name(&target.session.symbols.types, value.ty);
        Ok(TypedValue { value, type_name, text })
    }

    /// Prints a value with a gdb format letter (`x`, `d`, `u`, `o`, `t`,
    /// `c`, `a`, `z`, `s`), as `print/FMT` does.
    pub fn format_typed(&mut self, pid: i32, value: &Value, format: Option<char>) -> Result<String> {
        if let Some(f) = format {
            if !"xduotcazsf".contains(f) {
                return Err(Error::InvalidArgument(format!("Undefined output format \"{f}\".")));
            }
        }
        Ok(self.typed_value(pid, value.clone(), format)?.text)
    }

    /// `whatis TEXT`: the type of an expression, or for a type name that
    /// is a typedef, the type it names (one level).
    pub fn whatis(&mut self, pid: i32, tid: i32, frame: usize, text: &str) -> Result<String> {
        let context = self.frame_context(pid, tid, frame).ok();
        if let Some(ty) = self.type_named_or_error(pid, context.as_ref(), text)? {
            let table = &self.symbols.types;
            let shown = match table.get(ty).kind {
                TypeKind::Typedef(target) if !text.contains('*') => target,
                _ => ty,
            };
            return Ok(crate::debuginfo::type_name(table, shown));
        }
        let value = match &context {
            Some(c) => self.evaluate_in(pid, c, text, true)?,
            None => return Err(Error::InvalidArgument("no stopped thread to evaluate in".into())),
        };
        Ok(crate::debuginfo::type_name(&self.symbols.types, value.ty))
    }

    /// `ptype TEXT`: the type of an expression or a type name, written out.
    pub fn ptype(&mut self, pid: i32, tid: i32, frame: usize, text: &str) -> Result<String> {
        let context = self.frame_context(pid, tid, frame).ok();
        let ty = match self.type_named_or_error(pid, context.as_ref(), text)? {
            Some(ty) => ty,
            None => match &context {
                Some(c) => self.evaluate_in(pid, c, text, true)?.ty,
                None => return Err(Error::InvalidArgument("no stopped thread to evaluate in".into())),
            },
        };
        Ok(crate::debuginfo::ptype(&self.symbols.types, ty))
    }

    /// The type a text names: `Ok(None)` when it is not a type name, an
    /// error when it is one that names no type (`struct nosuch`).
    fn type_named_or_error(&mut self, pid: i32, context: Option<&FrameContext>, text: &str) -> Result<Option<TypeId>> {
        let mut evaluation = Evaluation { session: self, pid, context };
        let Ok(spec) = typed::parse_type(text, &mut evaluation) else { return Ok(None) };
        // A bare word that is a variable is not a type here.
        if spec.pointers == 0 && !spec.base.contains(' ') && evaluation.variable(&spec.base).ok().flatten().is_some() {
            return Ok(None);
        }
        match typed::resolve_type(&spec, &mut evaluation) {
            Ok(ty) => Ok(Some(ty)),
            Err(_) if ["struct ", "union ", "enum ", "class "].iter().any(|k| spec.base.starts_with(k)) => {
                Err(Error::UnknownType(spec.base.clone()))
            }
            Err(_) => Ok(None),
        }
    }

    /// A type by name, with its members: `int`, `struct node`,
    /// `geometry::Point`, `rusty::Player`, `binary_op`.
    pub fn find_type(&mut self, pid: i32, name: &str) -> Result<TypeInfo> {
        self.process(pid)?;
        let ty = self.type_named_or_error(pid, None, name)?.ok_or_else(|| Error::UnknownType(name.to_string()))?;
        Ok(self.type_info(ty))
    }

    /// What is known of a type: name, size, members.
    pub fn type_info(&mut self, ty: TypeId) -> TypeInfo {
        let table = &self.symbols.types;
        let stripped = table.strip(ty);
        let fields = match &table.get(stripped).kind {
            TypeKind::Composite(c) => c
                .members
                .iter()
                .map(|m| FieldInfo {
                    name: m.name.clone(),
                    type_id: m.ty,
                    type_name: crate::debuginfo::type_name(table, m.ty),
                    offset: m.offset,
                    bits: m.bits.map(|b| (b.bit_offset, b.bit_size)),
                    is_base: m.is_base,
                    is_static: m.is_static,
                })
                .collect(),
            _ => Vec::new(),
        };
        TypeInfo {
            id: ty,
            name: crate::debuginfo::type_name(table, ty),
            size: table.size_of(ty),
            fields,
            declaration: crate::debuginfo::ptype(table, ty),
        }
    }

    /// Every type looked at so far (to name and size the types of values).
    pub fn types(&self) -> &TypeTable {
        &self.symbols.types
    }

    /// A member of a value by name (through references and pointers).
    pub fn value_member(&mut self, pid: i32, value: &Value, name: &str) -> Result<Value> {
        let mut target = SessionTarget::new(self, pid);
        crate::debuginfo::access::member_named(value, name, &mut target).map_err(|e| value_error(e, pid))
    }

    /// Element `index` of an array, a pointer, or a container a pretty
    /// printer knows (`std::vector`, `Vec`, slices).
    pub fn value_element(&mut self, pid: i32, value: &Value, index: i64) -> Result<Value> {
        let mut target = SessionTarget::new(self, pid);
        match crate::debuginfo::access::index_value(value, index, &mut target) {
            Ok(v) => Ok(v),
            Err(e) => {
                let printer =
                    self.symbols.printers.find(&self.symbols.types, value.ty).ok_or_else(|| value_error(e, pid))?;
                let mut target = SessionTarget::new(self, pid);
                match printer.print(value, &mut target, index.max(0) as usize + 1).map_err(|e| value_error(e, pid))? {
                    crate::debuginfo::pretty::Printed::Children { children, .. } => children
                        .into_iter()
                        .nth(index.max(0) as usize)
                        .filter(|_| index >= 0)
                        .map(|(_, v)| v)
                        .ok_or_else(|| Error::InvalidArgument(format!("no such element: {index}"))),
                    _ => Err(Error::InvalidArgument("the value has no elements".into())),
                }
            }
        }
    }

    /// What a pointer or reference points to.
    pub fn value_deref(&mut self, pid: i32, value: &Value) -> Result<Value> {
        let mut target = SessionTarget::new(self, pid);
        crate::debuginfo::access::deref(value, &mut target).map_err(|e| value_error(e, pid))
    }

    /// A value as an integer (pointers, enums, characters, booleans; floats truncated).
    pub fn value_integer(&mut self, pid: i32, value: &Value) -> Result<i128> {
        let mut target = SessionTarget::new(self, pid);
        let value =
            crate::debuginfo::access::through_references(value, false, &mut target).map_err(|e| value_error(e, pid))?;
        if crate::debuginfo::value::base_kind(target.types(), value.ty) == Some(BaseKind::Float) {
            return crate::debuginfo::access::as_f64(&value, &mut target)
                .map(|f| f as i128)
                .map_err(|e| value_error(e, pid));
        }
        crate::debuginfo::access::as_i128(&value, &mut target).map_err(|e| value_error(e, pid))
    }

    /// A value as a float.
    pub fn value_float(&mut self, pid: i32, value: &Value) -> Result<f64> {
        let mut target = SessionTarget::new(self, pid);
        let value =
            crate::debuginfo::access::through_references(value, false, &mut target).map_err(|e| value_error(e, pid))?;
        if crate::debuginfo::value::base_kind(target.types(), value.ty) == Some(BaseKind::Float) {
            return crate::debuginfo::access::as_f64(&value, &mut target).map_err(|e| value_error(e, pid));
        }
        crate::debuginfo::access::as_i128(&value, &mut target).map(|i| i as f64).map_err(|e| value_error(e, pid))
    }

    /// Registers a pretty printer for values of every process; it is asked
    /// before the built-in ones (C++ `std::string`/`std::vector`, Rust
    /// `String`/`Vec`/`&str`/slices).
    pub fn add_pretty_printer(&mut self, printer: std::rc::Rc<dyn crate::debuginfo::PrettyPrinter>) {
        self.symbols.printers.add(printer);
    }

    /// Removes the pretty printers with this name; returns how many there were.
    pub fn remove_pretty_printer(&mut self, name: &str) -> usize {
        self.symbols.printers.remove(name)
    }

    /// The names of the pretty printers, the first asked first.
    pub fn pretty_printers(&self) -> Vec<String> {
        self.symbols.printers.names()
    }

    /// The object of type `ty` at an address (WinDbg's `dt TYPE ADDR`).
    pub fn object_at(&mut self, ty: TypeId, address: u64) -> Value {
        Value::at(ty, address)
    }

    /// The members of a struct, class or union value (base classes and
    /// C++ static members included), each with its value as gdb prints a
    /// member: WinDbg's `dt` shows these.
    pub fn member_values(&mut self, pid: i32, value: &Value) -> Result<Vec<(FieldInfo, String)>> {
        let info = self.type_info(value.ty);
        let owner = self.symbols.types.get(self.symbols.types.strip(value.ty));
        let members = crate::debuginfo::access::members(&self.symbols.types, value.ty);
        let mut out = Vec::new();
        for (field, member) in info.fields.into_iter().zip(members) {
            let mut target = SessionTarget::new(self, pid);
            let member_value = if member.is_static {
                use crate::debuginfo::format::FormatTarget;
                target.static_member(&owner, &member)
            } else {
                Some(crate::debuginfo::access::member_value(value, &member, &mut target))
            };
            let text = match member_value {
                Some(v) => format_value(&v, &FormatOptions::default(), &mut target, Position::Variable),
                None => "<optimized out>".into(),
            };
            out.push((field, text));
        }
        Ok(out)
    }

    /// Assigns `value` (an expression) to `target` (an lvalue expression)
    /// in a frame, converting to the target's type: gdb's `set var`.
    pub fn set_variable(&mut self, pid: i32, tid: i32, frame: usize, target: &str, value: &str) -> Result<TypedValue> {
        self.evaluate_typed(pid, tid, frame, &format!("{target} = ({value})"))
    }

    /// The variables, parameters and globals a frame can see, for
    /// completion: the frame's own first.
    pub fn frame_names(&mut self, pid: i32, tid: i32, frame: usize) -> Result<Vec<String>> {
        let context = self.frame_context(pid, tid, frame)?;
        let mut names: Vec<String> = Vec::new();
        for scope in context.scopes().iter().rev() {
            for v in &scope.variables {
                if !names.contains(&v.name) {
                    names.push(v.name.clone());
                }
            }
        }
        if let (Some(debug), Some(chain)) = (&context.physical.debug, &context.chain) {
            for g in &chain.unit.index(debug).globals {
                if !names.contains(&g.name) {
                    names.push(g.name.clone());
                }
            }
        }
        Ok(names)
    }

    // ---- breakpoint conditions ------------------------------------------------

    /// Parses a breakpoint condition in the language of the code at
    /// `address`, and checks that every name it uses is known there: a
    /// parameter or local of the function at `address` (inlined functions
    /// included), a global, a function, a register (`$rdi`), a type. An
    /// unknown name is an error now ([`Error::UnknownName`],
    /// [`Error::UnknownType`]), never a condition that is silently true.
    pub fn parse_condition(&mut self, pid: i32, address: u64, text: &str) -> Result<SourceCondition> {
        self.process(pid)?;
        let module = self.process(pid)?.modules.iter().find(|m| m.contains(address)).cloned();
        let mut locals: Vec<String> = Vec::new();
        let mut unit = None;
        let mut language = Language::C;
        if let Some(m) = &module {
            let symbols = self.module_symbols(pid, m);
            if let Some(debug) = symbols.debug_info().cloned() {
                let file_address = address.wrapping_sub(m.bias);
                if let Some((u, function)) = debug.function_at(file_address) {
                    language = u.language;
                    let chain = crate::debuginfo::scopes::scopes_at(&debug, u.clone(), function, file_address);
                    for scope in &chain.scopes {
                        locals.extend(scope.variables.iter().map(|v| v.name.clone()));
                    }
                    unit = Some(u);
                }
            }
        }
        struct ConditionOracle<'a> {
            session: &'a mut Session,
            pid: i32,
            module: Option<Module>,
            unit: Option<Rc<UnitData>>,
            language: Language,
            locals: &'a [String],
        }
        impl TypeOracle for ConditionOracle<'_> {
            fn is_type(&mut self, name: &str) -> bool {
                !self.locals.iter().any(|l| l == name)
                    && self
                        .session
                        .find_type_id(self.pid, name, self.module.as_ref(), self.unit.as_ref(), self.language)
                        .is_some()
            }
        }
        let mut oracle = ConditionOracle {
            session: self,
            pid,
            module: module.clone(),
            unit: unit.clone(),
            language,
            locals: &locals,
        };
        let expr = typed::parse(text, &mut oracle).map_err(|error| bad(text, error))?;
        for name in expr.names() {
            if locals.contains(&name) {
                continue;
            }
            let has_this = locals.iter().any(|l| l == "this");
            if has_this {
                // A member seen through `this` is checked at the hit.
                continue;
            }
            let known = matches!(self.global_value_from(pid, &name, module.as_ref(), unit.as_ref()), Ok(Some(_)))
                || self.function_value(pid, &name, module.as_ref(), unit.as_ref()).is_some();
            if !known {
                return Err(Error::UnknownName(name));
            }
        }
        for register in expr.registers() {
            if frame_register_type(&register).is_none() {
                return Err(Error::UnknownName(format!("${register}")));
            }
        }
        for type_name in expr.type_names() {
            if self.find_type_id(pid, &type_name, module.as_ref(), unit.as_ref(), language).is_none() {
                return Err(Error::UnknownType(type_name));
            }
        }
        Ok(SourceCondition { expr })
    }

    /// Evaluates a condition in frame 0 of a stopped thread: true when
    /// its value is not zero.
    pub fn source_condition_holds(&mut self, pid: i32, tid: i32, condition: &SourceCondition) -> Result<bool> {
        let context = self.frame_context(pid, tid, 0)?;
        let mut evaluation = Evaluation { session: self, pid, context: Some(&context) };
        let value = condition.expr.evaluate(&mut evaluation).map_err(|e| typed_error(condition.text(), e))?;
        let mut target = SessionTarget::new(self, pid);
        let table = target.types();
        let kind = table.get(table.strip(value.ty)).kind.clone();
        let bytes = value.bytes(&mut target).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        Ok(match kind {
            TypeKind::Base(BaseKind::Float) => crate::debuginfo::value::float_from_bytes(&bytes) != 0.0,
            _ => bytes.iter().any(|&b| b != 0),
        })
    }
}

/// A value that cannot be read, as an engine error.
fn value_error(e: ValueError, pid: i32) -> Error {
    match e {
        ValueError::OptimizedOut => Error::OptimizedOut("value".into()),
        ValueError::Memory(address) => Error::UnmappedMemory { pid, address, len: 1 },
        other => Error::InvalidArgument(other.to_string()),
    }
}

/// A syntax error.
fn bad(text: &str, error: ExprError) -> Error {
    Error::BadExpression { text: text.to_string(), error }
}

/// An evaluation error, typed where the engine has a type for it.
fn typed_error(text: &str, error: ExprError) -> Error {
    match error.kind {
        ExprErrorKind::Symbol if error.message.starts_with("No symbol \"") => {
            let name = error.message.trim_start_matches("No symbol \"");
            let name = name.split('"').next().unwrap_or(name);
            Error::UnknownName(name.to_string())
        }
        ExprErrorKind::UnknownType => {
            let name = error.message.trim_start_matches("No symbol \"");
            let name = name.split('"').next().unwrap_or(name);
            Error::UnknownType(name.to_string())
        }
        ExprErrorKind::OptimizedOut => Error::OptimizedOut(text.to_string()),
        _ => bad(text, error),
    }
}

/// The register a `$name` stands for and how it is typed: (engine name,
/// width in bytes, kind).
fn frame_register_type(name: &str) -> Option<(&'static str, u64, RegisterKind)> {
    let lower = name.to_ascii_lowercase();
    let found = match lower.as_str() {
        "pc" | "rip" => ("rip", 8, RegisterKind::Code),
        "sp" | "rsp" => ("rsp", 8, RegisterKind::Data),
        "fp" | "rbp" => ("rbp", 8, RegisterKind::Data),
        "eflags" | "efl" => ("eflags", 4, RegisterKind::Int),
        _ => {
            let registers = crate::arch::registers::Registers::NAMES;
            let known = registers.iter().find(|n| **n == lower.as_str())?;
            let width =
                if lower.starts_with('r') && !lower.ends_with('d') && !lower.ends_with('w') && !lower.ends_with('b') {
                    8
                } else if lower.starts_with('e') || lower.ends_with('d') {
                    4
                } else if lower.ends_with('l') || lower.ends_with('h') || lower.ends_with('b') {
                    1
                } else {
                    2
                };
            (*known, width, RegisterKind::Int)
        }
    };
    Some(found)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RegisterKind {
    Code,
    Data,
    Int,
}

/// A typed evaluation in a frame (or with no frame).
struct Evaluation<'a> {
    session: &'a mut Session,
    pid: i32,
    context: Option<&'a FrameContext>,
}

impl Evaluation<'_> {
    fn module(&self) -> Option<&Module> {
        self.context.and_then(|c| c.physical.module.as_ref())
    }

    fn unit(&self) -> Option<&Rc<UnitData>> {
        self.context.and_then(|c| c.chain.as_ref().map(|ch| &ch.unit))
    }
}

impl ValueTarget for Evaluation<'_> {
    fn types(&self) -> &TypeTable {
        &self.session.symbols.types
    }

    fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> std::result::Result<(), ValueError> {
        self.session.read_memory(self.pid, address, buf).map_err(|_| ValueError::Memory(address))
    }
}

impl TypeOracle for Evaluation<'_> {
    fn is_type(&mut self, name: &str) -> bool {
        if let Some(context) = self.context {
            if context.scopes().iter().any(|s| s.variables.iter().any(|v| v.name == name)) {
                return false;
            }
        }
        let (module, unit) = (self.module().cloned(), self.unit().cloned());
        let language = self.language();
        self.session.find_type_id(self.pid, name, module.as_ref(), unit.as_ref(), language).is_some()
    }

    fn is_known(&mut self, name: &str) -> bool {
        self.is_type(name) || self.variable(name).ok().flatten().is_some()
    }
}

impl TypedContext for Evaluation<'_> {
    fn language(&self) -> Language {
        self.context.map(|c| c.language()).unwrap_or_default()
    }

    fn variable(&mut self, name: &str) -> std::result::Result<Option<Value>, ValueError> {
        if let Some(context) = self.context {
            // Locals and parameters, from the innermost block out.
            let found =
                context.scopes().iter().rev().find_map(|s| s.variables.iter().find(|v| v.name == name)).cloned();
            if let Some(var) = found {
                return Ok(Some(self.session.variable_value(self.pid, context, &var)));
            }
            // A member of `this` in a C++ method.
            if let Some(this) = self.session.frame_this(self.pid, context) {
                let mut target = SessionTarget::new(self.session, self.pid);
                if let Ok(object) = deref(&this, &mut target) {
                    if let Some(member) = field(&object, name, &mut target) {
                        return Ok(Some(member));
                    }
                    // A static member of the class.
                    let class = target.types().get(target.types().strip(object.ty)).name.clone();
                    if let Some(class) = class {
                        if let Ok(Some(v)) = self.session.global_value(self.pid, &format!("{class}::{name}")) {
                            return Ok(Some(v));
                        }
                    }
                }
            }
        }
        let (module, unit) = (self.module().cloned(), self.unit().cloned());
        if let Some(v) = self.session.global_value_from(self.pid, name, module.as_ref(), unit.as_ref())? {
            return Ok(Some(v));
        }
        Ok(self.session.function_value(self.pid, name, module.as_ref(), unit.as_ref()))
    }

    fn find_type(&mut self, name: &str) -> Option<TypeId> {
        let (module, unit) = (self.module().cloned(), self.unit().cloned());
        let language = self.language();
        self.session.find_type_id(self.pid, name, module.as_ref(), unit.as_ref(), language)
    }

    fn register(&mut self, name: &str) -> Option<Value> {
        let (engine_name, width, kind) = frame_register_type(name)?;
        let context = self.context?;
        let value = match &context.physical.registers {
            Some(regs) => regs.get(engine_name)?,
            None => context.physical.frame.registers.get(engine_name)?,
        };
        let table = &self.session.symbols.types;
        let ty = match kind {
            RegisterKind::Code => {
                let function = table.add(crate::debuginfo::types::Type::new(
                    None,
                    Some(1),
                    TypeKind::Function { return_type: None, params: vec![], variadic: false, prototyped: false },
                    Language::C,
                ));
                table.pointer_to(function)
            }
            RegisterKind::Data => table.pointer_to(table.void()),
            RegisterKind::Int => {
                let (type_name, base) = match width {
                    8 => ("long", BaseKind::Signed),
                    4 => ("int", BaseKind::Signed),
                    2 => ("short", BaseKind::Signed),
                    _ => ("char", BaseKind::SignedChar),
                };
                table.base(type_name, width, base, Language::C)
            }
        };
        let number = super::frame_location::gpr_number(engine_name);
        let place = number.map(|n| Place::Register { frame: context.physical.index, number: n });
        Some(Value {
            ty,
            contents: Contents::Bytes { data: value.to_le_bytes()[..width as usize].to_vec(), known: None },
            place,
        })
    }

    fn write(&mut self, place: &Place, bytes: &[u8]) -> std::result::Result<(), String> {
        let pid = self.pid;
        match place {
            Place::Memory { address, bits: None } => {
                self.session.write_memory(pid, *address, bytes).map_err(|e| e.to_string())
            }
            Place::Memory { address, bits: Some(bits) } => {
                let storage = (bits.bit_offset + bits.bit_size).div_ceil(8).min(8) as usize;
                let mut old = [0u8; 8];
                self.session.read_memory(pid, *address, &mut old[..storage]).map_err(|e| e.to_string())?;
                let mut word = u64::from_le_bytes(old);
                let mut new = [0u8; 8];
                new[..bytes.len().min(8)].copy_from_slice(&bytes[..bytes.len().min(8)]);
                let value = u64::from_le_bytes(new);
                let mask =
                    if bits.bit_size >= 64 { u64::MAX } else { ((1u64 << bits.bit_size) - 1) << bits.bit_offset };
                word = (word & !mask) | ((value << bits.bit_offset) & mask);
                self.session.write_memory(pid, *address, &word.to_le_bytes()[..storage]).map_err(|e| e.to_string())
            }
            Place::Register { frame, number } => {
                let context = self.context.ok_or("no frame to write a register in")?;
                if *frame != 0 {
                    return Err("cannot write a register of an outer frame".into());
                }
                let tid = context.physical.tid;
                let mut word = [0u8; 16];
                word[..bytes.len().min(16)].copy_from_slice(&bytes[..bytes.len().min(16)]);
                match *number {
                    0..=16 => {
                        let name = super::frame_location::gpr_name(*number).ok_or("unknown register")?;
                        let mut regs = self.session.registers(pid, tid).map_err(|e| e.to_string())?;
                        let old = regs.get(name).unwrap_or(0);
                        // A narrower value replaces only the low bytes.
                        let n = bytes.len().min(8);
                        let mut full = old.to_le_bytes();
                        full[..n].copy_from_slice(&bytes[..n]);
                        regs.set(name, u64::from_le_bytes(full));
                        self.session.set_registers(pid, tid, &regs).map_err(|e| e.to_string())
                    }
                    17..=32 => {
                        let mut fp = self.session.fp_registers(pid, tid).map_err(|e| e.to_string())?;
                        let index = (*number - 17) as usize;
                        let mut old = fp.xmm[index].to_le_bytes();
                        let n = bytes.len().min(16);
                        old[..n].copy_from_slice(&word[..n]);
                        fp.xmm[index] = u128::from_le_bytes(old);
                        self.session.set_fp_registers(pid, tid, &fp).map_err(|e| e.to_string())
                    }
                    _ => Err("cannot write this register".into()),
                }
            }
        }
    }

    fn children(&mut self, value: &Value) -> Option<Vec<Value>> {
        let printer = self.session.symbols.printers.find(&self.session.symbols.types, value.ty)?;
        let mut target = SessionTarget::new(self.session, self.pid);
        match printer.print(value, &mut target, 1_000_000).ok()? {
            crate::debuginfo::pretty::Printed::Children { children, .. } => {
                Some(children.into_iter().map(|(_, v)| v).collect())
            }
            _ => None,
        }
    }

    fn as_value_target(&mut self) -> &mut dyn ValueTarget {
        self
    }
}
