//! The address space a core describes: its `PT_LOAD` segments, and for the
//! pages a segment leaves out of the file (`p_filesz < p_memsz`), the file
//! mapped there (`NT_FILE`) or, for anonymous memory, zeros.

use super::elf::{Bytes, Segment};
use super::MappedFile;
use std::cell::OnceCell;
use std::fs::File;
use std::path::PathBuf;

const PAGE: u64 = 4096;

pub(crate) struct CoreMemory {
    /// `PT_LOAD` segments by address.
    loads: Vec<Segment>,
    /// File-backed mappings by address, with where to read each one's bytes.
    files: Vec<(MappedFile, PathBuf)>,
    /// Each mapped file, opened on first use (`None`: not readable here).
    opened: Vec<OnceCell<Option<(File, u64)>>>,
}

impl CoreMemory {
    pub(crate) fn new(mut loads: Vec<Segment>, files: &[MappedFile]) -> CoreMemory {
        loads.sort_by_key(|s| s.vaddr);
        let mut files: Vec<(MappedFile, PathBuf)> = files.iter().map(|f| (f.clone(), PathBuf::from(&f.path))).collect();
        files.sort_by_key(|(f, _)| f.start);
        let opened = files.iter().map(|_| OnceCell::new()).collect();
        CoreMemory { loads, files, opened }
    }

    pub(crate) fn loads(&self) -> &[Segment] {
        &self.loads
    }

    /// Reads the bytes of mappings of `from` in `to` instead (an executable moved since the crash).
    pub(crate) fn redirect(&mut self, from: &str, to: PathBuf) {
        for (i, (f, source)) in self.files.iter_mut().enumerate() {
            if f.path == from {
                *source = to.clone();
                self.opened[i] = OnceCell::new();
            }
        }
    }

    /// The file mapping that holds `address`, by index.
    pub(crate) fn file_at(&self, address: u64) -> Option<usize> {
        let i = self.files.partition_point(|(f, _)| f.start <= address).checked_sub(1)?;
        (address < self.files[i].0.end).then_some(i)
    }

    pub(crate) fn file(&self, index: usize) -> &MappedFile {
        &self.files[index].0
    }

    fn segment_at(&self, address: u64) -> Option<&Segment> {
        let i = self.loads.partition_point(|s| s.vaddr <= address).checked_sub(1)?;
        let s = &self.loads[i];
        (address < s.end()).then_some(s)
    }

    /// Reads what is readable from `address` on; returns how many bytes.
    pub(crate) fn read(&self, bytes: &Bytes, address: u64, buf: &mut [u8]) -> usize {
        let mut done = 0;
        while done < buf.len() {
            let Some(at) = address.checked_add(done as u64) else { break };
            let Some(segment) = self.segment_at(at) else { break };
            let want = ((segment.end() - at) as usize).min(buf.len() - done);
            let n = self.read_in_segment(bytes, segment, at, &mut buf[done..done + want]);
            done += n;
            if n < want {
                break;
            }
        }
        done
    }

    fn read_in_segment(&self, bytes: &Bytes, segment: &Segment, at: u64, out: &mut [u8]) -> usize {
        let inside = at - segment.vaddr;
        let mut done = 0;
        if inside < segment.filesz {
            let stored = ((segment.filesz - inside) as usize).min(out.len());
            if bytes.read_exact_at(&mut out[..stored], segment.offset + inside).is_err() {
                return 0;
            }
            done = stored;
        }
        while done < out.len() {
            let here = at + done as u64;
            let rest = &mut out[done..];
            match self.file_at(here) {
                Some(index) => {
                    let n = self.read_mapped_file(index, here, rest);
                    done += n;
                    if n < rest.len().min((self.files[index].0.end - here) as usize) {
                        break;
                    }
                }
                None => {
                    // Anonymous memory the core left out was never written: zeros.
                    let next_file = self.files.iter().map(|(f, _)| f.start).find(|&s| s > here).unwrap_or(u64::MAX);
                    let n = ((next_file - here) as usize).min(rest.len());
                    rest[..n].fill(0);
                    done += n;
                }
            }
        }
        done
    }

    /// Reads from the file mapped at `address`; past the file's end, the
    /// rest of its last page reads as zeros and the pages after it fail, as
    /// in the process.
    fn read_mapped_file(&self, index: usize, address: u64, out: &mut [u8]) -> usize {
        let (mapping, source) = &self.files[index];
        let opened = self.opened[index].get_or_init(|| {
            let file = File::open(source).ok()?;
            let len = file.metadata().ok()?.len();
            Some((file, len))
        });
        let Some((file, file_len)) = opened else {
            return 0;
        };
        let Some(offset) = mapping.offset.checked_add(address - mapping.start) else { return 0 };
        let mapped_end = file_len.div_ceil(PAGE) * PAGE;
        let want = ((mapping.end - address) as usize).min(out.len()).min(mapped_end.saturating_sub(offset) as usize);
        let stored = want.min(file_len.saturating_sub(offset) as usize);
        let mut done = 0;
        while done < stored {
            match crate::os::file_at::read_at(file, &mut out[done..stored], offset + done as u64) {
                Ok(0) | Err(_) => return done,
                Ok(n) => done += n,
            }
        }
        out[stored..want].fill(0);
        want
    }
}
