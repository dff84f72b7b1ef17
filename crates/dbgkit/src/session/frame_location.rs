//! Where a variable lives in one physical frame of a stopped thread: the
//! frame's registers (all of them in frame 0, the callee-saved ones the
//! unwinder recovered further out), its CFA and frame base, target memory,
//! and the caller's call-site values for `DW_OP_entry_value`.

use super::Session;
use crate::arch::registers::Registers;
use crate::debuginfo::location::{self, Location, LocationContext, LocationError};
use crate::debuginfo::scopes::{call_site_value, single_register};
use crate::debuginfo::units::{FunctionEntry, ModuleDebugInfo, Reader, UnitData};
use crate::module::Module;
use crate::unwind::StackFrame;
use gimli::AttributeValue;
use std::rc::Rc;

/// What is known about one physical frame for evaluating locations.
#[derive(Clone)]
pub(crate) struct PhysicalFrame {
    pub pid: i32,
    pub tid: i32,
    /// Index in the stack (0: innermost).
    pub index: usize,
    pub frame: StackFrame,
    /// The thread's registers, for frame 0.
    pub registers: Option<Registers>,
    pub module: Option<Module>,
    pub debug: Option<Rc<ModuleDebugInfo>>,
    /// The function whose code holds the frame's pc, and its unit.
    pub function: Option<(Rc<UnitData>, FunctionEntry)>,
}

impl PhysicalFrame {
    /// The frame's lookup pc as an address of its module's file.
    pub fn file_pc(&self) -> u64 {
        let bias = self.module.as_ref().map(|m| m.bias).unwrap_or(0);
        self.frame.lookup_pc().wrapping_sub(bias)
    }

    pub fn bias(&self) -> u64 {
        self.module.as_ref().map(|m| m.bias).unwrap_or(0)
    }
}

const GPR_ORDER: [&str; 17] = [
    "rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
];

/// The DWARF number of a general register (`rax` is 0).
pub(crate) fn gpr_number(name: &str) -> Option<u16> {
    GPR_ORDER.iter().position(|n| *n == name).map(|i| i as u16)
}

/// The name of the general register with DWARF number `n`.
pub(crate) fn gpr_name(n: u16) -> Option<&'static str> {
    GPR_ORDER.get(n as usize).copied()
}

impl Session {
    /// Gathers what evaluating locations in physical frame `index` needs.
    pub(crate) fn physical_frame(
        &mut self,
        pid: i32,
        tid: i32,
        frames: &[StackFrame],
        index: usize,
    ) -> Option<PhysicalFrame> {
        let frame = frames.get(index)?.clone();
        let registers = if index == 0 {
            let mut regs = self.registers(pid, tid).ok()?;
            regs.rip = frame.pc;
            Some(regs)
        } else {
            None
        };
        let module = self.process(pid).ok()?.modules.iter().find(|m| m.contains(frame.lookup_pc())).cloned();
        let mut physical = PhysicalFrame { pid, tid, index, frame, registers, module, debug: None, function: None };
        if let Some(module) = physical.module.clone() {
            let symbols = self.module_symbols(pid, &module);
            if let Some(debug) = symbols.debug_info() {
                physical.function = debug.function_at(physical.file_pc());
                physical.debug = Some(debug.clone());
            }
        }
        Some(physical)
    }
}

/// Evaluates locations in one physical frame.
pub(crate) struct FrameLocator<'a> {
    pub session: &'a mut Session,
    pub frame: &'a PhysicalFrame,
    /// The whole stack, for the caller's call sites.
    pub frames: &'a [StackFrame],
    /// xmm registers of frame 0, read when first needed.
    pub xmm: Option<Option<[u128; 16]>>,
    /// Entry values nest (a call value may need an entry value of the
    /// caller's own): bounded.
    pub depth: usize,
}

impl<'a> FrameLocator<'a> {
    pub fn new(session: &'a mut Session, frame: &'a PhysicalFrame, frames: &'a [StackFrame]) -> FrameLocator<'a> {
        FrameLocator { session, frame, frames, xmm: None, depth: 0 }
    }

    /// Evaluates a location attribute (an expression or a location list) at the frame's pc.
    pub fn evaluate_attribute(
        &mut self,
        unit: &UnitData,
        value: AttributeValue<Reader>,
    ) -> Result<Location, LocationError> {
        let Some(debug) = self.frame.debug.clone() else { return Err(LocationError::OptimizedOut) };
        match value {
            AttributeValue::Exprloc(expression) => location::evaluate(expression, unit.unit.encoding(), self),
            AttributeValue::Block(bytes) => location::evaluate(gimli::Expression(bytes), unit.unit.encoding(), self),
            other => {
                let Ok(Some(mut list)) = debug.dwarf().attr_locations(&unit.unit, other) else {
                    return Err(LocationError::OptimizedOut);
                };
                let pc = self.frame.file_pc();
                while let Ok(Some(entry)) = list.next() {
                    if entry.range.begin <= pc && pc < entry.range.end {
                        return location::evaluate(entry.data, unit.unit.encoding(), self);
                    }
                }
                // No entry covers the pc: the variable has no home here.
                Ok(Location::OptimizedOut)
            }
        }
    }

    fn xmm(&mut self, n: usize) -> Option<[u8; 16]> {
        if self.frame.index != 0 {
            return None;
        }
        let (pid, tid) = (self.frame.pid, self.frame.tid);
        let all = *self.xmm.get_or_insert_with(|| self.session.fp_registers(pid, tid).ok().map(|fp| fp.xmm));
        all.map(|x| x[n].to_le_bytes())
    }
}

impl LocationContext for FrameLocator<'_> {
    fn register(&mut self, number: u16) -> Option<Vec<u8>> {
        match number {
            0..=16 => {
                let name = GPR_ORDER[number as usize];
                let value = match &self.frame.registers {
                    Some(r) => r.get(name),
                    None => self.frame.frame.registers.get(name),
                }?;
                Some(value.to_le_bytes().to_vec())
            }
            17..=32 => self.xmm((number - 17) as usize).map(|b| b.to_vec()),
            _ => None,
        }
    }

    fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> bool {
        self.session.read_memory(self.frame.pid, address, buf).is_ok()
    }

    fn frame_base(&mut self) -> Result<u64, LocationError> {
        let Some((unit, function)) = self.frame.function.clone() else { return Err(LocationError::OptimizedOut) };
        let entry = unit.entry(function.die).ok_or(LocationError::OptimizedOut)?;
        let value = entry.attr_value(gimli::DW_AT_frame_base).ok().flatten().ok_or(LocationError::OptimizedOut)?;
        let location = match value {
            AttributeValue::Exprloc(expression) => location::evaluate(expression, unit.unit.encoding(), self)?,
            other => {
                let debug = self.frame.debug.clone().ok_or(LocationError::OptimizedOut)?;
                let Ok(Some(mut list)) = debug.dwarf().attr_locations(&unit.unit, other) else {
                    return Err(LocationError::OptimizedOut);
                };
                let pc = self.frame.file_pc();
                let mut found = None;
                while let Ok(Some(entry)) = list.next() {
                    if entry.range.begin <= pc && pc < entry.range.end {
                        found = Some(location::evaluate(entry.data, unit.unit.encoding(), self)?);
                        break;
                    }
                }
                found.ok_or(LocationError::OptimizedOut)?
            }
        };
        match location {
            Location::Memory(address) => Ok(address),
            // `DW_OP_reg6` as a frame base means the register's contents.
            Location::Register(r) => {
                let bytes = self.register(r).ok_or_else(|| LocationError::Register(location::register_name(r)))?;
                let mut word = [0u8; 8];
                word.copy_from_slice(&bytes[..8]);
                Ok(u64::from_le_bytes(word))
            }
            Location::Value(bytes) => {
                let mut word = [0u8; 8];
                let n = bytes.len().min(8);
                word[..n].copy_from_slice(&bytes[..n]);
                Ok(u64::from_le_bytes(word))
            }
            _ => Err(LocationError::OptimizedOut),
        }
    }

    fn cfa(&mut self) -> Option<u64> {
        (self.frame.frame.cfa != 0).then_some(self.frame.frame.cfa)
    }

    fn bias(&self) -> u64 {
        self.frame.bias()
    }

    fn entry_value(&mut self, expression: gimli::Expression<Reader>) -> Option<u64> {
        // `DW_OP_entry_value(DW_OP_regN)`: what the caller passed in that
        // register, when its call site says.
        if self.depth > 4 {
            return None;
        }
        let (unit, _) = self.frame.function.clone()?;
        let register = single_register(&expression, unit.unit.encoding())?;
        // The value at entry is the register itself while the frame is
        // still at its function's first instruction.
        let caller_index = self.frame.index + 1;
        let caller_frame = self.frames.get(caller_index)?;
        if !caller_frame.after_call {
            return None;
        }
        let (pid, tid) = (self.frame.pid, self.frame.tid);
        let caller = self.session.physical_frame(pid, tid, self.frames, caller_index)?;
        let (caller_unit, caller_function) = caller.function.clone()?;
        let debug = caller.debug.clone()?;
        let return_address = caller.frame.pc.wrapping_sub(caller.bias());
        let value = call_site_value(&debug, &caller_unit, caller_function.die, return_address, register)?;
        let frames = self.frames;
        let mut locator =
            FrameLocator { session: &mut *self.session, frame: &caller, frames, xmm: None, depth: self.depth + 1 };
        match location::evaluate(value, caller_unit.unit.encoding(), &mut locator).ok()? {
            Location::Value(bytes) => {
                let mut word = [0u8; 8];
                let n = bytes.len().min(8);
                word[..n].copy_from_slice(&bytes[..n]);
                Some(u64::from_le_bytes(word))
            }
            // A call value is a DWARF expression whose result is the value itself.
            Location::Memory(address) => Some(address),
            Location::Register(r) => {
                let bytes = locator.register(r)?;
                let mut word = [0u8; 8];
                word.copy_from_slice(&bytes[..8]);
                Some(u64::from_le_bytes(word))
            }
            _ => None,
        }
    }

    fn indexed_address(&mut self, index: gimli::DebugAddrIndex<usize>) -> Option<u64> {
        let (unit, _) = self.frame.function.clone()?;
        let debug = self.frame.debug.clone()?;
        debug.dwarf().address(&unit.unit, index).ok()
    }
}

/// Evaluates the location of a global or static variable: no frame, only
/// the module's load bias and memory.
pub(crate) struct StaticLocator<'a> {
    pub session: &'a mut Session,
    pub pid: i32,
    pub bias: u64,
    pub debug: Rc<ModuleDebugInfo>,
    pub unit: Rc<UnitData>,
}

impl LocationContext for StaticLocator<'_> {
    fn register(&mut self, _number: u16) -> Option<Vec<u8>> {
        None
    }
    fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> bool {
        self.session.read_memory(self.pid, address, buf).is_ok()
    }
    fn frame_base(&mut self) -> Result<u64, LocationError> {
        Err(LocationError::OptimizedOut)
    }
    fn cfa(&mut self) -> Option<u64> {
        None
    }
    fn bias(&self) -> u64 {
        self.bias
    }
    fn entry_value(&mut self, _expression: gimli::Expression<Reader>) -> Option<u64> {
        None
    }
    fn indexed_address(&mut self, index: gimli::DebugAddrIndex<usize>) -> Option<u64> {
        self.debug.dwarf().address(&self.unit.unit, index).ok()
    }
}
