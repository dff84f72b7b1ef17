//! The program's memory as the debugger shows it: reads with its
//! int3s hidden, writes that keep them, the int3s themselves, and the
//! strings the debug events point to.

use super::{Debuggee, INT3, PAGE};
use crate::os::windows::error::WindowsError;
use dbgkit_x86::out_of_line::MAX_INSTRUCTION_LEN;
use std::ffi::c_void;
use windows_sys::Win32::Foundation::GetLastError;
use windows_sys::Win32::System::Diagnostics::Debug::{FlushInstructionCache, ReadProcessMemory, WriteProcessMemory};
use windows_sys::Win32::System::Memory::{
    VirtualProtectEx, PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_NOACCESS, PAGE_READONLY,
    PAGE_READWRITE,
};

impl Debuggee {
    /// Reads memory as the program sees it (the debugger's int3s hidden); the
    /// count read, short when the range runs into unreadable memory.
    pub fn read_memory(&self, address: u64, buf: &mut [u8]) -> usize {
        let count = self.read_raw(address, buf);
        for (&at, &original) in self.breakpoints.range(address..address.saturating_add(count as u64)) {
            buf[(at - address) as usize] = original;
        }
        count
    }

    /// The count of bytes readable from `address`, read into `buf`.
    pub(super) fn read_raw(&self, address: u64, buf: &mut [u8]) -> usize {
        if self.read_exact(address, buf) {
            return buf.len();
        }
        // One unreadable page fails the whole call: read page by page.
        let mut done = 0usize;
        while done < buf.len() {
            let at = address + done as u64;
            let chunk = ((PAGE - at % PAGE) as usize).min(buf.len() - done);
            if !self.read_exact(at, &mut buf[done..done + chunk]) {
                break;
            }
            done += chunk;
        }
        done
    }

    /// Reads all of `buf` from `address`, or nothing.
    pub(super) fn read_exact(&self, address: u64, buf: &mut [u8]) -> bool {
        let mut got = 0usize;
        // SAFETY: `buf` is writable for its length.
        let ok = unsafe {
            ReadProcessMemory(self.process, address as *const c_void, buf.as_mut_ptr().cast(), buf.len(), &mut got)
        };
        ok != 0 && got == buf.len()
    }

    /// Writes memory; where the debugger has an int3, the written byte becomes
    /// the one restored when the breakpoint goes.
    pub fn write_memory(&mut self, address: u64, data: &[u8]) -> Result<(), WindowsError> {
        let mut bytes = data.to_vec();
        let end = address.saturating_add(data.len() as u64);
        for (&at, original) in self.breakpoints.range_mut(address..end) {
            let index = (at - address) as usize;
            *original = bytes[index];
            bytes[index] = INT3;
        }
        self.write_raw(address, &bytes)?;
        // Copies of instructions the write changed are made again.
        let changed: Vec<(u64, u8)> = self
            .breakpoints
            .range(address.saturating_sub(MAX_INSTRUCTION_LEN as u64)..end)
            .map(|(&at, &original)| (at, original))
            .collect();
        for (at, original) in changed {
            self.prepare_out_of_line(at, original);
        }
        Ok(())
    }

    /// Writes bytes as they are (int3s included) and makes the CPU see them.
    pub(super) fn write_raw(&self, address: u64, data: &[u8]) -> Result<(), WindowsError> {
        // gdb probes for the X packet with an empty write, which the API refuses.
        if data.is_empty() {
            return Ok(());
        }
        let mut put = 0usize;
        // SAFETY: `data` is readable for its length.
        let ok = unsafe {
            WriteProcessMemory(self.process, address as *const c_void, data.as_ptr().cast(), data.len(), &mut put)
        };
        if ok == 0 || put != data.len() {
            return Err(WindowsError::Win32 { call: "WriteProcessMemory", code: unsafe { GetLastError() } });
        }
        // SAFETY: plain call on the process handle.
        unsafe { FlushInstructionCache(self.process, address as *const c_void, data.len()) };
        Ok(())
    }

    /// Gives the pages covering `address..address + len` these rights
    /// (`VirtualProtectEx`): none at all is `PAGE_NOACCESS`.
    pub fn protect(&self, address: u64, len: u64, read: bool, write: bool, execute: bool) -> Result<(), WindowsError> {
        let protection = match (execute, write, read) {
            (false, false, false) => PAGE_NOACCESS,
            (false, false, true) => PAGE_READONLY,
            (false, true, _) => PAGE_READWRITE,
            (true, false, false) => PAGE_EXECUTE,
            (true, false, true) => PAGE_EXECUTE_READ,
            (true, true, _) => PAGE_EXECUTE_READWRITE,
        };
        let mut old = 0u32;
        // SAFETY: plain call on the process handle; `old` is writable.
        let ok =
            unsafe { VirtualProtectEx(self.process, address as *const c_void, len as usize, protection, &mut old) };
        if ok == 0 {
            return Err(WindowsError::Win32 { call: "VirtualProtectEx", code: unsafe { GetLastError() } });
        }
        Ok(())
    }

    /// Plants an int3 at `address`.
    pub fn insert_breakpoint(&mut self, address: u64) -> Result<(), WindowsError> {
        if self.breakpoints.contains_key(&address) {
            return Ok(());
        }
        let mut original = [0u8];
        if self.read_raw(address, &mut original) != 1 {
            return Err(WindowsError::Win32 { call: "ReadProcessMemory", code: unsafe { GetLastError() } });
        }
        self.write_raw(address, &[INT3])?;
        self.breakpoints.insert(address, original[0]);
        self.removed_breakpoints.remove(&address);
        self.prepare_out_of_line(address, original[0]);
        Ok(())
    }

    /// Takes the int3 at `address` away; false when there was none.
    pub fn remove_breakpoint(&mut self, address: u64) -> Result<bool, WindowsError> {
        let Some(original) = self.breakpoints.remove(&address) else {
            return Ok(false);
        };
        self.removed_breakpoints.insert(address, original);
        // Its copy stays: a thread may still be running it, and planted
        // again the breakpoint reuses it.
        // While a thread steps off this breakpoint the original is already there.
        if self.step_over.map(|s| s.address) != Some(address) {
            self.write_raw(address, &[original])?;
        }
        Ok(true)
    }

    /// Forgets the breakpoints of memory that is gone (an unloaded DLL's).
    pub(super) fn forget_breakpoints_in(&mut self, range: std::ops::Range<u64>) {
        self.breakpoints.retain(|address, _| !range.contains(address));
        self.removed_breakpoints.retain(|address, _| !range.contains(address));
        self.out_of_line.retain(|address, _| !range.contains(address));
    }

    /// A DLL's name from the pointer to a pointer the debug API gives (which
    /// may be null at either level).
    pub(super) fn image_name(&self, pointer: u64, unicode: bool) -> Option<String> {
        if pointer == 0 {
            return None;
        }
        let mut target = [0u8; 8];
        if self.read_raw(pointer, &mut target) != 8 {
            return None;
        }
        let name_at = u64::from_le_bytes(target);
        if name_at == 0 {
            return None;
        }
        let text = self.debug_string(name_at, 260, unicode);
        let name = text.split('\0').next().unwrap_or_default().to_string();
        (!name.is_empty()).then_some(name)
    }

    /// `length` characters at `address` in the program, ANSI or UTF-16.
    pub(super) fn debug_string(&self, address: u64, length: u16, unicode: bool) -> String {
        let width = if unicode { 2 } else { 1 };
        let mut bytes = vec![0u8; length as usize * width];
        let count = self.read_raw(address, &mut bytes);
        bytes.truncate(count);
        if unicode {
            let units: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
            String::from_utf16_lossy(&units)
        } else {
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }
}
