//! Source-level handles: frames with their variables, typed values, types,
//! and pretty printers written in Python. Thin, as the rest of the binding:
//! every question goes to the engine.
//!
//! # Printers in Python
//!
//! The engine asks a printer to print while it is itself busy printing (the
//! session is borrowed). A Python printer's `Value` argument must then reach
//! memory through the engine's printing context instead of the session:
//! [`PRINTING`] holds a pointer to that context for the duration of the
//! Python call (the engine and Python run on the one thread ptrace allows),
//! and `Value` methods use it when it is set.

use crate::core::Core;
use crate::errors::DebugError;
use dbgkit::debuginfo::{PrettyPrinter, Printed, TypeTable, Value as EngineValue, ValueError, ValueTarget};
use pyo3::exceptions::{PyIndexError, PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::cell::Cell;
use std::sync::Arc;

thread_local! {
    /// The engine's printing context while a Python printer runs.
    static PRINTING: Cell<Option<*mut dyn ValueTarget>> = const { Cell::new(None) };
}

fn value_error(e: ValueError) -> PyErr {
    DebugError::new_err(e.to_string())
}

/// Runs `f` on the printing context when a printer is running, else on the session.
fn with_value_target<R>(
    core: &Arc<Core>,
    pid: i32,
    inside: impl FnOnce(&mut dyn ValueTarget) -> Result<R, ValueError>,
    outside: impl FnOnce(&mut dbgkit::Session) -> dbgkit::Result<R>,
) -> PyResult<R> {
    if let Some(target) = PRINTING.with(|p| p.get()) {
        // SAFETY: set only for the duration of a printer's call, by the
        // engine's own thread, from a live `&mut dyn ValueTarget`.
        let target = unsafe { &mut *target };
        return inside(target).map_err(value_error);
    }
    let _ = pid;
    core.with(outside)
}

// ---- Frame -------------------------------------------------------------------

/// One frame as a source-level debugger shows it: a function of the stack,
/// an inlined function counted as a frame of its own (gdb's numbering).
#[pyclass(frozen, module = "dbgkit")]
pub struct Frame {
    core: Arc<Core>,
    pid: i32,
    tid: i32,
    info: dbgkit::SourceFrame,
}

impl Frame {
    pub fn new(core: Arc<Core>, pid: i32, tid: i32, info: dbgkit::SourceFrame) -> Frame {
        Frame { core, pid, tid, info }
    }

    fn engine_variables(&self) -> PyResult<Vec<dbgkit::Variable>> {
        self.core.with(|s| s.frame_variables(self.pid, self.tid, self.info.number))
    }
}

/// The source frames of a thread.
pub fn frames(core: &Arc<Core>, pid: i32, tid: i32) -> PyResult<Vec<Frame>> {
    let frames = core.with(|s| s.source_frames(pid, tid))?;
    Ok(frames.into_iter().map(|f| Frame::new(core.clone(), pid, tid, f)).collect())
}

fn variable_list(core: &Arc<Core>, pid: i32, vars: Vec<dbgkit::Variable>) -> Vec<Variable> {
    vars.into_iter().map(|v| Variable::new(core.clone(), pid, v)).collect()
}

#[pymethods]
impl Frame {
    /// gdb's frame number (0: innermost; inlined functions count).
    #[getter]
    fn number(&self) -> usize {
        self.info.number
    }
    /// The index of the physical frame in `Thread.stack()`.
    #[getter]
    fn physical(&self) -> usize {
        self.info.physical
    }
    /// The frame's pc.
    #[getter]
    fn pc(&self) -> u64 {
        self.info.pc
    }
    /// The function's name (C++ without parameters), if known.
    #[getter]
    fn function(&self) -> Option<String> {
        self.info.function.clone()
    }
    /// The source file, if known.
    #[getter]
    fn file(&self) -> Option<String> {
        self.info.location.as_ref().map(|l| l.file.clone())
    }
    /// The source line (for a function others were inlined into, the line of the inlined call).
    #[getter]
    fn line(&self) -> Option<u32> {
        self.info.location.as_ref().map(|l| l.line)
    }
    /// True when this function was inlined into the next frame.
    #[getter]
    fn inlined(&self) -> bool {
        self.info.inlined
    }
    /// Parameters and locals, parameters first (`info args` then `info locals`).
    fn variables(&self) -> PyResult<Vec<Variable>> {
        Ok(variable_list(&self.core, self.pid, self.engine_variables()?))
    }
    /// The local variables, the innermost block's first (gdb's `info locals`).
    pub fn locals(&self) -> PyResult<Vec<Variable>> {
        let vars = self.engine_variables()?.into_iter().filter(|v| v.kind == dbgkit::VariableKind::Local).collect();
        Ok(variable_list(&self.core, self.pid, vars))
    }
    /// The parameters (gdb's `info args`).
    pub fn args(&self) -> PyResult<Vec<Variable>> {
        let vars = self.engine_variables()?.into_iter().filter(|v| v.kind == dbgkit::VariableKind::Argument).collect();
        Ok(variable_list(&self.core, self.pid, vars))
    }
    /// A parameter or local by name (`KeyError` when the frame has none).
    pub fn variable(&self, name: &str) -> PyResult<Variable> {
        let found = self.engine_variables()?.into_iter().find(|v| v.name == name);
        match found {
            Some(v) => Ok(Variable::new(self.core.clone(), self.pid, v)),
            None => Err(PyKeyError::new_err(format!("no variable {name} in frame {}", self.info.number))),
        }
    }
    /// Evaluates an expression in the frame's language: `frame.eval("p->next->x")`.
    pub fn eval(&self, expression: &str) -> PyResult<Value> {
        let v = self.core.with(|s| s.evaluate_typed(self.pid, self.tid, self.info.number, expression))?;
        Ok(Value::new(self.core.clone(), self.pid, v.value, Some(v.type_name), Some(v.text)))
    }
    /// Assigns through the variable's type: `frame.set("counter", "5")` (gdb's `set var`).
    fn set(&self, target: &str, value: &str) -> PyResult<Value> {
        let v = self.core.with(|s| s.set_variable(self.pid, self.tid, self.info.number, target, value))?;
        Ok(Value::new(self.core.clone(), self.pid, v.value, Some(v.type_name), Some(v.text)))
    }
    fn __str__(&self) -> String {
        let function = self.info.function.clone().unwrap_or_else(|| "??".into());
        let place = self.info.location.as_ref().map(|l| format!(" at {}:{}", l.file, l.line)).unwrap_or_default();
        let inlined = if self.info.inlined { " (inlined)" } else { "" };
        format!("#{} {function}{inlined}{place}", self.info.number)
    }
    fn __repr__(&self) -> String {
        format!("<dbgkit.Frame {}>", self.__str__())
    }
}

// ---- Variable ----------------------------------------------------------------

/// A parameter or local variable with its value.
#[pyclass(frozen, module = "dbgkit")]
pub struct Variable {
    core: Arc<Core>,
    pid: i32,
    inner: dbgkit::Variable,
}

impl Variable {
    fn new(core: Arc<Core>, pid: i32, inner: dbgkit::Variable) -> Variable {
        Variable { core, pid, inner }
    }
}

#[pymethods]
impl Variable {
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// `"argument"` or `"local"`.
    #[getter]
    fn kind(&self) -> &'static str {
        match self.inner.kind {
            dbgkit::VariableKind::Argument => "argument",
            dbgkit::VariableKind::Local => "local",
        }
    }
    /// The type as gdb's `whatis` names it.
    #[getter]
    fn type_name(&self) -> &str {
        &self.inner.type_name
    }
    /// The value as gdb's `info locals` shows it.
    #[getter]
    fn text(&self) -> &str {
        &self.inner.text
    }
    /// True when the compiler kept no trace of the value here.
    #[getter]
    fn optimized_out(&self) -> bool {
        self.inner.value.is_optimized_out()
    }
    /// The value, to look into (`v.value["next"]`, `int(v.value)`).
    #[getter]
    fn value(&self) -> Value {
        Value::new(
            self.core.clone(),
            self.pid,
            self.inner.value.clone(),
            Some(self.inner.type_name.clone()),
            Some(self.inner.text.clone()),
        )
    }
    fn __str__(&self) -> String {
        format!("{} = {}", self.inner.name, self.inner.text)
    }
    fn __repr__(&self) -> String {
        format!("<dbgkit.Variable {} = {}>", self.inner.name, self.inner.text)
    }
}

// ---- Value -------------------------------------------------------------------

/// A typed value: `str()` prints it as gdb does; `v["member"]`, `v[3]`,
/// `v.deref()`, `int(v)`, `float(v)` look into it.
#[pyclass(frozen, module = "dbgkit")]
pub struct Value {
    core: Arc<Core>,
    pid: i32,
    inner: EngineValue,
    type_name: Option<String>,
    text: Option<String>,
}

impl Value {
    pub fn new(
        core: Arc<Core>,
        pid: i32,
        inner: EngineValue,
        type_name: Option<String>,
        text: Option<String>,
    ) -> Value {
        Value { core, pid, inner, type_name, text }
    }

    fn derived(&self, inner: EngineValue) -> Value {
        Value::new(self.core.clone(), self.pid, inner, None, None)
    }

    /// The engine value (for printers' children).
    pub fn engine_value(&self) -> EngineValue {
        self.inner.clone()
    }
}

#[pymethods]
impl Value {
    /// The type's name as `whatis` gives it.
    #[getter]
    fn type_name(&self) -> PyResult<String> {
        if let Some(name) = &self.type_name {
            return Ok(name.clone());
        }
        let ty = self.inner.ty;
        with_value_target(
            &self.core,
            self.pid,
            |t| Ok(dbgkit::debuginfo::type_name(t.types(), ty)),
            |s| Ok(s.type_info(ty).name),
        )
    }
    /// The value's type.
    #[getter]
    fn r#type(&self) -> PyResult<Type> {
        let ty = self.inner.ty;
        let info = self.core.with(|s| Ok(s.type_info(ty)))?;
        Ok(Type::new(self.core.clone(), self.pid, info))
    }
    /// Where the value is in memory, if it is.
    #[getter]
    fn address(&self) -> Option<u64> {
        self.inner.address()
    }
    /// True when the compiler kept no trace of the value.
    #[getter]
    fn optimized_out(&self) -> bool {
        self.inner.is_optimized_out()
    }
    /// A member by name (`v["next"]`) or an element by index (`v[2]`).
    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<Value> {
        if let Ok(name) = key.extract::<String>() {
            let inner = self.inner.clone();
            let found = with_value_target(
                &self.core,
                self.pid,
                |t| dbgkit::debuginfo::access::member_named(&inner, &name, t),
                |s| s.value_member(self.pid, &inner, &name),
            );
            return found.map(|v| self.derived(v)).map_err(|e| PyKeyError::new_err(e.to_string()));
        }
        if let Ok(index) = key.extract::<i64>() {
            let inner = self.inner.clone();
            let found = with_value_target(
                &self.core,
                self.pid,
                |t| dbgkit::debuginfo::access::index_value(&inner, index, t),
                |s| s.value_element(self.pid, &inner, index),
            );
            return found.map(|v| self.derived(v)).map_err(|e| PyIndexError::new_err(e.to_string()));
        }
        Err(PyTypeError::new_err("a Value is indexed by a member name or an element number"))
    }
    /// What a pointer or reference points to.
    fn deref(&self) -> PyResult<Value> {
        let inner = self.inner.clone();
        with_value_target(
            &self.core,
            self.pid,
            |t| dbgkit::debuginfo::access::deref(&inner, t),
            |s| s.value_deref(self.pid, &inner),
        )
        .map(|v| self.derived(v))
    }
    /// The bytes of a string (`char *`, `char[]`), up to a zero byte, at most `max_length`.
    #[pyo3(signature = (max_length=4096))]
    fn string(&self, max_length: usize) -> PyResult<String> {
        let inner = self.inner.clone();
        let read = |t: &mut dyn ValueTarget| -> Result<String, ValueError> {
            let table = t.types();
            let stripped = table.strip(inner.ty);
            let address = match table.get(stripped).kind {
                dbgkit::debuginfo::TypeKind::Pointer(_) => dbgkit::debuginfo::access::as_u64(&inner, t)?,
                _ => inner.address().ok_or_else(|| ValueError::Unavailable("the value is not in memory".into()))?,
            };
            let mut out = Vec::new();
            let mut byte = [0u8; 1];
            while out.len() < max_length.min(1 << 20) {
                t.read_memory(address + out.len() as u64, &mut byte)?;
                if byte[0] == 0 {
                    break;
                }
                out.push(byte[0]);
            }
            Ok(String::from_utf8_lossy(&out).into_owned())
        };
        if PRINTING.with(|p| p.get()).is_some() {
            return with_value_target(&self.core, self.pid, read, |_| unreachable!("printing"));
        }
        let pid = self.pid;
        self.core.with(|s| {
            let mut target = SessionValueTarget { session: s, pid };
            read(&mut target).map_err(|e| dbgkit::Error::InvalidArgument(e.to_string()))
        })
    }
    fn __int__(&self) -> PyResult<i128> {
        let inner = self.inner.clone();
        with_value_target(
            &self.core,
            self.pid,
            |t| {
                let v = dbgkit::debuginfo::access::through_references(&inner, false, t)?;
                dbgkit::debuginfo::access::as_i128(&v, t)
            },
            |s| s.value_integer(self.pid, &inner),
        )
    }
    fn __index__(&self) -> PyResult<i128> {
        self.__int__()
    }
    fn __float__(&self) -> PyResult<f64> {
        let inner = self.inner.clone();
        with_value_target(
            &self.core,
            self.pid,
            |t| {
                let v = dbgkit::debuginfo::access::through_references(&inner, false, t)?;
                dbgkit::debuginfo::access::as_f64(&v, t)
            },
            |s| s.value_float(self.pid, &inner),
        )
    }
    fn __bool__(&self) -> PyResult<bool> {
        Ok(self.__int__()? != 0)
    }
    /// The value with a gdb format letter (`"x"`, `"d"`, `"t"`...).
    #[pyo3(signature = (format=None))]
    fn format(&self, format: Option<char>) -> PyResult<String> {
        let inner = self.inner.clone();
        self.core.with(|s| s.format_typed(self.pid, &inner, format))
    }
    fn __str__(&self) -> PyResult<String> {
        if let Some(text) = &self.text {
            return Ok(text.clone());
        }
        self.format(None)
    }
    fn __repr__(&self) -> PyResult<String> {
        Ok(format!("<dbgkit.Value {}>", self.__str__().unwrap_or_else(|e| e.to_string())))
    }
}

/// The session as a value target outside printing (for `Value.string`).
struct SessionValueTarget<'a> {
    session: &'a mut dbgkit::Session,
    pid: i32,
}

impl ValueTarget for SessionValueTarget<'_> {
    fn types(&self) -> &TypeTable {
        self.session.types()
    }
    fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> Result<(), ValueError> {
        self.session.read_memory(self.pid, address, buf).map_err(|_| ValueError::Memory(address))
    }
}

// ---- Type --------------------------------------------------------------------

/// A type: `.name`, `.size`, `.fields`; `str()` writes it out as `ptype` does.
#[pyclass(frozen, module = "dbgkit")]
pub struct Type {
    core: Arc<Core>,
    pid: i32,
    info: dbgkit::TypeInfo,
}

impl Type {
    pub fn new(core: Arc<Core>, pid: i32, info: dbgkit::TypeInfo) -> Type {
        Type { core, pid, info }
    }
}

/// One member of a type.
#[pyclass(frozen, module = "dbgkit")]
pub struct Field {
    core: Arc<Core>,
    pid: i32,
    inner: dbgkit::FieldInfo,
}

#[pymethods]
impl Field {
    /// The member's name (`None` for an anonymous struct or union).
    #[getter]
    fn name(&self) -> Option<String> {
        self.inner.name.clone()
    }
    /// The member's type.
    #[getter]
    fn r#type(&self) -> PyResult<Type> {
        let id = self.inner.type_id;
        let info = self.core.with(|s| Ok(s.type_info(id)))?;
        Ok(Type::new(self.core.clone(), self.pid, info))
    }
    #[getter]
    fn type_name(&self) -> &str {
        &self.inner.type_name
    }
    /// Byte offset in the object.
    #[getter]
    fn offset(&self) -> u64 {
        self.inner.offset
    }
    /// For a bit-field: the bit position from `offset`, else `None`.
    #[getter]
    fn bitpos(&self) -> Option<u64> {
        self.inner.bits.map(|b| b.0)
    }
    /// For a bit-field: its width in bits, else `None`.
    #[getter]
    fn bitsize(&self) -> Option<u64> {
        self.inner.bits.map(|b| b.1)
    }
    /// A base class rather than a member.
    #[getter]
    fn is_base_class(&self) -> bool {
        self.inner.is_base
    }
    /// A C++ static member.
    #[getter]
    fn is_static(&self) -> bool {
        self.inner.is_static
    }
    fn __repr__(&self) -> String {
        format!(
            "<dbgkit.Field {} : {} at +{:#x}>",
            self.inner.name.as_deref().unwrap_or("<anonymous>"),
            self.inner.type_name,
            self.inner.offset
        )
    }
}

#[pymethods]
impl Type {
    /// The name as `whatis` gives it.
    #[getter]
    fn name(&self) -> &str {
        &self.info.name
    }
    /// Size in bytes (`None` for a type without one, such as `void`).
    #[getter]
    fn size(&self) -> Option<u64> {
        self.info.size
    }
    /// Members and base classes, in order.
    #[getter]
    fn fields(&self) -> Vec<Field> {
        self.info.fields.iter().map(|f| Field { core: self.core.clone(), pid: self.pid, inner: f.clone() }).collect()
    }
    fn __str__(&self) -> &str {
        &self.info.declaration
    }
    fn __repr__(&self) -> String {
        format!("<dbgkit.Type {}>", self.info.name)
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Type>().is_ok_and(|o| o.get().info.id == self.info.id)
    }
}

/// A type by name in a process.
pub fn find_type(core: &Arc<Core>, pid: i32, name: &str) -> PyResult<Type> {
    let info = core.with(|s| s.find_type(pid, name))?;
    Ok(Type::new(core.clone(), pid, info))
}

// ---- pretty printers -----------------------------------------------------------

/// A pretty printer written in Python: a type-name pattern and a function
/// of a `Value` that returns a string, or `(summary, children)` where
/// children are `Value`s or `(name, Value)` pairs.
pub struct PythonPrinter {
    name: String,
    pattern: regex_lite::Pattern,
    callback: Py<PyAny>,
    core: std::sync::Weak<Core>,
}

impl PythonPrinter {
    pub fn new(name: String, pattern: &str, callback: Py<PyAny>, core: &Arc<Core>) -> PyResult<PythonPrinter> {
        let pattern = regex_lite::Pattern::new(pattern).map_err(crate::errors::InvalidArgument::new_err)?;
        Ok(PythonPrinter { name, pattern, callback, core: Arc::downgrade(core) })
    }
}

impl PrettyPrinter for PythonPrinter {
    fn name(&self) -> &str {
        &self.name
    }

    fn matches(&self, type_name: &str, _: &TypeTable, _: dbgkit::debuginfo::TypeId) -> bool {
        self.pattern.is_match(type_name)
    }

    fn print(&self, value: &EngineValue, target: &mut dyn ValueTarget, limit: usize) -> Result<Printed, ValueError> {
        let Some(core) = self.core.upgrade() else { return Err(ValueError::Unavailable("the session is gone".into())) };
        // Values made while printing read through the printing context; their process is not needed.
        let pid = 0;
        let target_ptr: *mut (dyn ValueTarget + '_) = target;
        // SAFETY: the pointer is used only during this call (cleared below,
        // also when Python raises): the lifetime is extended to store it, never to use it later.
        let target_ptr: *mut (dyn ValueTarget + 'static) = unsafe { std::mem::transmute(target_ptr) };
        PRINTING.with(|p| p.set(Some(target_ptr)));
        struct Clear;
        impl Drop for Clear {
            fn drop(&mut self) {
                PRINTING.with(|p| p.set(None));
            }
        }
        let _clear = Clear;
        Python::attach(|py| -> Result<Printed, ValueError> {
            let argument = Value::new(core.clone(), pid, value.clone(), None, None);
            let result = self
                .callback
                .call1(py, (argument,))
                .map_err(|e| ValueError::Unavailable(format!("printer {}: {e}", self.name)))?;
            let result = result.bind(py);
            if let Ok(text) = result.extract::<String>() {
                return Ok(Printed::Text(text));
            }
            let tuple = result.cast::<PyTuple>().map_err(|_| {
                ValueError::Unavailable(format!(
                    "printer {} returned neither a string nor (summary, children)",
                    self.name
                ))
            })?;
            let summary: String =
                tuple.get_item(0).and_then(|s| s.extract()).map_err(|e| ValueError::Unavailable(e.to_string()))?;
            let mut children = Vec::new();
            if let Ok(items) = tuple.get_item(1) {
                for item in items.try_iter().map_err(|e| ValueError::Unavailable(e.to_string()))? {
                    let item = item.map_err(|e| ValueError::Unavailable(e.to_string()))?;
                    if children.len() > limit {
                        break;
                    }
                    if let Ok(v) = item.cast::<Value>() {
                        children.push((None, v.get().engine_value()));
                    } else if let Ok(pair) = item.cast::<PyTuple>() {
                        let name: String = pair
                            .get_item(0)
                            .and_then(|n| n.extract())
                            .map_err(|e| ValueError::Unavailable(e.to_string()))?;
                        let v = pair.get_item(1).map_err(|e| ValueError::Unavailable(e.to_string()))?;
                        let v =
                            v.cast::<Value>().map_err(|_| ValueError::Unavailable("a child must be a Value".into()))?;
                        children.push((Some(name), v.get().engine_value()));
                    } else {
                        return Err(ValueError::Unavailable("a child must be a Value or (name, Value)".into()));
                    }
                }
            }
            Ok(Printed::Children { summary, children, rust_style: false })
        })
    }
}

/// Registers a Python printer with the session.
pub fn add_printer(core: &Arc<Core>, name: &str, pattern: &str, callback: Py<PyAny>) -> PyResult<()> {
    let printer = PythonPrinter::new(name.to_string(), pattern, callback, core)?;
    core.with(|s| {
        s.add_pretty_printer(std::rc::Rc::new(printer));
        Ok(())
    })
}

/// Matching a type name against a printer's pattern (a regular expression).
mod regex_lite {
    pub struct Pattern(regex::Regex);

    impl Pattern {
        pub fn new(pattern: &str) -> Result<Pattern, String> {
            regex::Regex::new(pattern).map(Pattern).map_err(|e| format!("bad pattern {pattern:?}: {e}"))
        }
        pub fn is_match(&self, text: &str) -> bool {
            self.0.is_match(text)
        }
    }
}
