//! The little XML the protocol uses (target descriptions, library and
//! thread lists): elements and their attributes, nothing more. Comments,
//! declarations and text are skipped; entities in attribute values are
//! decoded. Garbage gives fewer elements, never a panic.

/// One element's start tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
}

impl Element {
    /// The value of an attribute.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// A numeric attribute, decimal or `0x` hex.
    pub fn number(&self, name: &str) -> Option<u64> {
        let v = self.get(name)?.trim();
        match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => v.parse().ok(),
        }
    }
}

/// Every start (or empty) tag of a document, in order.
pub fn elements(text: &str) -> Vec<Element> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        if let Some(after) = rest.strip_prefix("!--") {
            rest = after.find("-->").map(|end| &after[end + 3..]).unwrap_or("");
            continue;
        }
        let Some(close) = tag_end(rest) else { break };
        let tag = &rest[..close];
        rest = &rest[close + 1..];
        if tag.starts_with('/') || tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(e) = parse_tag(tag.trim_end_matches('/')) {
            out.push(e);
        }
    }
    out
}

/// Where a tag ends: the first `>` outside quotes.
fn tag_end(text: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn parse_tag(tag: &str) -> Option<Element> {
    let tag = tag.trim();
    let name_end = tag.find(|c: char| c.is_whitespace()).unwrap_or(tag.len());
    let name = &tag[..name_end];
    if name.is_empty() {
        return None;
    }
    let mut attributes = Vec::new();
    let mut rest = tag[name_end..].trim_start();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let key = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let quote = after.chars().next().filter(|&c| c == '"' || c == '\'')?;
        let value_end = after[1..].find(quote)?;
        attributes.push((key.to_string(), decode_entities(&after[1..1 + value_end])));
        rest = after[1 + value_end + 1..].trim_start();
    }
    Some(Element { name: name.to_string(), attributes })
}

fn decode_entities(value: &str) -> String {
    if !value.contains('&') {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';') else { break };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_and_attributes() {
        let doc = r#"<?xml version="1.0"?><!-- a > comment --><!DOCTYPE target SYSTEM "gdb-target.dtd">
            <target><xi:include href="64bit-core.xml"/>
            <reg name="rax" bitsize="64" type="int64" regnum="0"/>
            <library name="/lib/a&amp;b.so" l_addr='0x7f00'></library></target>"#;
        let e = elements(doc);
        let names: Vec<&str> = e.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["target", "xi:include", "reg", "library"]);
        assert_eq!(e[1].get("href"), Some("64bit-core.xml"));
        assert_eq!(e[2].number("bitsize"), Some(64));
        assert_eq!(e[3].get("name"), Some("/lib/a&b.so"));
        assert_eq!(e[3].number("l_addr"), Some(0x7f00));
    }

    #[test]
    fn garbage_gives_fewer_elements() {
        assert!(elements("<reg name=\"x").is_empty());
        assert_eq!(elements("<a b=c><d/>").len(), 1, "an unquoted value spoils only its own tag");
        assert_eq!(decode_entities("a&bogus;b&#65;"), "a&bogus;bA");
        for s in ["<", "<<>>", "<a '>", "<!--", "&", "<a b='&#xffffffff;'/>"] {
            let _ = elements(s);
        }
    }
}
