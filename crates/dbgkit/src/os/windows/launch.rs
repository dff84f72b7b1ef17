//! Starting the program under the debugger.

use super::command_line::command_line;
use super::error::WindowsError;
use std::ffi::OsStr;
use std::os::windows::ffi::OsStrExt;
use windows_sys::Win32::Foundation::{CloseHandle, GetLastError, HANDLE};
use windows_sys::Win32::System::Threading::{
    CreateProcessW, CREATE_UNICODE_ENVIRONMENT, DEBUG_ONLY_THIS_PROCESS, PROCESS_INFORMATION, STARTUPINFOW,
};

/// How to start a program beyond its command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LaunchOptions {
    /// An environment block (`environment.rs`); `None`: the debugger's own.
    pub environment: Option<Vec<u16>>,
    /// The program's working directory; `None`: the debugger's.
    pub directory: Option<std::path::PathBuf>,
}

/// The process just created, stopped before its first instruction.
pub struct Launched {
    pub process: HANDLE,
    pub pid: u32,
}

/// Creates `args[0]` with `args[1..]` as a process debugged by this thread
/// (only it: children of the program are not debugged). Every later debug
/// call for the process must come from this same thread.
pub fn launch(args: &[String], options: &LaunchOptions) -> Result<Launched, WindowsError> {
    let line = command_line(args);
    let mut wide: Vec<u16> = OsStr::new(&line).encode_wide().chain(Some(0)).collect();
    let directory: Option<Vec<u16>> =
        options.directory.as_ref().map(|d| d.as_os_str().encode_wide().chain(Some(0)).collect());
    let environment = options.environment.as_ref().map_or(std::ptr::null(), |block| block.as_ptr().cast());
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
            DEBUG_ONLY_THIS_PROCESS | CREATE_UNICODE_ENVIRONMENT,
            environment,
            directory.as_ref().map_or(std::ptr::null(), |d| d.as_ptr()),
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
