//! Values printed the way gdb prints them:
//! `{x = 1, name = 0x4006f4 "abc", next = 0x0}`, `(struct node *) 0x5555555580c0 <first>`,
//! `"abc", '\000' <repeats 12 times>`, `(F_READ | F_WRITE)`,
//! `rusty::Shape::Rect(3, 4)`, and the `/x /d /u /o /t /c /a /z` formats.

use super::access::{active_variant, as_u64, member_value};
use super::pretty::Printed;
use super::typenames::{is_tuple_field, type_name};
use super::types::{BaseKind, Composite, Enumeration, Language, Member, Type, TypeId, TypeKind, TypeTable};
use super::value::{float_from_bytes, integer_from_bytes, Contents, Value, ValueError, ValueTarget};
use std::rc::Rc;

/// How to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormatOptions {
    /// gdb's format letter (`x`, `d`, `u`, `o`, `t`, `c`, `a`, `z`, `s`, `f`), if any.
    pub format: Option<char>,
    /// Elements of an array or string printed at most (gdb's `print elements`).
    pub max_elements: usize,
    /// Runs of equal elements longer than this print as `<repeats N times>`.
    pub repeat_threshold: usize,
}

impl Default for FormatOptions {
    fn default() -> Self {
        FormatOptions { format: None, max_elements: 200, repeat_threshold: 10 }
    }
}

impl FormatOptions {
    /// The default options with a format letter.
    pub fn with_format(format: Option<char>) -> FormatOptions {
        FormatOptions { format, ..FormatOptions::default() }
    }
}

/// Where in the output a value is: it decides the `(type)` prefix of
/// pointers and how much of a reference is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// The value of a `print` command: pointers get their type in front.
    TopLevel,
    /// A variable of `info locals`: references show their target.
    Variable,
    /// A member or element: references show their address only.
    Inside,
}

/// What printing needs from the target beyond memory.
pub trait FormatTarget: ValueTarget {
    /// The symbol an address points into, as gdb shows it between `<>`
    /// (`second`, `ratios+8`, `add`).
    fn symbol_at(&mut self, address: u64) -> Option<String>;
    /// The value of a C++ static data member of `owner`.
    fn static_member(&mut self, owner: &Type, member: &Member) -> Option<Value>;
    /// A pretty printer's rendering of the value, when one claims its type.
    fn pretty_print(&mut self, value: &Value) -> Option<Result<Printed, ValueError>>;
    /// Upcast to the plain value target.
    fn as_value_target(&mut self) -> &mut dyn ValueTarget;
}

/// Prints a value.
pub fn format_value(
    value: &Value,
    options: &FormatOptions,
    target: &mut dyn FormatTarget,
    position: Position,
) -> String {
    let mut printer = Printer { options: *options, target };
    printer.value(value, position, 0)
}

struct Printer<'a> {
    options: FormatOptions,
    target: &'a mut dyn FormatTarget,
}

const MAX_DEPTH: usize = 24;

/// `%g` with `precision` significant digits, as C's printf writes it.
pub fn format_g(value: f64, precision: usize) -> String {
    if value.is_nan() {
        let bits = value.to_bits();
        let sign = if bits >> 63 == 1 { "-" } else { "" };
        return format!("{sign}nan({:#x})", bits & ((1u64 << 52) - 1));
    }
    if value.is_infinite() {
        return if value < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let precision = precision.max(1);
    let scientific = format!("{:.*e}", precision - 1, value);
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if exponent < -4 || exponent >= precision as i32 {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exponent.abs())
    } else {
        let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
        trim(&format!("{value:.decimals$}"))
    }
}

/// How gdb writes one character inside quotes `quote` (`'` or `"`).
pub fn escape_char(byte: u32, quote: char) -> String {
    match byte {
        7 => "\\a".into(),
        8 => "\\b".into(),
        9 => "\\t".into(),
        10 => "\\n".into(),
        11 => "\\v".into(),
        12 => "\\f".into(),
        13 => "\\r".into(),
        0x5c => "\\\\".into(),
        b if b == quote as u32 => format!("\\{quote}"),
        0x20..=0x7e => char::from_u32(byte).map(String::from).unwrap_or_default(),
        b if b < 0x100 => format!("\\{b:03o}"),
        b => match char::from_u32(b) {
            Some(c) if !c.is_control() => c.to_string(),
            _ => format!("\\u{{{b:x}}}"),
        },
    }
}

/// A run of characters as gdb prints a string: quoted segments, with runs
/// of more than `threshold` equal characters as `'c' <repeats N times>`,
/// and `...` when `truncated`.
pub fn format_chars(chars: &[u32], threshold: usize, truncated: bool) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut segment = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut run = 1;
        while i + run < chars.len() && chars[i + run] == c {
            run += 1;
        }
        if run > threshold {
            if !segment.is_empty() {
                parts.push(format!("\"{segment}\""));
                segment.clear();
            }
            parts.push(format!("'{}' <repeats {run} times>", escape_char(c, '\'')));
            i += run;
        } else {
            segment.push_str(&escape_char(c, '"'));
            i += 1;
        }
    }
    if !segment.is_empty() || parts.is_empty() {
        parts.push(format!("\"{segment}\""));
    }
    let mut out = parts.join(", ");
    if truncated {
        out.push_str("...");
    }
    out
}

fn is_char_kind(kind: BaseKind) -> bool {
    matches!(kind, BaseKind::SignedChar | BaseKind::UnsignedChar)
}

impl Printer<'_> {
    fn table(&mut self) -> &TypeTable {
        self.target.types()
    }

    fn get(&mut self, id: TypeId) -> Rc<Type> {
        self.target.types().get(id)
    }

    fn value(&mut self, value: &Value, position: Position, depth: usize) -> String {
        if depth > MAX_DEPTH {
            return "...".into();
        }
        match &value.contents {
            Contents::OptimizedOut => return "<optimized out>".into(),
            Contents::Unavailable(why) => return format!("<error: {why}>"),
            _ => {}
        }
        let stripped = self.table().strip(value.ty);
        let ty = self.get(stripped);
        if !matches!(ty.kind, TypeKind::Reference { .. } | TypeKind::Pointer(_)) && self.options.format.is_none() {
            if let Some(printed) = self.target.pretty_print(value) {
                return match printed {
                    Ok(p) => self.printed(p, depth),
                    Err(e) => format!("<error: {e}>"),
                };
            }
        }
        match &ty.kind {
            TypeKind::Reference { target, .. } => self.reference(value, *target, position, depth),
            TypeKind::Pointer(target) => self.pointer(value, *target, position),
            TypeKind::Base(kind) => self.scalar(value, *kind),
            TypeKind::Enum(e) => self.enumeration(value, &ty, e),
            TypeKind::Array { element, count } => self.array(value, *element, *count, &ty, depth),
            TypeKind::Composite(c) => self.composite(value, &ty, c, depth),
            TypeKind::Function { .. } => {
                let address = value.address().unwrap_or(0);
                let name = type_name(self.table(), value.ty);
                match self.target.symbol_at(address) {
                    Some(sym) => format!("{{{name}}} {address:#x} <{sym}>"),
                    None => format!("{{{name}}} {address:#x}"),
                }
            }
            TypeKind::Void => "void".into(),
            TypeKind::Unspecified => match value.bytes(self.target.as_value_target()) {
                Ok(b) => format!("{:#x}", integer_from_bytes(&b, false)),
                Err(e) => error_text(&e),
            },
            TypeKind::Typedef(_) | TypeKind::Qualified { .. } => "<unknown type>".into(),
        }
    }

    fn printed(&mut self, printed: Printed, depth: usize) -> String {
        match printed {
            Printed::Text(text) => text,
            Printed::Children { summary, children, rust_style: _ } => {
                let limit = self.options.max_elements;
                let mut items: Vec<String> = Vec::new();
                for (i, (name, child)) in children.iter().enumerate() {
                    if i >= limit {
                        items.push("...".into());
                        break;
                    }
                    let text = self.value(child, Position::Inside, depth + 1);
                    items.push(match name {
                        Some(n) => format!("{n} = {text}"),
                        None => text,
                    });
                }
                match (summary.is_empty(), items.is_empty()) {
                    (_, true) => summary,
                    (true, false) => format!("{{{}}}", items.join(", ")),
                    (false, false) => format!("{summary} = {{{}}}", items.join(", ")),
                }
            }
        }
    }

    fn reference(&mut self, value: &Value, target_ty: TypeId, position: Position, depth: usize) -> String {
        let address = match as_u64(value, self.target.as_value_target()) {
            Ok(a) => a,
            Err(e) => return error_text(&e),
        };
        let referent = Value::at(target_ty, address);
        if self.options.format.is_none() {
            if let Some(printed) = self.target.pretty_print(&referent) {
                return match printed {
                    Ok(p) => self.printed(p, depth),
                    Err(e) => format!("<error: {e}>"),
                };
            }
        }
        match position {
            Position::Inside => format!("@{address:#x}"),
            Position::Variable => format!("@{address:#x}: {}", self.value(&referent, Position::Inside, depth + 1)),
            Position::TopLevel => {
                let name = type_name(self.table(), value.ty);
                format!("({name}) @{address:#x}: {}", self.value(&referent, Position::Inside, depth + 1))
            }
        }
    }

    fn pointer(&mut self, value: &Value, pointee: TypeId, position: Position) -> String {
        let address = match as_u64(value, self.target.as_value_target()) {
            Ok(a) => a,
            Err(e) => return error_text(&e),
        };
        if let Some(f) = self.options.format.filter(|f| *f != 's' && *f != 'a') {
            return self.integer_format(address as i128, 8, false, f);
        }
        let table = self.table();
        let pointee_stripped = table.strip(pointee);
        let pointee_ty = table.get(pointee_stripped);
        let language = pointee_ty.language;
        let prefix = |s: &mut Self| -> String {
            if position == Position::TopLevel {
                format!("({}) ", type_name(s.table(), value.ty))
            } else {
                String::new()
            }
        };
        // `char *`: the string it points to.
        if let TypeKind::Base(kind) = pointee_ty.kind {
            if is_char_kind(kind) && language != Language::Rust && self.options.format != Some('a') {
                if address == 0 {
                    return "0x0".into();
                }
                return match self.read_c_string(address) {
                    Ok(text) => format!("{address:#x} {text}"),
                    Err(e) => format!("{address:#x} <error: {e}>"),
                };
            }
        }
        let symbol = if address != 0 { self.target.symbol_at(address) } else { None };
        let body = match symbol {
            Some(sym) => format!("{address:#x} <{sym}>"),
            None => format!("{address:#x}"),
        };
        format!("{}{body}", prefix(self))
    }

    /// A NUL-terminated string in memory, quoted (at most `max_elements` characters).
    fn read_c_string(&mut self, address: u64) -> Result<String, ValueError> {
        let limit = self.options.max_elements;
        let mut chars = Vec::new();
        let mut chunk = [0u8; 64];
        let mut at = address;
        let mut terminated = false;
        'outer: while chars.len() < limit {
            let want = (limit - chars.len()).min(chunk.len());
            // Read what is readable: a string may end just before unmapped memory.
            let got = self.read_partial(at, &mut chunk[..want]);
            if got == 0 {
                if chars.is_empty() {
                    return Err(ValueError::Memory(at));
                }
                break;
            }
            for &b in &chunk[..got] {
                if b == 0 {
                    terminated = true;
                    break 'outer;
                }
                chars.push(b as u32);
            }
            at += got as u64;
            if got < want {
                break;
            }
        }
        let truncated = !terminated && chars.len() >= limit;
        Ok(format_chars(&chars, self.options.repeat_threshold, truncated))
    }

    fn read_partial(&mut self, address: u64, buf: &mut [u8]) -> usize {
        if self.target.read_memory(address, buf).is_ok() {
            return buf.len();
        }
        // Byte by byte up to the first unreadable one.
        let mut n = 0;
        while n < buf.len() && self.target.read_memory(address + n as u64, &mut buf[n..n + 1]).is_ok() {
            n += 1;
        }
        n
    }

    fn integer_format(&mut self, value: i128, size: usize, signed: bool, format: char) -> String {
        let bits = (size.clamp(1, 16) * 8) as u32;
        let mask = if bits >= 128 { u128::MAX } else { (1u128 << bits) - 1 };
        let unsigned = (value as u128) & mask;
        let signed_value =
            if bits < 128 && unsigned >> (bits - 1) & 1 == 1 { (unsigned | !mask) as i128 } else { unsigned as i128 };
        match format {
            'x' => format!("{unsigned:#x}"),
            'z' => format!("0x{unsigned:0width$x}", width = size * 2),
            'o' if unsigned == 0 => "0".into(),
            'o' => format!("0{unsigned:o}"),
            't' => format!("{unsigned:b}"),
            'd' => signed_value.to_string(),
            'u' => unsigned.to_string(),
            'c' => {
                let byte = (unsigned & 0xff) as u32;
                let shown = (unsigned & 0xff) as u8 as i8 as i128;
                format!("{shown} '{}'", escape_char(byte, '\''))
            }
            'a' => {
                let address = unsigned as u64;
                match self.target.symbol_at(address) {
                    Some(sym) => format!("{address:#x} <{sym}>"),
                    None => format!("{address:#x}"),
                }
            }
            _ => {
                if signed {
                    signed_value.to_string()
                } else {
                    unsigned.to_string()
                }
            }
        }
    }

    fn scalar(&mut self, value: &Value, kind: BaseKind) -> String {
        let bytes = match value.bytes(self.target.as_value_target()) {
            Ok(b) => b.into_owned(),
            Err(e) => return error_text(&e),
        };
        let size = bytes.len();
        if kind == BaseKind::Float {
            let number = float_from_bytes(&bytes);
            return match self.options.format {
                Some('x' | 'z' | 'o' | 't' | 'd' | 'u' | 'c') => {
                    let f = self.options.format.unwrap_or('d');
                    self.integer_format(number as i128, size.min(8), true, f)
                }
                _ => format_float(number, size),
            };
        }
        let integer = integer_from_bytes(&bytes, kind.is_signed());
        if let Some(f) = self.options.format.filter(|f| *f != 's' && *f != 'f') {
            return self.integer_format(integer, size, kind.is_signed(), f);
        }
        match kind {
            BaseKind::Bool => match integer {
                0 => "false".into(),
                1 => "true".into(),
                n => n.to_string(),
            },
            BaseKind::SignedChar | BaseKind::UnsignedChar => {
                format!("{integer} '{}'", escape_char((integer as u128 & 0xff) as u32, '\''))
            }
            BaseKind::UnicodeChar => format!("{integer} '{}'", escape_char(integer as u32, '\'')),
            _ => integer.to_string(),
        }
    }

    fn enumeration(&mut self, value: &Value, ty: &Type, e: &Enumeration) -> String {
        let bytes = match value.bytes(self.target.as_value_target()) {
            Ok(b) => b.into_owned(),
            Err(err) => return error_text(&err),
        };
        let number = integer_from_bytes(&bytes, e.is_signed);
        if let Some(f) = self.options.format.filter(|f| *f != 's') {
            return self.integer_format(number, bytes.len(), e.is_signed, f);
        }
        let qualify = |name: &str| -> String {
            match (ty.language, &ty.name) {
                (Language::Rust, Some(t)) => format!("{t}::{name}"),
                (Language::Cpp, Some(t)) if e.is_scoped => format!("{t}::{name}"),
                (Language::Cpp, Some(t)) => match t.rsplit_once("::") {
                    Some((scope, _)) => format!("{scope}::{name}"),
                    None => name.to_string(),
                },
                _ => name.to_string(),
            }
        };
        if let Some((name, _)) = e.enumerators.iter().find(|(_, v)| *v == number) {
            return qualify(name);
        }
        if e.is_flags && number >= 0 {
            let mut rest =
                number as u128 & if bytes.len() >= 16 { u128::MAX } else { (1u128 << (bytes.len() * 8)) - 1 };
            let mut parts = Vec::new();
            for (name, v) in &e.enumerators {
                let v = *v as u128;
                if v != 0 && rest & v == v {
                    parts.push(qualify(name));
                    rest &= !v;
                }
            }
            if rest != 0 {
                parts.push(format!("unknown: {rest:#x}"));
            }
            return format!("({})", parts.join(" | "));
        }
        if e.is_flags && number < 0 {
            // A negative value of a flag enum: its bits as unsigned.
            let bits = bytes.len() * 8;
            let unsigned = (number as u128) & ((1u128 << bits) - 1);
            let mut rest = unsigned;
            let mut parts = Vec::new();
            for (name, v) in &e.enumerators {
                let v = *v as u128;
                if v != 0 && rest & v == v {
                    parts.push(qualify(name));
                    rest &= !v;
                }
            }
            if rest != 0 {
                parts.push(format!("unknown: {rest:#x}"));
            }
            return format!("({})", parts.join(" | "));
        }
        number.to_string()
    }

    fn array(&mut self, value: &Value, element: TypeId, count: Option<u64>, ty: &Type, depth: usize) -> String {
        let count = count.unwrap_or(0);
        let table = self.table();
        let element_size = table.size_of(element).unwrap_or(0);
        let element_kind = match table.get(table.strip(element)).kind {
            TypeKind::Base(k) => Some(k),
            _ => None,
        };
        let rust = ty.language == Language::Rust;
        let as_string = element_kind.is_some_and(is_char_kind)
            && element_size == 1
            && !rust
            && matches!(self.options.format, None | Some('s'));
        if as_string {
            let shown = count.min(self.options.max_elements as u64 + 1);
            let bytes = match value.prefix_bytes(shown, self.target.as_value_target()) {
                Ok(b) => b,
                Err(e) => return error_text(&e),
            };
            let mut chars: Vec<u32> = bytes.iter().map(|&b| b as u32).collect();
            let mut truncated = false;
            if chars.len() as u64 > self.options.max_elements as u64 {
                chars.truncate(self.options.max_elements);
                truncated = true;
            } else if chars.last() == Some(&0) {
                // gdb leaves out the terminating zero of a full array.
                chars.pop();
            }
            return format_chars(&chars, self.options.repeat_threshold, truncated);
        }
        // Elements, with runs of equal ones folded.
        let mut items: Vec<String> = Vec::new();
        let mut printed = 0usize;
        let mut i = 0u64;
        let threshold = self.options.repeat_threshold;
        let element_bytes = |s: &mut Self, index: u64| -> Option<Vec<u8>> {
            let v = value.slice(element, index * element_size, element_size);
            v.bytes(s.target.as_value_target()).ok().map(|b| b.into_owned())
        };
        while i < count && printed < self.options.max_elements {
            let this = element_bytes(self, i);
            let mut run = 1u64;
            if this.is_some() && element_size > 0 {
                while i + run < count && element_bytes(self, i + run) == this {
                    run += 1;
                    if run > 100_000 {
                        break;
                    }
                }
            }
            let element_value = value.slice(element, i * element_size, element_size);
            let text = self.value(&element_value, Position::Inside, depth + 1);
            if run as usize > threshold {
                items.push(format!("{text} <repeats {run} times>"));
                i += run;
                printed += threshold;
            } else {
                items.push(text);
                i += 1;
                printed += 1;
            }
        }
        if i < count {
            items.push("...".into());
        }
        if rust {
            format!("[{}]", items.join(", "))
        } else {
            format!("{{{}}}", items.join(", "))
        }
    }

    fn composite(&mut self, value: &Value, ty: &Type, c: &Composite, depth: usize) -> String {
        if ty.language == Language::Rust {
            return self.rust_composite(value, ty, c, depth);
        }
        let mut items = Vec::new();
        for m in &c.members {
            if m.is_static {
                let text = match self.target.static_member(ty, m) {
                    Some(v) => self.value(&v, Position::Inside, depth + 1),
                    None => "<optimized out>".into(),
                };
                items.push(format!("static {} = {text}", m.name.clone().unwrap_or_default()));
                continue;
            }
            if m.is_virtual_base {
                items.push(format!("<{}> = <virtual base not shown>", type_name(self.table(), m.ty)));
                continue;
            }
            let inner = member_value(value, m, self.target.as_value_target());
            let text = self.value(&inner, Position::Inside, depth + 1);
            if m.is_base {
                items.push(format!("<{}> = {text}", type_name(self.table(), m.ty)));
            } else {
                match &m.name {
                    Some(name) => items.push(format!("{name} = {text}")),
                    None => items.push(text),
                }
            }
        }
        if items.is_empty() {
            return "{<No data fields>}".into();
        }
        format!("{{{}}}", items.join(", "))
    }

    fn rust_composite(&mut self, value: &Value, ty: &Type, c: &Composite, depth: usize) -> String {
        let name = ty.name.clone().unwrap_or_default();
        if c.variants.is_some() {
            let Some(variant) = active_variant(value, self.target.as_value_target()) else {
                return format!("{name}::<unknown variant>");
            };
            let inner = member_value(value, &variant, self.target.as_value_target());
            let variant_name = variant.name.clone().unwrap_or_default();
            let variant_ty = self.table().strip(variant.ty);
            let inner_ty = self.get(variant_ty);
            let fields = match &inner_ty.kind {
                TypeKind::Composite(ic) => ic.members.clone(),
                _ => Vec::new(),
            };
            let body = self.rust_fields(&inner, &fields, depth, false);
            return format!("{name}::{variant_name}{body}");
        }
        let fields: Vec<Member> = c.members.clone();
        if name.starts_with('(') {
            // A tuple: `(3, 120 'x')`.
            let items: Vec<String> = fields
                .iter()
                .map(|m| {
                    let inner = member_value(value, m, self.target.as_value_target());
                    self.value(&inner, Position::Inside, depth + 1)
                })
                .collect();
            return format!("({})", items.join(", "));
        }
        let body = self.rust_fields(value, &fields, depth, true);
        format!("{name}{body}")
    }

    /// `(a, b)` for tuple fields, ` {f: a, g: b}` (or `{f: a}` right after a
    /// variant name) for named ones, nothing when there are none.
    fn rust_fields(&mut self, value: &Value, fields: &[Member], depth: usize, space: bool) -> String {
        let fields: Vec<&Member> = fields.iter().filter(|m| !m.artificial || m.name.is_some()).collect();
        if fields.is_empty() {
            return String::new();
        }
        let tuple = fields.iter().all(|m| m.name.as_deref().is_some_and(is_tuple_field));
        let items: Vec<String> = fields
            .iter()
            .map(|m| {
                let inner = member_value(value, m, self.target.as_value_target());
                let text = self.value(&inner, Position::Inside, depth + 1);
                if tuple {
                    text
                } else {
                    format!("{}: {text}", m.name.clone().unwrap_or_default())
                }
            })
            .collect();
        if tuple {
            format!("({})", items.join(", "))
        } else if space {
            format!(" {{{}}}", items.join(", "))
        } else {
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// A float of `size` bytes as gdb prints it: `%g` with 9 significant digits
/// for a float, 17 for a double, 18 for a long double.
pub fn format_float(value: f64, size: usize) -> String {
    let precision = match size {
        4 => 9,
        8 => 17,
        _ => 18,
    };
    format_g(value, precision)
}

fn error_text(e: &ValueError) -> String {
    match e {
        ValueError::OptimizedOut => "<optimized out>".into(),
        other => format!("<error: {other}>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_printf_g() {
        assert_eq!(format_float(1.5, 8), "1.5");
        assert_eq!(format_float(1.1, 8), "1.1000000000000001");
        assert_eq!(format_float(0.1f32 as f64, 4), "0.100000001");
        assert_eq!(format_float(-3.0, 8), "-3");
        assert_eq!(format_float(1e20, 8), "1e+20");
        assert_eq!(format_float(1.5e-7, 8), "1.4999999999999999e-07");
        assert_eq!(format_float(2.5, 4), "2.5");
        assert_eq!(format_float(0.0, 8), "0");
        assert_eq!(format_float(f64::INFINITY, 8), "inf");
    }

    #[test]
    fn strings_fold_runs_and_escape() {
        let chars: Vec<u32> = b"abc".iter().map(|&b| b as u32).chain(std::iter::repeat_n(0, 12)).collect();
        assert_eq!(format_chars(&chars, 10, false), "\"abc\", '\\000' <repeats 12 times>");
        let chars: Vec<u32> = b"box\0\0\0\0".iter().map(|&b| b as u32).collect();
        assert_eq!(format_chars(&chars, 10, false), "\"box\\000\\000\\000\\000\"");
        let chars: Vec<u32> = [0, 0, 0xc0, b'?' as u32].to_vec();
        assert_eq!(format_chars(&chars, 10, false), "\"\\000\\000\\300?\"");
        assert_eq!(format_chars(&[b'"' as u32, b'\n' as u32], 10, false), "\"\\\"\\n\"");
        assert_eq!(format_chars(&[], 10, false), "\"\"");
    }
}
