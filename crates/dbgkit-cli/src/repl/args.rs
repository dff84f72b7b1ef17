//! Small parsers for command arguments: quoted strings, id lists and
//! ranges, WinDbg's `L count`, gdb's `/FMT`.

use anyhow::{bail, Result};

/// Splits a command line on `;` outside quotes and backticks.
/// A WinDbg `$$` comment runs to the next `;` whatever quotes it holds.
pub fn split_commands(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut in_comment = false;
    let chars: Vec<char> = line.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_comment {
            if c == ';' {
                in_comment = false;
                out.push(std::mem::take(&mut current));
            } else {
                current.push(c);
            }
            continue;
        }
        if quote.is_none()
            && c == '$'
            && current.trim().is_empty()
            && chars.get(i + 1) == Some(&'$')
            && !matches!(chars.get(i + 2), Some('<' | '>'))
        {
            in_comment = true;
            current.push(c);
            continue;
        }
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (Some(_), c) => current.push(c),
            (None, '"' | '\'' | '`') => {
                quote = Some(c);
                current.push(c);
            }
            (None, ';') => {
                out.push(std::mem::take(&mut current));
            }
            (None, c) => current.push(c),
        }
    }
    out.push(current);
    out.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

/// Words separated by whitespace; `"..."` is one word (without its quotes).
pub fn words(text: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        if c == '"' {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some('n') => word.push('\n'),
                        Some('t') => word.push('\t'),
                        Some('0') => word.push('\0'),
                        Some(other) => word.push(other),
                        None => word.push('\\'),
                    },
                    c => word.push(c),
                }
            }
            if !closed {
                bail!("unterminated string: {text}");
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        out.push(word);
    }
    Ok(out)
}

/// Splits `EXPR "quoted"` into the expression and the quoted text, if any.
pub fn trailing_quoted(text: &str) -> Result<(String, Option<String>)> {
    let text = text.trim();
    if !text.ends_with('"') {
        return Ok((text.to_string(), None));
    }
    let Some(open) = text[..text.len() - 1].rfind('"') else {
        bail!("unterminated string: {text}");
    };
    Ok((text[..open].trim().to_string(), Some(text[open + 1..text.len() - 1].to_string())))
}

/// Breakpoint ids: `1`, `1 3`, `1,3`, `1-3`, `*` (every one, given as `None`).
pub fn id_list(text: &str) -> Result<Option<Vec<u32>>> {
    let text = text.trim();
    if text == "*" {
        return Ok(None);
    }
    let mut ids = Vec::new();
    for part in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|p| !p.is_empty()) {
        if part == "*" {
            return Ok(None);
        }
        if let Some((a, b)) = part.split_once('-') {
            let (a, b) = (parse_id(a)?, parse_id(b)?);
            if a > b {
                bail!("bad range {part}: {a} is after {b}");
            }
            ids.extend(a..=b);
        } else {
            ids.push(parse_id(part)?);
        }
    }
    if ids.is_empty() {
        bail!("give breakpoint ids: 1, 1-3, 1,4 or *");
    }
    Ok(Some(ids))
}

fn parse_id(text: &str) -> Result<u32> {
    text.trim().parse().map_err(|_| anyhow::anyhow!("bad breakpoint id {text:?}: expected a number"))
}

/// A number as the user types counts: decimal, or `0x` hexadecimal.
pub fn number(text: &str) -> Result<u64> {
    let t = text.trim();
    let parsed = if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16)
    } else if let Some(dec) = t.strip_prefix("0n") {
        dec.parse()
    } else {
        t.parse()
    };
    parsed.map_err(|_| anyhow::anyhow!("bad number {t:?}: expected decimal or 0x hexadecimal"))
}

/// Splits WinDbg's `EXPR L COUNT` (also `LCOUNT`, `L?COUNT`) into the expression and the count text.
pub fn split_length(text: &str) -> (String, Option<String>) {
    let words: Vec<&str> = text.split_whitespace().collect();
    for i in (1..words.len()).rev() {
        let w = words[i];
        let Some(rest) = w.strip_prefix('L').or_else(|| w.strip_prefix('l')) else { continue };
        let rest = rest.strip_prefix('?').unwrap_or(rest);
        if rest.is_empty() && i + 1 < words.len() {
            return (words[..i].join(" "), Some(words[i + 1..].join(" ")));
        }
        if rest.starts_with(|c: char| c.is_ascii_digit()) {
            let mut count = vec![rest];
            count.extend(&words[i + 1..]);
            return (words[..i].join(" "), Some(count.join(" ")));
        }
    }
    (text.trim().to_string(), None)
}

/// Edit distance, for "did you mean".
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut previous = row[0];
        row[0] = i;
        for j in 1..=b.len() {
            let old = row[j];
            row[j] = if a[i - 1] == b[j - 1] { previous } else { 1 + previous.min(row[j]).min(row[j - 1]) };
            previous = old;
        }
    }
    row[b.len()]
}

/// Escapes a literal for a regular expression.
pub fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_punctuation() && c != '_' && c != '@' && c != '!' && c != '<' && c != '>' && c != '\'' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_outside_quotes() {
        assert_eq!(split_commands("bp main; g ;k"), ["bp main", "g", "k"]);
        assert_eq!(split_commands(r#"bp f "a;b"; g"#), [r#"bp f "a;b""#, "g"]);
        assert_eq!(split_commands("$$ don't stop; k; $$>< f.txt"), ["$$ don't stop", "k", "$$>< f.txt"]);
    }

    #[test]
    fn ids_ranges_and_star() {
        assert_eq!(id_list("1 3").unwrap(), Some(vec![1, 3]));
        assert_eq!(id_list("1-3,5").unwrap(), Some(vec![1, 2, 3, 5]));
        assert_eq!(id_list("*").unwrap(), None);
        assert!(id_list("x").is_err());
        assert!(id_list("3-1").is_err());
    }

    #[test]
    fn lengths() {
        assert_eq!(split_length("rsp L 4"), ("rsp".into(), Some("4".into())));
        assert_eq!(split_length("rsp L0x20"), ("rsp".into(), Some("0x20".into())));
        assert_eq!(split_length("rsp+8 l?4"), ("rsp+8".into(), Some("4".into())));
        assert_eq!(split_length("leaf"), ("leaf".into(), None));
        assert_eq!(split_length("main + leaf"), ("main + leaf".into(), None));
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(words(r#"-a 0x10 L 4 "he llo""#).unwrap(), ["-a", "0x10", "L", "4", "he llo"]);
        assert_eq!(trailing_quoted(r#"main "rdi == 3""#).unwrap(), ("main".into(), Some("rdi == 3".into())));
        assert_eq!(trailing_quoted("main").unwrap(), ("main".into(), None));
    }

    #[test]
    fn edit_distance() {
        assert_eq!(distance("bpp", "bp"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
