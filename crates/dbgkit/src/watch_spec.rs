//! Watch specifications as people type them: WinDbg's `ba` form (`w8
//! counter`: an access letter, a size, an expression) and access names
//! (`write`, `read_write`, `execute`). The CLI's `ba`, `trace --watch` and
//! Python parse them here.

use crate::breakpoints::hardware::WatchAccess;
use crate::error::{Error, Result};

/// `w8 counter`: what to watch, how, and how many bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchSpec {
    pub access: WatchAccess,
    pub size: u64,
    /// The address, as an expression still to evaluate.
    pub expression: String,
}

impl WatchSpec {
    /// Parses `ACCESS+SIZE EXPR`: `w` write, `r` read or write, `e`
    /// execute, then the size in bytes.
    ///
    /// ```
    /// let spec = dbgkit::WatchSpec::parse("w8 counter").unwrap();
    /// assert_eq!((spec.access, spec.size, spec.expression.as_str()), (dbgkit::WatchAccess::Write, 8, "counter"));
    /// ```
    pub fn parse(text: &str) -> Result<WatchSpec> {
        let bad = |why: &str| {
            Error::InvalidArgument(format!(
                "bad watch {text:?}: {why}; expected ACCESS+SIZE EXPR, e.g. `w8 counter` \
                 (w write, r read/write, e execute; size 1, 2, 4 or 8)"
            ))
        };
        let (kind, expression) =
            text.trim().split_once(char::is_whitespace).ok_or_else(|| bad("no expression after the access"))?;
        let mut letters = kind.chars();
        let access = match letters.next() {
            Some('w') => WatchAccess::Write,
            Some('r') => WatchAccess::ReadWrite,
            Some('e') => WatchAccess::Execute,
            _ => return Err(bad("the access is w, r or e")),
        };
        let size: u64 = letters.as_str().parse().map_err(|_| bad("the size is a number of bytes"))?;
        if size == 0 {
            return Err(bad("the size must be at least 1"));
        }
        let expression = expression.trim().to_string();
        Ok(WatchSpec { access, size, expression })
    }
}

impl WatchAccess {
    /// An access by name: `w`/`write`, `rw`/`read_write`/`access`,
    /// `x`/`e`/`execute` (any case).
    pub fn from_name(text: &str) -> Result<WatchAccess> {
        match text.trim().to_ascii_lowercase().as_str() {
            "w" | "write" => Ok(WatchAccess::Write),
            "r" | "rw" | "read_write" | "readwrite" | "read/write" | "read-write" | "access" => {
                Ok(WatchAccess::ReadWrite)
            }
            "x" | "e" | "execute" => Ok(WatchAccess::Execute),
            _ => Err(Error::InvalidArgument(format!(
                "unknown access {text:?}: use \"write\", \"read_write\" or \"execute\""
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windbg_forms_and_their_errors() {
        let spec = WatchSpec::parse("r4 rsp + 8").unwrap();
        assert_eq!((spec.access, spec.size, spec.expression.as_str()), (WatchAccess::ReadWrite, 4, "rsp + 8"));
        for bad in ["w8", "q8 x", "wx x", "w0 x", ""] {
            assert!(WatchSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn access_names() {
        assert_eq!(WatchAccess::from_name("Write").unwrap(), WatchAccess::Write);
        assert_eq!(WatchAccess::from_name("read_write").unwrap(), WatchAccess::ReadWrite);
        assert!(WatchAccess::from_name("sideways").is_err());
    }
}
