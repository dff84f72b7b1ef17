//! Typed values: a type, the bytes (or where to read them), and where an
//! assignment writes.
//!
//! A value in target memory is not read until its bytes are needed: taking
//! a member of a large struct, or the 3rd element of a big array, reads only
//! that member or element.

use super::types::{BaseKind, BitField, Language, TypeId, TypeKind, TypeTable};
use std::borrow::Cow;

/// The most bytes a value may need to be read at once (gdb's `max-value-size`).
pub const MAX_VALUE_SIZE: u64 = 65536;

/// What the value's bytes are.
#[derive(Clone, Debug, PartialEq)]
pub enum Contents {
    /// In target memory at this address, not read yet.
    Memory(u64),
    /// Known bytes; `known` says, byte by byte, which ones are known when
    /// some parts were optimized out.
    Bytes { data: Vec<u8>, known: Option<Vec<bool>> },
    /// The compiler kept no trace of the value here.
    OptimizedOut,
    /// It cannot be read (why).
    Unavailable(String),
}

/// Where an assignment to the value writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// Target memory (a bit-field: some bits of the bytes there).
    Memory { address: u64, bits: Option<BitField> },
    /// A register of frame `frame` of a thread (DWARF numbering).
    Register { frame: usize, number: u16 },
}

/// A typed value.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub ty: TypeId,
    pub contents: Contents,
    pub place: Option<Place>,
}

/// Why a value's bytes cannot be had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("value has been optimized out")]
    OptimizedOut,
    #[error("Cannot access memory at address {0:#x}")]
    Memory(u64),
    #[error("value requires {0} bytes, which is more than max-value-size ({MAX_VALUE_SIZE})")]
    TooLarge(u64),
    #[error("{0}")]
    Unavailable(String),
}

/// What reading values needs from the target.
pub trait ValueTarget {
    /// The session's types.
    fn types(&self) -> &TypeTable;
    /// Reads target memory; the error says why not.
    fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> Result<(), ValueError>;
}

impl Value {
    /// A value from bytes the engine already has (a literal, a result).
    pub fn from_bytes(ty: TypeId, data: Vec<u8>) -> Value {
        Value { ty, contents: Contents::Bytes { data, known: None }, place: None }
    }

    /// A value in target memory.
    pub fn at(ty: TypeId, address: u64) -> Value {
        Value { ty, contents: Contents::Memory(address), place: Some(Place::Memory { address, bits: None }) }
    }

    /// An optimized-out value of a type.
    pub fn optimized_out(ty: TypeId) -> Value {
        Value { ty, contents: Contents::OptimizedOut, place: None }
    }

    /// The address of the value when it lives in memory.
    pub fn address(&self) -> Option<u64> {
        match (&self.contents, &self.place) {
            (Contents::Memory(address), _) => Some(*address),
            (_, Some(Place::Memory { address, bits: None })) => Some(*address),
            _ => None,
        }
    }

    /// Whether the whole value is optimized out.
    pub fn is_optimized_out(&self) -> bool {
        matches!(self.contents, Contents::OptimizedOut)
    }

    /// The value's bytes, read now if they are in memory.
    pub fn bytes(&self, target: &mut dyn ValueTarget) -> Result<Cow<'_, [u8]>, ValueError> {
        let size = target.types().size_of(self.ty).unwrap_or(0);
        match &self.contents {
            Contents::Bytes { data, known } => {
                if known.as_ref().is_some_and(|k| k.iter().any(|b| !b)) {
                    return Err(ValueError::OptimizedOut);
                }
                Ok(Cow::Borrowed(data))
            }
            Contents::Memory(address) => {
                if size > MAX_VALUE_SIZE {
                    return Err(ValueError::TooLarge(size));
                }
                let mut buf = vec![0u8; size as usize];
                target.read_memory(*address, &mut buf)?;
                Ok(Cow::Owned(buf))
            }
            Contents::OptimizedOut => Err(ValueError::OptimizedOut),
            Contents::Unavailable(why) => Err(ValueError::Unavailable(why.clone())),
        }
    }

    /// The first `len` bytes of the value (an array's first elements).
    pub fn prefix_bytes(&self, len: u64, target: &mut dyn ValueTarget) -> Result<Vec<u8>, ValueError> {
        if len > MAX_VALUE_SIZE {
            return Err(ValueError::TooLarge(len));
        }
        match &self.contents {
            Contents::Memory(address) => {
                let mut buf = vec![0u8; len as usize];
                target.read_memory(*address, &mut buf)?;
                Ok(buf)
            }
            Contents::Bytes { data, known } => {
                let n = (len as usize).min(data.len());
                if known.as_ref().is_some_and(|k| k[..n].iter().any(|b| !b)) {
                    return Err(ValueError::OptimizedOut);
                }
                Ok(data[..n].to_vec())
            }
            Contents::OptimizedOut => Err(ValueError::OptimizedOut),
            Contents::Unavailable(why) => Err(ValueError::Unavailable(why.clone())),
        }
    }

    /// The same value read into bytes (for values whose memory may change).
    pub fn fetched(&self, target: &mut dyn ValueTarget) -> Result<Value, ValueError> {
        let data = self.bytes(target)?.into_owned();
        Ok(Value { ty: self.ty, contents: Contents::Bytes { data, known: None }, place: self.place.clone() })
    }

    /// A part of the value: `size` bytes at `offset`, of type `ty`.
    pub fn slice(&self, ty: TypeId, offset: u64, size: u64) -> Value {
        let place = match &self.place {
            Some(Place::Memory { address, bits: None }) => {
                Some(Place::Memory { address: address.wrapping_add(offset), bits: None })
            }
            _ => None,
        };
        let contents = match &self.contents {
            Contents::Memory(address) => Contents::Memory(address.wrapping_add(offset)),
            Contents::Bytes { data, known } => {
                let start = (offset as usize).min(data.len());
                let end = (offset.saturating_add(size) as usize).min(data.len());
                let mut part = data[start..end].to_vec();
                let mut part_known = known.as_ref().map(|k| k[start..end].to_vec());
                if part.len() < size as usize {
                    // Past the end of what is known: unknown bytes.
                    let missing = size as usize - part.len();
                    part.resize(size as usize, 0);
                    let k = part_known.get_or_insert_with(|| vec![true; end - start]);
                    k.extend(std::iter::repeat_n(false, missing));
                }
                if part_known.as_ref().is_some_and(|k| k.iter().all(|b| !b)) && size > 0 {
                    Contents::OptimizedOut
                } else {
                    Contents::Bytes { data: part, known: part_known }
                }
            }
            other => other.clone(),
        };
        Value { ty, contents, place }
    }

    /// A bit-field member: its bits made into a value of `ty`.
    pub fn bit_field(&self, ty: TypeId, offset: u64, bits: BitField, target: &mut dyn ValueTarget) -> Value {
        let storage = (bits.bit_offset + bits.bit_size).div_ceil(8).min(8);
        let part = self.slice(ty, offset, storage);
        let place = match &self.place {
            Some(Place::Memory { address, bits: None }) => {
                Some(Place::Memory { address: address.wrapping_add(offset), bits: Some(bits) })
            }
            _ => None,
        };
        let raw = match part.bytes(target) {
            Ok(bytes) => bytes.into_owned(),
            Err(ValueError::OptimizedOut) => return Value { ty, contents: Contents::OptimizedOut, place },
            Err(e) => return Value { ty, contents: Contents::Unavailable(e.to_string()), place },
        };
        let mut word = [0u8; 8];
        word[..raw.len()].copy_from_slice(&raw);
        let mut value = u64::from_le_bytes(word) >> bits.bit_offset;
        if bits.bit_size < 64 {
            value &= (1u64 << bits.bit_size) - 1;
        }
        // Sign-extend a signed field.
        let table = target.types();
        if is_signed(table, ty) && bits.bit_size > 0 && bits.bit_size < 64 && value >> (bits.bit_size - 1) & 1 == 1 {
            value |= !0u64 << bits.bit_size;
        }
        let size = table.size_of(ty).unwrap_or(4).min(8) as usize;
        Value { ty, contents: Contents::Bytes { data: value.to_le_bytes()[..size].to_vec(), known: None }, place }
    }
}

/// Whether an integer-like type is signed (enums by their underlying type).
pub fn is_signed(table: &TypeTable, ty: TypeId) -> bool {
    match table.get(table.strip(ty)).kind {
        TypeKind::Base(kind) => kind.is_signed(),
        TypeKind::Enum(ref e) => e.is_signed,
        _ => false,
    }
}

/// Bytes as an integer of their size, sign-extended when `signed`.
pub fn integer_from_bytes(bytes: &[u8], signed: bool) -> i128 {
    let n = bytes.len().min(16);
    let mut buf = [0u8; 16];
    buf[..n].copy_from_slice(&bytes[..n]);
    let unsigned = u128::from_le_bytes(buf);
    if n == 0 {
        return 0;
    }
    if signed && n < 16 && (bytes[n - 1] & 0x80) != 0 {
        (unsigned | (!0u128 << (n * 8))) as i128
    } else {
        unsigned as i128
    }
}

/// Bytes as a floating-point number: 4 (float), 8 (double) or 10/16 (x87 long double).
pub fn float_from_bytes(bytes: &[u8]) -> f64 {
    match bytes.len() {
        4 => f32::from_le_bytes(bytes.try_into().unwrap_or([0; 4])) as f64,
        8 => f64::from_le_bytes(bytes.try_into().unwrap_or([0; 8])),
        n if n >= 10 => x87_to_f64(&bytes[..10]),
        _ => 0.0,
    }
}

/// An 80-bit x87 extended value, rounded to a double.
pub fn x87_to_f64(bytes: &[u8]) -> f64 {
    let mut mantissa_bytes = [0u8; 8];
    mantissa_bytes.copy_from_slice(&bytes[..8]);
    let mantissa = u64::from_le_bytes(mantissa_bytes);
    let exponent_sign = u16::from_le_bytes([bytes[8], bytes[9]]);
    let negative = exponent_sign & 0x8000 != 0;
    let exponent = (exponent_sign & 0x7fff) as i32;
    let value = if exponent == 0 && mantissa == 0 {
        0.0
    } else if exponent == 0x7fff {
        if mantissa << 1 == 0 {
            f64::INFINITY
        } else {
            f64::NAN
        }
    } else {
        (mantissa as f64) * 2f64.powi(exponent - 16383 - 63)
    };
    if negative {
        -value
    } else {
        value
    }
}

/// The base kind of a type (through typedefs and qualifiers), if it is a base type.
pub fn base_kind(table: &TypeTable, ty: TypeId) -> Option<BaseKind> {
    match table.get(table.strip(ty)).kind {
        TypeKind::Base(kind) => Some(kind),
        _ => None,
    }
}

/// The language a type was declared in.
pub fn language_of(table: &TypeTable, ty: TypeId) -> Language {
    table.get(ty).language
}
