//! Variables in scope at a pc: the function's parameters and locals, the
//! lexical blocks around the pc (innermost last), and the inlined
//! functions the pc is in, each with its own parameters and blocks.
//!
//! A concrete DIE (an out-of-line copy, an inlined copy) often names its
//! variable through `DW_AT_abstract_origin` and carries only its location;
//! variables of the abstract function that the copy does not mention at
//! all are inherited without a location (they are optimized out there).

use super::units::{die_name, die_ranges, reference, FunctionEntry, ModuleDebugInfo, Reader, UnitData};
use gimli::{AttributeValue, DebuggingInformationEntry, Reader as _};
use std::collections::HashSet;
use std::rc::Rc;

/// One variable or parameter DIE in a scope.
#[derive(Clone, Debug)]
pub(crate) struct VariableDie {
    pub name: String,
    /// The DIE that holds the location (the concrete one).
    pub die: usize,
    /// The DIE that holds the type (the concrete one or its origin).
    pub type_die: Option<usize>,
    pub is_parameter: bool,
}

/// What kind of scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ScopeKind {
    /// The function itself (out of line).
    Function,
    /// A `{ }` block.
    Block,
    /// An inlined copy of a function, called from `call_file:call_line`.
    Inlined { name: String, call_file: Option<String>, call_line: u32 },
}

/// One level of nesting around a pc.
#[derive(Clone, Debug)]
pub(crate) struct Scope {
    pub kind: ScopeKind,
    /// The scope's DIE (a subprogram, block or inlined subroutine).
    #[allow(dead_code)]
    pub die: usize,
    /// In declaration order.
    pub variables: Vec<VariableDie>,
}

/// The scopes around a pc, outermost (the function) first.
pub(crate) struct ScopeChain {
    pub unit: Rc<UnitData>,
    #[allow(dead_code)]
    pub function: FunctionEntry,
    pub scopes: Vec<Scope>,
}

impl ScopeChain {
    /// The scopes of one frame of the inline chain: `depth` 0 is the
    /// innermost inlined function (or the function when nothing is
    /// inlined), 1 the function it was inlined into, and so on. Returns
    /// the scopes from that frame's function down to (not into) the next
    /// inlined function.
    pub fn frame_scopes(&self, depth: usize) -> &[Scope] {
        let starts: Vec<usize> = self
            .scopes
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.kind, ScopeKind::Function | ScopeKind::Inlined { .. }))
            .map(|(i, _)| i)
            .collect();
        if starts.is_empty() {
            return &[];
        }
        let which = starts.len().saturating_sub(1 + depth);
        let start = starts[which];
        let end = starts.get(which + 1).copied().unwrap_or(self.scopes.len());
        &self.scopes[start..end]
    }
}

/// Follows `DW_AT_abstract_origin`/`DW_AT_specification` to the DIE that names things.
pub(crate) fn origin_of(unit: &UnitData, entry: &DebuggingInformationEntry<'_, '_, Reader>) -> Option<usize> {
    [gimli::DW_AT_abstract_origin, gimli::DW_AT_specification]
        .iter()
        .find_map(|&a| entry.attr_value(a).ok().flatten())
        .and_then(|v| reference(&unit.unit, v))
}

/// The file name table entry of a unit's line program.
pub(crate) fn file_name(module: &ModuleDebugInfo, unit: &UnitData, index: u64) -> Option<String> {
    let program = unit.unit.line_program.as_ref()?;
    let header = program.header();
    let file = header.file(index)?;
    let mut path = String::new();
    if let Some(dir) = file.directory(header) {
        if let Ok(dir) = module.dwarf().attr_string(&unit.unit, dir) {
            path.push_str(&dir.to_string_lossy().ok()?);
        }
    }
    let name = module.dwarf().attr_string(&unit.unit, file.path_name()).ok()?;
    let name = name.to_string_lossy().ok()?;
    if name.starts_with('/') || path.is_empty() {
        return Some(name.into_owned());
    }
    Some(format!("{path}/{name}"))
}

/// Reads a variable DIE: its name and type through its origin.
fn variable(
    module: &ModuleDebugInfo,
    unit: &UnitData,
    entry: &DebuggingInformationEntry<'_, '_, Reader>,
    die: usize,
) -> Option<VariableDie> {
    let mut name = die_name(module.dwarf(), &unit.unit, entry);
    let mut type_die = entry.attr_value(gimli::DW_AT_type).ok().flatten().and_then(|v| reference(&unit.unit, v));
    let mut origin = origin_of(unit, entry);
    for _ in 0..4 {
        if name.is_some() && type_die.is_some() {
            break;
        }
        let Some(o) = origin else { break };
        let Some(origin_entry) = unit.entry(o) else { break };
        name = name.or_else(|| die_name(module.dwarf(), &unit.unit, &origin_entry));
        type_die = type_die.or_else(|| {
            origin_entry.attr_value(gimli::DW_AT_type).ok().flatten().and_then(|v| reference(&unit.unit, v))
        });
        origin = origin_of(unit, &origin_entry);
    }
    Some(VariableDie { name: name?, die, type_die, is_parameter: entry.tag() == gimli::DW_TAG_formal_parameter })
}

/// The scopes around `address` (a file address) in `function`.
pub(crate) fn scopes_at(
    module: &ModuleDebugInfo,
    unit: Rc<UnitData>,
    function: FunctionEntry,
    address: u64,
) -> ScopeChain {
    let mut scopes = Vec::new();
    let mut die = function.die;
    let mut kind = ScopeKind::Function;
    // Each round reads one scope's variables and finds the child scope holding the address.
    for _ in 0..256 {
        let (variables, next) = read_scope(module, &unit, die, address);
        scopes.push(Scope { kind: kind.clone(), die, variables });
        match next {
            Some((child, child_kind)) => {
                die = child;
                kind = child_kind;
            }
            None => break,
        }
    }
    ScopeChain { unit, function, scopes }
}

/// The variables directly in the scope at `die`, and the child scope holding the address.
fn read_scope(
    module: &ModuleDebugInfo,
    unit: &UnitData,
    die: usize,
    address: u64,
) -> (Vec<VariableDie>, Option<(usize, ScopeKind)>) {
    let mut variables = Vec::new();
    let mut next = None;
    let Some(offset) = unit.unit_offset(die) else { return (variables, None) };
    let Ok(mut tree) = unit.unit.entries_tree(Some(offset)) else { return (variables, None) };
    let Ok(root) = tree.root() else { return (variables, None) };
    let scope_entry = root.entry().clone();
    let mut mentioned: HashSet<usize> = HashSet::new();
    let mut children = root.children();
    while let Ok(Some(child)) = children.next() {
        let entry = child.entry();
        let Some(child_die) = entry.offset().to_debug_info_offset(&unit.unit.header).map(|o| o.0) else { continue };
        match entry.tag() {
            gimli::DW_TAG_formal_parameter | gimli::DW_TAG_variable => {
                if let Some(origin) = origin_of(unit, entry) {
                    mentioned.insert(origin);
                }
                if let Some(v) = variable(module, unit, entry, child_die) {
                    variables.push(v);
                }
            }
            gimli::DW_TAG_lexical_block | gimli::DW_TAG_inlined_subroutine => {
                collect_origins(unit, child_die, &mut mentioned);
                if next.is_some() {
                    continue;
                }
                let ranges = die_ranges(module.dwarf(), &unit.unit, entry);
                if ranges.iter().any(|&(low, high)| low <= address && address < high) {
                    let kind = if entry.tag() == gimli::DW_TAG_inlined_subroutine {
                        inlined_kind(module, unit, entry)
                    } else {
                        ScopeKind::Block
                    };
                    next = Some((child_die, kind));
                }
            }
            _ => {}
        }
    }
    // Variables of the abstract function this copy does not mention: they
    // exist in the source, and have no location here.
    if let Some(origin) = origin_of(unit, &scope_entry) {
        if scope_entry.tag() != gimli::DW_TAG_lexical_block {
            inherit(module, unit, origin, &mentioned, &mut variables);
        }
    }
    (variables, next)
}

/// Every abstract origin mentioned anywhere under `die`.
fn collect_origins(unit: &UnitData, die: usize, into: &mut HashSet<usize>) {
    let Some(offset) = unit.unit_offset(die) else { return };
    let Ok(mut cursor) = unit.unit.entries_at_offset(offset) else { return };
    let mut depth = 0isize;
    let mut first = true;
    while let Ok(Some((delta, entry))) = cursor.next_dfs() {
        depth += delta;
        if !first && depth <= 0 {
            break;
        }
        first = false;
        if let Some(origin) = origin_of(unit, entry) {
            into.insert(origin);
        }
    }
}

fn inherit(
    module: &ModuleDebugInfo,
    unit: &UnitData,
    origin: usize,
    mentioned: &HashSet<usize>,
    variables: &mut Vec<VariableDie>,
) {
    let Some(offset) = unit.unit_offset(origin) else { return };
    let Ok(mut tree) = unit.unit.entries_tree(Some(offset)) else { return };
    let Ok(root) = tree.root() else { return };
    let mut children = root.children();
    while let Ok(Some(child)) = children.next() {
        let entry = child.entry();
        if !matches!(entry.tag(), gimli::DW_TAG_formal_parameter | gimli::DW_TAG_variable) {
            continue;
        }
        let Some(child_die) = entry.offset().to_debug_info_offset(&unit.unit.header).map(|o| o.0) else { continue };
        if mentioned.contains(&child_die) {
            continue;
        }
        if let Some(v) = variable(module, unit, entry, child_die) {
            // A parameter goes with the parameters, in the origin's order.
            if v.is_parameter {
                let at = variables.iter().take_while(|x| x.is_parameter).count();
                variables.insert(at, v);
            } else {
                variables.push(v);
            }
        }
    }
}

fn inlined_kind(
    module: &ModuleDebugInfo,
    unit: &UnitData,
    entry: &DebuggingInformationEntry<'_, '_, Reader>,
) -> ScopeKind {
    let name = origin_of(unit, entry)
        .and_then(|o| {
            let index = unit.index(module);
            let mut target = o;
            for _ in 0..4 {
                let e = unit.entry(target)?;
                if let Some(n) = die_name(module.dwarf(), &unit.unit, &e) {
                    return Some(format!("{}{n}", index.prefix_of(target)));
                }
                target = origin_of(unit, &e)?;
            }
            None
        })
        .unwrap_or_else(|| "??".to_string());
    let call_file = match entry.attr_value(gimli::DW_AT_call_file).ok().flatten() {
        Some(AttributeValue::FileIndex(i)) => file_name(module, unit, i),
        Some(v) => super::type_reader::udata(&v).and_then(|i| file_name(module, unit, i)),
        None => None,
    };
    let call_line = entry
        .attr_value(gimli::DW_AT_call_line)
        .ok()
        .flatten()
        .as_ref()
        .and_then(super::type_reader::udata)
        .unwrap_or(0) as u32;
    ScopeKind::Inlined { name, call_file, call_line }
}

/// The value expression a caller passed for a register parameter at the
/// call that returns to `return_address` (a file address), if it says:
/// `DW_TAG_call_site` (or GNU's) children of the caller's function.
pub(crate) fn call_site_value(
    module: &ModuleDebugInfo,
    unit: &UnitData,
    caller_die: usize,
    return_address: u64,
    register: u16,
) -> Option<gimli::Expression<Reader>> {
    let offset = unit.unit_offset(caller_die)?;
    let mut cursor = unit.unit.entries_at_offset(offset).ok()?;
    let mut depth = 0isize;
    let mut first = true;
    let mut in_site: Option<isize> = None;
    while let Ok(Some((delta, entry))) = cursor.next_dfs() {
        depth += delta;
        if !first && depth <= 0 {
            break;
        }
        first = false;
        if in_site.is_some_and(|d| depth <= d) {
            in_site = None;
        }
        match entry.tag() {
            gimli::DW_TAG_call_site | gimli::DW_TAG_GNU_call_site => {
                let pc = entry
                    .attr_value(gimli::DW_AT_call_return_pc)
                    .ok()
                    .flatten()
                    .or_else(|| entry.attr_value(gimli::DW_AT_low_pc).ok().flatten());
                let pc = match pc {
                    Some(AttributeValue::Addr(a)) => Some(a),
                    Some(v @ AttributeValue::DebugAddrIndex(_)) => {
                        module.dwarf().attr_address(&unit.unit, v).ok().flatten()
                    }
                    _ => None,
                };
                if pc == Some(return_address) {
                    in_site = Some(depth);
                }
            }
            gimli::DW_TAG_call_site_parameter | gimli::DW_TAG_GNU_call_site_parameter if in_site.is_some() => {
                let Some(AttributeValue::Exprloc(location)) = entry.attr_value(gimli::DW_AT_location).ok().flatten()
                else {
                    continue;
                };
                let mut ops = location.operations(unit.unit.encoding());
                let names_register = matches!(ops.next(), Ok(Some(gimli::Operation::Register { register: r })) if r.0 == register)
                    && matches!(ops.next(), Ok(None));
                if !names_register {
                    continue;
                }
                let value = entry
                    .attr_value(gimli::DW_AT_call_value)
                    .ok()
                    .flatten()
                    .or_else(|| entry.attr_value(gimli::DW_AT_GNU_call_site_value).ok().flatten());
                if let Some(AttributeValue::Exprloc(e)) = value {
                    return Some(e);
                }
            }
            _ => {}
        }
    }
    None
}

/// The register a location expression consists of (`DW_OP_regN` alone).
pub(crate) fn single_register(expression: &gimli::Expression<Reader>, encoding: gimli::Encoding) -> Option<u16> {
    let mut ops = expression.clone().operations(encoding);
    match (ops.next(), ops.next()) {
        (Ok(Some(gimli::Operation::Register { register })), Ok(None)) => Some(register.0),
        _ => None,
    }
}
