//! Values the engine returns, as Python objects: the registers view, names
//! of places, symbols, stack frames, memory regions, call results.

use crate::core::Core;
use crate::errors::StateError;
use pyo3::exceptions::{PyAttributeError, PyIndexError, PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyList};
use std::sync::Arc;

// ---- Registers ---------------------------------------------------------------

/// The x87/SSE register names the view also takes.
fn fp_get(fp: &dbgkit::FpRegisters, name: &str) -> Option<u128> {
    let index = |prefix: &str, max: usize| name.strip_prefix(prefix)?.parse::<usize>().ok().filter(|&i| i < max);
    match name {
        "mxcsr" => Some(fp.mxcsr as u128),
        "fcw" => Some(fp.fcw as u128),
        "fsw" => Some(fp.fsw as u128),
        "ftw" => Some(fp.ftw as u128),
        _ => index("xmm", 16).map(|i| fp.xmm[i]).or_else(|| index("st", 8).map(|i| fp.st[i])),
    }
}

fn fp_set(fp: &mut dbgkit::FpRegisters, name: &str, value: u128) -> bool {
    let index = |prefix: &str, max: usize| name.strip_prefix(prefix)?.parse::<usize>().ok().filter(|&i| i < max);
    match name {
        "mxcsr" => fp.mxcsr = value as u32,
        "fcw" => fp.fcw = value as u16,
        "fsw" => fp.fsw = value as u16,
        "ftw" => fp.ftw = value as u16,
        _ => {
            if let Some(i) = index("xmm", 16) {
                fp.xmm[i] = value;
            } else if let Some(i) = index("st", 8) {
                fp.st[i] = value & ((1u128 << 80) - 1);
            } else {
                return false;
            }
        }
    }
    true
}

fn is_fp_name(name: &str) -> bool {
    fp_get(&dbgkit::FpRegisters::default(), name).is_some()
}

/// The registers of a stopped thread, live: reading gives the current value,
/// assigning writes it into the thread at once.
///
/// ```python
/// t.regs.rax            # attribute
/// t.regs["rip"] = addr  # item
/// dict(t.regs)          # every general register
/// t.regs.eax, t.regs.al, t.regs.xmm0, t.regs.mxcsr
/// ```
#[pyclass(frozen, mapping, module = "dbgkit")]
pub struct Registers {
    core: Arc<Core>,
    pid: i32,
    tid: i32,
}

impl Registers {
    pub fn new(core: Arc<Core>, pid: i32, tid: i32) -> Registers {
        Registers { core, pid, tid }
    }

    fn read(&self, name: &str) -> PyResult<Option<u128>> {
        let lower = name.to_ascii_lowercase();
        if let Some(v) = self.core.registers(self.pid, self.tid)?.get(&lower) {
            return Ok(Some(v as u128));
        }
        if is_fp_name(&lower) {
            let fp = self.core.with(|s| s.fp_registers(self.pid, self.tid))?;
            return Ok(fp_get(&fp, &lower));
        }
        Ok(None)
    }

    /// Writes a register by name (general, partial or x87/SSE).
    pub fn write(&self, name: &str, value: u128) -> PyResult<()> {
        let lower = name.to_ascii_lowercase();
        self.check_writable()?;
        if is_fp_name(&lower) {
            return self.core.with(|s| {
                let mut fp = s.fp_registers(self.pid, self.tid)?;
                fp_set(&mut fp, &lower, value);
                s.set_fp_registers(self.pid, self.tid, &fp)
            });
        }
        let value = u64::try_from(value).map_err(|_| PyValueError::new_err("the value does not fit in 64 bits"))?;
        let mut regs = self.core.registers(self.pid, self.tid)?;
        if !regs.set(&lower, value) {
            return Err(PyKeyError::new_err(format!("no register named {name:?}")));
        }
        self.core.with(|s| s.set_registers(self.pid, self.tid, &regs))
    }

    fn check_writable(&self) -> PyResult<()> {
        if self.core.hit_pid() == Some(self.pid) {
            return Err(StateError::new_err(
                "registers cannot be written inside a breakpoint callback (the engine's HitContext \
                 only reads them); return True to stop at the breakpoint and write them then",
            ));
        }
        Ok(())
    }

    fn value_arg(value: &Bound<'_, PyAny>) -> PyResult<u128> {
        if let Ok(v) = value.extract::<u128>() {
            return Ok(v);
        }
        if let Ok(v) = value.extract::<i64>() {
            return Ok(v as u64 as u128);
        }
        Err(PyValueError::new_err("a register value is an int (negative ones are written in two's complement)"))
    }

    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let regs = self.core.registers(self.pid, self.tid)?;
        let dict = PyDict::new(py);
        for name in dbgkit::Registers::NAMES {
            dict.set_item(*name, regs.get(name).unwrap_or(0))?;
        }
        Ok(dict)
    }
}

#[pymethods]
impl Registers {
    fn __getattr__(&self, name: &str) -> PyResult<u128> {
        if name.starts_with("__") {
            return Err(PyAttributeError::new_err(name.to_string()));
        }
        self.read(name)?.ok_or_else(|| PyAttributeError::new_err(format!("no register named {name:?}")))
    }
    fn __setattr__(&self, py: Python<'_>, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = Self::value_arg(value)?;
        self.write(name, value).map_err(|e| {
            if e.is_instance_of::<PyKeyError>(py) {
                PyAttributeError::new_err(format!("no register named {name:?}"))
            } else {
                e
            }
        })
    }
    fn __getitem__(&self, name: &str) -> PyResult<u128> {
        self.read(name)?.ok_or_else(|| PyKeyError::new_err(name.to_string()))
    }
    fn __setitem__(&self, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.write(name, Self::value_arg(value)?)
    }
    fn __contains__(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        dbgkit::Registers::default().get(&lower).is_some() || is_fp_name(&lower)
    }
    fn __len__(&self) -> usize {
        dbgkit::Registers::NAMES.len()
    }
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyList::new(py, dbgkit::Registers::NAMES)?.try_iter().map(|i| i.into_any())
    }
    /// The names of the general registers.
    fn keys(&self) -> Vec<&'static str> {
        dbgkit::Registers::NAMES.to_vec()
    }
    /// The values of the general registers, in `keys()` order.
    fn values(&self) -> PyResult<Vec<u64>> {
        let regs = self.core.registers(self.pid, self.tid)?;
        Ok(dbgkit::Registers::NAMES.iter().map(|n| regs.get(n).unwrap_or(0)).collect())
    }
    /// `(name, value)` for every general register.
    fn items(&self) -> PyResult<Vec<(&'static str, u64)>> {
        let regs = self.core.registers(self.pid, self.tid)?;
        Ok(dbgkit::Registers::NAMES.iter().map(|n| (*n, regs.get(n).unwrap_or(0))).collect())
    }
    /// A register's value, or `default` for an unknown name.
    #[pyo3(signature = (name, default=None))]
    fn get(&self, py: Python<'_>, name: &str, default: Option<Py<PyAny>>) -> PyResult<Py<PyAny>> {
        match self.read(name)? {
            Some(v) => Ok(PyInt::new(py, v).into_any().unbind()),
            None => Ok(default.unwrap_or_else(|| py.None())),
        }
    }
    /// A snapshot of every general register as a dict.
    fn as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.snapshot(py)
    }
    /// Writes several registers at once (one read and one write of the register file).
    #[pyo3(signature = (values=None, **kwargs))]
    fn update(&self, values: Option<&Bound<'_, PyDict>>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        self.check_writable()?;
        let mut regs = self.core.registers(self.pid, self.tid)?;
        for dict in [values, kwargs].into_iter().flatten() {
            for (k, v) in dict.iter() {
                let name: String = k.extract()?;
                let value = u64::try_from(Self::value_arg(&v)?)
                    .map_err(|_| PyValueError::new_err("the value does not fit in 64 bits"))?;
                if !regs.set(&name, value) {
                    return Err(PyKeyError::new_err(name));
                }
            }
        }
        self.core.with(|s| s.set_registers(self.pid, self.tid, &regs))
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        match self.snapshot(py) {
            Ok(d) => {
                let body: Vec<String> =
                    d.iter().map(|(k, v)| format!("{}={:#x}", k, v.extract::<u64>().unwrap_or(0))).collect();
                format!("<dbgkit.Registers tid={} {}>", self.tid, body.join(" "))
            }
            Err(e) => format!("<dbgkit.Registers tid={} ({e})>", self.tid),
        }
    }
}

// ---- places and symbols --------------------------------------------------------

/// What is known about an address: module, symbol and offset, source line,
/// inline chain. `str()` gives the WinDbg form (`libc.so.6!malloc+0x1f`).
#[pyclass(frozen, module = "dbgkit")]
pub struct Symbolized {
    inner: dbgkit::Symbolized,
}

impl From<dbgkit::Symbolized> for Symbolized {
    fn from(inner: dbgkit::Symbolized) -> Symbolized {
        Symbolized { inner }
    }
}

#[pymethods]
impl Symbolized {
    /// The address.
    #[getter]
    fn address(&self) -> u64 {
        self.inner.address
    }
    /// The module's short name, if the address is in one.
    #[getter]
    fn module(&self) -> Option<&str> {
        self.inner.module.as_deref()
    }
    /// Offset from the module's base.
    #[getter]
    fn module_offset(&self) -> u64 {
        self.inner.module_offset
    }
    /// The covering symbol (demangled), if any.
    #[getter]
    fn symbol(&self) -> Option<&str> {
        self.inner.symbol.as_deref()
    }
    /// The symbol as stored in the file.
    #[getter]
    fn raw_symbol(&self) -> Option<&str> {
        self.inner.raw_symbol.as_deref()
    }
    /// Offset into the symbol.
    #[getter]
    fn offset(&self) -> u64 {
        self.inner.offset
    }
    /// The source file, when DWARF says.
    #[getter]
    fn file(&self) -> Option<&str> {
        self.inner.location.as_ref().map(|l| l.file.as_str())
    }
    /// The source line, when DWARF says.
    #[getter]
    fn line(&self) -> Option<u32> {
        self.inner.location.as_ref().map(|l| l.line).filter(|&l| l != 0)
    }
    /// The source column, when DWARF says.
    #[getter]
    fn column(&self) -> Option<u32> {
        self.inner.location.as_ref().and_then(|l| l.column)
    }
    /// The inline chain, innermost first: `(function, file, line)` tuples.
    #[getter]
    fn inlined(&self) -> Vec<(Option<String>, Option<String>, Option<u32>)> {
        self.inner
            .inlined
            .iter()
            .map(|f| {
                (f.function.clone(), f.location.as_ref().map(|l| l.file.clone()), f.location.as_ref().map(|l| l.line))
            })
            .collect()
    }
    /// `libc.so.6!malloc+0x1f (malloc.c:3287)`.
    fn with_location(&self) -> String {
        self.inner.with_location()
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self) -> String {
        format!("<dbgkit.Symbolized {:#x} {}>", self.inner.address, self.inner.with_location())
    }
}

/// A named symbol at its runtime address. `str()` gives `module!name`.
#[pyclass(frozen, module = "dbgkit")]
pub struct Symbol {
    inner: dbgkit::Symbol,
}

impl From<dbgkit::Symbol> for Symbol {
    fn from(inner: dbgkit::Symbol) -> Symbol {
        Symbol { inner }
    }
}

#[pymethods]
impl Symbol {
    /// The module's short name.
    #[getter]
    fn module(&self) -> &str {
        &self.inner.module
    }
    /// The demangled name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// The name as stored in the file.
    #[getter]
    fn raw_name(&self) -> &str {
        &self.inner.raw_name
    }
    /// The runtime address.
    #[getter]
    fn address(&self) -> u64 {
        self.inner.address
    }
    /// The size in bytes (0 when unknown).
    #[getter]
    fn size(&self) -> u64 {
        self.inner.size
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self) -> String {
        format!("<dbgkit.Symbol {} at {:#x} size {}>", self.inner, self.inner.address, self.inner.size)
    }
}

// ---- stacks ------------------------------------------------------------------

/// One frame of a call stack. `str()` gives `#N ADDRESS module!function+off (file:line)`.
#[pyclass(frozen, module = "dbgkit")]
pub struct StackFrame {
    inner: dbgkit::StackFrame,
    /// The thread it belongs to and the number of its innermost source
    /// frame, for its variables (`None` for a stack walked from raw registers).
    thread: Option<(Arc<Core>, i32, i32, usize)>,
}

#[pymethods]
impl StackFrame {
    /// 0 for the innermost frame.
    #[getter]
    fn number(&self) -> usize {
        self.inner.number
    }
    /// Frame 0: the thread's `rip`; callers: the return address (or the interrupted instruction).
    #[getter]
    fn pc(&self) -> u64 {
        self.inner.pc
    }
    /// The frame's stack pointer.
    #[getter]
    fn sp(&self) -> u64 {
        self.inner.sp
    }
    /// The canonical frame address (0 when unknown).
    #[getter]
    fn cfa(&self) -> u64 {
        self.inner.cfa
    }
    /// How the frame was found: `"registers"`, `"cfi"`, `"frame-pointer"` or `"stack-top"`.
    #[getter]
    fn found_by(&self) -> &'static str {
        match self.inner.found_by {
            dbgkit::FoundBy::Registers => "registers",
            dbgkit::FoundBy::Cfi => "cfi",
            dbgkit::FoundBy::FramePointer => "frame-pointer",
            dbgkit::FoundBy::StackTop => "stack-top",
        }
    }
    /// `pc` is a return address (the call is just before it).
    #[getter]
    fn after_call(&self) -> bool {
        self.inner.after_call
    }
    /// The frame is a signal trampoline.
    #[getter]
    fn signal_trampoline(&self) -> bool {
        self.inner.signal_trampoline
    }
    /// The address whose function and line describe the frame (`pc - 1` after a call).
    #[getter]
    fn lookup_pc(&self) -> u64 {
        self.inner.lookup_pc()
    }
    /// The frame's place, if known.
    #[getter]
    fn symbol(&self) -> Option<Symbolized> {
        self.inner.symbol.clone().map(Symbolized::from)
    }
    /// The function's name, if known.
    #[getter]
    fn function(&self) -> Option<String> {
        self.inner.symbol.as_ref().and_then(|s| s.symbol.clone())
    }
    /// The source-level frame of this frame's innermost function (see `Thread.frames()`).
    fn source_frame(&self) -> PyResult<crate::source::Frame> {
        let Some((core, pid, tid, number)) = &self.thread else {
            return Err(crate::errors::StateError::new_err("this stack was not walked from a thread: no variables"));
        };
        let mut frames = crate::source::frames(core, *pid, *tid)?;
        if *number >= frames.len() {
            return Err(crate::errors::StateError::new_err("the stack changed since it was walked"));
        }
        Ok(frames.swap_remove(*number))
    }
    /// The local variables of the frame's function (gdb's `info locals`).
    fn locals(&self) -> PyResult<Vec<crate::source::Variable>> {
        self.source_frame()?.locals()
    }
    /// The parameters of the frame's function (gdb's `info args`).
    fn args(&self) -> PyResult<Vec<crate::source::Variable>> {
        self.source_frame()?.args()
    }
    /// A parameter or local by name.
    fn variable(&self, name: &str) -> PyResult<crate::source::Variable> {
        self.source_frame()?.variable(name)
    }
    /// Evaluates an expression in the frame's language.
    fn eval(&self, expression: &str) -> PyResult<crate::source::Value> {
        self.source_frame()?.eval(expression)
    }
    /// The registers recovered for this frame (`rip`, `rsp`, `rbp`, callee-saved ones), as known.
    #[getter]
    fn registers(&self) -> Vec<(&'static str, u64)> {
        dbgkit::RecoveredRegisters::NAMES.iter().filter_map(|n| self.inner.registers.get(n).map(|v| (*n, v))).collect()
    }
    fn __str__(&self) -> String {
        let name = self.inner.symbol.as_ref().map(|s| s.with_location()).unwrap_or_default();
        format!("#{} {:016x} {name}", self.inner.number, self.inner.pc).trim_end().to_string()
    }
    fn __repr__(&self) -> String {
        format!("<dbgkit.StackFrame {}>", self.__str__())
    }
}

/// A walked call stack: a sequence of `StackFrame`, innermost first.
/// `stopped` says why the walk ended early, if it did.
#[pyclass(frozen, sequence, module = "dbgkit")]
pub struct Stack {
    frames: Vec<Py<StackFrame>>,
    stopped: Option<String>,
}

impl From<dbgkit::Stack> for Stack {
    fn from(stack: dbgkit::Stack) -> Stack {
        Python::attach(|py| Stack {
            frames: stack
                .frames
                .into_iter()
                .filter_map(|f| Py::new(py, StackFrame { inner: f, thread: None }).ok())
                .collect(),
            stopped: stack.stopped,
        })
    }
}

impl Stack {
    /// A thread's stack, its frames able to give their variables.
    pub fn for_thread(stack: dbgkit::Stack, core: &Arc<Core>, pid: i32, tid: i32) -> Stack {
        let sources = dbgkit::expand_frames(&stack.frames);
        Python::attach(|py| Stack {
            frames: stack
                .frames
                .into_iter()
                .enumerate()
                .filter_map(|(i, f)| {
                    // The innermost source frame of this physical frame.
                    let number = sources.iter().find(|s| s.physical == i).map(|s| s.number).unwrap_or(i);
                    Py::new(py, StackFrame { inner: f, thread: Some((core.clone(), pid, tid, number)) }).ok()
                })
                .collect(),
            stopped: stack.stopped,
        })
    }
}

#[pymethods]
impl Stack {
    /// The frames, innermost first.
    #[getter]
    fn frames(&self, py: Python<'_>) -> Vec<Py<StackFrame>> {
        self.frames.iter().map(|f| f.clone_ref(py)).collect()
    }
    /// Why the walk ended before the outermost frame, or `None`.
    #[getter]
    fn stopped(&self) -> Option<&str> {
        self.stopped.as_deref()
    }
    fn __len__(&self) -> usize {
        self.frames.len()
    }
    /// A frame by index, or a list of frames by slice.
    fn __getitem__<'py>(&self, py: Python<'py>, index: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        if let Ok(index) = index.extract::<isize>() {
            let len = self.frames.len() as isize;
            let i = if index < 0 { index + len } else { index };
            if i < 0 || i >= len {
                return Err(PyIndexError::new_err("stack frame index out of range"));
            }
            return Ok(self.frames[i as usize].clone_ref(py).into_bound(py).into_any());
        }
        PyList::new(py, self.frames.iter().map(|f| f.clone_ref(py)))?.as_any().get_item(index)
    }
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyList::new(py, self.frames.iter().map(|f| f.clone_ref(py)))?.try_iter().map(|i| i.into_any())
    }
    fn __str__(&self, py: Python<'_>) -> String {
        let mut lines: Vec<String> = self.frames.iter().map(|f| f.get().__str__()).collect();
        if let Some(reason) = &self.stopped {
            lines.push(format!("({reason})"));
        }
        let _ = py;
        lines.join("\n")
    }
    fn __repr__(&self) -> String {
        format!(
            "<dbgkit.Stack {} frames{}>",
            self.frames.len(),
            if self.stopped.is_some() { ", stopped early" } else { "" }
        )
    }
}

// ---- memory and calls ----------------------------------------------------------

/// One mapping of a process's address space.
#[pyclass(frozen, module = "dbgkit")]
pub struct MemoryRegion {
    inner: dbgkit::MemoryRegion,
}

impl From<dbgkit::MemoryRegion> for MemoryRegion {
    fn from(inner: dbgkit::MemoryRegion) -> MemoryRegion {
        MemoryRegion { inner }
    }
}

#[pymethods]
impl MemoryRegion {
    /// First address.
    #[getter]
    fn start(&self) -> u64 {
        self.inner.start
    }
    /// One past the last address.
    #[getter]
    fn end(&self) -> u64 {
        self.inner.end
    }
    /// Size in bytes.
    #[getter]
    fn size(&self) -> u64 {
        self.inner.size()
    }
    /// Readable.
    #[getter]
    fn readable(&self) -> bool {
        self.inner.readable
    }
    /// Writable.
    #[getter]
    fn writable(&self) -> bool {
        self.inner.writable
    }
    /// Executable.
    #[getter]
    fn executable(&self) -> bool {
        self.inner.executable
    }
    /// Shared with other processes (else private, copy-on-write).
    #[getter]
    fn shared(&self) -> bool {
        self.inner.shared
    }
    /// Offset in the mapped file.
    #[getter]
    fn offset(&self) -> u64 {
        self.inner.offset
    }
    /// The file, `[heap]`, `[stack]`, `[vdso]`..., or `""` for anonymous memory.
    #[getter]
    fn path(&self) -> &str {
        &self.inner.path
    }
    /// `rwxp`-style permissions.
    #[getter]
    fn permissions(&self) -> String {
        self.inner.permissions()
    }
    fn __contains__(&self, address: u64) -> bool {
        (self.inner.start..self.inner.end).contains(&address)
    }
    fn __repr__(&self) -> String {
        format!(
            "<dbgkit.MemoryRegion {:#x}-{:#x} {} {}>",
            self.inner.start,
            self.inner.end,
            self.inner.permissions(),
            self.inner.path
        )
    }
}

/// What a function called in the target returned. `int()` gives `rax`.
#[pyclass(frozen, module = "dbgkit")]
pub struct CallResult {
    inner: dbgkit::CallResult,
}

impl From<dbgkit::CallResult> for CallResult {
    fn from(inner: dbgkit::CallResult) -> CallResult {
        CallResult { inner }
    }
}

#[pymethods]
impl CallResult {
    /// `rax`, unsigned.
    #[getter]
    fn rax(&self) -> u64 {
        self.inner.rax
    }
    /// `rax` as a signed 64-bit integer.
    #[getter]
    fn value(&self) -> i64 {
        self.inner.rax as i64
    }
    /// The low 128 bits of `xmm0`.
    #[getter]
    fn xmm0(&self) -> u128 {
        self.inner.xmm0
    }
    /// `xmm0` as a double (a floating-point return value).
    #[getter]
    fn double(&self) -> f64 {
        f64::from_bits(self.inner.xmm0 as u64)
    }
    fn __int__(&self) -> u64 {
        self.inner.rax
    }
    fn __index__(&self) -> u64 {
        self.inner.rax
    }
    fn __repr__(&self) -> String {
        format!("<dbgkit.CallResult rax={:#x}>", self.inner.rax)
    }
}

/// A size or count from Python: a negative one is a clear error, not an
/// `OverflowError` about unsigned integers.
pub fn count(value: i64, what: &str) -> pyo3::PyResult<u64> {
    u64::try_from(value)
        .map_err(|_| crate::errors::InvalidArgument::new_err(format!("{what} must not be negative (got {value})")))
}

/// A saved moment of a process ([`Process.checkpoint`]), to go back to with
/// `Session.restore`.
#[pyclass(frozen, module = "dbgkit")]
pub struct Checkpoint {
    /// The checkpoint's number.
    #[pyo3(get)]
    pub id: u32,
    /// Where the process was.
    #[pyo3(get)]
    pub pc: u64,
}

#[pymethods]
impl Checkpoint {
    fn __repr__(&self) -> String {
        format!("<Checkpoint {} at {:#x}>", self.id, self.pc)
    }
}
