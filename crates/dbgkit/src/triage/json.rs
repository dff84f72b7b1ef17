//! Records as JSON, one object per input: the format of `dbgkit triage
//! --json` and of the Python module's records. Addresses are strings of
//! hexadecimal (`"0x7fffffffe3a0"`), since JSON numbers lose 64-bit values.

use super::conclude::Analysis;
use super::run::Record;
use super::sanitizer::SanitizerFrame;
use super::snapshot::Frame;
use crate::arch::registers::Registers;
use std::fmt::Write;

/// A JSON array of records.
pub fn records_to_json(records: &[Record]) -> String {
    let mut out = String::from("[\n");
    for (i, record) in records.iter().enumerate() {
        out.push_str("  ");
        record_json(&mut out, record);
        out.push_str(if i + 1 < records.len() { ",\n" } else { "\n" });
    }
    out.push(']');
    out.push('\n');
    out
}

impl Record {
    /// This record as one JSON object.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        record_json(&mut out, self);
        out
    }
}

/// A JSON string literal.
fn string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn opt_string(out: &mut String, text: Option<&str>) {
    match text {
        Some(t) => string(out, t),
        None => out.push_str("null"),
    }
}

fn hex(out: &mut String, value: Option<u64>) {
    match value {
        Some(v) => {
            let _ = write!(out, "\"{v:#x}\"");
        }
        None => out.push_str("null"),
    }
}

fn number(out: &mut String, value: Option<i64>) {
    match value {
        Some(v) => {
            let _ = write!(out, "{v}");
        }
        None => out.push_str("null"),
    }
}

/// An object written field by field.
struct Object<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Object<'a> {
    fn new(out: &'a mut String) -> Object<'a> {
        out.push('{');
        Object { out, first: true }
    }
    fn key(&mut self, key: &str) -> &mut String {
        if !self.first {
            self.out.push_str(", ");
        }
        self.first = false;
        string(self.out, key);
        self.out.push_str(": ");
        self.out
    }
    fn end(self) {
        self.out.push('}');
    }
}

fn record_json(out: &mut String, r: &Record) {
    let mut o = Object::new(out);
    string(o.key("input"), &r.input.to_string_lossy());
    number(o.key("size"), Some(r.size as i64));
    string(o.key("outcome"), r.outcome.name());
    let error = match &r.outcome {
        super::run::Outcome::Error(e) => Some(e.as_str()),
        _ => None,
    };
    opt_string(o.key("error"), error);
    number(o.key("exit_code"), r.exit_code.map(i64::from));
    opt_string(o.key("exit_signal"), r.exit_signal.map(crate::signal_name).as_deref());
    let _ = write!(o.key("elapsed_ms"), "{:.3}", r.elapsed.as_secs_f64() * 1000.0);
    match &r.analysis {
        Some(a) => analysis_json(&mut o, a),
        None => {
            for key in ["class", "severity", "explanation", "hash"] {
                o.key(key).push_str("null");
            }
        }
    }
    o.end();
}

fn analysis_json(o: &mut Object, a: &Analysis) {
    string(o.key("class"), &a.class.id());
    string(o.key("severity"), a.severity().name());
    string(o.key("explanation"), &a.explanation());
    string(o.key("hash"), &a.hash);
    let out = o.key("hash_frames");
    strings(out, &a.hash_frames);
    {
        let out = o.key("fault");
        let mut f = Object::new(out);
        opt_string(f.key("signal"), a.signal.map(crate::signal_name).as_deref());
        number(f.key("signal_number"), a.signal.map(i64::from));
        number(f.key("code"), a.code.map(i64::from));
        let code_name = a.signal.zip(a.code).map(|(s, c)| super::fault::signal_code_name(s, c));
        opt_string(f.key("code_name"), code_name.as_deref());
        hex(f.key("address"), a.fault_address);
        hex(f.key("bad_address"), a.bad_address);
        opt_string(f.key("access"), a.access.map(|x| x.name()));
        f.end();
    }
    match &a.instruction {
        Some(i) => {
            let out = o.key("instruction");
            let mut f = Object::new(out);
            hex(f.key("address"), Some(i.address));
            string(f.key("bytes"), &i.bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
            string(f.key("text"), &i.text);
            opt_string(f.key("memory_operand"), i.memory_operand.as_deref());
            hex(f.key("memory_address"), i.memory_address);
            opt_string(f.key("access"), i.access.map(|x| x.name()));
            f.end();
        }
        None => o.key("instruction").push_str("null"),
    }
    match &a.registers {
        Some(regs) => registers_json(o.key("registers"), regs),
        None => o.key("registers").push_str("null"),
    }
    frames_json(o.key("stack"), &a.frames);
    opt_string(o.key("stack_stopped"), a.stack_stopped.as_deref());
    opt_string(o.key("message"), a.reason.as_ref().map(|r| r.summary()).as_deref());
    opt_string(o.key("exception_type"), a.exception_type.as_deref());
    match &a.sanitizer {
        Some(s) => {
            let out = o.key("sanitizer");
            let mut f = Object::new(out);
            string(f.key("tool"), &s.tool);
            string(f.key("kind"), &s.kind);
            string(f.key("headline"), &s.headline);
            opt_string(f.key("access"), s.access.map(|x| x.name()));
            number(f.key("access_size"), s.access_size.map(|v| v as i64));
            hex(f.key("address"), s.address);
            opt_string(f.key("location_note"), s.location_note.as_deref());
            sanitizer_frames(f.key("stack"), &s.stack);
            sanitizer_frames(f.key("allocation_stack"), &s.allocation_stack);
            sanitizer_frames(f.key("free_stack"), &s.free_stack);
            f.end();
        }
        None => o.key("sanitizer").push_str("null"),
    }
}

fn strings(out: &mut String, items: &[String]) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        string(out, item);
    }
    out.push(']');
}

fn registers_json(out: &mut String, regs: &Registers) {
    let mut f = Object::new(out);
    for name in Registers::NAMES {
        hex(f.key(name), regs.get(name));
    }
    f.end();
}

fn frames_json(out: &mut String, frames: &[Frame]) {
    out.push('[');
    for (i, frame) in frames.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let mut f = Object::new(out);
        number(f.key("number"), Some(frame.number as i64));
        hex(f.key("pc"), Some(frame.pc));
        opt_string(f.key("module"), frame.module.as_deref());
        opt_string(f.key("function"), frame.function.as_deref());
        number(f.key("offset"), Some(frame.offset as i64));
        opt_string(f.key("file"), frame.file.as_deref());
        number(f.key("line"), frame.line.map(i64::from));
        f.key("inlined").push_str(if frame.inlined { "true" } else { "false" });
        f.end();
    }
    out.push(']');
}

fn sanitizer_frames(out: &mut String, frames: &[SanitizerFrame]) {
    out.push('[');
    for (i, frame) in frames.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let mut f = Object::new(out);
        hex(f.key("pc"), Some(frame.address));
        opt_string(f.key("function"), frame.function.as_deref());
        opt_string(f.key("location"), frame.location.as_deref());
        opt_string(f.key("module"), frame.module.as_deref());
        f.end();
    }
    out.push(']');
}

/// The whole result of a triage: every record and the ranked clusters
/// (`rank`, `hash`, `class`, `severity`, `count`, the smallest and the
/// representative input, every input), as one JSON object.
pub fn triage_to_json(records: &[Record], clusters: &[super::cluster::Cluster]) -> String {
    let mut out = String::from("{\"clusters\": [\n");
    for (rank, c) in clusters.iter().enumerate() {
        out.push_str("  ");
        let mut o = Object::new(&mut out);
        number(o.key("rank"), Some(rank as i64 + 1));
        string(o.key("hash"), &c.hash);
        string(o.key("class"), &c.class.id());
        string(o.key("severity"), c.severity.name());
        number(o.key("count"), Some(c.members.len() as i64));
        string(o.key("smallest"), &records[c.smallest].input.to_string_lossy());
        string(o.key("representative"), &records[c.representative].input.to_string_lossy());
        let inputs: Vec<String> = c.members.iter().map(|&i| records[i].input.to_string_lossy().into_owned()).collect();
        strings(o.key("inputs"), &inputs);
        o.end();
        out.push_str(if rank + 1 < clusters.len() { ",\n" } else { "\n" });
    }
    out.push_str("],\n\"records\": ");
    out.push_str(&records_to_json(records));
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        string(&mut out, "a\"b\\c\nd\u{1}");
        assert_eq!(out, r#""a\"b\\c\nd\u0001""#);
    }

    #[test]
    fn a_record_without_analysis() {
        let r = Record {
            input: "in/a".into(),
            size: 3,
            outcome: super::super::run::Outcome::NoCrash,
            exit_code: Some(0),
            exit_signal: None,
            analysis: None,
            elapsed: std::time::Duration::from_millis(2),
        };
        let json = r.to_json();
        assert!(
            json.starts_with(r#"{"input": "in/a", "size": 3, "outcome": "no-crash", "error": null, "exit_code": 0"#)
        );
        assert!(json.ends_with(r#""class": null, "severity": null, "explanation": null, "hash": null}"#));
    }
}
