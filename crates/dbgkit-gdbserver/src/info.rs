//! Small facts for the client: the host and process (lldb's `qHostInfo`
//! and `qProcessInfo`), and a thread's name (`qThreadExtraInfo`).

use crate::target::{tid_of, ServerError, ServerTarget};
use gdbstub::common::{Endianness, Tid};
use gdbstub::target::ext::host_info::{HostInfo, HostInfoResponse};
use gdbstub::target::ext::process_info::{ProcessInfo, ProcessInfoResponse};
use gdbstub::target::ext::thread_extra_info::ThreadExtraInfo;
use std::num::NonZeroUsize;

const TRIPLE: &str = "x86_64-pc-linux-gnu";

impl HostInfo for ServerTarget {
    fn host_info(&self, write_item: &mut dyn FnMut(&HostInfoResponse<'_>)) -> Result<(), ServerError> {
        write_item(&HostInfoResponse::Triple(TRIPLE));
        write_item(&HostInfoResponse::Endianness(Endianness::Little));
        write_item(&HostInfoResponse::PointerSize(8));
        Ok(())
    }
}

impl ProcessInfo for ServerTarget {
    fn process_info(&self, write_item: &mut dyn FnMut(&ProcessInfoResponse<'_>)) -> Result<(), ServerError> {
        if let Some(pid) = self.inferior.as_ref().and_then(|i| NonZeroUsize::new(i.pid as usize)) {
            write_item(&ProcessInfoResponse::Pid(pid));
        }
        write_item(&ProcessInfoResponse::Triple(TRIPLE));
        write_item(&ProcessInfoResponse::Endianness(Endianness::Little));
        write_item(&ProcessInfoResponse::PointerSize(8));
        Ok(())
    }
}

impl ThreadExtraInfo for ServerTarget {
    fn thread_extra_info(&self, tid: Tid, buf: &mut [u8]) -> Result<usize, ServerError> {
        let Some(pid) = self.inferior.as_ref().map(|i| i.pid) else { return Ok(0) };
        let name = std::fs::read_to_string(format!("/proc/{pid}/task/{}/comm", tid_of(tid))).unwrap_or_default();
        let name = name.trim_end().as_bytes();
        let n = name.len().min(buf.len());
        buf[..n].copy_from_slice(&name[..n]);
        Ok(n)
    }
}
