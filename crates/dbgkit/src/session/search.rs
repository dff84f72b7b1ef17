//! Searching a process's memory for a byte pattern.

use super::Session;
use crate::error::{Error, Result};
use std::ops::Range;

/// Bytes read from the target at a time.
const CHUNK: usize = 4 << 20;

/// Start offsets of `pattern` in `haystack` (overlapping matches included).
fn find_all(haystack: &[u8], pattern: &[u8], mut found: impl FnMut(usize)) {
    let first = pattern[0];
    let last_start = match haystack.len().checked_sub(pattern.len()) {
        Some(n) => n,
        None => return,
    };
    let mut at = 0;
    while at <= last_start {
        // Find the first byte quickly, then compare the rest.
        match haystack[at..=last_start].iter().position(|&b| b == first) {
            Some(offset) => {
                let start = at + offset;
                if &haystack[start..start + pattern.len()] == pattern {
                    found(start);
                }
                at = start + 1;
            }
            None => return,
        }
    }
}

impl Session {
    /// Every address where `pattern` occurs, in `range` or (with `None`) in
    /// every readable mapping, keeping only addresses that are multiples of
    /// `alignment` (1 for any). Breakpoint bytes read as the original bytes.
    ///
    /// ```no_run
    /// # let mut session = dbgkit::Session::new(); let pid = 1;
    /// let hits = session.search_memory(pid, b"password", None, 1)?;
    /// # Ok::<(), dbgkit::Error>(())
    /// ```
    pub fn search_memory(
        &mut self,
        pid: i32,
        pattern: &[u8],
        range: Option<Range<u64>>,
        alignment: u64,
    ) -> Result<Vec<u64>> {
        if pattern.is_empty() {
            return Err(Error::InvalidArgument("cannot search for an empty pattern".into()));
        }
        if alignment == 0 {
            return Err(Error::InvalidArgument("the alignment must be at least 1".into()));
        }
        let regions: Vec<Range<u64>> = self
            .memory_map(pid)?
            .into_iter()
            .filter(|r| r.readable && r.path != "[vvar]" && r.path != "[vvar_vclock]" && r.path != super::SCRATCH_NAME)
            .filter_map(|r| match &range {
                Some(want) => {
                    let start = r.start.max(want.start);
                    let end = r.end.min(want.end);
                    (start < end).then_some(start..end)
                }
                None => Some(r.start..r.end),
            })
            .collect();
        let mut found = Vec::new();
        let mut buf = vec![0u8; CHUNK + pattern.len()];
        for region in regions {
            let mut at = region.start;
            while at < region.end {
                // Overlap chunks by the pattern's length so no match is cut in two.
                let want = ((region.end - at) as usize).min(CHUNK + pattern.len() - 1);
                let got = self.read_memory_partial(pid, at, &mut buf[..want])?;
                if got == 0 {
                    break;
                }
                find_all(&buf[..got], pattern, |offset| {
                    let address = at + offset as u64;
                    if offset < CHUNK && address.is_multiple_of(alignment) {
                        found.push(address);
                    }
                });
                if got < want {
                    break;
                }
                at += CHUNK as u64;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::find_all;

    #[test]
    fn finds_overlapping_matches_and_edges() {
        let mut hits = Vec::new();
        find_all(b"aaab aab", b"aa", |o| hits.push(o));
        assert_eq!(hits, vec![0, 1, 5]);
        let mut hits = Vec::new();
        find_all(b"ab", b"abc", |o| hits.push(o));
        assert!(hits.is_empty());
        let mut hits = Vec::new();
        find_all(b"xyz", b"z", |o| hits.push(o));
        assert_eq!(hits, vec![2]);
    }
}
