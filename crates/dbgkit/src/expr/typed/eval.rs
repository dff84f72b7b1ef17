//! Evaluates a C expression over typed values, with C's rules: integer
//! promotions and the usual arithmetic conversions, pointer arithmetic
//! scaled by the pointee's size, arrays decaying to pointers, references
//! read through, assignment converting to the target's type.

use super::parser::{BinaryOp, Node, NodeKind, TypeSpec, UnaryOp};
use super::TypedContext;
use crate::debuginfo::access::{as_u64, deref, element, field};
use crate::debuginfo::types::{BaseKind, Language, TypeId, TypeKind, TypeTable};
use crate::debuginfo::value::{integer_from_bytes, Contents, Place, Value, ValueError};
use crate::expr::{ExprError, ExprErrorKind};

/// A value reduced to what arithmetic works on.
#[derive(Clone, Copy, Debug)]
enum Scalar {
    Int { value: i128, size: u64, signed: bool },
    Float { value: f64, size: u64 },
    Pointer { address: u64, pointee: TypeId },
}

fn error(kind: ExprErrorKind, column: usize, message: impl Into<String>) -> ExprError {
    ExprError::new(kind, column, message)
}

fn type_error(column: usize, message: impl Into<String>) -> ExprError {
    error(ExprErrorKind::Type, column, message)
}

fn value_error(e: ValueError, column: usize) -> ExprError {
    match e {
        ValueError::OptimizedOut => error(ExprErrorKind::OptimizedOut, column, "value has been optimized out"),
        ValueError::Memory(_) => error(ExprErrorKind::Memory, column, e.to_string()),
        other => error(ExprErrorKind::Type, column, other.to_string()),
    }
}

pub(super) struct Evaluator<'a> {
    pub ctx: &'a mut dyn TypedContext,
    /// Evaluate without side effects (`whatis`, `ptype`, `sizeof`): no writes.
    pub no_side_effects: bool,
}

impl Evaluator<'_> {
    fn table(&mut self) -> &TypeTable {
        self.ctx.types()
    }

    fn language(&self) -> Language {
        self.ctx.language()
    }

    /// An integer type of the language by size and sign.
    fn int_type(&mut self, size: u64, signed: bool) -> TypeId {
        let language = self.language();
        let (name, kind) = match (size, signed) {
            (1, true) => ("char", BaseKind::SignedChar),
            (1, false) => ("unsigned char", BaseKind::UnsignedChar),
            (2, true) => ("short", BaseKind::Signed),
            (2, false) => ("unsigned short", BaseKind::Unsigned),
            (4, true) => ("int", BaseKind::Signed),
            (4, false) => ("unsigned int", BaseKind::Unsigned),
            (16, true) => ("__int128", BaseKind::Signed),
            (16, false) => ("unsigned __int128", BaseKind::Unsigned),
            (_, true) => ("long", BaseKind::Signed),
            (_, false) => ("unsigned long", BaseKind::Unsigned),
        };
        let (name, size) = match language {
            Language::Rust => {
                let rust = match (size, signed) {
                    (1, true) => "i8",
                    (1, false) => "u8",
                    (2, true) => "i16",
                    (2, false) => "u16",
                    (4, true) => "i32",
                    (4, false) => "u32",
                    (16, true) => "i128",
                    (16, false) => "u128",
                    (_, true) => "i64",
                    (_, false) => "u64",
                };
                (rust, size.min(16))
            }
            _ => (name, size.min(16)),
        };
        let kind = if language == Language::Rust && size == 1 {
            if signed {
                BaseKind::Signed
            } else {
                BaseKind::Unsigned
            }
        } else {
            kind
        };
        self.ctx.types().base(name, size, kind, language)
    }

    /// `sizeof`'s result: gdb types it `int` in C and C++, `usize` in Rust.
    fn sizeof_value(&mut self, size: u64) -> Value {
        if self.language() == Language::Rust {
            self.int_value(size as i128, 8, false)
        } else {
            self.int_value(size as i128, 4, true)
        }
    }

    fn float_type(&mut self, size: u64) -> TypeId {
        let language = self.language();
        let name = match (language, size) {
            (Language::Rust, 4) => "f32",
            (Language::Rust, _) => "f64",
            (_, 4) => "float",
            (_, 16) => "long double",
            _ => "double",
        };
        self.ctx.types().base(name, size.min(8), BaseKind::Float, language)
    }

    fn bool_type(&mut self) -> TypeId {
        let language = self.language();
        match language {
            Language::C => self.int_type(4, true),
            _ => self.ctx.types().base("bool", 1, BaseKind::Bool, language),
        }
    }

    fn int_value(&mut self, value: i128, size: u64, signed: bool) -> Value {
        let ty = self.int_type(size, signed);
        Value::from_bytes(ty, value.to_le_bytes()[..size as usize].to_vec())
    }

    fn float_value(&mut self, value: f64, size: u64) -> Value {
        let ty = self.float_type(size);
        let bytes = if size == 4 { (value as f32).to_le_bytes().to_vec() } else { value.to_le_bytes().to_vec() };
        Value::from_bytes(ty, bytes)
    }

    fn truth_value(&mut self, truth: bool) -> Value {
        let ty = self.bool_type();
        let size = self.table().size_of(ty).unwrap_or(4) as usize;
        let mut bytes = vec![0u8; size];
        bytes[0] = truth as u8;
        Value::from_bytes(ty, bytes)
    }

    fn pointer_value(&mut self, address: u64, pointee: TypeId) -> Value {
        let ty = self.table().pointer_to(pointee);
        Value::from_bytes(ty, address.to_le_bytes().to_vec())
    }

    /// A reference's target, or the value itself.
    fn through_reference(&mut self, value: Value, column: usize) -> Result<Value, ExprError> {
        let table = self.ctx.types();
        if matches!(table.get(table.strip(value.ty)).kind, TypeKind::Reference { .. }) {
            return deref(&value, self.ctx.as_value_target()).map_err(|e| value_error(e, column));
        }
        Ok(value)
    }

    /// The scalar a value stands for in arithmetic.
    fn scalar(&mut self, value: &Value, column: usize) -> Result<Scalar, ExprError> {
        let value = self.through_reference(value.clone(), column)?;
        let table = self.ctx.types();
        let stripped = table.strip(value.ty);
        let ty = table.get(stripped);
        match &ty.kind {
            TypeKind::Base(kind) => {
                let size = ty.size.unwrap_or(4);
                let bytes = value.bytes(self.ctx.as_value_target()).map_err(|e| value_error(e, column))?;
                if *kind == BaseKind::Float {
                    let v = crate::debuginfo::value::float_from_bytes(&bytes);
                    return Ok(Scalar::Float { value: v, size });
                }
                Ok(Scalar::Int { value: integer_from_bytes(&bytes, kind.is_signed()), size, signed: kind.is_signed() })
            }
            TypeKind::Enum(e) => {
                let size = ty.size.unwrap_or(4);
                let bytes = value.bytes(self.ctx.as_value_target()).map_err(|e| value_error(e, column))?;
                Ok(Scalar::Int { value: integer_from_bytes(&bytes, e.is_signed), size, signed: e.is_signed })
            }
            TypeKind::Pointer(pointee) => {
                let pointee = *pointee;
                let address = as_u64(&value, self.ctx.as_value_target()).map_err(|e| value_error(e, column))?;
                Ok(Scalar::Pointer { address, pointee })
            }
            TypeKind::Array { element, .. } => {
                // An array in memory decays to a pointer to its first element.
                let element = *element;
                let address = value.address().ok_or_else(|| type_error(column, "the array is not in memory"))?;
                Ok(Scalar::Pointer { address, pointee: element })
            }
            TypeKind::Function { .. } => {
                let address = value.address().ok_or_else(|| type_error(column, "the function has no address"))?;
                Ok(Scalar::Pointer { address, pointee: value.ty })
            }
            TypeKind::Unspecified => Ok(Scalar::Int { value: 0, size: 8, signed: false }),
            _ => {
                let name = crate::debuginfo::type_name(self.ctx.types(), value.ty);
                Err(type_error(column, format!("a value of type `{name}` cannot be used in arithmetic")))
            }
        }
    }

    fn truth(&mut self, value: &Value, column: usize) -> Result<bool, ExprError> {
        Ok(match self.scalar(value, column)? {
            Scalar::Int { value, .. } => value != 0,
            Scalar::Float { value, .. } => value != 0.0,
            Scalar::Pointer { address, .. } => address != 0,
        })
    }

    /// C's integer promotion: narrower than int becomes int.
    fn promote(size: u64, signed: bool) -> (u64, bool) {
        if size < 4 {
            (4, true)
        } else {
            (size, signed)
        }
    }

    /// The usual arithmetic conversions for two integers.
    fn common_int(a: (u64, bool), b: (u64, bool)) -> (u64, bool) {
        let a = Self::promote(a.0, a.1);
        let b = Self::promote(b.0, b.1);
        if a.1 == b.1 {
            return (a.0.max(b.0), a.1);
        }
        let (signed, unsigned) = if a.1 { (a, b) } else { (b, a) };
        if unsigned.0 >= signed.0 {
            unsigned
        } else {
            // The signed type is wider: it holds every unsigned value.
            signed
        }
    }

    fn wrap(value: i128, size: u64, signed: bool) -> i128 {
        let bits = (size * 8).min(128) as u32;
        if bits >= 128 {
            return value;
        }
        let mask = (1i128 << bits) - 1;
        let v = value & mask;
        if signed && (v >> (bits - 1)) & 1 == 1 {
            v - (1i128 << bits)
        } else {
            v
        }
    }

    pub(super) fn eval(&mut self, node: &Node) -> Result<Value, ExprError> {
        let column = node.column;
        match &node.kind {
            NodeKind::Int { value, suffix, decimal } => {
                let v = *value;
                let (size, signed) = if suffix.unsigned {
                    if v <= u32::MAX as u128 && !suffix.long {
                        (4, false)
                    } else {
                        (8, false)
                    }
                } else if suffix.long {
                    if v <= i64::MAX as u128 {
                        (8, true)
                    } else {
                        (8, false)
                    }
                } else if v <= i32::MAX as u128 {
                    (4, true)
                } else if !decimal && v <= u32::MAX as u128 {
                    (4, false)
                } else if v <= i64::MAX as u128 {
                    (8, true)
                } else {
                    (8, false)
                };
                Ok(self.int_value(v as i128, size, signed))
            }
            NodeKind::Float { value, single } => Ok(self.float_value(*value, if *single { 4 } else { 8 })),
            NodeKind::Char(c) => {
                if self.language() == Language::Rust {
                    let ty = self.ctx.types().base("char", 4, BaseKind::UnicodeChar, Language::Rust);
                    return Ok(Value::from_bytes(ty, c.to_le_bytes().to_vec()));
                }
                let ty = self.ctx.types().base("char", 1, BaseKind::SignedChar, self.language());
                Ok(Value::from_bytes(ty, vec![*c as u8]))
            }
            NodeKind::Str(bytes) => {
                let language = self.language();
                let char_ty = self.ctx.types().base("char", 1, BaseKind::SignedChar, language);
                let mut data = bytes.clone();
                data.push(0);
                let ty = self.table().array_of(char_ty, Some(data.len() as u64));
                Ok(Value::from_bytes(ty, data))
            }
            NodeKind::Bool(b) => {
                let language = self.language();
                let ty = self.ctx.types().base("bool", 1, BaseKind::Bool, language);
                Ok(Value::from_bytes(ty, vec![*b as u8]))
            }
            NodeKind::Name(name) => match self.ctx.variable(name) {
                Ok(Some(v)) => Ok(v),
                Ok(None) => {
                    Err(error(ExprErrorKind::Symbol, column, format!("No symbol \"{name}\" in current context.")))
                }
                Err(e) => Err(value_error(e, column)),
            },
            NodeKind::Dollar(name) => self
                .ctx
                .register(name)
                .ok_or_else(|| error(ExprErrorKind::UnknownRegister, column, format!("unknown register ${name}"))),
            NodeKind::Unary { op, operand } => self.unary(*op, operand, column),
            NodeKind::Binary { op, lhs, rhs } => {
                let left = self.eval(lhs)?;
                if matches!(op, BinaryOp::And | BinaryOp::Or) {
                    let l = self.truth(&left, lhs.column)?;
                    if (*op == BinaryOp::And && !l) || (*op == BinaryOp::Or && l) {
                        return Ok(self.truth_value(l));
                    }
                    let right = self.eval(rhs)?;
                    let r = self.truth(&right, rhs.column)?;
                    return Ok(self.truth_value(r));
                }
                let right = self.eval(rhs)?;
                self.binary(*op, &left, &right, column)
            }
            NodeKind::Assign { op, lhs, rhs } => {
                let target = self.eval(lhs)?;
                let target = self.through_reference(target, lhs.column)?;
                let mut source = self.eval(rhs)?;
                if let Some(op) = op {
                    source = self.binary(*op, &target, &source, column)?;
                }
                self.assign(&target, &source, column)
            }
            NodeKind::Member { base, name, arrow } => {
                let value = self.eval(base)?;
                self.member(value, name, *arrow, column)
            }
            NodeKind::Index { base, index } => {
                let base_value = self.eval(base)?;
                let index_value = self.eval(index)?;
                self.index(base_value, &index_value, column, index.column)
            }
            NodeKind::Cast { ty, operand } => {
                let target = self.resolve_type(ty, column)?;
                let value = self.eval(operand)?;
                self.convert(&value, target, column)
            }
            NodeKind::At { ty, address } => {
                let target = self.resolve_type(ty, column)?;
                let value = self.eval(address)?;
                let address = match self.scalar(&value, address.column)? {
                    Scalar::Int { value, .. } => value as u64,
                    Scalar::Pointer { address, .. } => address,
                    Scalar::Float { .. } => return Err(type_error(column, "an address must be an integer")),
                };
                Ok(Value::at(target, address))
            }
            NodeKind::SizeofType(ty) => {
                let target = self.resolve_type(ty, column)?;
                let size = self.table().size_of(target).ok_or_else(|| type_error(column, "the type has no size"))?;
                Ok(self.sizeof_value(size))
            }
            NodeKind::SizeofExpr(operand) => {
                let saved = self.no_side_effects;
                self.no_side_effects = true;
                let value = self.eval(operand);
                self.no_side_effects = saved;
                let value = value?;
                let size = self.table().size_of(value.ty).ok_or_else(|| type_error(column, "the value has no size"))?;
                Ok(self.sizeof_value(size))
            }
            NodeKind::Conditional { condition, then, otherwise } => {
                let c = self.eval(condition)?;
                if self.truth(&c, condition.column)? {
                    self.eval(then)
                } else {
                    self.eval(otherwise)
                }
            }
            NodeKind::Comma { lhs, rhs } => {
                self.eval(lhs)?;
                self.eval(rhs)
            }
        }
    }

    /// The type a cast or `sizeof` names.
    pub(super) fn resolve_type(&mut self, spec: &TypeSpec, column: usize) -> Result<TypeId, ExprError> {
        let mut ty = self.ctx.find_type(&spec.base).ok_or_else(|| {
            let shown =
                spec.base.trim_start_matches("struct ").trim_start_matches("union ").trim_start_matches("enum ");
            error(ExprErrorKind::UnknownType, column, format!("No symbol \"{shown}\" in current context."))
        })?;
        if spec.is_const {
            ty = self.table().const_of(ty);
        }
        for _ in 0..spec.pointers {
            ty = self.table().pointer_to(ty);
        }
        for &count in spec.arrays.iter().rev() {
            ty = self.table().array_of(ty, Some(count));
        }
        if spec.reference {
            ty = self.table().reference_to(ty);
        }
        Ok(ty)
    }

    fn unary(&mut self, op: UnaryOp, operand: &Node, column: usize) -> Result<Value, ExprError> {
        let value = self.eval(operand)?;
        match op {
            UnaryOp::AddressOf => {
                let table = self.ctx.types();
                if matches!(table.get(table.strip(value.ty)).kind, TypeKind::Reference { .. }) {
                    let target = self.through_reference(value, column)?;
                    let address = target.address().unwrap_or(0);
                    return Ok(self.pointer_value(address, target.ty));
                }
                match (&value.place, value.address()) {
                    (Some(Place::Memory { bits: None, .. }), Some(address)) | (None, Some(address)) => {
                        Ok(self.pointer_value(address, value.ty))
                    }
                    _ => Err(type_error(column, "Attempt to take address of value not located in memory.")),
                }
            }
            UnaryOp::Deref => {
                let value = self.through_reference(value, column)?;
                let table = self.ctx.types();
                match table.get(table.strip(value.ty)).kind {
                    TypeKind::Pointer(pointee) => {
                        if matches!(table.get(table.strip(pointee)).kind, TypeKind::Void) {
                            return Err(type_error(column, "Attempt to take contents of a non-pointer value."));
                        }
                        deref(&value, self.ctx.as_value_target()).map_err(|e| value_error(e, column))
                    }
                    TypeKind::Array { .. } => element(&value, 0, self.ctx.as_value_target())
                        .ok_or_else(|| type_error(column, "cannot index the array")),
                    TypeKind::Function { .. } => Ok(value),
                    _ => match self.scalar(&value, column)? {
                        // gdb reads a `long` at an integer address.
                        Scalar::Int { value, .. } => {
                            let ty = self.int_type(8, true);
                            Ok(Value::at(ty, value as u64))
                        }
                        _ => Err(type_error(column, "Attempt to take contents of a non-pointer value.")),
                    },
                }
            }
            UnaryOp::Not => {
                let t = self.truth(&value, column)?;
                Ok(self.truth_value(!t))
            }
            UnaryOp::PreIncrement | UnaryOp::PreDecrement => {
                let one = self.int_value(1, 4, true);
                let op = if op == UnaryOp::PreIncrement { BinaryOp::Add } else { BinaryOp::Sub };
                let target = self.through_reference(value, column)?;
                let updated = self.binary(op, &target, &one, column)?;
                self.assign(&target, &updated, column)
            }
            UnaryOp::Negate | UnaryOp::Plus | UnaryOp::BitNot => match self.scalar(&value, column)? {
                Scalar::Int { value, size, signed } => {
                    let (size, signed) = Self::promote(size, signed);
                    let result = match op {
                        UnaryOp::Negate => value.wrapping_neg(),
                        UnaryOp::BitNot => !value,
                        _ => value,
                    };
                    Ok(self.int_value(Self::wrap(result, size, signed), size, signed))
                }
                Scalar::Float { value, size } if op != UnaryOp::BitNot => {
                    let result = if op == UnaryOp::Negate { -value } else { value };
                    Ok(self.float_value(result, size))
                }
                _ => Err(type_error(column, "Argument to arithmetic operation not a number or boolean.")),
            },
        }
    }

    fn binary(&mut self, op: BinaryOp, left: &Value, right: &Value, column: usize) -> Result<Value, ExprError> {
        let l = self.scalar(left, column)?;
        let r = self.scalar(right, column)?;
        use BinaryOp::*;
        let comparison = matches!(op, Eq | Ne | Lt | Le | Gt | Ge);
        match (l, r) {
            (Scalar::Pointer { address, pointee }, Scalar::Int { value, .. })
            | (Scalar::Int { value, .. }, Scalar::Pointer { address, pointee })
                if matches!(op, Add) || (matches!(op, Sub) && matches!(l, Scalar::Pointer { .. })) =>
            {
                let size = self.element_size(pointee);
                let offset = (value as i64).wrapping_mul(size as i64) as u64;
                let result = if op == Add { address.wrapping_add(offset) } else { address.wrapping_sub(offset) };
                Ok(self.pointer_value(result, pointee))
            }
            (Scalar::Pointer { address: a, pointee }, Scalar::Pointer { address: b, .. }) if op == Sub => {
                let size = self.element_size(pointee).max(1);
                let difference = (a as i64).wrapping_sub(b as i64) / size as i64;
                Ok(self.int_value(difference as i128, 8, true))
            }
            (Scalar::Pointer { .. }, _) | (_, Scalar::Pointer { .. }) if comparison => {
                let a = Self::as_address(l);
                let b = Self::as_address(r);
                Ok(self.truth_value(Self::compare(op, a as i128, b as i128)))
            }
            (Scalar::Pointer { .. }, _) | (_, Scalar::Pointer { .. }) => {
                Err(type_error(column, "Argument to arithmetic operation not a number or boolean."))
            }
            (Scalar::Float { .. }, _) | (_, Scalar::Float { .. }) => {
                let (a, sa) = Self::as_float(l);
                let (b, sb) = Self::as_float(r);
                // An integer takes the floating type of the other side (`1.0f + 1` is a float).
                let size = match (l, r) {
                    (Scalar::Float { size, .. }, Scalar::Int { .. })
                    | (Scalar::Int { .. }, Scalar::Float { size, .. }) => size,
                    _ => sa.max(sb),
                };
                if comparison {
                    let result = match op {
                        Eq => a == b,
                        Ne => a != b,
                        Lt => a < b,
                        Le => a <= b,
                        Gt => a > b,
                        _ => a >= b,
                    };
                    return Ok(self.truth_value(result));
                }
                let result = match op {
                    Add => a + b,
                    Sub => a - b,
                    Mul => a * b,
                    Div => {
                        if b == 0.0 {
                            return Err(error(ExprErrorKind::DivisionByZero, column, "Division by zero"));
                        }
                        a / b
                    }
                    _ => return Err(type_error(column, "Integer only operation on a floating-point value.")),
                };
                Ok(self.float_value(result, size))
            }
            (Scalar::Int { value: a, size: sa, signed: ga }, Scalar::Int { value: b, size: sb, signed: gb }) => {
                if matches!(op, Shl | Shr) {
                    let (size, signed) = Self::promote(sa, ga);
                    let shift = (b as u32).min(127);
                    let result = if op == Shl {
                        a.checked_shl(shift).unwrap_or(0)
                    } else if signed {
                        a >> shift.min(127)
                    } else {
                        ((a as u128) & Self::mask(size)).checked_shr(shift).unwrap_or(0) as i128
                    };
                    return Ok(self.int_value(Self::wrap(result, size, signed), size, signed));
                }
                let (size, signed) = Self::common_int((sa, ga), (sb, gb));
                let a = Self::wrap(a, size, signed);
                let b = Self::wrap(b, size, signed);
                if comparison {
                    return Ok(self.truth_value(Self::compare(op, a, b)));
                }
                let (ua, ub) = ((a as u128) & Self::mask(size), (b as u128) & Self::mask(size));
                let result = match op {
                    Add => a.wrapping_add(b),
                    Sub => a.wrapping_sub(b),
                    Mul => a.wrapping_mul(b),
                    Div | Rem => {
                        if b == 0 {
                            return Err(error(ExprErrorKind::DivisionByZero, column, "Division by zero"));
                        }
                        match (op, signed) {
                            (Div, true) => a.wrapping_div(b),
                            (Div, false) => (ua / ub) as i128,
                            (_, true) => a.wrapping_rem(b),
                            (_, false) => (ua % ub) as i128,
                        }
                    }
                    BitAnd => a & b,
                    BitOr => a | b,
                    BitXor => a ^ b,
                    _ => unreachable!("handled above"),
                };
                Ok(self.int_value(Self::wrap(result, size, signed), size, signed))
            }
        }
    }

    fn mask(size: u64) -> u128 {
        if size >= 16 {
            u128::MAX
        } else {
            (1u128 << (size * 8)) - 1
        }
    }

    fn compare(op: BinaryOp, a: i128, b: i128) -> bool {
        match op {
            BinaryOp::Eq => a == b,
            BinaryOp::Ne => a != b,
            BinaryOp::Lt => a < b,
            BinaryOp::Le => a <= b,
            BinaryOp::Gt => a > b,
            _ => a >= b,
        }
    }

    fn as_address(s: Scalar) -> u64 {
        match s {
            Scalar::Pointer { address, .. } => address,
            Scalar::Int { value, .. } => value as u64,
            Scalar::Float { value, .. } => value as u64,
        }
    }

    fn as_float(s: Scalar) -> (f64, u64) {
        match s {
            Scalar::Float { value, size } => (value, size),
            Scalar::Int { value, .. } => (value as f64, 8),
            Scalar::Pointer { address, .. } => (address as f64, 8),
        }
    }

    fn element_size(&mut self, pointee: TypeId) -> u64 {
        let table = self.ctx.types();
        match table.get(table.strip(pointee)).kind {
            // gdb, like GNU C, steps `void *` and function pointers by one byte.
            TypeKind::Void | TypeKind::Function { .. } => 1,
            _ => table.size_of(pointee).unwrap_or(1),
        }
    }

    fn member(&mut self, value: Value, name: &str, arrow: bool, column: usize) -> Result<Value, ExprError> {
        let mut value = self.through_reference(value, column)?;
        // `p->x` and, as gdb allows, `p.x` on a pointer.
        let table = self.ctx.types();
        if let TypeKind::Pointer(_) = table.get(table.strip(value.ty)).kind {
            value = deref(&value, self.ctx.as_value_target()).map_err(|e| value_error(e, column))?;
        } else if arrow && self.language() != Language::Rust {
            // gdb is lenient here too: `s->x` on a struct reads the member.
        }
        let table = self.ctx.types();
        let stripped = table.strip(value.ty);
        let ty = table.get(stripped);
        let TypeKind::Composite(composite) = &ty.kind else {
            let shown = crate::debuginfo::type_name(table, value.ty);
            return Err(type_error(
                column,
                format!("Attempt to extract a component of a value that is not a structure. (type `{shown}`)"),
            ));
        };
        // A Rust enum: its active variant's fields.
        if composite.variants.is_some() {
            if let Some(variant) = crate::debuginfo::access::active_variant(&value, self.ctx.as_value_target()) {
                let inner = crate::debuginfo::access::member_value(&value, &variant, self.ctx.as_value_target());
                if variant.name.as_deref() == Some(name) {
                    return Ok(inner);
                }
                if let Some(found) = field(&inner, name, self.ctx.as_value_target()) {
                    return Ok(found);
                }
            }
        }
        if let Some(found) = field(&value, name, self.ctx.as_value_target()) {
            return Ok(found);
        }
        // A static member lives elsewhere, under its qualified name.
        if composite.members.iter().any(|m| m.is_static && m.name.as_deref() == Some(name)) {
            if let Some(type_name) = &ty.name {
                if let Ok(Some(v)) = self.ctx.variable(&format!("{type_name}::{name}")) {
                    return Ok(v);
                }
            }
        }
        Err(error(ExprErrorKind::Symbol, column, format!("There is no member named {name}.")))
    }

    fn index(&mut self, base: Value, index: &Value, column: usize, index_column: usize) -> Result<Value, ExprError> {
        let base = self.through_reference(base, column)?;
        let i = match self.scalar(index, index_column)? {
            Scalar::Int { value, .. } => value,
            _ => return Err(type_error(index_column, "an index must be an integer")),
        };
        let table = self.ctx.types();
        match table.get(table.strip(base.ty)).kind {
            TypeKind::Array { count, .. } => {
                if i < 0 || count.is_some_and(|c| i as u64 >= c) && base.address().is_none() {
                    return Err(type_error(column, format!("no such vector element: {i}")));
                }
                element(&base, i as u64, self.ctx.as_value_target())
                    .ok_or_else(|| type_error(column, "cannot index the array"))
            }
            TypeKind::Pointer(pointee) => {
                let address = as_u64(&base, self.ctx.as_value_target()).map_err(|e| value_error(e, column))?;
                let size = self.element_size(pointee);
                Ok(Value::at(pointee, address.wrapping_add((i as i64).wrapping_mul(size as i64) as u64)))
            }
            _ => {
                // Containers a pretty printer knows (std::vector, Vec, slices).
                if let Some(children) = self.ctx.children(&base) {
                    if i < 0 || i as usize >= children.len() {
                        return Err(type_error(column, format!("no such vector element: {i}")));
                    }
                    return Ok(children[i as usize].clone());
                }
                let shown = crate::debuginfo::type_name(self.ctx.types(), base.ty);
                Err(type_error(column, format!("cannot subscript something of type `{shown}'")))
            }
        }
    }

    /// A value converted to type `target` (C's conversion rules).
    pub(super) fn convert(&mut self, value: &Value, target: TypeId, column: usize) -> Result<Value, ExprError> {
        let table = self.ctx.types();
        let stripped = table.strip(target);
        let target_ty = table.get(stripped);
        let size = table.size_of(target).unwrap_or(0);
        match &target_ty.kind {
            TypeKind::Base(BaseKind::Float) => {
                let (v, _) = Self::as_float(self.scalar(value, column)?);
                let bytes = match size {
                    4 => (v as f32).to_le_bytes().to_vec(),
                    _ => v.to_le_bytes().to_vec(),
                };
                Ok(Value::from_bytes(target, bytes))
            }
            TypeKind::Base(BaseKind::Bool) => {
                let t = self.truth(value, column)?;
                let mut bytes = vec![0u8; size.max(1) as usize];
                bytes[0] = t as u8;
                Ok(Value::from_bytes(target, bytes))
            }
            TypeKind::Base(_) | TypeKind::Enum(_) | TypeKind::Pointer(_) => {
                let n: i128 = match self.scalar(value, column)? {
                    Scalar::Int { value, .. } => value,
                    Scalar::Float { value, .. } => value.trunc() as i128,
                    Scalar::Pointer { address, .. } => address as i128,
                };
                let size = if size == 0 { 8 } else { size.min(16) };
                Ok(Value::from_bytes(target, n.to_le_bytes()[..size as usize].to_vec()))
            }
            TypeKind::Composite(_) | TypeKind::Array { .. } => {
                let from = self.ctx.types().strip(value.ty);
                if from == stripped {
                    let mut v = value.clone();
                    v.ty = target;
                    return Ok(v);
                }
                Err(type_error(column, "Invalid cast."))
            }
            TypeKind::Reference { target: referent, .. } => {
                let referent = *referent;
                let address = value
                    .address()
                    .ok_or_else(|| type_error(column, "Attempt to take address of value not located in memory."))?;
                let _ = referent;
                Ok(Value::from_bytes(target, address.to_le_bytes().to_vec()))
            }
            TypeKind::Void => Ok(Value::from_bytes(target, Vec::new())),
            _ => Err(type_error(column, "Invalid cast.")),
        }
    }

    fn assign(&mut self, target: &Value, source: &Value, column: usize) -> Result<Value, ExprError> {
        let place =
            target.place.clone().ok_or_else(|| type_error(column, "Left operand of assignment is not an lvalue."))?;
        let converted = self.convert(source, target.ty, column)?;
        let bytes = converted.bytes(self.ctx.as_value_target()).map_err(|e| value_error(e, column))?.into_owned();
        if self.no_side_effects {
            return Ok(Value {
                ty: target.ty,
                contents: Contents::Bytes { data: bytes, known: None },
                place: Some(place),
            });
        }
        self.ctx.write(&place, &bytes).map_err(|message| error(ExprErrorKind::Memory, column, message))?;
        let result = match &place {
            Place::Memory { address, bits: None } => Value::at(target.ty, *address),
            _ => Value { ty: target.ty, contents: Contents::Bytes { data: bytes, known: None }, place: Some(place) },
        };
        Ok(result)
    }
}
