//! An ELF core file as a read-only target: threads, registers, memory and
//! the memory map come from the core; nothing runs, nothing is written.

use super::*;
use crate::corefile::CoreFile;

/// A core file, opened for post-mortem debugging.
pub(crate) struct CoreTarget {
    core: CoreFile,
}

impl CoreTarget {
    /// Opens `path`; `executable` names the program when the core's own
    /// record of it (its file mappings) is not what should be used.
    pub(crate) fn open(path: &std::path::Path, executable: Option<&std::path::Path>) -> Result<CoreTarget> {
        let mut core = CoreFile::open(path)?;
        if let Some(exe) = executable {
            if !exe.is_file() {
                return Err(Error::ProgramNotFound(exe.to_path_buf()));
            }
            core.set_executable(exe);
        }
        Ok(CoreTarget { core })
    }

    /// The thread the kernel (or the writer) recorded as receiving the signal.
    pub(crate) fn signalled_thread(&self) -> i32 {
        self.core.signalled_thread().tid
    }

    fn thread(&self, tid: i32) -> Result<&crate::corefile::CoreThread> {
        self.core.thread(tid).ok_or(Error::NoSuchThread { pid: self.core.pid(), tid })
    }
}

impl Target for CoreTarget {
    fn kind(&self) -> &'static str {
        "core file"
    }

    fn pid(&self) -> i32 {
        self.core.pid()
    }

    fn thread_ids(&self) -> Result<Vec<i32>> {
        Ok(self.core.threads().iter().map(|t| t.tid).collect())
    }

    fn read_memory(&self, address: u64, buf: &mut [u8]) -> usize {
        self.core.read_memory(address, buf)
    }

    fn memory_map(&self) -> Result<Vec<MemoryRegion>> {
        Ok(self.core.memory_map())
    }

    fn registers(&self, tid: i32) -> Result<Registers> {
        Ok(self.thread(tid)?.registers)
    }

    fn fp_registers(&self, tid: i32) -> Result<FpRegisters> {
        self.thread(tid)?.fp_registers.ok_or_else(|| not_supported("x87/SSE registers (not in this core)", self.kind()))
    }

    fn xstate(&self, tid: i32) -> Result<Vec<u8>> {
        self.thread(tid)?
            .xstate
            .clone()
            .ok_or_else(|| not_supported("extended registers (not in this core)", self.kind()))
    }

    fn signal_info(&self, tid: i32) -> Result<SignalInfo> {
        let t = self.thread(tid)?;
        Ok(match &t.siginfo {
            Some(info) => {
                SignalInfo { signal: info.signal, code: info.code, address: info.fault_address, nt_status: None }
            }
            None => SignalInfo { signal: t.signal, ..Default::default() },
        })
    }

    fn image(&self) -> Result<Image> {
        let executable =
            self.core.executable().map(std::path::Path::to_path_buf).ok_or_else(|| Error::BadTargetData {
                what: format!("core file {}", self.core.path().display()),
                reason: "it does not say which program it is: name the program too".into(),
            })?;
        let raw_auxv = self.core.auxv().to_bytes();
        Ok(Image { auxv: Auxv::parse(&raw_auxv), executable, raw_auxv, pe_base: None })
    }

    fn process_info(&self) -> Result<crate::corefile::ProcessInfo> {
        Ok(self
            .core
            .process()
            .cloned()
            .unwrap_or_else(|| crate::corefile::ProcessInfo { pid: self.core.pid(), ..Default::default() }))
    }

    fn signal_masks(&self, tid: i32) -> (u64, u64) {
        self.core.thread(tid).map(|t| (t.pending_signals, t.blocked_signals)).unwrap_or((0, 0))
    }
}
