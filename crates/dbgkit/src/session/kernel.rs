//! A machine behind a stub, seen as its kernel: `vmlinux` placed where
//! KASLR put it, the kernel's modules as modules, a memory map made from
//! them (the stub knows none), the process list, and `reload_kernel`
//! (WinDbg's `.reload`) once the kernel has moved on.

use super::image::new_process;
use super::remote::{ConnectOptions, RemoteProcess};
use super::Session;
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::kernel::{lists, slide, KernelImage, KernelTypes, ModuleEntry};
use crate::module::Module;
use crate::process::ThreadState;
use crate::target::remote::{Connected, RemoteTarget};
use crate::target::{MemoryRegion, Target};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The name the kernel's image has among the modules (`vmlinux!__x64_sys_getpid`).
pub const KERNEL_MODULE: &str = "vmlinux";

/// What the session knows of a machine's kernel.
pub(crate) struct KernelState {
    image: Option<KernelImage>,
    placement: KernelPlacement,
    /// Read from vmlinux's DWARF the first time a list is asked for.
    types: Option<std::result::Result<KernelTypes, String>>,
}

/// Where the kernel is and how that was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelPlacement {
    /// What KASLR added to every link-time address; `None` while it cannot
    /// be known (the kernel has not started: addresses are taken unmoved).
    pub slide: Option<u64>,
    /// How the slide was found, or why it was not, in words.
    pub how: String,
}

/// One process of the kernel's task list (WinDbg's `!process 0 0`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelProcess {
    /// Its `task_struct`.
    pub address: u64,
    pub pid: i32,
    pub parent_pid: i32,
    /// `comm`: the name the kernel keeps (16 bytes at most).
    pub comm: String,
    /// Whether it has a user address space (kernel threads have none).
    pub user: bool,
}

/// What `reload_kernel` changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelReload {
    pub placement: Option<KernelPlacement>,
    pub loaded: Vec<Module>,
    pub unloaded: Vec<Module>,
}

impl Session {
    /// Takes a machine into the session: its CPUs are the threads of one
    /// process, `vmlinux` (or the `System.map`) is its first module, its
    /// loaded modules the others.
    pub(super) fn adopt_machine(
        &mut self,
        target: RemoteTarget,
        connected: &Connected,
        options: &ConnectOptions,
    ) -> Result<i32> {
        let pid = connected.pid;
        let image = match (&options.symbols, &options.system_map) {
            (None, None) => None,
            (symbols, map) => Some(KernelImage::open(symbols.as_deref(), map.as_deref())?),
        };
        if let Some(image) = &image {
            target.set_executable(image.symbol_file.clone());
        }
        let placement = match &image {
            Some(image) => find_slide(&target, image, connected.current_thread),
            None => KernelPlacement { slide: None, how: "no kernel symbols were given".into() },
        };
        let mut tids = target.thread_ids()?;
        tids.sort_unstable();
        let threads: BTreeMap<i32, ThreadState> = tids.iter().map(|&t| (t, ThreadState::new_stopped())).collect();
        for &tid in &tids {
            self.owner.insert(tid, pid);
        }
        self.sources.push(target.events());
        let source = Some(self.sources.len() - 1);
        let path = image.as_ref().map(|i| i.symbol_file.clone()).unwrap_or_default();
        let process =
            new_process(pid, path.clone(), false, threads, Box::new(target.clone()), source, Default::default());
        self.processes.insert(pid, process);
        let state = KernelState { image, placement, types: None };
        self.remotes.insert(pid, RemoteProcess { target: target.clone(), kernel: Some(state) });
        // The stub runs on when the debugger goes: a machine is never killed by leaving it.
        self.process_mut(pid)?.kill_on_exit = false;
        let kernel = self.kernel_module(pid);
        let (base, size, entry) = match &kernel {
            Some((m, entry)) => (m.base, m.size, *entry),
            None => (0, 0, 0),
        };
        if let Some((m, _)) = kernel {
            self.process_mut(pid)?.modules.push(m);
        }
        self.queue_event(pid, tids[0], EventKind::ProcessCreated { image: path, base, size, entry });
        for &tid in tids.iter().skip(1) {
            let start = self.rip_of(pid, tid).unwrap_or(0);
            self.queue_event(pid, tid, EventKind::ThreadCreated { start });
        }
        let modules = self.read_kernel_modules(pid).unwrap_or_default();
        for m in modules {
            self.process_mut(pid)?.modules.push(m.clone());
            self.queue_event(pid, tids[0], EventKind::ModuleLoaded(m));
        }
        self.update_kernel_memory_map(pid)?;
        let current = if tids.contains(&connected.current_thread) { connected.current_thread } else { tids[0] };
        self.queue_event(pid, current, EventKind::BreakIn);
        Ok(pid)
    }

    fn kernel_state(&self, pid: i32) -> Result<&KernelState> {
        self.remote(pid)?.kernel.as_ref().ok_or_else(|| crate::target::not_supported("kernel views", "a user process"))
    }

    fn kernel_state_mut(&mut self, pid: i32) -> Result<&mut KernelState> {
        self.process(pid)?;
        self.remotes
            .get_mut(&pid)
            .and_then(|r| r.kernel.as_mut())
            .ok_or_else(|| crate::target::not_supported("kernel views", "a user process"))
    }

    /// Where the kernel of a machine is, and how that was found.
    pub fn kernel_placement(&self, pid: i32) -> Result<KernelPlacement> {
        Ok(self.kernel_state(pid)?.placement.clone())
    }

    /// The `vmlinux` module at the current slide, and the kernel's entry point.
    fn kernel_module(&self, pid: i32) -> Option<(Module, u64)> {
        let state = self.kernel_state(pid).ok()?;
        let image = state.image.as_ref()?;
        let slide = state.placement.slide.unwrap_or(0);
        let (text, end) = image.extent();
        let entry = image.address("startup_64").unwrap_or(text).wrapping_add(slide);
        let module = Module {
            name: KERNEL_MODULE.into(),
            path: image.symbol_file.clone(),
            base: text.wrapping_add(slide),
            size: end - text,
            bias: slide,
            dynamic: 0,
        };
        Some((module, entry))
    }

    /// vmlinux's structure layouts, read once.
    fn kernel_types(&mut self, pid: i32) -> Result<KernelTypes> {
        let state = self.kernel_state_mut(pid)?;
        if state.types.is_none() {
            let vmlinux = state.image.as_ref().and_then(|i| i.vmlinux.clone());
            state.types = Some(match vmlinux {
                Some(path) => crate::kernel::types::read(&path),
                None => Err("the kernel's lists need vmlinux (its DWARF types), not only a System.map".into()),
            });
        }
        state
            .types
            .clone()
            .expect("just set")
            .map_err(|reason| Error::BadTargetData { what: "the kernel's structure layouts".into(), reason })
    }

    /// The loaded modules, read from the kernel's `modules` list.
    fn read_kernel_modules(&mut self, pid: i32) -> Result<Vec<Module>> {
        let state = self.kernel_state(pid)?;
        let Some(head) = state.image.as_ref().and_then(|i| i.address("modules")) else { return Ok(Vec::new()) };
        if state.placement.slide.is_none() {
            return Ok(Vec::new());
        }
        let head = head.wrapping_add(state.placement.slide.unwrap_or(0));
        let Some(offsets) = self.kernel_types(pid)?.module else { return Ok(Vec::new()) };
        let target = &self.process(pid)?.target;
        let mut read = |a: u64, buf: &mut [u8]| target.read_memory(a, buf) == buf.len();
        let (entries, _stopped) = lists::modules(&mut read, head, &offsets);
        // Loaded first, listed first: the kernel adds new modules at the head.
        Ok(entries.into_iter().rev().map(module_of).collect())
    }

    /// The memory map a machine's stub cannot give: the kernel image and its modules.
    fn update_kernel_memory_map(&mut self, pid: i32) -> Result<()> {
        let p = self.process(pid)?;
        let mut regions: Vec<MemoryRegion> = p
            .modules
            .iter()
            .map(|m| MemoryRegion {
                start: m.base,
                end: m.end(),
                readable: true,
                writable: true,
                executable: true,
                shared: false,
                offset: 0,
                path: if m.name == KERNEL_MODULE {
                    m.path.to_string_lossy().into_owned()
                } else {
                    format!("[{}]", m.name)
                },
            })
            .filter(|r| r.start < r.end)
            .collect();
        regions.sort_by_key(|r| r.start);
        self.remote(pid)?.target.set_memory_map(regions);
        Ok(())
    }

    /// The kernel's processes, from `init_task`'s list, read through
    /// vmlinux's DWARF layout of `task_struct`.
    pub fn kernel_processes(&mut self, pid: i32) -> Result<Vec<KernelProcess>> {
        let types = self.kernel_types(pid)?;
        let state = self.kernel_state(pid)?;
        let init = state
            .image
            .as_ref()
            .and_then(|i| i.address("init_task"))
            .ok_or_else(|| Error::SymbolNotFound("init_task".into()))?
            .wrapping_add(state.placement.slide.unwrap_or(0));
        let target = &self.process(pid)?.target;
        let mut read = |a: u64, buf: &mut [u8]| target.read_memory(a, buf) == buf.len();
        let (tasks, stopped) = lists::tasks(&mut read, init, &types.task);
        if let (true, Some(why)) = (tasks.len() <= 1, stopped) {
            return Err(Error::BadTargetData { what: "the kernel's task list".into(), reason: why });
        }
        Ok(tasks
            .into_iter()
            .map(|t| KernelProcess {
                address: t.address,
                pid: t.tgid,
                parent_pid: t.parent_pid,
                comm: t.comm,
                user: t.mm != 0,
            })
            .collect())
    }

    /// Finds the kernel again (its slide) and reads its module list anew,
    /// as WinDbg's `.reload`: after connecting before the kernel started,
    /// or after modules were loaded. Breakpoints set by name move with it.
    pub fn reload_kernel(&mut self, pid: i32) -> Result<KernelReload> {
        let state = self.kernel_state(pid)?;
        let Some(image) = state.image.clone() else {
            return Err(Error::InvalidArgument("no kernel symbols were given: nothing to reload".into()));
        };
        let old_slide = state.placement.slide;
        let target = self.remote(pid)?.target.clone();
        let tid = *self.process(pid)?.threads.keys().next().ok_or(Error::ProcessGone(pid))?;
        let placement = find_slide(&target, &image, tid);
        let mut reload = KernelReload::default();
        let moved = placement.slide.is_some() && placement.slide != old_slide;
        self.kernel_state_mut(pid)?.placement = placement.clone();
        let before = self.process(pid)?.modules.clone();
        let mut after: Vec<Module> = self.kernel_module(pid).map(|(m, _)| vec![m]).unwrap_or_default();
        after.extend(self.read_kernel_modules(pid)?);
        for m in &before {
            if !after.contains(m) {
                self.forget_module_sites(pid, m);
                reload.unloaded.push(m.clone());
            }
        }
        reload.loaded = after.iter().filter(|m| !before.contains(m)).cloned().collect();
        self.process_mut(pid)?.modules = after;
        self.update_kernel_memory_map(pid)?;
        self.resolve_pending_breakpoints(pid);
        if moved || old_slide.is_none() {
            reload.placement = Some(placement);
        }
        Ok(reload)
    }
}

fn module_of(e: ModuleEntry) -> Module {
    Module {
        path: PathBuf::from(format!("[{}]", e.name)),
        name: e.name,
        base: e.base,
        size: e.size,
        bias: e.base,
        dynamic: 0,
    }
}

/// Finds the slide: from the IDT the monitor names, else by looking for
/// `linux_banner` at each slide KASLR can choose.
fn find_slide(target: &RemoteTarget, image: &KernelImage, tid: i32) -> KernelPlacement {
    let read = |address: u64, len: usize| {
        let mut buf = vec![0u8; len];
        (target.read_memory(address, &mut buf) == len).then_some(buf)
    };
    let banner = image.address("linux_banner");
    let banner_at = |slide: u64| {
        banner.and_then(|b| read(b.wrapping_add(slide), slide::BANNER.len())).is_some_and(|t| t == slide::BANNER)
    };
    if let (Ok(text), Some(handler_link)) = (target.monitor("info registers"), image.address("asm_exc_divide_error")) {
        if let Some(idt) = slide::idt_base(&text) {
            if let Some(entry) = read(idt, 16) {
                let handler = slide::gate_handler(entry[..16].try_into().expect("16 bytes"));
                if let Some(s) = slide::from_handler(handler, handler_link) {
                    if banner.is_none() || banner_at(s) {
                        return KernelPlacement {
                            slide: Some(s),
                            how: format!(
                                "from the IDT at {idt:#x}: entry 0 is asm_exc_divide_error at {handler:#x}{}",
                                if banner.is_some() { ", and linux_banner is there" } else { "" }
                            ),
                        };
                    }
                }
            }
        }
    }
    if banner.is_some() {
        if let Some(s) = slide::candidates().find(|&s| banner_at(s)) {
            return KernelPlacement { slide: Some(s), how: "from linux_banner, found in memory at that slide".into() };
        }
    }
    let pc = target.pc(tid).unwrap_or(0);
    KernelPlacement {
        slide: None,
        how: format!(
            "the kernel is not running yet (the CPU is at {pc:#x}): its addresses are taken as linked (no KASLR slide) until .reload"
        ),
    }
}
