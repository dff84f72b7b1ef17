//! Stack unwinding with call-frame information (CFI).
//!
//! [`Unwinder`] walks a thread's stack from its registers. For each frame it
//! finds the frame description entry (FDE) that covers the frame's pc in the
//! module's `.eh_frame` (through the `.eh_frame_hdr` search table when there
//! is one) or `.debug_frame`, evaluates the rule for the canonical frame
//! address (CFA) and the rule of every register, and so recovers the
//! caller's registers. Code without call-frame information is unwound
//! through the frame-pointer chain (`[rbp]` = saved `rbp`, `[rbp+8]` =
//! return address) when `rbp` looks like a frame pointer.
//!
//! The unwinder knows nothing of ptrace: it is given the registers, the
//! modules and a function that reads target memory. It keeps what it parsed
//! of each module file (keyed by path and load bias) for the next walk.
//!
//! ```no_run
//! # fn walk(regs: &dbgkit::Registers, modules: &[dbgkit::Module]) {
//! let mut unwinder = dbgkit::Unwinder::new();
//! let mut read = |address: u64, buf: &mut [u8]| -> bool { false /* read target memory */ };
//! let stack = unwinder.unwind(regs, modules, &mut read);
//! for frame in &stack.frames {
//!     println!("#{} {:#x} sp={:#x}", frame.number, frame.pc, frame.sp);
//! }
//! if let Some(reason) = &stack.stopped {
//!     println!("{reason}");
//! }
//! # }
//! ```

use crate::arch::registers::Registers;
use crate::module::Module;
use gimli::{
    BaseAddresses, CfaRule, CieOrFde, DebugFrame, EhFrame, EhFrameHdr, EvaluationResult, Expression,
    FrameDescriptionEntry, LittleEndian, Location, ParsedEhFrameHdr, Register, RegisterRule, UnwindContext,
    UnwindExpression, UnwindSection, UnwindTableRow, Value,
};
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// At most this many frames are walked.
pub const MAX_FRAMES: usize = 1024;

type Reader = gimli::EndianRcSlice<LittleEndian>;

// DWARF register numbers of x86_64 (System V psABI): 0-15 are rax, rdx, rcx,
// rbx, rsi, rdi, rbp, rsp, r8-r15; 16 is the return address (rip).
const NREGS: usize = 17;
const RBX: usize = 3;
const RBP: usize = 6;
const RSP: usize = 7;
const RIP: usize = 16;
/// Registers a callee preserves: with no rule for them, they keep their value.
const CALLEE_SAVED: [usize; 6] = [3, 6, 12, 13, 14, 15];
const DWARF_NAMES: [&str; NREGS] = [
    "rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
];

/// Modules whose CFI is kept; beyond this the cache starts over.
const MAX_CACHED_MODULES: usize = 512;
/// A module image read from memory (the vDSO) is never larger than this.
const MAX_MEMORY_IMAGE: u64 = 16 << 20;
/// A frame pointer farther than this above the stack pointer is not believed
/// (when the stack's mapping is not known).
const MAX_FRAME_POINTER_DISTANCE: u64 = 256 << 20;

/// The registers of one frame that unwinding recovers; `None` where the
/// value is not known (not saved by the callee, or lost).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecoveredRegisters {
    pub rip: Option<u64>,
    pub rsp: Option<u64>,
    pub rbp: Option<u64>,
    pub rbx: Option<u64>,
    pub r12: Option<u64>,
    pub r13: Option<u64>,
    pub r14: Option<u64>,
    pub r15: Option<u64>,
}

impl RecoveredRegisters {
    /// The names of the recovered registers.
    pub const NAMES: &'static [&'static str] = &["rip", "rsp", "rbp", "rbx", "r12", "r13", "r14", "r15"];

    /// A register by name (`None` when unknown or not one of [`NAMES`](Self::NAMES)).
    pub fn get(&self, name: &str) -> Option<u64> {
        match name.to_ascii_lowercase().as_str() {
            "rip" => self.rip,
            "rsp" => self.rsp,
            "rbp" => self.rbp,
            "rbx" => self.rbx,
            "r12" => self.r12,
            "r13" => self.r13,
            "r14" => self.r14,
            "r15" => self.r15,
            _ => None,
        }
    }

    fn from_dwarf(regs: &[Option<u64>; NREGS]) -> RecoveredRegisters {
        RecoveredRegisters {
            rip: regs[RIP],
            rsp: regs[RSP],
            rbp: regs[RBP],
            rbx: regs[RBX],
            r12: regs[12],
            r13: regs[13],
            r14: regs[14],
            r15: regs[15],
        }
    }
}

/// How a frame was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoundBy {
    /// Frame 0: the thread's registers.
    Registers,
    /// The callee's call-frame information.
    Cfi,
    /// The callee's frame-pointer chain (`rbp`).
    FramePointer,
    /// The return address on top of the callee's stack: the callee had no
    /// call-frame information and was stopped at its first instruction, at
    /// a `ret`, or at an address outside every module (a call through a bad
    /// pointer).
    StackTop,
}

/// One frame of a stack, innermost first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackFrame {
    /// 0 for the innermost frame.
    pub number: usize,
    /// Frame 0: the thread's `rip`. Caller frames: the return address (or,
    /// for the frame a signal interrupted, the interrupted instruction).
    pub pc: u64,
    /// The stack pointer of the frame.
    pub sp: u64,
    /// The canonical frame address: the caller's stack pointer before its
    /// call. 0 when it could not be computed (the last frame of a stack that
    /// stopped early).
    pub cfa: u64,
    /// The frame's registers, as far as they are known.
    pub registers: RecoveredRegisters,
    /// How this frame was found.
    pub found_by: FoundBy,
    /// `pc` is a return address: the call is at `pc - 1`, which is where the
    /// frame's function and line are to be looked up (see
    /// [`lookup_pc`](Self::lookup_pc)). False for frame 0 and for a frame
    /// that a signal interrupted.
    pub after_call: bool,
    /// The frame is a signal trampoline (glibc's `__restore_rt`; gdb shows
    /// it as `<signal handler called>`): the next frame is the interrupted code.
    pub signal_trampoline: bool,
    /// The frame's place (module, function, line), filled in by
    /// [`crate::Session::stack`]; `None` from the bare unwinder.
    pub symbol: Option<crate::symbols::Symbolized>,
}

impl StackFrame {
    /// The address whose function, line and unwind information describe the
    /// frame: `pc - 1` after a call, `pc` otherwise.
    pub fn lookup_pc(&self) -> u64 {
        if self.after_call {
            self.pc.wrapping_sub(1)
        } else {
            self.pc
        }
    }
}

/// A walked stack.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stack {
    /// The frames, innermost first.
    pub frames: Vec<StackFrame>,
    /// Why the walk ended before the outermost frame; `None` when it reached
    /// it: a return address of 0, a frame whose CFI leaves `rip` undefined
    /// (as `_start` and `clone3` do), or a frame without CFI whose `rbp` is
    /// 0 (the psABI's mark of the outermost frame, as the kernel starts a
    /// process).
    pub stopped: Option<String>,
}

/// Walks stacks; keeps the parsed call-frame information of every module it
/// has seen (keyed by path and load bias), and one unwind context.
pub struct Unwinder {
    cache: HashMap<(PathBuf, u64), Cached>,
    ctx: Box<UnwindContext<usize>>,
}

impl Default for Unwinder {
    fn default() -> Self {
        Unwinder::new()
    }
}

impl std::fmt::Debug for Unwinder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unwinder").field("cached_modules", &self.cache.len()).finish()
    }
}

struct Cached {
    identity: Option<FileIdentity>,
    cfi: Option<Rc<ModuleCfi>>,
}

/// What tells a changed file from the one parsed before.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FileIdentity {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
}

fn file_identity(path: &Path) -> Option<FileIdentity> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(FileIdentity { dev: m.dev(), ino: m.ino(), len: m.len(), mtime: (m.mtime(), m.mtime_nsec()) })
    }
    // Elsewhere the path stands for the file, and its time says when it changed.
    #[cfg(not(unix))]
    {
        // A time that cannot be read still names the file: the path and length stand for it.
        let since = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).unwrap_or_default();
        Some(FileIdentity {
            dev: 0,
            ino: 0,
            len: m.len(),
            mtime: (since.as_secs() as i64, since.subsec_nanos() as i64),
        })
    }
}

/// The vDSO (and any other pseudo-module) exists only in the target's memory.
fn is_memory_image(module: &Module) -> bool {
    module.path.to_str().is_some_and(|p| p.starts_with('['))
}

/// The call-frame information of one module file. Addresses inside are the
/// file's virtual addresses; the load bias turns them into runtime ones.
struct ModuleCfi {
    bias: u64,
    eh_frame: Option<EhFrameInfo>,
    debug_frame: Option<DebugFrameInfo>,
}

struct EhFrameInfo {
    section: EhFrame<Reader>,
    bases: BaseAddresses,
    hdr: Option<ParsedEhFrameHdr<Reader>>,
    /// Every FDE sorted by address, when there is no search table.
    sorted: Vec<FrameDescriptionEntry<Reader>>,
}

struct DebugFrameInfo {
    section: DebugFrame<Reader>,
    bases: BaseAddresses,
    sorted: Vec<FrameDescriptionEntry<Reader>>,
}

impl EhFrameInfo {
    fn fde_for(&self, address: u64) -> Option<FrameDescriptionEntry<Reader>> {
        if let Some(hdr) = self.hdr.as_ref() {
            if let Some(table) = hdr.table() {
                // gimli's own fde_for_address subtracts without a check (a
                // damaged table would panic in debug builds): check first.
                let found = table.lookup(address, &self.bases).ok()?.direct().ok()?;
                let section_start = hdr.eh_frame_ptr().direct().ok()?;
                if found < section_start {
                    return None;
                }
                let offset = table.pointer_to_offset(gimli::Pointer::Direct(found)).ok()?;
                let fde = self.section.fde_from_offset(&self.bases, offset, EhFrame::cie_from_offset).ok()?;
                return fde.contains(address).then_some(fde);
            }
        }
        lookup_sorted(&self.sorted, address)
    }
}

/// Every FDE of a section, sorted by start address (empty ones left out).
fn sorted_fdes<S: UnwindSection<Reader>>(section: &S, bases: &BaseAddresses) -> Vec<FrameDescriptionEntry<Reader>> {
    let mut out = Vec::new();
    let mut entries = section.entries(bases);
    // A malformed entry ends the list: what came before it is still good.
    while let Ok(Some(entry)) = entries.next() {
        if let CieOrFde::Fde(partial) = entry {
            if let Ok(fde) = partial.parse(|s, b, o| s.cie_from_offset(b, o)) {
                if fde.len() > 0 {
                    out.push(fde);
                }
            }
        }
    }
    out.sort_by_key(|f| f.initial_address());
    out
}

fn lookup_sorted(sorted: &[FrameDescriptionEntry<Reader>], address: u64) -> Option<FrameDescriptionEntry<Reader>> {
    let after = sorted.partition_point(|f| f.initial_address() <= address);
    // FDEs rarely overlap; look back a little in case a short one hides a long one.
    sorted[..after].iter().rev().take(8).find(|f| f.contains(address)).cloned()
}

fn section_data<'d, R: object::ReadRef<'d>>(file: &object::File<'d, R>, name: &str) -> Option<(u64, Reader)> {
    use object::{Object, ObjectSection};
    let section = file.section_by_name(name)?;
    let data = section.uncompressed_data().ok()?;
    if data.is_empty() {
        return None;
    }
    Some((section.address(), Reader::new(Rc::from(&*data), LittleEndian)))
}

fn parse_cfi<'d, R: object::ReadRef<'d>>(file: &object::File<'d, R>, bias: u64) -> ModuleCfi {
    use object::{Object, ObjectSection};
    let address_of = |name: &str| file.section_by_name(name).map(|s| s.address());
    let eh_frame = section_data(file, ".eh_frame").map(|(address, data)| {
        let mut section = EhFrame::from(data);
        section.set_address_size(8);
        let mut bases = BaseAddresses::default().set_eh_frame(address);
        if let Some(text) = address_of(".text") {
            bases = bases.set_text(text);
        }
        if let Some(got) = address_of(".got") {
            bases = bases.set_got(got);
        }
        let hdr = section_data(file, ".eh_frame_hdr").and_then(|(hdr_address, hdr_data)| {
            bases = bases.clone().set_eh_frame_hdr(hdr_address);
            EhFrameHdr::from(hdr_data).parse(&bases, 8).ok()
        });
        let sorted =
            if hdr.as_ref().is_some_and(|h| h.table().is_some()) { Vec::new() } else { sorted_fdes(&section, &bases) };
        EhFrameInfo { section, bases, hdr, sorted }
    });
    let debug_frame = section_data(file, ".debug_frame").map(|(_, data)| {
        let mut section = DebugFrame::from(data);
        section.set_address_size(8);
        let bases = BaseAddresses::default();
        let sorted = sorted_fdes(&section, &bases);
        DebugFrameInfo { section, bases, sorted }
    });
    ModuleCfi { bias, eh_frame, debug_frame }
}

fn load_file(path: &Path, bias: u64) -> Option<ModuleCfi> {
    let file = std::fs::File::open(path).ok()?;
    let cache = object::ReadCache::new(file);
    let object = object::File::parse(&cache).ok()?;
    Some(parse_cfi(&object, bias))
}

/// The vDSO: its whole ELF image (section headers included) is mapped, from
/// its ELF header (at the load bias: its file addresses start at 0) to the
/// end of the module.
fn load_memory_image(module: &Module, memory: &mut dyn FnMut(u64, &mut [u8]) -> bool) -> Option<ModuleCfi> {
    let start = module.bias.min(module.base);
    let len = module.end().checked_sub(start).filter(|&l| l > 0 && l <= MAX_MEMORY_IMAGE)?;
    let mut image = vec![0u8; len as usize];
    if !memory(start, &mut image) {
        return None;
    }
    let object = object::File::parse(&*image).ok()?;
    Some(parse_cfi(&object, module.bias))
}

/// Which section an FDE came from.
#[derive(Clone, Copy)]
enum Which {
    Eh,
    Debug,
}

/// The unwind rules that hold at one address.
struct Found {
    row: UnwindTableRow<usize>,
    which: Which,
    signal_trampoline: bool,
    return_address: Register,
}

/// The registers of one frame being walked (DWARF numbering).
#[derive(Clone)]
struct State {
    regs: [Option<u64>; NREGS],
    after_call: bool,
    found_by: FoundBy,
}

impl State {
    fn pc(&self) -> u64 {
        self.regs[RIP].unwrap_or(0)
    }
    fn sp(&self) -> u64 {
        self.regs[RSP].unwrap_or(0)
    }
    fn lookup_pc(&self) -> u64 {
        if self.after_call {
            self.pc().wrapping_sub(1)
        } else {
            self.pc()
        }
    }
    fn frame(&self, number: usize, cfa: u64, signal_trampoline: bool) -> StackFrame {
        StackFrame {
            number,
            pc: self.pc(),
            sp: self.sp(),
            cfa,
            registers: RecoveredRegisters::from_dwarf(&self.regs),
            found_by: self.found_by,
            after_call: self.after_call,
            signal_trampoline,
            symbol: None,
        }
    }
}

fn initial_state(r: &Registers) -> State {
    let regs = [
        r.rax, r.rdx, r.rcx, r.rbx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15,
        r.rip,
    ];
    State { regs: regs.map(Some), after_call: false, found_by: FoundBy::Registers }
}

/// One step up the stack.
enum Step {
    /// The caller's registers.
    Caller { cfa: u64, caller: Box<State>, signal_trampoline: bool },
    /// The frame is the outermost one (its CFI leaves the return address
    /// undefined, or it has no CFI and `rbp` is 0).
    Outermost { cfa: u64, signal_trampoline: bool },
    /// The caller cannot be found.
    Stop { cfa: Option<u64>, reason: String },
}

/// Why a rule or an expression could not be evaluated.
enum Failure {
    Memory(u64),
    Register(u16),
    Bad(String),
}

impl Failure {
    fn reason(&self, pc: u64) -> String {
        match self {
            Failure::Memory(address) => format!("unwind stopped: cannot read memory at {address:#x}"),
            Failure::Register(r) => format!(
                "unwind stopped: the unwind rules at {pc:#x} need {}, which is unknown",
                DWARF_NAMES.get(*r as usize).map_or_else(|| format!("DWARF register {r}"), |n| n.to_string())
            ),
            Failure::Bad(what) => format!("unwind stopped: bad call-frame information for {pc:#x}: {what}"),
        }
    }
}

fn read_u64(memory: &mut dyn FnMut(u64, &mut [u8]) -> bool, address: u64) -> Result<u64, Failure> {
    let mut buf = [0u8; 8];
    if memory(address, &mut buf) {
        Ok(u64::from_le_bytes(buf))
    } else {
        Err(Failure::Memory(address))
    }
}

fn register(regs: &[Option<u64>; NREGS], r: Register) -> Result<u64, Failure> {
    regs.get(r.0 as usize).copied().flatten().ok_or(Failure::Register(r.0))
}

/// Evaluates a DWARF expression of a CFI rule; `initial` is pushed first
/// (the CFA, for register rules).
fn evaluate(
    expression: Expression<Reader>,
    initial: Option<u64>,
    regs: &[Option<u64>; NREGS],
    cfa: Option<u64>,
    bias: u64,
    memory: &mut dyn FnMut(u64, &mut [u8]) -> bool,
) -> Result<u64, Failure> {
    let encoding = gimli::Encoding { format: gimli::Format::Dwarf32, version: 4, address_size: 8 };
    let mut eval = expression.evaluation(encoding);
    if let Some(value) = initial {
        eval.set_initial_value(value);
    }
    eval.set_max_iterations(10_000);
    let bad = |e: gimli::Error| Failure::Bad(e.to_string());
    let mut result = eval.evaluate().map_err(bad)?;
    loop {
        result = match result {
            EvaluationResult::Complete => break,
            EvaluationResult::RequiresMemory { address, size, .. } => {
                let size = (size as usize).clamp(1, 8);
                let mut buf = [0u8; 8];
                if !memory(address, &mut buf[..size]) {
                    return Err(Failure::Memory(address));
                }
                eval.resume_with_memory(Value::Generic(u64::from_le_bytes(buf))).map_err(bad)?
            }
            EvaluationResult::RequiresRegister { register: r, .. } => {
                eval.resume_with_register(Value::Generic(register(regs, r)?)).map_err(bad)?
            }
            EvaluationResult::RequiresCallFrameCfa => {
                let cfa = cfa.ok_or_else(|| Failure::Bad("DW_OP_call_frame_cfa in a CFA rule".into()))?;
                eval.resume_with_call_frame_cfa(cfa).map_err(bad)?
            }
            EvaluationResult::RequiresRelocatedAddress(address) => {
                eval.resume_with_relocated_address(address.wrapping_add(bias)).map_err(bad)?
            }
            other => return Err(Failure::Bad(format!("unsupported expression operation ({other:?})"))),
        };
    }
    let pieces = eval.result();
    match pieces.first().map(|p| &p.location) {
        Some(Location::Address { address }) => Ok(*address),
        Some(Location::Value { value }) => value.to_u64(!0).map_err(bad),
        Some(Location::Register { register: r }) => register(regs, *r),
        _ => Err(Failure::Bad("the expression gives no value".into())),
    }
}

impl Unwinder {
    /// An unwinder with nothing cached.
    pub fn new() -> Unwinder {
        Unwinder { cache: HashMap::new(), ctx: Box::new(UnwindContext::new()) }
    }

    /// Forgets every parsed module.
    pub fn clear(&mut self) {
        self.cache.clear();
    }

    /// Walks the stack of a thread with registers `regs`; `memory` reads
    /// target memory (true when every byte was read).
    pub fn unwind(
        &mut self,
        regs: &Registers,
        modules: &[Module],
        memory: &mut dyn FnMut(u64, &mut [u8]) -> bool,
    ) -> Stack {
        self.unwind_in(regs, modules, None, memory)
    }

    /// [`unwind`](Self::unwind), knowing the bounds of the mapping that
    /// holds the thread's stack: a frame pointer outside it is not believed.
    pub fn unwind_in(
        &mut self,
        regs: &Registers,
        modules: &[Module],
        stack_bounds: Option<Range<u64>>,
        memory: &mut dyn FnMut(u64, &mut [u8]) -> bool,
    ) -> Stack {
        let mut bounds = stack_bounds;
        let mut state = initial_state(regs);
        let mut frames = Vec::new();
        let stopped = loop {
            let number = frames.len();
            let step = self.step(&state, modules, bounds.as_ref(), memory);
            let (cfa, signal_trampoline) = match &step {
                Step::Caller { cfa, signal_trampoline, .. } | Step::Outermost { cfa, signal_trampoline } => {
                    (*cfa, *signal_trampoline)
                }
                Step::Stop { cfa, .. } => (cfa.unwrap_or(0), false),
            };
            frames.push(state.frame(number, cfa, signal_trampoline));
            let caller = match step {
                Step::Caller { caller, .. } => *caller,
                Step::Outermost { .. } => break None,
                Step::Stop { reason, .. } => break Some(reason),
            };
            let pc = caller.pc();
            if pc == 0 {
                break None;
            }
            if !modules.iter().any(|m| m.contains(caller.lookup_pc())) {
                break Some(format!("unwind stopped: return address {pc:#x} is not in any module"));
            }
            // A signal handler may run on another stack (sigaltstack): the
            // interrupted code's stack pointer may be anywhere.
            if !signal_trampoline && caller.sp() <= state.sp() {
                break Some("unwind stopped: stack pointer did not increase".to_string());
            }
            if signal_trampoline {
                bounds = None;
            }
            if frames.len() == MAX_FRAMES {
                break Some(format!("unwind stopped: frame limit of {MAX_FRAMES} reached"));
            }
            state = caller;
        };
        Stack { frames, stopped }
    }

    /// The call-frame information of a module, parsed once.
    fn cfi_for(&mut self, module: &Module, memory: &mut dyn FnMut(u64, &mut [u8]) -> bool) -> Option<Rc<ModuleCfi>> {
        let key = (module.path.clone(), module.bias);
        let in_memory = is_memory_image(module);
        let identity = if in_memory { None } else { file_identity(&module.path) };
        if let Some(cached) = self.cache.get(&key) {
            if cached.identity == identity {
                return cached.cfi.clone();
            }
        }
        let cfi = if in_memory {
            // A failed read is not remembered: the next walk tries again.
            Some(Rc::new(load_memory_image(module, memory)?))
        } else {
            load_file(&module.path, module.bias).map(Rc::new)
        };
        if self.cache.len() >= MAX_CACHED_MODULES {
            self.cache.clear();
        }
        self.cache.insert(key, Cached { identity, cfi: cfi.clone() });
        cfi
    }

    /// The unwind row of `address` (a file address), from `.eh_frame` or `.debug_frame`.
    fn row_at(&mut self, cfi: &ModuleCfi, address: u64) -> Option<Found> {
        if let Some(eh) = &cfi.eh_frame {
            if let Some(fde) = eh.fde_for(address) {
                if let Ok(row) = fde.unwind_info_for_address(&eh.section, &eh.bases, &mut self.ctx, address) {
                    return Some(Found {
                        row: row.clone(),
                        which: Which::Eh,
                        signal_trampoline: fde.is_signal_trampoline(),
                        return_address: fde.cie().return_address_register(),
                    });
                }
            }
        }
        if let Some(debug) = &cfi.debug_frame {
            if let Some(fde) = lookup_sorted(&debug.sorted, address) {
                if let Ok(row) = fde.unwind_info_for_address(&debug.section, &debug.bases, &mut self.ctx, address) {
                    return Some(Found {
                        row: row.clone(),
                        which: Which::Debug,
                        signal_trampoline: fde.is_signal_trampoline(),
                        return_address: fde.cie().return_address_register(),
                    });
                }
            }
        }
        None
    }

    fn step(
        &mut self,
        state: &State,
        modules: &[Module],
        bounds: Option<&Range<u64>>,
        memory: &mut dyn FnMut(u64, &mut [u8]) -> bool,
    ) -> Step {
        let lookup = state.lookup_pc();
        if let Some(module) = modules.iter().find(|m| m.contains(lookup)) {
            if let Some(cfi) = self.cfi_for(module, memory) {
                let address = lookup.wrapping_sub(cfi.bias);
                let mut found = self.row_at(&cfi, address);
                if found.is_none() && state.after_call {
                    // A signal trampoline's FDE may start right at the return
                    // address (glibc's starts one byte early for pc - 1).
                    found = self.row_at(&cfi, address.wrapping_add(1)).filter(|f| f.signal_trampoline);
                }
                if let Some(found) = found {
                    return cfi_step(state, &cfi, &found, memory);
                }
            }
        }
        fallback_step(state, modules, bounds, memory)
    }
}

/// Applies the CFI rules of the frame's row.
fn cfi_step(state: &State, cfi: &ModuleCfi, found: &Found, memory: &mut dyn FnMut(u64, &mut [u8]) -> bool) -> Step {
    let pc = state.pc();
    let regs = &state.regs;
    let expression = |e: &UnwindExpression<usize>| -> Result<Expression<Reader>, Failure> {
        let result = match (found.which, &cfi.eh_frame, &cfi.debug_frame) {
            (Which::Eh, Some(eh), _) => e.get(&eh.section),
            (Which::Debug, _, Some(debug)) => e.get(&debug.section),
            _ => return Err(Failure::Bad("missing section".into())),
        };
        result.map_err(|e| Failure::Bad(e.to_string()))
    };
    let cfa = match found.row.cfa() {
        CfaRule::RegisterAndOffset { register: r, offset } => {
            register(regs, *r).map(|v| v.wrapping_add(*offset as u64))
        }
        CfaRule::Expression(e) => expression(e).and_then(|e| evaluate(e, None, regs, None, cfi.bias, memory)),
    };
    let cfa = match cfa {
        Ok(cfa) => cfa,
        Err(failure) => return Step::Stop { cfa: None, reason: failure.reason(pc) },
    };

    let mut caller = [None; NREGS];
    let mut has_rule = [false; NREGS];
    let ra = found.return_address.0 as usize;
    for (r, rule) in found.row.registers() {
        let r = r.0 as usize;
        if r >= NREGS {
            continue; // vector registers: not tracked
        }
        has_rule[r] = true;
        let value = match rule {
            RegisterRule::Undefined | RegisterRule::Architectural => Ok(None),
            RegisterRule::SameValue => Ok(regs[r]),
            RegisterRule::Offset(n) => read_u64(memory, cfa.wrapping_add(*n as u64)).map(Some),
            RegisterRule::ValOffset(n) => Ok(Some(cfa.wrapping_add(*n as u64))),
            RegisterRule::Register(other) => Ok(regs.get(other.0 as usize).copied().flatten()),
            RegisterRule::Expression(e) => expression(e)
                .and_then(|e| evaluate(e, Some(cfa), regs, Some(cfa), cfi.bias, memory))
                .and_then(|address| read_u64(memory, address))
                .map(Some),
            RegisterRule::ValExpression(e) => {
                expression(e).and_then(|e| evaluate(e, Some(cfa), regs, Some(cfa), cfi.bias, memory)).map(Some)
            }
            RegisterRule::Constant(c) => Ok(Some(*c)),
            _ => Ok(None),
        };
        caller[r] = match value {
            Ok(v) => v,
            // Without the return address there is no caller; any other
            // register is merely unknown.
            Err(failure) if r == ra => return Step::Stop { cfa: Some(cfa), reason: failure.reason(pc) },
            Err(_) => None,
        };
    }
    for r in 0..NREGS {
        if !has_rule[r] {
            caller[r] = if CALLEE_SAVED.contains(&r) {
                regs[r]
            } else if r == RSP {
                Some(cfa)
            } else {
                None
            };
        }
    }
    let signal_trampoline = found.signal_trampoline;
    if ra >= NREGS || !has_rule[ra] {
        // No rule for the return address: `rip` is undefined, this is the outermost frame.
        return Step::Outermost { cfa, signal_trampoline };
    }
    let Some(return_address) = caller[ra] else {
        return Step::Stop {
            cfa: Some(cfa),
            reason: format!("unwind stopped: the return address of the frame at {pc:#x} cannot be recovered"),
        };
    };
    caller[RIP] = Some(return_address);
    if caller[RSP].is_none() {
        caller[RSP] = Some(cfa);
    }
    // The frame a signal interrupted resumes at its pc itself, not after a call.
    let caller = State { regs: caller, after_call: !signal_trampoline, found_by: FoundBy::Cfi };
    Step::Caller { cfa, caller: Box::new(caller), signal_trampoline }
}

/// Without CFI: the return address on top of the stack when the pc is at a
/// function's first instructions or at its `ret`, else the frame-pointer chain.
fn fallback_step(
    state: &State,
    modules: &[Module],
    bounds: Option<&Range<u64>>,
    memory: &mut dyn FnMut(u64, &mut [u8]) -> bool,
) -> Step {
    let pc = state.pc();
    let sp = state.sp();
    let regs = &state.regs;
    let in_module = |a: u64| modules.iter().any(|m| m.contains(a));
    // Callee-saved registers are unchanged at a function's entry and at its `ret`.
    let from_stack_top = |cfa: u64, return_address: u64, rbp: Option<u64>| {
        let mut caller = [None; NREGS];
        for r in CALLEE_SAVED {
            caller[r] = regs[r];
        }
        caller[RBP] = rbp;
        caller[RSP] = Some(cfa);
        caller[RIP] = Some(return_address);
        Step::Caller {
            cfa,
            caller: Box::new(State { regs: caller, after_call: true, found_by: FoundBy::StackTop }),
            signal_trampoline: false,
        }
    };
    if !state.after_call {
        // The pc is exact (frame 0, or code a signal interrupted).
        if !in_module(pc) {
            // Probably a call through a bad pointer: the return address is on top.
            if let Ok(ra) = read_u64(memory, sp) {
                if in_module(ra) {
                    return from_stack_top(sp.wrapping_add(8), ra, regs[RBP]);
                }
            }
        } else {
            let mut code = [0u8; 8];
            if memory(pc, &mut code) {
                let code = code.strip_prefix(&[0xf3, 0x0f, 0x1e, 0xfa]).unwrap_or(&code); // endbr64
                match code {
                    // push rbp (first instruction) or ret
                    [0x55, ..] | [0xc3, ..] => {
                        if let Ok(ra) = read_u64(memory, sp) {
                            return from_stack_top(sp.wrapping_add(8), ra, regs[RBP]);
                        }
                    }
                    // mov rbp, rsp (right after push rbp)
                    [0x48, 0x89, 0xe5, ..] => {
                        if let (Ok(rbp), Ok(ra)) = (read_u64(memory, sp), read_u64(memory, sp.wrapping_add(8))) {
                            return from_stack_top(sp.wrapping_add(16), ra, Some(rbp));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    if regs[RBP] == Some(0) {
        // The psABI's mark of the outermost frame (the kernel starts a
        // process with rbp = 0; `_start` and new threads clear it).
        return Step::Outermost { cfa: 0, signal_trampoline: false };
    }
    if let Some(rbp) = regs[RBP] {
        let sane = rbp % 8 == 0
            && rbp >= sp
            && rbp - sp < MAX_FRAME_POINTER_DISTANCE
            && bounds.is_none_or(|b| b.contains(&rbp) && b.contains(&(rbp + 15)));
        if sane {
            if let (Ok(saved_rbp), Ok(ra)) = (read_u64(memory, rbp), read_u64(memory, rbp + 8)) {
                let cfa = rbp + 16;
                let mut caller = [None; NREGS];
                caller[RBP] = Some(saved_rbp);
                caller[RSP] = Some(cfa);
                caller[RIP] = Some(ra);
                return Step::Caller {
                    cfa,
                    caller: Box::new(State { regs: caller, after_call: true, found_by: FoundBy::FramePointer }),
                    signal_trampoline: false,
                };
            }
        }
    }
    Step::Stop { cfa: None, reason: format!("unwind stopped: no unwind information for {pc:#x} and no frame pointer") }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake target: a few 8-byte words of memory.
    struct Memory(HashMap<u64, u64>);

    impl Memory {
        fn read(&self, address: u64, buf: &mut [u8]) -> bool {
            for (i, b) in buf.iter_mut().enumerate() {
                let a = address + i as u64;
                let Some(word) = self.0.get(&(a & !7)) else { return false };
                *b = word.to_le_bytes()[(a & 7) as usize];
            }
            true
        }
    }

    fn module(base: u64, size: u64) -> Module {
        // No such file: no CFI, so only the fallbacks work.
        Module {
            name: "code".into(),
            path: "/nonexistent/dbgkit-unwind-test".into(),
            base,
            size,
            bias: base,
            dynamic: 0,
        }
    }

    const CODE: u64 = 0x40_0000;
    const STACK: u64 = 0x7000_0000;

    fn regs(rip: u64, rsp: u64, rbp: u64) -> Registers {
        Registers { rip, rsp, rbp, ..Default::default() }
    }

    #[test]
    fn frame_pointer_chain_is_followed_to_a_zero_return_address() {
        // frame 0 at CODE+0x100 (not at an entry: its code is unreadable), rbp chain of three frames.
        let mut words = HashMap::new();
        words.insert(STACK + 0x100, STACK + 0x200); // saved rbp
        words.insert(STACK + 0x108, CODE + 0x20);
        words.insert(STACK + 0x200, STACK + 0x300);
        words.insert(STACK + 0x208, CODE + 0x30);
        words.insert(STACK + 0x300, 0);
        words.insert(STACK + 0x308, 0);
        let mem = Memory(words);
        let stack = Unwinder::new().unwind(
            &regs(CODE + 0x100, STACK + 0x80, STACK + 0x100),
            &[module(CODE, 0x1000)],
            &mut |a, b| mem.read(a, b),
        );
        assert_eq!(stack.stopped, None);
        let pcs: Vec<u64> = stack.frames.iter().map(|f| f.pc).collect();
        assert_eq!(pcs, [CODE + 0x100, CODE + 0x20, CODE + 0x30]);
        assert_eq!(stack.frames[1].found_by, FoundBy::FramePointer);
        assert_eq!(stack.frames[1].sp, STACK + 0x110);
        assert_eq!(stack.frames[0].cfa, STACK + 0x110);
        assert_eq!(stack.frames[1].registers.rbp, Some(STACK + 0x200));
        assert_eq!(stack.frames[1].registers.rbx, None, "not recovered through a frame pointer");
        assert_eq!(stack.frames[1].lookup_pc(), CODE + 0x1f);
    }

    #[test]
    fn a_frame_pointer_outside_the_stack_is_not_believed() {
        let mut words = HashMap::new();
        words.insert(STACK + 0x100, STACK + 0x200);
        words.insert(STACK + 0x108, CODE + 0x20);
        let mem = Memory(words);
        let stack = Unwinder::new().unwind_in(
            &regs(CODE + 0x100, STACK + 0x80, STACK + 0x100),
            &[module(CODE, 0x1000)],
            Some(STACK..STACK + 0x100),
            &mut |a, b| mem.read(a, b),
        );
        assert_eq!(stack.frames.len(), 1);
        assert_eq!(
            stack.stopped.as_deref(),
            Some(
                format!("unwind stopped: no unwind information for {:#x} and no frame pointer", CODE + 0x100).as_str()
            )
        );
    }

    #[test]
    fn a_stack_pointer_that_wraps_around_stops_the_walk() {
        let top = u64::MAX - 7;
        let mut words = HashMap::new();
        words.insert(top, CODE + 0x20);
        let mem = Memory(words);
        let stack = Unwinder::new().unwind(&regs(0, top, 0), &[module(CODE, 0x1000)], &mut |a, b| mem.read(a, b));
        assert_eq!(stack.frames.len(), 1);
        assert_eq!(stack.stopped.as_deref(), Some("unwind stopped: stack pointer did not increase"));
    }

    #[test]
    fn a_return_address_outside_every_module_stops_the_walk() {
        let mut words = HashMap::new();
        words.insert(STACK + 0x100, STACK + 0x200);
        words.insert(STACK + 0x108, 0xdead_beef);
        let mem = Memory(words);
        let stack = Unwinder::new().unwind(
            &regs(CODE + 0x100, STACK + 0x80, STACK + 0x100),
            &[module(CODE, 0x1000)],
            &mut |a, b| mem.read(a, b),
        );
        assert_eq!(stack.frames.len(), 1);
        assert_eq!(stack.stopped.as_deref(), Some("unwind stopped: return address 0xdeadbeef is not in any module"));
    }

    #[test]
    fn a_call_through_a_bad_pointer_finds_the_caller_on_top_of_the_stack() {
        let mut words = HashMap::new();
        words.insert(STACK + 0x80, CODE + 0x44);
        let mem = Memory(words);
        let stack =
            Unwinder::new().unwind(&regs(0, STACK + 0x80, 0), &[module(CODE, 0x1000)], &mut |a, b| mem.read(a, b));
        assert_eq!(stack.frames[1].pc, CODE + 0x44);
        assert_eq!(stack.frames[1].found_by, FoundBy::StackTop);
        assert_eq!(stack.frames[1].sp, STACK + 0x88);
        assert_eq!(stack.frames.len(), 2);
        assert_eq!(stack.stopped, None, "rbp = 0 marks the outermost frame");
    }

    #[test]
    fn the_frame_limit_ends_a_very_deep_stack() {
        let mut words = HashMap::new();
        for i in 0..2000u64 {
            let rbp = STACK + 0x10 * i;
            words.insert(rbp, rbp + 0x10);
            words.insert(rbp + 8, CODE + 0x20);
        }
        let mem = Memory(words);
        let stack = Unwinder::new()
            .unwind(&regs(CODE + 0x10, STACK, STACK), &[module(CODE, 0x1000)], &mut |a, b| mem.read(a, b));
        assert_eq!(stack.frames.len(), MAX_FRAMES);
        assert_eq!(stack.stopped.as_deref(), Some("unwind stopped: frame limit of 1024 reached"));
    }

    #[test]
    fn nothing_readable_gives_one_frame_and_a_reason() {
        let stack = Unwinder::new().unwind(&regs(0x30, 0x10, 0x20), &[module(CODE, 0x1000)], &mut |_, _| false);
        assert_eq!(stack.frames.len(), 1);
        assert_eq!(stack.frames[0].pc, 0x30);
        assert_eq!(
            stack.stopped.as_deref(),
            Some("unwind stopped: no unwind information for 0x30 and no frame pointer")
        );
    }
}
