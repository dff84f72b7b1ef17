//! The core reader on arbitrary bytes: it must answer or refuse, never panic.
#![no_main]

use dbgkit::corefile::CoreFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(core) = CoreFile::parse(data.to_vec()) else { return };
    let _ = (core.pid(), core.process(), core.auxv(), core.executable(), core.signalled_thread());
    let mut buf = [0u8; 64];
    for region in core.memory_map() {
        let _ = core.read_memory(region.start, &mut buf);
        let _ = core.read_memory(region.end.wrapping_sub(8), &mut buf);
    }
    for thread in core.threads() {
        let _ = core.read_memory(thread.registers.rsp, &mut buf);
    }
});
