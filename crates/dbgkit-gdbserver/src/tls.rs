//! `qGetTLSAddr`: where a thread's copy of a thread-local variable lives,
//! computed as libthread_db would: the thread's DTV (found from its thread
//! pointer, `fs_base`), indexed by the module's TLS module id (from its
//! `link_map`), with the field offsets glibc publishes for debuggers in its
//! `_thread_db_*` descriptors.

use crate::target::ServerTarget;

/// A TLS block not allocated yet (`TLS_DTV_UNALLOCATED`).
const UNALLOCATED: u64 = u64::MAX;
/// `sizeof(dtv_t)` on x86_64: a pointer and a "to free" pointer.
const DTV_ENTRY: u64 = 16;

impl ServerTarget {
    /// The byte offset glibc gives for a `_thread_db_*` field descriptor
    /// (three 32-bit words: size in bits, count, offset).
    /// In a static program they are the executable's own symbols.
    fn thread_db_offset(&mut self, pid: i32, name: &str) -> Option<u64> {
        let address =
            self.session.lookup(pid, &format!("libc.so.6!{name}")).or_else(|_| self.session.lookup(pid, name)).ok()?;
        let mut words = [0u8; 12];
        self.session.read_memory(pid, address, &mut words).ok()?;
        Some(u32::from_le_bytes(words[8..12].try_into().expect("12 bytes")) as u64)
    }

    fn read_word(&self, pid: i32, address: u64) -> Option<u64> {
        let mut word = [0u8; 8];
        self.session.read_memory(pid, address, &mut word).ok()?;
        Some(u64::from_le_bytes(word))
    }

    /// The address of `offset` in the TLS block of module `lm` for thread
    /// `tid` of process `pid`; `lm` 0 is a static program, whose executable
    /// is module 1.
    pub fn tls_address(&mut self, pid: i32, tid: i32, offset: u64, lm: u64) -> Result<u64, String> {
        let modid_at = self
            .thread_db_offset(pid, "_thread_db_link_map_l_tls_modid")
            .ok_or("glibc's debugger descriptors (_thread_db_*) are not available")?;
        let dtv_at = self.thread_db_offset(pid, "_thread_db_pthread_dtvp").unwrap_or(8);
        let thread_pointer = self.session.registers(pid, tid).map_err(|e| e.to_string())?.fs_base;
        let dtv = self.read_word(pid, thread_pointer + dtv_at).ok_or("cannot read the thread's DTV pointer")?;
        let modid = match lm {
            0 => 1,
            lm => self.read_word(pid, lm + modid_at).ok_or("cannot read the module's TLS id")?,
        };
        if modid == 0 {
            return Err("the module has no thread-local storage".into());
        }
        let block = self.read_word(pid, dtv + modid * DTV_ENTRY).ok_or("cannot read the DTV entry")?;
        if block == UNALLOCATED || block == 0 {
            return Err("the thread has not allocated this module's TLS block yet".into());
        }
        Ok(block + offset)
    }
}
