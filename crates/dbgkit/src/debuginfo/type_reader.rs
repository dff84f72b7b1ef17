//! Reading one type from its DIE: one level at a time, the types it refers
//! to become pending ids of the table (see `types.rs`).

use super::types::DieSource;
use super::types::{
    Access, BaseKind, BitField, Composite, CompositeKind, Enumeration, Language, Member, Method, Type, TypeId,
    TypeKind, TypeTable, Variant, VariantPart,
};
use super::units::{die_name, reference, ModuleDebugInfo, Reader, UnitData};
use gimli::{AttributeValue, DebuggingInformationEntry};
use std::rc::Rc;

/// What reading needs: the table (for the ids of referenced types), the module and the unit.
pub(crate) struct TypeReader<'a> {
    pub table: &'a TypeTable,
    pub module: &'a Rc<ModuleDebugInfo>,
    pub unit: &'a UnitData,
}

/// Reads the type at a pending entry's DIE.
pub(crate) fn read_type(table: &TypeTable, source: &DieSource) -> Option<Type> {
    let unit = source.module.unit(source.unit)?;
    let reader = TypeReader { table, module: &source.module, unit: &unit };
    let entry = unit.entry(source.die)?;
    reader.read(&entry, source.die)
}

/// A constant attribute as an unsigned number.
pub(crate) fn udata(value: &AttributeValue<Reader>) -> Option<u64> {
    match *value {
        AttributeValue::Data1(v) => Some(v.into()),
        AttributeValue::Data2(v) => Some(v.into()),
        AttributeValue::Data4(v) => Some(v.into()),
        AttributeValue::Data8(v) => Some(v),
        AttributeValue::Udata(v) => Some(v),
        AttributeValue::Sdata(v) => Some(v as u64),
        _ => None,
    }
}

/// A constant attribute as a signed number (`DW_FORM_dataN` sign-extended when `signed`).
fn sdata(value: &AttributeValue<Reader>, signed: bool) -> Option<i128> {
    Some(match *value {
        AttributeValue::Data1(v) if signed => (v as i8).into(),
        AttributeValue::Data2(v) if signed => (v as i16).into(),
        AttributeValue::Data4(v) if signed => (v as i32).into(),
        AttributeValue::Data8(v) if signed => (v as i64).into(),
        AttributeValue::Data1(v) => v.into(),
        AttributeValue::Data2(v) => v.into(),
        AttributeValue::Data4(v) => v.into(),
        AttributeValue::Data8(v) => v.into(),
        AttributeValue::Udata(v) => v.into(),
        AttributeValue::Sdata(v) => v.into(),
        _ => return None,
    })
}

/// gcc's names for C base types (`long unsigned int`) as gdb shows them (`unsigned long`).
pub(crate) fn c_base_name(name: &str) -> String {
    match name {
        "long int" => "long",
        "long unsigned int" => "unsigned long",
        "short int" => "short",
        "short unsigned int" => "unsigned short",
        "long long int" => "long long",
        "long long unsigned int" => "unsigned long long",
        "__int128 unsigned" => "unsigned __int128",
        other => other,
    }
    .to_string()
}

fn flag(entry: &DebuggingInformationEntry<'_, '_, Reader>, attr: gimli::DwAt) -> bool {
    matches!(entry.attr_value(attr), Ok(Some(AttributeValue::Flag(true))))
}

impl TypeReader<'_> {
    fn name(&self, entry: &DebuggingInformationEntry<'_, '_, Reader>) -> Option<String> {
        die_name(self.module.dwarf(), &self.unit.unit, entry)
    }

    /// The name qualified by the namespaces and classes around the DIE.
    fn qualified_name(&self, entry: &DebuggingInformationEntry<'_, '_, Reader>, die: usize) -> Option<String> {
        let name = self.name(entry)?;
        Some(format!("{}{name}", self.unit.index(self.module).prefix_of(die)))
    }

    /// The type an attribute refers to (`DW_AT_type`), `None` when absent.
    pub fn type_attr(&self, entry: &DebuggingInformationEntry<'_, '_, Reader>) -> Option<TypeId> {
        let value = entry.attr_value(gimli::DW_AT_type).ok()??;
        let target = reference(&self.unit.unit, value)?;
        Some(self.type_at(target))
    }

    /// The id of the type at a `.debug_info` offset (possibly in another unit).
    pub fn type_at(&self, die: usize) -> TypeId {
        let end = self.unit.offset + self.unit.unit.header.length_including_self();
        let unit = if (self.unit.offset..end).contains(&die) {
            self.unit.offset
        } else {
            self.module.unit_of_die(die).map(|u| u.offset).unwrap_or(self.unit.offset)
        };
        self.table.for_die(self.module, unit, die)
    }

    fn size(&self, entry: &DebuggingInformationEntry<'_, '_, Reader>) -> Option<u64> {
        entry.attr_value(gimli::DW_AT_byte_size).ok().flatten().as_ref().and_then(udata)
    }

    fn read(&self, entry: &DebuggingInformationEntry<'_, '_, Reader>, die: usize) -> Option<Type> {
        let language = self.unit.language;
        let size = self.size(entry);
        let void = || self.table.void();
        let ty = match entry.tag() {
            gimli::DW_TAG_base_type => {
                let encoding = match entry.attr_value(gimli::DW_AT_encoding).ok()? {
                    Some(AttributeValue::Encoding(e)) => e,
                    _ => gimli::DW_ATE_signed,
                };
                let kind = match encoding {
                    gimli::DW_ATE_boolean => BaseKind::Bool,
                    gimli::DW_ATE_float => BaseKind::Float,
                    gimli::DW_ATE_signed_char => BaseKind::SignedChar,
                    gimli::DW_ATE_unsigned_char => BaseKind::UnsignedChar,
                    gimli::DW_ATE_UTF => BaseKind::UnicodeChar,
                    gimli::DW_ATE_unsigned => BaseKind::Unsigned,
                    _ => BaseKind::Signed,
                };
                let name = self.name(entry).map(|n| if language == Language::Rust { n } else { c_base_name(&n) });
                Type::new(name, size, TypeKind::Base(kind), language)
            }
            gimli::DW_TAG_pointer_type => {
                let target = self.type_attr(entry).unwrap_or_else(void);
                Type::new(None, size.or(Some(8)), TypeKind::Pointer(target), language)
            }
            gimli::DW_TAG_reference_type | gimli::DW_TAG_rvalue_reference_type => {
                let target = self.type_attr(entry).unwrap_or_else(void);
                let rvalue = entry.tag() == gimli::DW_TAG_rvalue_reference_type;
                Type::new(None, size.or(Some(8)), TypeKind::Reference { target, rvalue }, language)
            }
            gimli::DW_TAG_const_type | gimli::DW_TAG_volatile_type => {
                let target = self.type_attr(entry).unwrap_or_else(void);
                let is_const = entry.tag() == gimli::DW_TAG_const_type;
                let kind = TypeKind::Qualified { target, is_const, is_volatile: !is_const };
                Type::new(None, None, kind, language)
            }
            gimli::DW_TAG_typedef => {
                let target = self.type_attr(entry).unwrap_or_else(void);
                Type::new(self.qualified_name(entry, die), None, TypeKind::Typedef(target), language)
            }
            gimli::DW_TAG_array_type => self.array(entry, die)?,
            gimli::DW_TAG_structure_type | gimli::DW_TAG_class_type | gimli::DW_TAG_union_type => {
                self.composite(entry, die)?
            }
            gimli::DW_TAG_enumeration_type => self.enumeration(entry, die)?,
            gimli::DW_TAG_subroutine_type | gimli::DW_TAG_subprogram => self.function(entry, die)?,
            gimli::DW_TAG_unspecified_type => {
                Type::new(self.name(entry).or(Some("void".into())), size, TypeKind::Unspecified, language)
            }
            gimli::DW_TAG_ptr_to_member_type => {
                Type::new(Some("<pointer to member>".into()), size.or(Some(8)), TypeKind::Unspecified, language)
            }
            _ => return None,
        };
        Some(ty)
    }

    fn children(&self, die: usize, mut each: impl FnMut(&DebuggingInformationEntry<'_, '_, Reader>, usize)) {
        let Some(offset) = self.unit.unit_offset(die) else { return };
        let Ok(mut tree) = self.unit.unit.entries_tree(Some(offset)) else { return };
        let Ok(root) = tree.root() else { return };
        let mut children = root.children();
        while let Ok(Some(child)) = children.next() {
            let entry = child.entry();
            let Some(child_die) = entry.offset().to_debug_info_offset(&self.unit.unit.header) else { continue };
            each(entry, child_die.0);
        }
    }

    fn array(&self, entry: &DebuggingInformationEntry<'_, '_, Reader>, die: usize) -> Option<Type> {
        let element = self.type_attr(entry).unwrap_or_else(|| self.table.void());
        let mut counts: Vec<Option<u64>> = Vec::new();
        self.children(die, |child, _| {
            if child.tag() != gimli::DW_TAG_subrange_type && child.tag() != gimli::DW_TAG_enumeration_type {
                return;
            }
            let count = child.attr_value(gimli::DW_AT_count).ok().flatten().as_ref().and_then(udata).or_else(|| {
                let upper = child.attr_value(gimli::DW_AT_upper_bound).ok().flatten()?;
                let lower = child.attr_value(gimli::DW_AT_lower_bound).ok().flatten().as_ref().and_then(udata);
                // An upper bound of -1 (all ones) is a flexible array member: no count.
                let upper = udata(&upper).filter(|&u| u != u64::MAX && u != u32::MAX as u64)?;
                upper.checked_add(1)?.checked_sub(lower.unwrap_or(0))
            });
            counts.push(count);
        });
        if counts.is_empty() {
            counts.push(None);
        }
        // `int a[2][3]`: the last dimension is the innermost array.
        let mut inner = element;
        for &count in counts[1..].iter().rev() {
            inner = self.table.array_of(inner, count);
        }
        let outer_count = counts[0];
        let size = self.table.size_of(inner).zip(outer_count).map(|(s, c)| s.saturating_mul(c));
        let name = self.name(entry);
        Some(Type::new(name, size, TypeKind::Array { element: inner, count: outer_count }, self.unit.language))
    }

    fn member_offset(&self, entry: &DebuggingInformationEntry<'_, '_, Reader>) -> (u64, bool) {
        match entry.attr_value(gimli::DW_AT_data_member_location).ok().flatten() {
            Some(AttributeValue::Exprloc(expr)) => {
                // The usual shape is DW_OP_plus_uconst N; anything else
                // (a virtual base's offset) needs the object at run time.
                let mut ops = expr.operations(self.unit.unit.encoding());
                let mut constant = 0u64;
                let mut simple = true;
                while let Ok(Some(op)) = ops.next() {
                    match op {
                        gimli::Operation::PlusConstant { value } => constant = constant.wrapping_add(value),
                        gimli::Operation::UnsignedConstant { value } => constant = value,
                        _ => simple = false,
                    }
                }
                (constant, !simple)
            }
            Some(value) => (udata(&value).unwrap_or(0), false),
            None => (0, false),
        }
    }

    fn bitfield(
        &self,
        entry: &DebuggingInformationEntry<'_, '_, Reader>,
        offset: u64,
        ty: TypeId,
    ) -> (u64, Option<BitField>) {
        let bit_size = entry.attr_value(gimli::DW_AT_bit_size).ok().flatten().as_ref().and_then(udata);
        let Some(bit_size) = bit_size else { return (offset, None) };
        if let Some(data_bit_offset) =
            entry.attr_value(gimli::DW_AT_data_bit_offset).ok().flatten().as_ref().and_then(udata)
        {
            return (data_bit_offset / 8, Some(BitField { bit_offset: data_bit_offset % 8, bit_size }));
        }
        // DWARF 2 style: DW_AT_bit_offset counts from the most significant
        // bit of a storage unit of DW_AT_byte_size bytes.
        let storage = self.size(entry).or_else(|| self.table.size_of(ty)).unwrap_or(4);
        let from_msb = entry.attr_value(gimli::DW_AT_bit_offset).ok().flatten().as_ref().and_then(udata).unwrap_or(0);
        let total = (offset * 8 + storage * 8).saturating_sub(from_msb + bit_size);
        (total / 8, Some(BitField { bit_offset: total % 8, bit_size }))
    }

    fn access(&self, entry: &DebuggingInformationEntry<'_, '_, Reader>, default: Access) -> Access {
        match entry.attr_value(gimli::DW_AT_accessibility).ok().flatten() {
            Some(AttributeValue::Accessibility(gimli::DW_ACCESS_public)) => Access::Public,
            Some(AttributeValue::Accessibility(gimli::DW_ACCESS_protected)) => Access::Protected,
            Some(AttributeValue::Accessibility(gimli::DW_ACCESS_private)) => Access::Private,
            _ => default,
        }
    }

    fn member(&self, entry: &DebuggingInformationEntry<'_, '_, Reader>, default_access: Access) -> Member {
        let ty = self.type_attr(entry).unwrap_or_else(|| self.table.void());
        let (offset, is_virtual_base) = self.member_offset(entry);
        let (offset, bits) = self.bitfield(entry, offset, ty);
        let is_base = entry.tag() == gimli::DW_TAG_inheritance;
        let is_static = entry.tag() == gimli::DW_TAG_variable
            || (flag(entry, gimli::DW_AT_declaration)
                && entry.attr(gimli::DW_AT_data_member_location).ok().flatten().is_none());
        let virtual_inheritance = matches!(entry.attr_value(gimli::DW_AT_virtuality).ok().flatten(), Some(AttributeValue::Virtuality(v)) if v != gimli::DW_VIRTUALITY_none);
        Member {
            name: self.name(entry),
            ty,
            offset,
            bits,
            is_base,
            is_virtual_base: is_base && (is_virtual_base || virtual_inheritance),
            is_static,
            access: self.access(entry, default_access),
            artificial: flag(entry, gimli::DW_AT_artificial),
        }
    }

    fn method(
        &self,
        entry: &DebuggingInformationEntry<'_, '_, Reader>,
        die: usize,
        default_access: Access,
    ) -> Option<Method> {
        let name = self.name(entry)?;
        let mut params = Vec::new();
        let mut is_const = false;
        let mut has_this = false;
        self.children(die, |child, _| {
            if child.tag() != gimli::DW_TAG_formal_parameter {
                return;
            }
            let Some(ty) = self.type_attr(child) else { return };
            if flag(child, gimli::DW_AT_artificial) {
                // `this` (and a destructor's hidden `__in_chrg`): not written.
                if has_this {
                    return;
                }
                has_this = true;
                // `this` is `const K *` in a const method. Read from the DIEs:
                // reading the class here would read the class being read.
                is_const = self.points_to_const(child);
                return;
            }
            params.push(ty);
        });
        // gdb calls a method virtual when it has a vtable slot.
        let is_virtual = entry.attr(gimli::DW_AT_vtable_elem_location).ok().flatten().is_some();
        Some(Method {
            name,
            return_type: self.type_attr(entry),
            params,
            is_virtual,
            is_static: !has_this,
            is_const,
            access: self.access(entry, default_access),
            artificial: flag(entry, gimli::DW_AT_artificial),
        })
    }

    /// Whether the pointer type of a DIE's `DW_AT_type` points to a `const` type.
    fn points_to_const(&self, entry: &DebuggingInformationEntry<'_, '_, Reader>) -> bool {
        let next = |e: &DebuggingInformationEntry<'_, '_, Reader>| {
            e.attr_value(gimli::DW_AT_type).ok().flatten().and_then(|v| reference(&self.unit.unit, v))
        };
        let Some(mut die) = next(entry) else { return false };
        // Through `K * const` to the pointer, then to what it points to.
        for _ in 0..4 {
            let Some(e) = self.unit.entry(die) else { return false };
            match e.tag() {
                gimli::DW_TAG_const_type | gimli::DW_TAG_volatile_type | gimli::DW_TAG_typedef => {
                    let Some(n) = next(&e) else { return false };
                    die = n;
                }
                gimli::DW_TAG_pointer_type => {
                    let Some(target) = next(&e).and_then(|t| self.unit.entry(t)) else { return false };
                    return target.tag() == gimli::DW_TAG_const_type;
                }
                _ => return false,
            }
        }
        false
    }

    fn composite(&self, entry: &DebuggingInformationEntry<'_, '_, Reader>, die: usize) -> Option<Type> {
        let kind = match entry.tag() {
            gimli::DW_TAG_class_type => CompositeKind::Class,
            gimli::DW_TAG_union_type => CompositeKind::Union,
            _ => CompositeKind::Struct,
        };
        let default_access = if kind == CompositeKind::Class { Access::Private } else { Access::Public };
        let mut composite = Composite {
            kind,
            members: Vec::new(),
            methods: Vec::new(),
            declaration: flag(entry, gimli::DW_AT_declaration),
            variants: None,
            template_types: Vec::new(),
        };
        if composite.declaration {
            // Only declared here: the definition may be in another unit.
            if let Some(defined) = self.definition_elsewhere(entry, die) {
                return Some((*self.table.get(defined)).clone());
            }
        }
        self.children(die, |child, child_die| match child.tag() {
            gimli::DW_TAG_member | gimli::DW_TAG_inheritance => {
                composite.members.push(self.member(child, default_access))
            }
            gimli::DW_TAG_variable => composite.members.push(self.member(child, default_access)),
            gimli::DW_TAG_subprogram => {
                if let Some(m) = self.method(child, child_die, default_access) {
                    composite.methods.push(m);
                }
            }
            gimli::DW_TAG_variant_part => composite.variants = Some(self.variant_part(child_die, default_access)),
            gimli::DW_TAG_template_type_parameter => {
                if let (Some(name), Some(ty)) = (self.name(child), self.type_attr(child)) {
                    composite.template_types.push((name, ty));
                }
            }
            _ => {}
        });
        let name = self.qualified_name(entry, die);
        Some(Type::new(name, self.size(entry), TypeKind::Composite(composite), self.unit.language))
    }

    /// The definition of a type that this unit only declares, found by
    /// qualified name in the module's name index.
    fn definition_elsewhere(&self, entry: &DebuggingInformationEntry<'_, '_, Reader>, die: usize) -> Option<TypeId> {
        let name = self.qualified_name(entry, die)?;
        let tag = entry.tag();
        for (_, unit, candidate) in self.module.find_names(&name, super::units::NameKind::Type) {
            let Some(unit_data) = self.module.unit(unit) else { continue };
            let Some(found) = unit_data.entry(candidate) else { continue };
            if found.tag() == tag && !flag(&found, gimli::DW_AT_declaration) {
                return Some(self.table.for_die(self.module, unit, candidate));
            }
        }
        None
    }

    fn variant_part(&self, die: usize, default_access: Access) -> VariantPart {
        let mut part = VariantPart { discriminant: None, variants: Vec::new() };
        let discr_die = self
            .unit
            .entry(die)
            .and_then(|e| e.attr_value(gimli::DW_AT_discr).ok().flatten())
            .and_then(|v| reference(&self.unit.unit, v));
        self.children(die, |child, child_die| match child.tag() {
            gimli::DW_TAG_member if Some(child_die) == discr_die || part.discriminant.is_none() => {
                part.discriminant = Some(self.member(child, default_access));
            }
            gimli::DW_TAG_variant => {
                let discriminant = child.attr_value(gimli::DW_AT_discr_value).ok().flatten().as_ref().and_then(udata);
                self.children(child_die, |grandchild, _| {
                    if grandchild.tag() == gimli::DW_TAG_member {
                        part.variants.push(Variant { discriminant, member: self.member(grandchild, default_access) });
                    }
                });
            }
            _ => {}
        });
        part
    }

    fn enumeration(&self, entry: &DebuggingInformationEntry<'_, '_, Reader>, die: usize) -> Option<Type> {
        let underlying = self.type_attr(entry);
        let is_signed = underlying
            .map(|u| matches!(self.table.get(self.table.strip(u)).kind, TypeKind::Base(k) if k.is_signed()))
            .unwrap_or(true);
        let mut enumerators = Vec::new();
        self.children(die, |child, _| {
            if child.tag() != gimli::DW_TAG_enumerator {
                return;
            }
            let Some(name) = self.name(child) else { return };
            let value = child.attr_value(gimli::DW_AT_const_value).ok().flatten();
            if let Some(v) = value.as_ref().and_then(|v| sdata(v, is_signed)) {
                enumerators.push((name, v));
            }
        });
        // gdb's rule: a flag enum has only values that are 0 or a single
        // bit, no two alike; its values print as `(A | B)`.
        let mut mask = 0u128;
        let mut is_flags = !enumerators.is_empty();
        for &(_, v) in &enumerators {
            if v < 0 || (v as u128).count_ones() >= 2 || mask & v as u128 != 0 {
                is_flags = false;
                break;
            }
            mask |= v as u128;
        }
        let enumeration = Enumeration {
            underlying,
            enumerators,
            is_flags,
            is_signed,
            is_scoped: flag(entry, gimli::DW_AT_enum_class),
            declaration: flag(entry, gimli::DW_AT_declaration),
        };
        let size = self.size(entry).or_else(|| underlying.and_then(|u| self.table.size_of(u)));
        Some(Type::new(self.qualified_name(entry, die), size, TypeKind::Enum(enumeration), self.unit.language))
    }

    fn function(&self, entry: &DebuggingInformationEntry<'_, '_, Reader>, die: usize) -> Option<Type> {
        let mut params = Vec::new();
        let mut variadic = false;
        self.children(die, |child, _| match child.tag() {
            gimli::DW_TAG_formal_parameter => {
                if let Some(ty) = self.type_attr(child) {
                    params.push(ty);
                }
            }
            gimli::DW_TAG_unspecified_parameters => variadic = true,
            _ => {}
        });
        let prototyped = flag(entry, gimli::DW_AT_prototyped) || self.unit.language != Language::C;
        // A definition may leave its return type to its declaration.
        let mut return_type = self.type_attr(entry);
        let mut origin = crate::debuginfo::scopes::origin_of(self.unit, entry);
        for _ in 0..4 {
            if return_type.is_some() {
                break;
            }
            let Some(declaration) = origin.and_then(|o| self.unit.entry(o)) else { break };
            return_type = self.type_attr(&declaration);
            origin = crate::debuginfo::scopes::origin_of(self.unit, &declaration);
        }
        let kind = TypeKind::Function { return_type, params, variadic, prototyped };
        Some(Type::new(None, Some(1), kind, self.unit.language))
    }
}
