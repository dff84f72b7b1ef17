//! A process's image and modules: what a new image (launch, exec, attach)
//! reports, and the dynamic loader's hooks that report libraries as they
//! come and go.

use super::Session;
use crate::arch::x86_64::after_first_call;
use crate::breakpoints::Internal;
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::linux::rdebug;
use crate::module::{elf_entry, load_extent, module_from_file, phdr_vaddr, read_head, short_name, Module};
#[cfg(target_os = "linux")]
use crate::os::local::{self, AttachedThread};
use crate::process::{LoaderState, ProcessState, ThreadState};
use crate::target::{EventSource, Image, Target};
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::path::{Path, PathBuf};

const VDSO_NAME: &str = "linux-vdso.so.1";

/// The modules every image starts with, and what to report for them.
struct InitialImage {
    executable: Module,
    entry: u64,
    loader: Option<Module>,
    vdso: Option<Module>,
}

fn read_initial_image(target: &dyn Target, image: &Image) -> Result<InitialImage> {
    if let Some(base) = image.pe_base {
        return read_initial_pe_image(image, base);
    }
    let auxv = &image.auxv;
    let image = image.executable.as_path();
    let bad =
        |reason: &str| Error::BadTargetData { what: format!("executable {}", image.display()), reason: reason.into() };
    let head = read_head(image).ok_or_else(|| bad("cannot read the file"))?;
    let phdr = phdr_vaddr(&head).ok_or_else(|| bad("not an ELF file with program headers"))?;
    let (low, high) = load_extent(&head).ok_or_else(|| bad("no loadable segment"))?;
    let bias = auxv.phdr.wrapping_sub(phdr);
    let executable = Module {
        name: short_name(image),
        path: image.to_path_buf(),
        base: bias.wrapping_add(low),
        size: high - low,
        bias,
        dynamic: 0,
    };
    let loader = if auxv.interpreter_base != 0 {
        let path = rdebug::interpreter_of(image).or_else(|| path_of_mapping(target, auxv.interpreter_base));
        path.and_then(|p| module_from_file(p, auxv.interpreter_base, 0))
    } else {
        None
    };
    let vdso = (auxv.vdso != 0)
        .then(|| {
            let mut head = vec![0u8; 4096];
            target.read_exact(auxv.vdso, &mut head).ok()?;
            let (low, high) = load_extent(&head)?;
            Some(Module {
                name: VDSO_NAME.into(),
                path: "[vdso]".into(),
                base: auxv.vdso + low,
                size: high - low,
                bias: auxv.vdso,
                dynamic: 0,
            })
        })
        .flatten();
    Ok(InitialImage { executable, entry: auxv.entry, loader, vdso })
}

/// A Windows program: the executable alone (its DLLs are the target's list).
fn read_initial_pe_image(image: &Image, base: u64) -> Result<InitialImage> {
    let path = &image.executable;
    let header = read_head(path).and_then(|h| crate::pe_image::parse_header(&h));
    let (executable, header) = crate::pe_image::module_from_pe(path.clone(), base).zip(header).ok_or_else(|| {
        Error::BadTargetData { what: format!("executable {}", path.display()), reason: "not a 64-bit PE file".into() }
    })?;
    Ok(InitialImage { entry: base.wrapping_add(header.entry_rva), executable, loader: None, vdso: None })
}

/// The modules a target lists itself (a Windows process's DLLs), placed by
/// their files' headers; a file missing here still gives a module (without
/// symbols) of the size its headers in memory say.
fn listed_modules(target: &dyn Target) -> Result<Option<Vec<Module>>> {
    let Some(list) = target.listed_modules()? else { return Ok(None) };
    let modules = list
        .into_iter()
        .filter_map(|(path, base)| {
            crate::pe_image::module_from_pe(path.clone(), base).or_else(|| {
                let mut head = vec![0u8; 1024];
                let n = target.read_memory(base, &mut head);
                let header = crate::pe_image::parse_header(&head[..n])?;
                base.checked_add(header.size_of_image)?;
                Some(Module {
                    name: short_name(&path),
                    path,
                    base,
                    size: header.size_of_image,
                    bias: base.wrapping_sub(header.image_base),
                    dynamic: 0,
                })
            })
        })
        .collect();
    Ok(Some(modules))
}

/// The file mapped at `address`, from the memory map.
fn path_of_mapping(target: &dyn Target, address: u64) -> Option<PathBuf> {
    let maps = target.memory_map().ok()?;
    maps.iter().find(|r| r.start == address && r.path.starts_with('/')).map(|r| PathBuf::from(&r.path))
}

impl Session {
    /// The dynamic linker's lists of loaded objects in process `pid`, read
    /// from the `r_debug` at `r_debug`: every link-map namespace, the
    /// default one first, then those `dlmopen` made. The entries are the
    /// loader's own, with their addresses (a remote protocol server names
    /// them to its client).
    pub fn link_map_namespaces(&self, pid: i32, r_debug: u64) -> Result<Vec<rdebug::LinkMapNamespace>> {
        rdebug::namespaces(&*self.process(pid)?.target, r_debug)
    }

    /// The `link_map` entries of process `pid` from the one at `lm` on;
    /// `prev` must be that entry's `l_prev` (the list is cut where it does
    /// not link back, as a stale `lm` leaves it); an entry that cannot be
    /// read is an error.
    pub fn link_map_from(&self, pid: i32, lm: u64, prev: u64) -> Result<Vec<rdebug::LinkMapEntry>> {
        rdebug::entries_from(&*self.process(pid)?.target, lm, prev)
    }

    /// Takes a freshly launched process (stopped at its exec event) into the session.
    #[cfg(target_os = "linux")]
    pub(crate) fn adopt_new_image(&mut self, pid: i32, launched: bool) -> Result<()> {
        let target = local::open(pid)?;
        // The kernel's view: for a script this is its interpreter.
        let image_info = target.image()?;
        let initial = read_initial_image(&*target, &image_info)?;
        let image = image_info.executable.clone();
        let mut threads = BTreeMap::new();
        threads.insert(pid, ThreadState::new_stopped());
        let source = Some(self.local_source());
        let process = new_process(pid, image.clone(), launched, threads, target, source, image_info.auxv);
        self.processes.insert(pid, process);
        self.owner.insert(pid, pid);
        let exe = &initial.executable;
        self.queue_event(
            pid,
            pid,
            EventKind::ProcessCreated { image, base: exe.base, size: exe.size, entry: initial.entry },
        );
        self.report_initial_modules(pid, initial)?;
        self.resolve_pending_breakpoints(pid);
        self.plant_loader_ready(pid)
    }

    /// Resets a process after `execve` and reports its new image.
    pub(crate) fn adopt_exec(&mut self, pid: i32) -> Result<()> {
        let target = self.process(pid)?.control()?.reopen_after_exec()?;
        let image_info = target.image()?;
        let initial = read_initial_image(&*target, &image_info)?;
        let image = image_info.executable.clone();
        // The old image's sites and scratch pages went with it; breakpoints
        // set by name wait for the new image to resolve them.
        self.breakpoints.retain(|_, b| {
            if b.info.pid != pid || b.internal.is_some() {
                return b.info.pid != pid;
            }
            if b.info.expression.is_some() {
                b.info.unresolved = Some("the process executed a new image".into());
                b.info.locations.clear();
                b.info.address = 0;
                return true;
            }
            false
        });
        let p = self.process_mut(pid)?;
        let old_threads: Vec<i32> = p.threads.keys().copied().filter(|&t| t != pid).collect();
        p.threads.retain(|&t, _| t == pid);
        let launched = p.launched;
        let kill_on_exit = p.kill_on_exit;
        let source = p.source;
        let threads = std::mem::take(&mut p.threads);
        let syscall_stops = p.syscall_stops;
        let mut fresh = new_process(pid, image.clone(), launched, threads, target, source, image_info.auxv);
        fresh.kill_on_exit = kill_on_exit;
        // Catchpoints outlive the image.
        fresh.syscall_stops = syscall_stops;
        *p = fresh;
        for tid in old_threads {
            self.owner.remove(&tid);
        }
        self.queue_event(pid, pid, EventKind::Exec { image });
        self.report_initial_modules(pid, initial)?;
        self.resolve_pending_breakpoints(pid);
        self.plant_loader_ready(pid)
    }

    /// Takes an attached process into the session and replays its present.
    #[cfg(target_os = "linux")]
    pub(crate) fn adopt_attached(&mut self, pid: i32, stopped: BTreeMap<i32, AttachedThread>) -> Result<()> {
        let target = local::open(pid)?;
        let image_info = target.image()?;
        let initial = read_initial_image(&*target, &image_info)?;
        let image = image_info.executable.clone();
        let mut threads = BTreeMap::new();
        for (&tid, how) in &stopped {
            let mut t = ThreadState::new_stopped();
            match how {
                AttachedThread::Stopped { group_stopped } => t.group_stopped = *group_stopped,
                AttachedThread::Held(status) => self.held.push_back((tid, *status)),
            }
            threads.insert(tid, t);
            self.owner.insert(tid, pid);
        }
        let source = Some(self.local_source());
        self.processes.insert(pid, new_process(pid, image.clone(), false, threads, target, source, image_info.auxv));
        let exe = &initial.executable;
        let leader =
            if stopped.contains_key(&pid) { pid } else { *stopped.keys().next().expect("at least one thread") };
        self.queue_event(
            pid,
            leader,
            EventKind::ProcessCreated { image, base: exe.base, size: exe.size, entry: initial.entry },
        );
        for &tid in stopped.keys().filter(|&&t| t != leader) {
            let start = self.rip_of(pid, tid).unwrap_or(0);
            self.queue_event(pid, tid, EventKind::ThreadCreated { start });
        }
        let has_loader = initial.loader.is_some();
        self.report_initial_modules(pid, initial)?;
        if has_loader {
            self.sync_modules(pid, leader)?;
            self.plant_loader_changed(pid)?;
        }
        Ok(())
    }

    /// Takes a target whose threads are all stopped (a core file, a remote
    /// process, a test's fake) into the session and replays its present as
    /// events, as attaching does: `ProcessCreated`, `ThreadCreated` for every
    /// other thread, `ModuleLoaded` for each module (from the loader's list
    /// in the target's memory). `source` reports its stops when it runs.
    pub(crate) fn adopt_target(
        &mut self,
        target: Box<dyn Target>,
        source: Option<Box<dyn EventSource>>,
    ) -> Result<i32> {
        let pid = target.pid();
        if self.processes.contains_key(&pid) {
            return Err(Error::InvalidArgument(format!("a process with id {pid} is already debugged by this session")));
        }
        let image_info = target.image()?;
        let initial = read_initial_image(&*target, &image_info)?;
        let mut tids = target.thread_ids()?;
        tids.sort_unstable();
        // The leader first, as the kernel lists it.
        if let Some(i) = tids.iter().position(|&t| t == pid) {
            tids[..=i].rotate_right(1);
        }
        let leader = *tids.first().ok_or_else(|| Error::BadTargetData {
            what: format!("process {pid}"),
            reason: "the target has no thread".into(),
        })?;
        let threads = tids.iter().map(|&tid| (tid, ThreadState::new_stopped())).collect();
        for &tid in &tids {
            self.owner.insert(tid, pid);
        }
        // Where no thread has the process's id (Windows), the process's
        // end is reported as its id's death, as a leader's is on Linux.
        self.owner.insert(pid, pid);
        let source = source.map(|s| {
            self.sources.push(s);
            self.sources.len() - 1
        });
        let image = image_info.executable.clone();
        self.processes.insert(pid, new_process(pid, image.clone(), false, threads, target, source, image_info.auxv));
        let exe = &initial.executable;
        self.queue_event(
            pid,
            leader,
            EventKind::ProcessCreated { image, base: exe.base, size: exe.size, entry: initial.entry },
        );
        for &tid in tids.iter().skip(1) {
            let start = self.rip_of(pid, tid).unwrap_or(0);
            self.queue_event(pid, tid, EventKind::ThreadCreated { start });
        }
        let has_loader = initial.loader.is_some();
        self.report_initial_modules(pid, initial)?;
        if has_loader {
            self.sync_modules(pid, leader)?;
            if self.process(pid)?.target.write_access().is_some() {
                self.plant_loader_changed(pid)?;
            }
        } else {
            self.sync_listed_modules(pid, leader)?;
        }
        Ok(pid)
    }

    fn report_initial_modules(&mut self, pid: i32, initial: InitialImage) -> Result<()> {
        let p = self.process_mut(pid)?;
        p.modules.push(initial.executable);
        if let Some(loader) = &initial.loader {
            if let Some(offset) = rdebug::r_debug_offset(&loader.path) {
                p.loader.r_debug = loader.bias + offset;
            }
        }
        let initial_modules: Vec<Module> = [initial.loader, initial.vdso].into_iter().flatten().collect();
        p.modules.extend(initial_modules.iter().cloned());
        for m in initial_modules {
            self.queue_event(pid, pid, EventKind::ModuleLoaded(m));
        }
        Ok(())
    }

    /// Plants the breakpoint where the loader has mapped and relocated the
    /// initial libraries, before any of their initialisers runs.
    pub(super) fn plant_loader_ready(&mut self, pid: i32) -> Result<()> {
        let p = self.process(pid)?;
        let Some(loader) = p.modules.get(1).filter(|m| m.path != Path::new("[vdso]")) else {
            return Ok(());
        };
        let Some(entry) = read_head(&loader.path).and_then(|h| elf_entry(&h)) else {
            return Ok(());
        };
        let entry = loader.bias + entry;
        let mut code = [0u8; 64];
        let n = p.target.read_memory(entry, &mut code);
        if let Some(address) = after_first_call(entry, &code[..n]) {
            self.add_internal_breakpoint(pid, address, Internal::LoaderReady, false)?;
        }
        Ok(())
    }

    /// Plants the stop at a launched program's entry point.
    #[cfg(target_os = "linux")]
    pub(crate) fn plant_entry_stop(&mut self, pid: i32) -> Result<()> {
        let entry = self.process(pid)?.queued.iter().find_map(|e| match e.kind {
            EventKind::ProcessCreated { entry, .. } => Some(entry),
            _ => None,
        });
        match entry {
            Some(entry) => self.add_internal_breakpoint(pid, entry, Internal::Entry, false).map(|_| ()),
            // No entry known (should not happen for a launch): stop as soon as it can be.
            None => self.break_in(pid),
        }
    }

    /// Plants the breakpoint on `r_debug.r_brk`, which the loader calls on every change of its list.
    pub(super) fn plant_loader_changed(&mut self, pid: i32) -> Result<()> {
        let p = self.process(pid)?;
        if p.loader.r_debug == 0 {
            return Ok(());
        }
        let brk = rdebug::r_brk(&*p.target, p.loader.r_debug)?;
        let already =
            self.breakpoints.values().any(|b| b.info.pid == pid && b.internal == Some(Internal::LoaderChanged));
        if brk != 0 && !already {
            self.add_internal_breakpoint(pid, brk, Internal::LoaderChanged, false)?;
        }
        Ok(())
    }

    /// Handles a hit of one of the loader's breakpoints; queues module events.
    pub(crate) fn on_loader_breakpoint(&mut self, pid: i32, tid: i32, id: u32, why: Internal) -> Result<()> {
        match why {
            Internal::LoaderReady => {
                let address = self.breakpoints.remove(&id).map(|b| b.info.address);
                if let Some(address) = address {
                    self.detach_from_site(pid, address, id)?;
                }
                self.sync_modules(pid, tid)?;
                self.plant_loader_changed(pid)
            }
            Internal::LoaderChanged => {
                let p = self.process(pid)?;
                if rdebug::r_state(&*p.target, p.loader.r_debug)? == rdebug::RT_CONSISTENT {
                    self.sync_modules(pid, tid)?;
                }
                Ok(())
            }
            Internal::Entry => {
                if let Some(b) = self.breakpoints.remove(&id) {
                    self.detach_from_site(pid, b.info.address, id)?;
                }
                self.queue_event(pid, tid, EventKind::BreakIn);
                Ok(())
            }
            // Steps handle their own breakpoints (session/plans.rs).
            Internal::Plan { .. } => Ok(()),
        }
    }

    /// Compares the loader's list with the known modules and queues
    /// `ModuleLoaded` / `ModuleUnloaded` for the differences.
    pub(crate) fn sync_modules(&mut self, pid: i32, tid: i32) -> Result<()> {
        let p = self.process(pid)?;
        if p.loader.r_debug == 0 {
            return self.sync_listed_modules(pid, tid);
        }
        let entries = rdebug::link_map(&*p.target, p.loader.r_debug)?;
        let fixed: Vec<&Module> = p.modules.iter().take(3).collect();
        let is_fixed = |e: &rdebug::LinkMapEntry| {
            e.name.is_empty()
                || e.name == VDSO_NAME
                || fixed.iter().any(|m| {
                    m.bias == e.bias && (m.path == Path::new(&e.name) || m.name == short_name(Path::new(&e.name)))
                })
        };
        let libraries: Vec<rdebug::LinkMapEntry> = entries.into_iter().filter(|e| !is_fixed(e)).collect();
        let present: HashSet<(String, u64)> = libraries.iter().map(|e| (e.name.clone(), e.bias)).collect();
        let initial_count = self.initial_module_count(pid);
        let p = self.process_mut(pid)?;
        let mut gone = Vec::new();
        let mut index = initial_count;
        while index < p.modules.len() {
            let m = &p.modules[index];
            if present.contains(&(m.path.to_string_lossy().into_owned(), m.bias)) {
                index += 1;
            } else {
                gone.push(p.modules.remove(index));
            }
        }
        let known: HashSet<(String, u64)> =
            p.modules.iter().map(|m| (m.path.to_string_lossy().into_owned(), m.bias)).collect();
        let mut added = Vec::new();
        for e in libraries {
            if known.contains(&(e.name.clone(), e.bias)) {
                continue;
            }
            if let Some(m) = module_from_file(PathBuf::from(&e.name), e.bias, e.dynamic) {
                added.push(m);
            }
        }
        self.report_module_changes(pid, tid, gone, added)
    }

    /// Compares the target's own list of modules (a Windows process's DLLs)
    /// with the known ones and queues the differences.
    fn sync_listed_modules(&mut self, pid: i32, tid: i32) -> Result<()> {
        let Some(listed) = listed_modules(&*self.process(pid)?.target)? else { return Ok(()) };
        let p = self.process_mut(pid)?;
        let same = |a: &Module, b: &Module| a.path == b.path && a.base == b.base;
        // The executable stays whatever the list says.
        let mut gone = Vec::new();
        let mut index = 1;
        while index < p.modules.len() {
            if listed.iter().any(|m| same(m, &p.modules[index])) {
                index += 1;
            } else {
                gone.push(p.modules.remove(index));
            }
        }
        let added: Vec<Module> = listed
            .into_iter()
            .filter(|m| !p.modules.iter().any(|known| same(known, m)) && !p.modules[0].contains(m.base))
            .collect();
        self.report_module_changes(pid, tid, gone, added)
    }

    /// Forgets the modules gone and records the new ones, queueing an event for each.
    fn report_module_changes(&mut self, pid: i32, tid: i32, gone: Vec<Module>, added: Vec<Module>) -> Result<()> {
        for m in gone {
            self.forget_module_sites(pid, &m);
            self.queue_event(pid, tid, EventKind::ModuleUnloaded(m));
        }
        let any_added = !added.is_empty();
        for m in added {
            self.process_mut(pid)?.modules.push(m.clone());
            self.queue_event(pid, tid, EventKind::ModuleLoaded(m));
        }
        if any_added {
            // Before any code of the new modules runs.
            self.resolve_pending_breakpoints(pid);
        }
        Ok(())
    }

    /// How many modules come from the image itself (executable, loader, vDSO).
    fn initial_module_count(&self, pid: i32) -> usize {
        let Ok(p) = self.process(pid) else { return 0 };
        1 + p
            .modules
            .iter()
            .skip(1)
            .take(2)
            .filter(|m| m.path == Path::new("[vdso]") || Some(m.base) == Some(p.auxv.interpreter_base))
            .count()
    }

    /// Breakpoints inside an unloaded module: their memory is gone, so forget them.
    pub(super) fn forget_module_sites(&mut self, pid: i32, module: &Module) {
        let Some(p) = self.processes.get_mut(&pid) else {
            return;
        };
        let addresses: Vec<u64> = p.sites.range(module.base..module.end()).map(|(&a, _)| a).collect();
        for a in addresses {
            if let Some(site) = p.sites.remove(&a) {
                if let Some(slot) = site.slot {
                    p.scratch.release_slot(slot);
                }
            }
        }
        // Locations in the module are gone; breakpoints set by name wait for
        // it to come back; others go when nothing of them is left.
        let reason = format!("module {} was unloaded", module.name);
        self.breakpoints.retain(|_, b| {
            if b.info.pid != pid || b.internal.is_some() || !b.info.locations.iter().any(|&a| module.contains(a)) {
                return true;
            }
            b.info.locations.retain(|&a| !module.contains(a));
            b.info.address = b.info.locations.first().copied().unwrap_or(0);
            if !b.info.locations.is_empty() {
                return true;
            }
            if b.info.expression.is_some() {
                b.info.unresolved = Some(reason.clone());
                return true;
            }
            false
        });
    }

    /// Resolves every breakpoint of `pid` set by name again once modules
    /// were added: a pending one is planted, and one already planted gains
    /// the locations the new modules define (gdb's multi-location rule).
    pub(crate) fn resolve_pending_breakpoints(&mut self, pid: i32) {
        let named: Vec<(u32, String)> = self
            .breakpoints
            .iter()
            .filter(|(_, b)| b.info.pid == pid && b.internal.is_none())
            .filter_map(|(&id, b)| Some((id, b.info.expression.clone()?)))
            .filter(|(_, e)| !matches!(super::locations::classify(e), super::locations::Spec::Address(_)))
            .chain(
                // An address expression is resolved once, while it is pending.
                self.breakpoints
                    .iter()
                    .filter(|(_, b)| b.info.pid == pid && b.internal.is_none() && b.info.unresolved.is_some())
                    .filter_map(|(&id, b)| Some((id, b.info.expression.clone()?)))
                    .filter(|(_, e)| matches!(super::locations::classify(e), super::locations::Spec::Address(_))),
            )
            .collect();
        for (id, expression) in named {
            let found = self.resolve_breakpoint_all(pid, &expression);
            let Some(bp) = self.breakpoints.get(&id) else { continue };
            let (enabled, known) = (bp.info.enabled, bp.info.locations.clone());
            match found {
                Ok(addresses) => {
                    let mut planted = Vec::new();
                    let mut failure = None;
                    for address in addresses.into_iter().filter(|a| !known.contains(a)) {
                        match if enabled { self.attach_to_site(pid, address, id) } else { Ok(()) } {
                            Ok(()) => planted.push(address),
                            Err(e) => failure = Some(e.to_string()),
                        }
                    }
                    let bp = self.breakpoints.get_mut(&id).expect("listed above");
                    bp.info.locations.extend(planted);
                    bp.info.address = bp.info.locations.first().copied().unwrap_or(0);
                    bp.info.unresolved = if bp.info.locations.is_empty() { failure } else { None };
                }
                // Still nowhere: a pending one says why; a planted one keeps its locations.
                Err(e) if known.is_empty() => {
                    self.breakpoints.get_mut(&id).expect("listed above").info.unresolved = Some(e.to_string());
                }
                Err(_) => {}
            }
        }
    }
}

pub(super) fn new_process(
    pid: i32,
    image: PathBuf,
    launched: bool,
    threads: BTreeMap<i32, ThreadState>,
    target: Box<dyn Target>,
    source: Option<usize>,
    auxv: crate::target::Auxv,
) -> ProcessState {
    ProcessState {
        pid,
        image,
        launched,
        kill_on_exit: launched,
        threads,
        modules: Vec::new(),
        target,
        source,
        auxv,
        loader: LoaderState::default(),
        in_flight: None,
        queued: VecDeque::new(),
        debug_output: VecDeque::new(),
        sites: BTreeMap::new(),
        scratch: Default::default(),
        removed_sites: HashSet::new(),
        exited: false,
        debug_slots: [None; 4],
        syscall_stops: false,
        vfork_parents: BTreeMap::new(),
        bytes_lent: false,
        waiting_for_vfork: BTreeSet::new(),
        borrows_memory_of: None,
    }
}
