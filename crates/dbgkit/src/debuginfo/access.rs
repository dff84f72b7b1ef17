//! Getting at the parts of a value: members (through base classes and
//! anonymous members), the target of a pointer or reference, array
//! elements, the active variant of a Rust enum, scalar readings.

use super::types::{Member, TypeId, TypeKind, TypeTable};
use super::value::{float_from_bytes, integer_from_bytes, is_signed, Value, ValueError, ValueTarget};

/// A member's value inside `value` (whose type, stripped, is a composite).
pub fn member_value(value: &Value, member: &Member, target: &mut dyn ValueTarget) -> Value {
    if let Some(bits) = member.bits {
        return value.bit_field(member.ty, member.offset, bits, target);
    }
    let size = target.types().size_of(member.ty).unwrap_or(0);
    value.slice(member.ty, member.offset, size)
}

/// The members of a composite type (none for other types).
pub fn members(table: &TypeTable, ty: TypeId) -> Vec<Member> {
    match &table.get(table.strip(ty)).kind {
        TypeKind::Composite(c) => c.members.clone(),
        _ => Vec::new(),
    }
}

/// A data member by name, searched in the type, its anonymous members and
/// its base classes (nearest first). Static members are not data of the
/// object and are left to the caller.
pub fn field(value: &Value, name: &str, target: &mut dyn ValueTarget) -> Option<Value> {
    field_inner(value, name, target, 0)
}

fn field_inner(value: &Value, name: &str, target: &mut dyn ValueTarget, depth: usize) -> Option<Value> {
    if depth > 16 {
        return None;
    }
    let list = members(target.types(), value.ty);
    if let Some(m) = list.iter().find(|m| !m.is_static && !m.is_base && m.name.as_deref() == Some(name)) {
        return Some(member_value(value, m, target));
    }
    // Anonymous structs and unions, then base classes.
    for m in list.iter().filter(|m| !m.is_static && (m.name.is_none() || m.is_base)) {
        if m.is_virtual_base {
            continue;
        }
        let inner = member_value(value, m, target);
        if let Some(found) = field_inner(&inner, name, target, depth + 1) {
            return Some(found);
        }
    }
    None
}

/// A value's bytes as an unsigned integer (pointers, enums, integers).
pub fn as_u64(value: &Value, target: &mut dyn ValueTarget) -> Result<u64, ValueError> {
    let bytes = value.bytes(target)?;
    let signed = is_signed(target.types(), value.ty);
    Ok(integer_from_bytes(&bytes[..bytes.len().min(8)], signed) as u64)
}

/// A value's bytes as a signed integer.
pub fn as_i128(value: &Value, target: &mut dyn ValueTarget) -> Result<i128, ValueError> {
    let bytes = value.bytes(target)?;
    let signed = is_signed(target.types(), value.ty);
    Ok(integer_from_bytes(&bytes, signed))
}

/// A floating-point value.
pub fn as_f64(value: &Value, target: &mut dyn ValueTarget) -> Result<f64, ValueError> {
    let bytes = value.bytes(target)?;
    Ok(float_from_bytes(&bytes))
}

/// What a pointer or reference points at.
pub fn deref(value: &Value, target: &mut dyn ValueTarget) -> Result<Value, ValueError> {
    let table = target.types();
    let pointee = match table.get(table.strip(value.ty)).kind {
        TypeKind::Pointer(t) | TypeKind::Reference { target: t, .. } => t,
        _ => return Err(ValueError::Unavailable("not a pointer".into())),
    };
    let address = as_u64(value, target)?;
    Ok(Value::at(pointee, address))
}

/// Element `index` of an array value.
pub fn element(value: &Value, index: u64, target: &mut dyn ValueTarget) -> Option<Value> {
    let table = target.types();
    let TypeKind::Array { element, .. } = table.get(table.strip(value.ty)).kind else { return None };
    let size = table.size_of(element).unwrap_or(0);
    Some(value.slice(element, index.checked_mul(size)?, size))
}

/// The active variant of a Rust enum value: the variant's member, or
/// `None` when the discriminant matches none.
pub fn active_variant(value: &Value, target: &mut dyn ValueTarget) -> Option<Member> {
    let table = target.types();
    let TypeKind::Composite(c) = table.get(table.strip(value.ty)).kind.clone() else { return None };
    let part = c.variants?;
    let discriminant = match &part.discriminant {
        Some(d) => Some(as_u64(&member_value(value, d, target), target).ok()?),
        None => None,
    };
    part.variants
        .iter()
        .find(|v| v.discriminant.is_some() && v.discriminant == discriminant)
        .or_else(|| part.variants.iter().find(|v| v.discriminant.is_none()))
        .or_else(|| (part.variants.len() == 1).then(|| &part.variants[0]))
        .map(|v| v.member.clone())
}

/// A value with references (and, when `pointers`, pointers) followed.
pub fn through_references(value: &Value, pointers: bool, target: &mut dyn ValueTarget) -> Result<Value, ValueError> {
    let mut current = value.clone();
    for _ in 0..8 {
        let table = target.types();
        match table.get(table.strip(current.ty)).kind {
            TypeKind::Reference { .. } => current = deref(&current, target)?,
            TypeKind::Pointer(_) if pointers => current = deref(&current, target)?,
            _ => return Ok(current),
        }
    }
    Ok(current)
}

/// A member by name, through references and pointers (`p.x` on a
/// `struct point *` reads `p->x`, as gdb allows); a Rust enum's active
/// variant's fields too.
pub fn member_named(value: &Value, name: &str, target: &mut dyn ValueTarget) -> Result<Value, ValueError> {
    let object = through_references(value, true, target)?;
    if let Some(found) = field(&object, name, target) {
        return Ok(found);
    }
    if let Some(variant) = active_variant(&object, target) {
        let inner = member_value(&object, &variant, target);
        if variant.name.as_deref() == Some(name) {
            return Ok(inner);
        }
        if let Some(found) = field(&inner, name, target) {
            return Ok(found);
        }
    }
    Err(ValueError::Unavailable(format!("There is no member named {name}.")))
}

/// Element `index` of an array, or what a pointer points to `index` elements on.
pub fn index_value(value: &Value, index: i64, target: &mut dyn ValueTarget) -> Result<Value, ValueError> {
    let value = through_references(value, false, target)?;
    let table = target.types();
    match table.get(table.strip(value.ty)).kind {
        TypeKind::Array { count, .. } => {
            if index < 0 || count.is_some_and(|c| index as u64 >= c) {
                return Err(ValueError::Unavailable(format!("no such vector element: {index}")));
            }
            element(&value, index as u64, target).ok_or_else(|| ValueError::Unavailable("cannot index".into()))
        }
        TypeKind::Pointer(pointee) => {
            let size = table.size_of(pointee).unwrap_or(1).max(1);
            let address = as_u64(&value, target)?;
            Ok(Value::at(pointee, address.wrapping_add((index as u64).wrapping_mul(size))))
        }
        _ => Err(ValueError::Unavailable("cannot subscript a value that is not an array or a pointer".into())),
    }
}
