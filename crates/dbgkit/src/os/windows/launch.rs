//! Starting the program under the debugger.

use super::command_line::command_line;
use super::error::WindowsError;
use std::ffi::OsStr;
use std::os::windows::ffi::OsStrExt;
use windows_sys::Win32::Foundation::{CloseHandle, GetLastError, HANDLE};
use windows_sys::Win32::System::Threading::{
    CreateProcessW, DEBUG_ONLY_THIS_PROCESS, PROCESS_INFORMATION, STARTUPINFOW,
};

/// The process just created, stopped before its first instruction.
pub struct Launched {
    pub process: HANDLE,
    pub pid: u32,
}

/// Creates `args[0]` with `args[1..]` as a process debugged by this thread
/// (only it: children of the program are not debugged). Every later debug
/// call for the process must come from this same thread.
pub fn launch(args: &[String]) -> Result<Launched, WindowsError> {
    let line = command_line(args);
    let mut wide: Vec<u16> = OsStr::new(&line).encode_wide().chain(Some(0)).collect();
    let mut startup: STARTUPINFOW = unsafe { std::mem::zeroed() };
    startup.cb = std::mem::size_of::<STARTUPINFOW>() as u32;
    let mut info: PROCESS_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: every pointer is valid for the call; the command line is a
    // writable, NUL-terminated buffer as CreateProcessW requires.
    let ok = unsafe {
        CreateProcessW(
            std::ptr::null(),
            wide.as_mut_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            0,
            DEBUG_ONLY_THIS_PROCESS,
            std::ptr::null(),
            std::ptr::null(),
            &startup,
            &mut info,
        )
    };
    if ok == 0 {
        return Err(WindowsError::Launch { program: args[0].clone(), code: unsafe { GetLastError() } });
    }
    // The debug events bring their own thread handle.
    unsafe { CloseHandle(info.hThread) };
    Ok(Launched { process: info.hProcess, pid: info.dwProcessId })
}
