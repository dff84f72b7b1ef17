//! WinDbg's wildcard patterns (`*` any text, `?` one character), as used
//! by `x counter!b*` and PyDbgEng's `GetSymbols`: matched directly, or
//! turned into the anchored regular expression the symbol search takes.

/// Whether `text` matches the whole of `pattern`.
///
/// ```
/// assert!(dbgkit::wildcard::matches("libc*", "libc.so.6"));
/// assert!(!dbgkit::wildcard::matches("b?", "bump"));
/// ```
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative, with one backtrack point: linear space, no recursion on long names.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some('?') => {
                pi += 1;
                ti += 1;
            }
            Some(&c) if c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The anchored regular expression that matches what `pattern` matches.
///
/// ```
/// assert_eq!(dbgkit::wildcard::to_regex("b*p?"), "^b.*p.$");
/// ```
pub fn to_regex(pattern: &str) -> String {
    let mut out = String::from("^");
    for c in pattern.chars() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            c if c.is_ascii_punctuation() && !matches!(c, '_' | '@' | '!' | '<' | '>' | '\'') => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_question_marks() {
        assert!(matches("*", ""));
        assert!(matches("*!malloc", "libc.so.6!malloc"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXbYY"));
        assert!(matches("??", "ab"));
        assert!(!matches("??", "abc"));
        assert_eq!(to_regex("std::vec*"), "^std\\:\\:vec.*$");
    }
}
