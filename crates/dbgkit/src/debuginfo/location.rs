//! Location expressions: where a variable lives at a given pc.
//!
//! A variable's `DW_AT_location` is a DWARF expression (or a list of them,
//! one per pc range). It says: in memory at an address computed from
//! registers, the frame base (`DW_AT_frame_base`, usually the CFA) and
//! constants; in a register; a value computed from them
//! (`DW_OP_stack_value`); in pieces, each somewhere else; or nowhere (the
//! variable is optimized out). `DW_OP_entry_value` asks for a register's
//! value when the function was entered, which the caller's call-site
//! parameters may tell. Whatever cannot be found makes the value
//! "optimized out", never a guess.

use super::units::Reader;
use gimli::{EvaluationResult, Expression, Location as GimliLocation, Reader as _, Value};

/// x86_64 DWARF register numbers (System V psABI): 0-16 are the general
/// registers and rip, 17-32 xmm0-xmm15.
pub(crate) const GPR_NAMES: [&str; 17] = [
    "rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
];

/// The name of a DWARF register number, for messages.
pub(crate) fn register_name(number: u16) -> String {
    match number {
        0..=16 => GPR_NAMES[number as usize].to_string(),
        17..=32 => format!("xmm{}", number - 17),
        n => format!("DWARF register {n}"),
    }
}

/// What evaluating a location needs from the frame it is evaluated in.
pub(crate) trait LocationContext {
    /// A register's contents (8 bytes for a general register, 16 for an
    /// xmm register), or `None` when the frame does not know it.
    fn register(&mut self, number: u16) -> Option<Vec<u8>>;
    /// Reads target memory; false when any byte is unreadable.
    fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> bool;
    /// The frame base of the function (`DW_AT_frame_base`), evaluated.
    fn frame_base(&mut self) -> Result<u64, LocationError>;
    /// The canonical frame address of the frame.
    fn cfa(&mut self) -> Option<u64>;
    /// The module's load bias (what `DW_OP_addr` values are moved by).
    fn bias(&self) -> u64;
    /// The value an expression had when the function was entered
    /// (`DW_OP_entry_value`), if the caller's call site tells it.
    fn entry_value(&mut self, expression: Expression<Reader>) -> Option<u64>;
    /// An address from `.debug_addr` (`DW_OP_addrx`), not yet relocated.
    fn indexed_address(&mut self, index: gimli::DebugAddrIndex<usize>) -> Option<u64>;
}

/// Where a value is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// In memory at this address.
    Memory(u64),
    /// In a register (its low bytes for a smaller value).
    Register(u16),
    /// Not stored anywhere: the value itself (little-endian bytes).
    Value(Vec<u8>),
    /// Several parts, each somewhere else.
    Pieces(Vec<Piece>),
    /// The compiler kept no trace of it here.
    OptimizedOut,
}

/// One part of a value in pieces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub location: Location,
    /// How many bits of the value this piece holds.
    pub bits: u64,
    /// Where in the location the piece's bits start.
    pub bit_offset: u64,
}

/// Why a location could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("<optimized out>")]
    OptimizedOut,
    #[error("Cannot access memory at address {0:#x}")]
    Memory(u64),
    #[error("the value needs {0}, which this frame does not know")]
    Register(String),
    #[error("cannot read thread-local storage")]
    ThreadLocal,
    #[error("bad location expression: {0}")]
    Bad(String),
}

/// Evaluates a location expression.
pub(crate) fn evaluate(
    expression: Expression<Reader>,
    encoding: gimli::Encoding,
    ctx: &mut dyn LocationContext,
) -> Result<Location, LocationError> {
    if expression.0.is_empty() {
        return Ok(Location::OptimizedOut);
    }
    let mut eval = expression.evaluation(encoding);
    eval.set_max_iterations(10_000);
    let bad = |e: gimli::Error| LocationError::Bad(e.to_string());
    let mut result = eval.evaluate().map_err(bad)?;
    loop {
        result = match result {
            EvaluationResult::Complete => break,
            EvaluationResult::RequiresMemory { address, size, .. } => {
                let size = (size as usize).clamp(1, 8);
                let mut buf = [0u8; 8];
                if !ctx.read_memory(address, &mut buf[..size]) {
                    return Err(LocationError::Memory(address));
                }
                eval.resume_with_memory(Value::Generic(u64::from_le_bytes(buf))).map_err(bad)?
            }
            EvaluationResult::RequiresRegister { register, .. } => {
                let bytes =
                    ctx.register(register.0).ok_or_else(|| LocationError::Register(register_name(register.0)))?;
                let mut word = [0u8; 8];
                let n = bytes.len().min(8);
                word[..n].copy_from_slice(&bytes[..n]);
                eval.resume_with_register(Value::Generic(u64::from_le_bytes(word))).map_err(bad)?
            }
            EvaluationResult::RequiresFrameBase => {
                let base = ctx.frame_base()?;
                eval.resume_with_frame_base(base).map_err(bad)?
            }
            EvaluationResult::RequiresCallFrameCfa => {
                let cfa = ctx.cfa().ok_or(LocationError::OptimizedOut)?;
                eval.resume_with_call_frame_cfa(cfa).map_err(bad)?
            }
            EvaluationResult::RequiresRelocatedAddress(address) => {
                eval.resume_with_relocated_address(address.wrapping_add(ctx.bias())).map_err(bad)?
            }
            EvaluationResult::RequiresIndexedAddress { index, relocate } => {
                let address =
                    ctx.indexed_address(index).ok_or_else(|| LocationError::Bad("bad address index".into()))?;
                let address = if relocate { address.wrapping_add(ctx.bias()) } else { address };
                eval.resume_with_indexed_address(address).map_err(bad)?
            }
            EvaluationResult::RequiresEntryValue(inner) => {
                let value = ctx.entry_value(inner).ok_or(LocationError::OptimizedOut)?;
                eval.resume_with_entry_value(Value::Generic(value)).map_err(bad)?
            }
            EvaluationResult::RequiresTls(_) => return Err(LocationError::ThreadLocal),
            EvaluationResult::RequiresBaseType(_) => {
                eval.resume_with_base_type(gimli::ValueType::Generic).map_err(bad)?
            }
            EvaluationResult::RequiresAtLocation(_) | EvaluationResult::RequiresParameterRef(_) => {
                return Err(LocationError::OptimizedOut)
            }
        };
    }
    let pieces = eval.result();
    let convert = |location: &GimliLocation<Reader>| -> Result<Location, LocationError> {
        Ok(match location {
            GimliLocation::Empty => Location::OptimizedOut,
            GimliLocation::Register { register } => Location::Register(register.0),
            GimliLocation::Address { address } => Location::Memory(*address),
            GimliLocation::Value { value } => Location::Value(value_bytes(*value)),
            GimliLocation::Bytes { value } => Location::Value(value.to_slice().map_err(bad)?.into_owned()),
            // A pointer to a value that was optimized into its uses.
            GimliLocation::ImplicitPointer { .. } => Location::OptimizedOut,
        })
    };
    match pieces.as_slice() {
        [] => Ok(Location::OptimizedOut),
        [only] if only.size_in_bits.is_none() => convert(&only.location),
        many => {
            let mut out = Vec::new();
            for piece in many {
                out.push(Piece {
                    location: convert(&piece.location)?,
                    bits: piece.size_in_bits.unwrap_or(64),
                    bit_offset: piece.bit_offset.unwrap_or(0),
                });
            }
            Ok(Location::Pieces(out))
        }
    }
}

fn value_bytes(value: Value) -> Vec<u8> {
    match value {
        Value::Generic(v) | Value::U64(v) => v.to_le_bytes().to_vec(),
        Value::I8(v) => v.to_le_bytes().to_vec(),
        Value::U8(v) => v.to_le_bytes().to_vec(),
        Value::I16(v) => v.to_le_bytes().to_vec(),
        Value::U16(v) => v.to_le_bytes().to_vec(),
        Value::I32(v) => v.to_le_bytes().to_vec(),
        Value::U32(v) => v.to_le_bytes().to_vec(),
        Value::I64(v) => v.to_le_bytes().to_vec(),
        Value::F32(v) => v.to_le_bytes().to_vec(),
        Value::F64(v) => v.to_le_bytes().to_vec(),
    }
}

/// The bytes of a value of `size` bytes at a location, and for each byte
/// whether it is known (pieces may be partly optimized out).
pub(crate) fn read_location(
    location: &Location,
    size: usize,
    ctx: &mut dyn LocationContext,
) -> Result<(Vec<u8>, Vec<bool>), LocationError> {
    let mut bytes = vec![0u8; size];
    let mut known = vec![false; size];
    match location {
        Location::OptimizedOut => return Err(LocationError::OptimizedOut),
        Location::Memory(address) => {
            if !ctx.read_memory(*address, &mut bytes) {
                return Err(LocationError::Memory(*address));
            }
            known.fill(true);
        }
        Location::Register(number) => {
            let contents = ctx.register(*number).ok_or_else(|| LocationError::Register(register_name(*number)))?;
            let n = contents.len().min(size);
            bytes[..n].copy_from_slice(&contents[..n]);
            known[..n].fill(true);
        }
        Location::Value(value) => {
            let n = value.len().min(size);
            bytes[..n].copy_from_slice(&value[..n]);
            // A computed value narrower than the type is zero-extended.
            known.fill(true);
        }
        Location::Pieces(pieces) => {
            let mut bit = 0u64;
            for piece in pieces {
                let piece_bytes = piece.bits.div_ceil(8) as usize + (piece.bit_offset / 8) as usize;
                match read_location(&piece.location, piece_bytes.max(1), ctx) {
                    Ok((data, valid)) => {
                        for i in 0..piece.bits {
                            let src = piece.bit_offset + i;
                            let dst = bit + i;
                            let (sb, db) = ((src / 8) as usize, (dst / 8) as usize);
                            if db >= size || sb >= data.len() {
                                continue;
                            }
                            if (data[sb] >> (src % 8)) & 1 == 1 {
                                bytes[db] |= 1 << (dst % 8);
                            }
                            if valid[sb] {
                                known[db] = true;
                            }
                        }
                    }
                    Err(LocationError::OptimizedOut) | Err(LocationError::Register(_)) => {}
                    Err(e) => return Err(e),
                }
                bit += piece.bits;
            }
            if known.iter().all(|k| !k) {
                return Err(LocationError::OptimizedOut);
            }
        }
    }
    Ok((bytes, known))
}
