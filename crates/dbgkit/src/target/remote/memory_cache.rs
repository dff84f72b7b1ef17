//! Memory read while the target is stopped is kept until it runs again: a
//! stack walk or a disassembly reads a few bytes at a time, and each read
//! would otherwise cost a round trip to the stub. Lines are 1 KiB, aligned,
//! so none crosses a page; a line the stub could read only in part keeps
//! what it got.

use std::collections::HashMap;

const LINE: u64 = 1024;

/// Reads from the stub: the count of bytes read.
pub type Fetch<'a, E> = dyn FnMut(u64, &mut [u8]) -> Result<usize, E> + 'a;

/// Lines of memory read since the target last ran.
#[derive(Debug, Default)]
pub struct MemoryCache {
    lines: HashMap<u64, Vec<u8>>,
}

impl MemoryCache {
    /// Reads through the cache; `fetch` reads from the stub (returns the
    /// count read). Reads larger than a line go straight to the stub.
    pub fn read<E>(&mut self, address: u64, buf: &mut [u8], fetch: &mut Fetch<'_, E>) -> Result<usize, E> {
        if buf.len() as u64 > LINE {
            return fetch(address, buf);
        }
        let mut done = 0;
        while done < buf.len() {
            let at = address.wrapping_add(done as u64);
            let line = at - at % LINE;
            let bytes = match self.lines.entry(line) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let mut bytes = vec![0u8; LINE as usize];
                    let n = fetch(line, &mut bytes)?;
                    bytes.truncate(n);
                    e.insert(bytes)
                }
            };
            let start = (at - line) as usize;
            if start >= bytes.len() {
                break;
            }
            let n = (bytes.len() - start).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&bytes[start..start + n]);
            done += n;
            if start + n < LINE as usize && done < buf.len() {
                // The line ended early: the memory stops being readable there.
                break;
            }
        }
        Ok(done)
    }

    /// Forgets the lines a write touches.
    pub fn written(&mut self, address: u64, len: usize) {
        let end = address.saturating_add(len as u64);
        self.lines.retain(|&line, _| line + LINE <= address || line >= end);
    }

    /// Forgets everything (the target ran).
    pub fn clear(&mut self) {
        self.lines.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_reads_share_lines_and_partial_lines_end_reads() {
        let mut cache = MemoryCache::default();
        let fetches = std::cell::RefCell::new(Vec::new());
        // Memory readable below 0x2200 only; each byte is its address's low byte.
        let mut fetch = |at: u64, buf: &mut [u8]| -> Result<usize, ()> {
            fetches.borrow_mut().push(at);
            let n = (0x2200u64.saturating_sub(at) as usize).min(buf.len());
            for (i, b) in buf[..n].iter_mut().enumerate() {
                *b = (at + i as u64) as u8;
            }
            Ok(n)
        };
        let mut word = [0u8; 8];
        for step in 0..16 {
            assert_eq!(cache.read(0x1000 + step * 8, &mut word, &mut fetch), Ok(8));
        }
        assert_eq!(word[0], 0x78);
        // Across two lines: both fetched once.
        let mut across = [0u8; 16];
        assert_eq!(cache.read(0x13f8, &mut across, &mut fetch), Ok(16));
        assert_eq!(across[8], 0x00);
        // A line that stops being readable ends the read there.
        let mut tail = [0u8; 32];
        assert_eq!(cache.read(0x21f0, &mut tail, &mut fetch), Ok(16));
        cache.written(0x1004, 1);
        assert_eq!(cache.read(0x1000, &mut word, &mut fetch), Ok(8));
        assert_eq!(*fetches.borrow(), [0x1000, 0x1400, 0x2000, 0x1000]);
        cache.clear();
        let mut big = vec![0u8; 4096];
        assert_eq!(cache.read(0, &mut big, &mut fetch), Ok(4096));
    }
}
