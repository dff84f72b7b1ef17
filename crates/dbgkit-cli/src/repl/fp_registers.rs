//! The registers beyond the general ones: x87 (`st0`..`st7`, `fcw`, `fsw`,
//! `ftw`), SSE (`xmm0`.., `mxcsr`), AVX (`ymm0`..) and AVX-512 (`zmm0`..),
//! shown and written by `r` and listed by `info registers vector` and
//! `info all-registers`.

use super::debugger::{say, Debugger};
use anyhow::{anyhow, bail, Result};
use dbgkit::{FpRegisters, VectorWidth};

/// The MXCSR flag and mask bits, low bit first, as gdb names them.
const MXCSR_BITS: [&str; 16] =
    ["IE", "DE", "ZE", "OE", "UE", "PE", "DAZ", "IM", "DM", "ZM", "OM", "UM", "PM", "", "", "FZ"];

/// `[ IM DM ZM OM UM PM ]`-style names of the bits set in `mxcsr` (low first).
pub fn mxcsr_flags(mxcsr: u32) -> String {
    let mut names: Vec<&str> = MXCSR_BITS
        .iter()
        .enumerate()
        .filter(|(bit, n)| !n.is_empty() && mxcsr & (1 << bit) != 0)
        .map(|(_, n)| *n)
        .collect();
    // Rounding control (bits 13-14): gdb shows it when it is not "nearest".
    match (mxcsr >> 13) & 3 {
        1 => names.push("R-"),
        2 => names.push("R+"),
        3 => names.push("RZ"),
        _ => {}
    }
    names.join(" ")
}

/// An 80-bit x87 value (the low 10 bytes) as a double, for showing.
pub fn extended_to_f64(raw: u128) -> f64 {
    dbgkit::debuginfo::value::x87_to_f64(&raw.to_le_bytes()[..10])
}

/// An integer as an 80-bit x87 value (exact: the mantissa has 64 bits).
pub fn integer_to_extended(value: i64) -> u128 {
    if value == 0 {
        return 0;
    }
    let negative = value < 0;
    let magnitude = value.unsigned_abs();
    let shift = magnitude.leading_zeros();
    let mantissa = magnitude << shift;
    let exponent = 16383 + 63 - shift as u128;
    (u128::from(negative) << 79) | (exponent << 64) | mantissa as u128
}

/// Whether `name` is one of the registers this file shows.
pub fn is_fp_register(name: &str) -> bool {
    VectorWidth::parse(name).is_some()
        || st_index(name).is_some()
        || matches!(name, "mxcsr" | "fcw" | "fsw" | "ftw" | "fop" | "fctrl" | "fstat" | "ftag")
}

fn st_index(name: &str) -> Option<usize> {
    let digit = name.strip_prefix("st")?;
    let i: usize = digit.parse().ok()?;
    (digit.len() == 1 && i < 8).then_some(i)
}

/// The value of a vector register as hex, the high lane first (`0x` and 32, 64 or 128 digits).
fn lanes_hex(lanes: &[u128]) -> String {
    let mut out = String::from("0x");
    for lane in lanes.iter().rev() {
        out.push_str(&format!("{lane:032x}"));
    }
    out
}

impl Debugger {
    /// The line `r NAME` shows for one of these registers.
    pub fn fp_register_line(&mut self, name: &str) -> Result<String> {
        let c = self.stopped()?;
        if let Some((width, index)) = VectorWidth::parse(name) {
            let lanes = self.session.vector_register(c.pid, c.tid, width, index)?;
            return Ok(format!("{name}={}", lanes_hex(&lanes)));
        }
        let fp = self.session.fp_registers(c.pid, c.tid)?;
        if let Some(i) = st_index(name) {
            let raw = fp.st[i] & ((1u128 << 80) - 1);
            return Ok(format!("{name}={} (raw 0x{raw:020x})", extended_to_f64(raw)));
        }
        Ok(match name {
            "mxcsr" => format!("mxcsr={:08x} [{}]", fp.mxcsr, mxcsr_flags(fp.mxcsr)),
            "fcw" | "fctrl" => format!("{name}={:04x}", fp.fcw),
            "fsw" | "fstat" => format!("{name}={:04x}", fp.fsw),
            "ftw" | "ftag" => format!("{name}={:04x}", fp.ftw),
            "fop" => format!("fop={:04x}", fp.fop),
            other => bail!("unknown register {other:?}"),
        })
    }

    /// Writes one of these registers: `xmm0=0x1234` (up to 128 hex digits
    /// for the wide ones), `st0=5` (an integer), `mxcsr=0x1f80`.
    pub fn set_fp_register(&mut self, name: &str, value_text: &str) -> Result<()> {
        let c = self.stopped()?;
        if let Some((width, index)) = VectorWidth::parse(name) {
            let lanes = wide_value(value_text, width as usize).map_or_else(
                || -> Result<Vec<u128>> {
                    let v = self.eval(value_text)?;
                    let mut lanes = vec![0u128; width as usize];
                    lanes[0] = v as u128;
                    Ok(lanes)
                },
                Ok,
            )?;
            self.session.set_vector_register(c.pid, c.tid, width, index, &lanes)?;
            return Ok(());
        }
        let value = self.eval(value_text)?;
        let mut fp: FpRegisters = self.session.fp_registers(c.pid, c.tid)?;
        let narrow = |bits: u32| -> Result<u64> {
            if value >> bits != 0 {
                bail!("{value:#x} does not fit in {name} ({bits} bits)");
            }
            Ok(value)
        };
        if let Some(i) = st_index(name) {
            // The register stack's top decides which physical register st(i) is; the
            // kernel's view already lists them from the top.
            fp.st[i] = integer_to_extended(value as i64);
        } else {
            match name {
                "mxcsr" => fp.mxcsr = narrow(32)? as u32,
                "fcw" | "fctrl" => fp.fcw = narrow(16)? as u16,
                "fsw" | "fstat" => fp.fsw = narrow(16)? as u16,
                "ftw" | "ftag" => fp.ftw = narrow(16)? as u16,
                "fop" => fp.fop = narrow(11)? as u16,
                other => bail!("unknown register {other:?}"),
            }
        }
        self.session.set_fp_registers(c.pid, c.tid, &fp)?;
        Ok(())
    }

    /// `info registers vector`: every vector register at its widest, and mxcsr.
    pub fn show_vector_registers(&mut self) -> Result<()> {
        let c = self.stopped()?;
        let width = [VectorWidth::Zmm, VectorWidth::Ymm, VectorWidth::Xmm]
            .into_iter()
            .find(|w| w.count() > 0)
            .ok_or_else(|| anyhow!("no vector registers"))?;
        let prefix = match width {
            VectorWidth::Zmm => "zmm",
            VectorWidth::Ymm => "ymm",
            VectorWidth::Xmm => "xmm",
        };
        for i in 0..width.count() {
            let lanes = self.session.vector_register(c.pid, c.tid, width, i)?;
            say!("{prefix}{i}={}", lanes_hex(&lanes));
        }
        let line = self.fp_register_line("mxcsr")?;
        say!("{line}");
        Ok(())
    }

    /// The x87 registers, for `info all-registers`.
    pub fn show_x87_registers(&mut self) -> Result<()> {
        for name in ["st0", "st1", "st2", "st3", "st4", "st5", "st6", "st7", "fcw", "fsw", "ftw", "fop"] {
            let line = self.fp_register_line(name)?;
            say!("{line}");
        }
        Ok(())
    }
}

/// A hex literal wider than 64 bits, split into `lanes` 128-bit lanes.
fn wide_value(text: &str, lanes: usize) -> Option<Vec<u128>> {
    let hex = text.trim().strip_prefix("0x").or_else(|| text.trim().strip_prefix("0X"))?;
    if hex.len() <= 16 || hex.len() > 32 * lanes || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = vec![0u128; lanes];
    let digits: Vec<char> = hex.chars().collect();
    for (lane, chunk) in digits.rchunks(32).enumerate() {
        let s: String = chunk.iter().collect();
        out[lane] = u128::from_str_radix(&s, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x87_values_round_trip_for_integers() {
        for v in [1i64, -1, 2, 3, 1000, -123456789, i64::MAX] {
            assert_eq!(extended_to_f64(integer_to_extended(v)), v as f64, "{v}");
        }
        assert_eq!(integer_to_extended(1), 0x3fff_8000_0000_0000_0000);
        assert_eq!(extended_to_f64(0), 0.0);
    }

    #[test]
    fn mxcsr_names_as_gdb() {
        assert_eq!(mxcsr_flags(0x1f80), "IM DM ZM OM UM PM");
        assert_eq!(mxcsr_flags(0x1fa0 | 0x6000), "PE IM DM ZM OM UM PM RZ");
    }

    #[test]
    fn wide_hex_values_fill_lanes_from_the_low_end() {
        let lanes = wide_value("0x1000000000000000000000000000000002", 2).unwrap();
        assert_eq!(lanes, vec![2, 0x10]);
        assert!(wide_value("0x10", 2).is_none());
        assert!(wide_value("0xzz00000000000000000", 2).is_none());
    }
}
