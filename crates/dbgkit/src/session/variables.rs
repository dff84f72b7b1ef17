//! Source-level frames and their variables.
//!
//! A physical frame of the stack may hold several functions inlined into
//! one another; like gdb, the engine shows each as a frame of its own
//! (`helper (inlined)`, then its caller at the call's line), numbered from
//! 0 for the innermost. `frame_variables` gives the parameters and locals
//! of one of those frames with their values; a value the compiler did not
//! keep is optimized out, never guessed.

use super::frame_location::{FrameLocator, PhysicalFrame, StaticLocator};
use super::value_target::SessionTarget;
use super::Session;
use crate::debuginfo::format::{format_value, FormatOptions, Position};
use crate::debuginfo::location::{read_location, Location, LocationError};
use crate::debuginfo::scopes::{scopes_at, Scope, ScopeChain, VariableDie};
use crate::debuginfo::types::{Language, TypeId};
use crate::debuginfo::units::{reference, ModuleDebugInfo, UnitData};
use crate::debuginfo::value::{Contents, Place, Value};
use crate::error::{Error, Result};
use crate::symbols::{SourceLocation, Symbolized};
use crate::unwind::StackFrame;
use gimli::AttributeValue;
use std::rc::Rc;

/// One frame as a source-level debugger shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFrame {
    /// gdb's frame number: 0 for the innermost, inlined functions counted.
    pub number: usize,
    /// The physical frame of [`crate::Session::stack`] it belongs to.
    pub physical: usize,
    /// 0 for the innermost function of its physical frame, 1 for the
    /// function that one was inlined into, and so on.
    pub inline_depth: usize,
    /// This function was inlined into the next frame (gdb marks it
    /// `(inlined)`): it has no stack frame of its own.
    pub inlined: bool,
    /// The frame's pc (for a caller, the return address).
    pub pc: u64,
    /// The function's name, when known.
    pub function: Option<String>,
    /// The source line: where the pc is, or for the function an inlined
    /// one was inlined into, the line of the inlined call.
    pub location: Option<SourceLocation>,
    /// The physical frame's place (module, symbol, offset).
    pub symbol: Option<Symbolized>,
}

/// Whether a variable is a parameter or a local.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VariableKind {
    Argument,
    Local,
}

/// A parameter or local variable of a frame, with its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Variable {
    pub name: String,
    pub kind: VariableKind,
    pub value: Value,
    /// The type as `whatis` names it.
    pub type_name: String,
    /// The value as `info locals` shows it (`<optimized out>` when it is).
    pub text: String,
    /// 0 for the frame's function (or inlined function) itself, more for
    /// each nested block.
    pub block_depth: usize,
}

/// Everything about one source frame that evaluating in it needs.
pub(crate) struct FrameContext {
    pub frames: Vec<StackFrame>,
    pub source: SourceFrame,
    pub physical: PhysicalFrame,
    pub chain: Option<ScopeChain>,
}

impl FrameContext {
    /// The scopes of this frame (its function or inlined function, then
    /// the blocks around the pc), outermost first.
    pub fn scopes(&self) -> &[Scope] {
        match &self.chain {
            Some(chain) => chain.frame_scopes(self.source.inline_depth),
            None => &[],
        }
    }

    pub fn language(&self) -> Language {
        self.chain.as_ref().map(|c| c.unit.language).unwrap_or_default()
    }
}

/// Expands the physical frames of a stack (as [`crate::Session::stack`]
/// names them) into source frames: each function inlined into a frame
/// comes first, as a frame of its own.
pub fn expand_frames(frames: &[StackFrame]) -> Vec<SourceFrame> {
    let mut out = Vec::new();
    for (physical, frame) in frames.iter().enumerate() {
        let chain = frame.symbol.as_ref().map(|s| s.inlined.clone()).unwrap_or_default();
        let depth = chain.len().max(1);
        for inline_depth in 0..depth {
            let entry = chain.get(inline_depth);
            // As gdb names frames: a C++ function without its parameter list.
            let function = entry
                .and_then(|f| f.function.clone())
                .or_else(|| frame.symbol.as_ref().and_then(|s| s.symbol.clone()))
                .map(|name| crate::debuginfo::units::function_name(&name).to_string());
            out.push(SourceFrame {
                number: out.len(),
                physical,
                inline_depth,
                inlined: inline_depth + 1 < depth,
                pc: frame.pc,
                function,
                location: entry.and_then(|f| f.location.clone()),
                symbol: frame.symbol.clone(),
            });
        }
    }
    out
}

impl Session {
    /// The frames of a stopped thread as a source-level debugger numbers
    /// them: every function inlined into a physical frame is a frame of
    /// its own, innermost first (gdb's `bt`).
    pub fn source_frames(&mut self, pid: i32, tid: i32) -> Result<Vec<SourceFrame>> {
        let stack = self.stack(pid, tid)?;
        Ok(expand_frames(&stack.frames))
    }

    /// What evaluating in source frame `frame` needs.
    pub(crate) fn frame_context(&mut self, pid: i32, tid: i32, frame: usize) -> Result<FrameContext> {
        let stack = self.stack(pid, tid)?;
        let sources = expand_frames(&stack.frames);
        let source = sources.get(frame).cloned().ok_or(Error::NoSuchFrame { frame, count: sources.len() })?;
        let frames = stack.frames;
        let physical = self
            .physical_frame(pid, tid, &frames, source.physical)
            .ok_or(Error::NoSuchFrame { frame, count: sources.len() })?;
        let chain = match (&physical.debug, &physical.function) {
            (Some(debug), Some((unit, function))) => {
                Some(scopes_at(debug, unit.clone(), function.clone(), physical.file_pc()))
            }
            _ => None,
        };
        Ok(FrameContext { frames, source, physical, chain })
    }

    /// The parameters and local variables of a frame (numbered as
    /// [`source_frames`](Self::source_frames) numbers them), with their
    /// values: parameters first, then locals from the innermost block out,
    /// each block's in declaration order (gdb's `info args`, `info locals`).
    ///
    /// ```no_run
    /// # let mut session = dbgkit::Session::new(); let (pid, tid) = (1, 1);
    /// for v in session.frame_variables(pid, tid, 0)? {
    ///     println!("{} = {}", v.name, v.text);
    /// }
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn frame_variables(&mut self, pid: i32, tid: i32, frame: usize) -> Result<Vec<Variable>> {
        let context = self.frame_context(pid, tid, frame)?;
        if context.chain.is_none() {
            let place = context.source.function.clone().unwrap_or_else(|| format!("{:#x}", context.source.pc));
            return Err(Error::NoDebugInfo(place));
        }
        let scopes: Vec<Scope> = context.scopes().to_vec();
        let mut arguments = Vec::new();
        let mut locals = Vec::new();
        for (depth, scope) in scopes.iter().enumerate() {
            for var in &scope.variables {
                let kind = if var.is_parameter && depth == 0 { VariableKind::Argument } else { VariableKind::Local };
                let value = self.variable_value(pid, &context, var);
                let (type_name, text) = {
                    let mut target = SessionTarget::new(self, pid);
                    let type_name = crate::debuginfo::type_name(&target.session.symbols.types, value.ty);
                    let text = format_value(&value, &FormatOptions::default(), &mut target, Position::Variable);
                    (type_name, text)
                };
                let variable = Variable { name: var.name.clone(), kind, value, type_name, text, block_depth: depth };
                match kind {
                    VariableKind::Argument => arguments.push(variable),
                    VariableKind::Local => locals.push(variable),
                }
            }
        }
        // gdb lists the innermost block's locals first.
        locals.sort_by_key(|v| std::cmp::Reverse(v.block_depth));
        arguments.extend(locals);
        Ok(arguments)
    }

    /// The type of a variable DIE.
    pub(crate) fn variable_type(&mut self, debug: &Rc<ModuleDebugInfo>, unit: &UnitData, var: &VariableDie) -> TypeId {
        let Some(type_die) = var.type_die else { return self.symbols.types.void() };
        let end = unit.offset + unit.unit.header.length_including_self();
        let unit_offset = if (unit.offset..end).contains(&type_die) {
            unit.offset
        } else {
            debug.unit_of_die(type_die).map(|u| u.offset).unwrap_or(unit.offset)
        };
        self.symbols.types.for_die(debug, unit_offset, type_die)
    }

    /// A variable's value in a frame.
    pub(crate) fn variable_value(&mut self, pid: i32, context: &FrameContext, var: &VariableDie) -> Value {
        let Some(chain) = &context.chain else { return Value::optimized_out(self.symbols.types.void()) };
        let Some(debug) = context.physical.debug.clone() else {
            return Value::optimized_out(self.symbols.types.void());
        };
        let unit = chain.unit.clone();
        let ty = self.variable_type(&debug, &unit, var);
        let Some(entry) = unit.entry(var.die) else { return Value::optimized_out(ty) };
        if let Some(constant) = entry.attr_value(gimli::DW_AT_const_value).ok().flatten() {
            return self.constant_value(ty, &debug, &unit, constant);
        }
        let Some(attribute) = entry.attr_value(gimli::DW_AT_location).ok().flatten() else {
            return Value::optimized_out(ty);
        };
        let frames = context.frames.clone();
        let mut locator = FrameLocator::new(self, &context.physical, &frames);
        let location = locator.evaluate_attribute(&unit, attribute);
        let frame_index = context.physical.index;
        self.value_at(pid, ty, location, frame_index, |s, location, size| {
            let mut locator = FrameLocator::new(s, &context.physical, &frames);
            read_location(location, size, &mut locator)
        })
    }

    /// A value of type `ty` at an evaluated location.
    fn value_at(
        &mut self,
        _pid: i32,
        ty: TypeId,
        location: std::result::Result<Location, LocationError>,
        frame: usize,
        read: impl FnOnce(&mut Session, &Location, usize) -> std::result::Result<(Vec<u8>, Vec<bool>), LocationError>,
    ) -> Value {
        let size = self.symbols.types.size_of(ty).unwrap_or(0) as usize;
        match location {
            Ok(Location::Memory(address)) => Value::at(ty, address),
            Ok(Location::OptimizedOut) | Err(LocationError::OptimizedOut) | Err(LocationError::Register(_)) => {
                Value::optimized_out(ty)
            }
            Ok(location) => {
                let place = match &location {
                    Location::Register(number) => Some(Place::Register { frame, number: *number }),
                    _ => None,
                };
                match read(self, &location, size.min(4096)) {
                    Ok((data, known)) => {
                        let known = if known.iter().all(|k| *k) { None } else { Some(known) };
                        Value { ty, contents: Contents::Bytes { data, known }, place }
                    }
                    Err(LocationError::OptimizedOut) | Err(LocationError::Register(_)) => Value::optimized_out(ty),
                    Err(e) => Value { ty, contents: Contents::Unavailable(e.to_string()), place: None },
                }
            }
            Err(e) => Value { ty, contents: Contents::Unavailable(e.to_string()), place: None },
        }
    }

    /// `DW_AT_const_value`: the value itself, in the DIE.
    fn constant_value(
        &mut self,
        ty: TypeId,
        debug: &ModuleDebugInfo,
        unit: &UnitData,
        constant: AttributeValue<crate::debuginfo::units::Reader>,
    ) -> Value {
        use gimli::Reader as _;
        let size = self.symbols.types.size_of(ty).unwrap_or(8) as usize;
        let mut bytes = match constant {
            AttributeValue::Block(b) => b.to_slice().map(|c| c.into_owned()).unwrap_or_default(),
            AttributeValue::Sdata(v) => v.to_le_bytes().to_vec(),
            AttributeValue::Udata(v) => v.to_le_bytes().to_vec(),
            AttributeValue::Data1(v) => vec![v],
            AttributeValue::Data2(v) => v.to_le_bytes().to_vec(),
            AttributeValue::Data4(v) => v.to_le_bytes().to_vec(),
            AttributeValue::Data8(v) => v.to_le_bytes().to_vec(),
            other => match debug.dwarf().attr_string(&unit.unit, other) {
                Ok(s) => s.to_slice().map(|c| c.into_owned()).unwrap_or_default(),
                Err(_) => return Value::optimized_out(ty),
            },
        };
        // Sign-extend a short signed constant to the type's size.
        let negative =
            bytes.last().is_some_and(|b| b & 0x80 != 0) && crate::debuginfo::value::is_signed(&self.symbols.types, ty);
        bytes.resize(size, if negative { 0xff } else { 0 });
        Value::from_bytes(ty, bytes)
    }

    /// The value of a global or static variable at its DIE in a module.
    pub(crate) fn static_variable(
        &mut self,
        pid: i32,
        debug: &Rc<ModuleDebugInfo>,
        bias: u64,
        unit_offset: usize,
        die: usize,
    ) -> Option<Value> {
        let unit = debug.unit(unit_offset)?;
        let entry = unit.entry(die)?;
        // A definition may name its declaration for the type (C++ statics, `extern` globals).
        let mut type_die = entry.attr_value(gimli::DW_AT_type).ok().flatten().and_then(|v| reference(&unit.unit, v));
        if type_die.is_none() {
            let spec =
                entry.attr_value(gimli::DW_AT_specification).ok().flatten().and_then(|v| reference(&unit.unit, v));
            if let Some(declaration) = spec.and_then(|d| unit.entry(d)) {
                type_die =
                    declaration.attr_value(gimli::DW_AT_type).ok().flatten().and_then(|v| reference(&unit.unit, v));
            }
        }
        let var = VariableDie { name: String::new(), die, type_die, is_parameter: false };
        let ty = self.variable_type(debug, &unit, &var);
        if let Some(constant) = entry.attr_value(gimli::DW_AT_const_value).ok().flatten() {
            return Some(self.constant_value(ty, debug, &unit, constant));
        }
        let attribute = entry.attr_value(gimli::DW_AT_location).ok().flatten()?;
        let AttributeValue::Exprloc(expression) = attribute else { return Some(Value::optimized_out(ty)) };
        let mut locator = StaticLocator { session: self, pid, bias, debug: debug.clone(), unit: unit.clone() };
        let location = crate::debuginfo::location::evaluate(expression, unit.unit.encoding(), &mut locator);
        Some(self.value_at(pid, ty, location, 0, |s, location, size| {
            let mut locator = StaticLocator { session: s, pid, bias, debug: debug.clone(), unit: unit.clone() };
            read_location(location, size, &mut locator)
        }))
    }

    /// The `this` of a C++ member function frame, if it has one.
    pub(crate) fn frame_this(&mut self, pid: i32, context: &FrameContext) -> Option<Value> {
        let scope = context.scopes().first()?;
        let var = scope.variables.iter().find(|v| v.is_parameter && v.name == "this")?.clone();
        Some(self.variable_value(pid, context, &var))
    }
}
