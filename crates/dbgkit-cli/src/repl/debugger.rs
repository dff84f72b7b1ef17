//! The state behind the prompt: the session, where we are (process,
//! thread, frame), the breakpoints as the user numbers them, the signal
//! policy, and the loop that runs the target until something stops it.

use super::commands;
use super::display::Display;
use super::eval::{self, FrameRegisters};
use super::output::{paint, Style};
use super::program::Launch;
use super::script::{is_comment, Block, UserCommand};
use super::signals::Signals;
use crate::format::{event_address, event_line, place};
use crate::interrupt;
use crate::scripting::Scripting;
use anyhow::{anyhow, bail, Result};
use dbgkit::disasm::Instruction;
use dbgkit::{BreakpointOptions, ContinueStatus, Event, EventKind, Session};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

/// Prints a line on standard output (and the log file while logging is on).
macro_rules! say {
    ($($arg:tt)*) => {{
        $crate::repl::output::emit_line(format_args!($($arg)*));
    }};
}
pub(crate) use say;

/// Where commands apply: a process, one of its threads, one frame of its stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Current {
    pub pid: i32,
    pub tid: i32,
    pub frame: usize,
}

/// A breakpoint as the user numbers it; the engine's id changes when the
/// program is restarted.
#[derive(Clone, Debug)]
pub struct UserBreakpoint {
    pub number: u32,
    pub pid: Option<i32>,
    pub engine: Option<u32>,
    /// What the user typed for the place (`compute`, `counter.c:7`, `0x401000`).
    pub spec: String,
    /// `bu`: kept as an expression, re-resolved when modules load.
    pub deferred: bool,
    pub condition: Option<String>,
    pub one_shot: bool,
    pub enabled: bool,
    pub ignore: u64,
    /// Commands run when it stops the program (`commands N`, `bp ADDR "cmds"`).
    pub commands: Vec<String>,
}

/// What stopped the target, and how to show it.
pub struct Stop {
    pub event: Event,
    /// The event as shown: user numbers for breakpoints, a step for the
    /// debugger's own one-shot breakpoints, a break for the initial stop.
    pub shown: Event,
    /// A catchpoint's stop: the line that says so, shown instead of the event's.
    pub title: Option<String>,
}

/// Why the debugger planted one of its own breakpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Internal {
    /// `p`, `gu`, `g ADDR`: shown as a step when hit.
    Step,
}

pub struct Debugger {
    pub session: Session,
    pub tty: bool,
    pub echo: bool,
    pub quit: bool,
    /// gdb's value numbers (`$1 = ...`) for `call`.
    pub value_history: u32,
    /// The exit status `quit CODE` asked for.
    pub exit_code: Option<i32>,
    /// The program and its arguments, for `.restart`.
    pub program: Option<Vec<String>>,
    pub aslr: bool,
    pub current: Option<Current>,
    /// Processes stopped at an event we reported and have not continued.
    pub held: BTreeMap<i32, Event>,
    pub breakpoints: Vec<UserBreakpoint>,
    internal: HashMap<(i32, u32), Internal>,
    pub signals: Signals,
    /// Thread numbers: index in this list, per process, in the order seen.
    threads: HashMap<i32, Vec<i32>>,
    /// Break-ins asked for (Ctrl-C) and not reported yet.
    breakins: HashSet<i32>,
    /// Break-ins that will arrive after the target already stopped otherwise: continued silently.
    stale_breakins: HashMap<i32, usize>,
    /// Threads single-stepping for a command, and steps whose command ended
    /// otherwise (a breakpoint, a break-in): their completion is not shown.
    steps: HashSet<(i32, i32)>,
    stale_steps: HashSet<(i32, i32)>,
    /// Where `u` and the `d*` commands go on when given no address.
    pub next_disassembly: Option<u64>,
    pub next_dump: Option<u64>,
    /// Ctrl-C was pressed while the target ran (for commands that run it several times).
    pub interrupted: bool,
    sources: HashMap<String, Option<Rc<Vec<String>>>>,
    /// How many values `print` has shown (gdb's `$N`).
    pub values_printed: u32,
    /// Where `list` goes on: a file and its next line.
    pub listing: Option<(String, u32)>,
    /// `define`, `document` or `commands` reading its lines up to `end`.
    pub block: Option<Block>,
    pub user_commands: BTreeMap<String, UserCommand>,
    /// How deep command files and user commands are nested now.
    pub depth: usize,
    pub displays: Vec<Display>,
    pub next_display: u32,
    /// Environment and redirections for launching the program.
    pub launch_settings: Launch,
    /// Catchpoints (`catch`, `tcatch`), in the breakpoints' numbering.
    pub catchpoints: Vec<super::catchpoints::Catchpoint>,
    /// What happens to the children the program starts.
    pub fork_settings: super::children::ForkSettings,
    /// Children announced by their parent's `Fork`, not created yet: child -> parent.
    pub fork_parents: HashMap<i32, i32>,
    /// Colours for errors and the current instruction (a terminal, no `NO_COLOR`).
    pub colour: bool,
    /// WinDbg's `l+t`: `p` and `t` step source lines rather than instructions.
    pub source_mode: bool,
    /// Python (or why not), extension commands and the `python` ... `end` block being typed.
    pub scripting: Scripting,
    pub python_block: Option<Vec<String>>,
}

impl Debugger {
    pub fn new(tty: bool, aslr: bool) -> Debugger {
        let mut session = Session::new();
        Signals::apply_defaults(&mut session);
        let colour = super::output::colour_wanted(tty);
        super::output::set_colour(colour);
        Debugger {
            session,
            tty,
            echo: false,
            quit: false,
            exit_code: None,
            value_history: 0,
            program: None,
            aslr,
            current: None,
            held: BTreeMap::new(),
            breakpoints: Vec::new(),
            internal: HashMap::new(),
            signals: Signals::default(),
            threads: HashMap::new(),
            breakins: HashSet::new(),
            stale_breakins: HashMap::new(),
            steps: HashSet::new(),
            stale_steps: HashSet::new(),
            next_disassembly: None,
            next_dump: None,
            interrupted: false,
            sources: HashMap::new(),
            values_printed: 0,
            listing: None,
            block: None,
            user_commands: BTreeMap::new(),
            depth: 0,
            displays: Vec::new(),
            next_display: 1,
            launch_settings: Launch::default(),
            catchpoints: Vec::new(),
            fork_settings: Default::default(),
            fork_parents: HashMap::new(),
            colour,
            source_mode: false,
            scripting: Scripting::unavailable("not set up".to_string()),
            python_block: None,
        }
    }

    /// `0:4242:4243> `: process index, pid, current thread.
    pub fn prompt(&self) -> String {
        if self.block.is_some() || self.python_block.is_some() {
            return ">".to_string();
        }
        match self.current {
            Some(c) => {
                let index = self.session.processes().iter().position(|&p| p == c.pid).unwrap_or(0);
                format!("{index}:{}:{}> ", c.pid, c.tid)
            }
            None => "dbgkit> ".to_string(),
        }
    }

    // ---- commands ----------------------------------------------------------

    /// Runs one line (commands separated by `;`); a failure is printed and
    /// ends the line. Returns whether every command succeeded.
    pub fn run_line(&mut self, line: &str, echo: bool) -> bool {
        match self.run_commands(line, echo) {
            Ok(()) => true,
            Err(e) => {
                report_error(&e, self.colour);
                false
            }
        }
    }

    /// Runs one line (commands separated by `;`, comments skipped, lines of
    /// an open `define`/`commands` block collected); the first failure ends
    /// the line and is returned.
    pub fn run_commands(&mut self, line: &str, echo: bool) -> Result<()> {
        // A `python` ... `end` block keeps its lines as typed (indentation is Python's).
        if self.collecting_block() {
            return match self.feed_block_line(line, echo) {
                true => Ok(()),
                false => Err(anyhow!("the python block failed")),
            };
        }
        if self.block.is_some() {
            if echo {
                say!(">{}", line.trim());
            }
            self.feed_block(line)?;
            return Ok(());
        }
        if is_comment(line) && !line.trim_start().starts_with("$$") {
            return Ok(());
        }
        // Python's own `;` belongs to the Python line.
        let commands = if super::script_commands::takes_whole_line(line) {
            vec![line.trim().to_string()]
        } else {
            super::args::split_commands(line)
        };
        for command in commands {
            // `define` or `commands` opened a block: what follows on the line belongs to it, up to `end`.
            if self.block.is_some() {
                self.feed_block(&command)?;
                continue;
            }
            if is_comment(&command) {
                continue;
            }
            if echo {
                say!("{}{command}", self.prompt());
            }
            // A Ctrl-C pressed before the command is not meant for it.
            interrupt::take();
            self.interrupted = false;
            self.execute(&command)?;
            if self.quit {
                break;
            }
        }
        Ok(())
    }

    /// Runs one command.
    pub fn execute(&mut self, command: &str) -> Result<()> {
        let name = command.split_whitespace().next().unwrap_or("");
        if self.user_commands.contains_key(name) {
            let args = command.trim_start()[name.len()..].trim().to_string();
            return self.run_user_command(name, &args);
        }
        // `!name`: an extension command a script registered (else gdb's shell escape).
        if name.starts_with('!') {
            if let Some(result) = super::script_commands::run_extension(self, command) {
                return result;
            }
        }
        let (spec, call) = match commands::find(command) {
            Ok(found) => found,
            // Not a built-in command: perhaps an extension command a script registered.
            Err(e) => return super::script_commands::run_extension(self, command).unwrap_or(Err(e)),
        };
        if spec.args.is_empty() && !call.args.is_empty() {
            bail!("{} takes no arguments (not {:?}); help {} says more", call.name, call.args, spec.name);
        }
        (spec.run)(self, &call)
    }

    // ---- where we are --------------------------------------------------------

    /// The current process, stopped at an event.
    pub fn stopped(&self) -> Result<Current> {
        let c = self.current.ok_or_else(no_process)?;
        if !self.held.contains_key(&c.pid) {
            bail!("process {} is running: break in with Ctrl-C first", c.pid);
        }
        Ok(c)
    }

    /// The current process (running or not).
    pub fn process(&self) -> Result<i32> {
        self.current.map(|c| c.pid).ok_or_else(no_process)
    }

    /// Live threads of a process with their numbers, numbering new ones.
    pub fn thread_list(&mut self, pid: i32) -> Result<Vec<(usize, i32)>> {
        let live = self.session.threads(pid)?;
        let known = self.threads.entry(pid).or_default();
        for &tid in &live {
            if !known.contains(&tid) {
                known.push(tid);
            }
        }
        Ok(known.iter().enumerate().filter(|(_, tid)| live.contains(tid)).map(|(i, &tid)| (i, tid)).collect())
    }

    /// The thread with number `n` in the current process.
    pub fn thread_by_number(&mut self, n: usize) -> Result<i32> {
        let pid = self.process()?;
        self.thread_list(pid)?
            .into_iter()
            .find(|&(i, _)| i == n)
            .map(|(_, tid)| tid)
            .ok_or_else(|| anyhow!("no thread {n}: `~` lists the threads"))
    }

    /// The registers that expressions see: the selected frame's.
    fn frame_registers(&mut self) -> FrameRegisters {
        let Some(c) = self.current.filter(|c| self.held.contains_key(&c.pid)) else {
            return FrameRegisters::None;
        };
        if c.frame == 0 {
            return match self.session.registers(c.pid, c.tid) {
                Ok(r) => FrameRegisters::All(r),
                Err(_) => FrameRegisters::None,
            };
        }
        // The selected frame counts inlined functions; registers belong to physical frames.
        let Ok(physical) = super::source::physical_frame(self, c) else { return FrameRegisters::None };
        if physical == 0 {
            return match self.session.registers(c.pid, c.tid) {
                Ok(r) => FrameRegisters::All(r),
                Err(_) => FrameRegisters::None,
            };
        }
        match self.session.stack(c.pid, c.tid) {
            Ok(stack) => match stack.frames.get(physical) {
                Some(f) => FrameRegisters::Recovered(f.registers),
                None => FrameRegisters::None,
            },
            Err(_) => FrameRegisters::None,
        }
    }

    /// Evaluates an expression in the current frame.
    pub fn eval(&mut self, text: &str) -> std::result::Result<u64, dbgkit::Error> {
        let registers = self.frame_registers();
        match self.current {
            Some(c) => eval::evaluate(Some(&mut self.session), c.pid, registers, text),
            None => eval::evaluate(None, 0, registers, text),
        }
    }

    /// The pc of the selected frame.
    pub fn frame_pc(&mut self) -> Result<u64> {
        let c = self.stopped()?;
        if c.frame == 0 {
            return Ok(self.session.registers(c.pid, c.tid)?.rip);
        }
        let physical = super::source::physical_frame(self, c)?;
        let stack = self.session.stack(c.pid, c.tid)?;
        Ok(stack.frames.get(physical).ok_or_else(|| anyhow!("no frame {}", c.frame))?.pc)
    }

    // ---- starting and ending ---------------------------------------------------

    /// Launches the program and runs it to its entry point (every library
    /// loaded and initialised), where it stops.
    pub fn launch(&mut self) -> Result<()> {
        let argv = self.program.clone().ok_or_else(|| anyhow!("no program to launch: start dbgkit with one"))?;
        // The files of `run < in > out` stay open until the program has its copies.
        let mut open_files = Vec::new();
        let options = self.launch_settings.options(&argv, self.aslr, &mut open_files)?.stop_at_entry(true);
        let pid = self.session.spawn(&options)?;
        drop(open_files);
        self.threads.insert(pid, vec![pid]);
        self.current = Some(Current { pid, tid: pid, frame: 0 });
        let stop = self.wait_stop()?;
        if self.session.processes().contains(&pid) {
            self.restore_breakpoints(pid);
            self.restore_catchpoints(pid);
        }
        if let Some(stop) = stop {
            self.show_stop(&stop);
            self.show_displays();
        }
        Ok(())
    }

    /// Attaches to a process; it stops once its threads and modules are reported.
    pub fn attach(&mut self, pid: i32) -> Result<()> {
        self.session.attach(pid)?;
        self.threads.insert(pid, vec![pid]);
        self.current = Some(Current { pid, tid: pid, frame: 0 });
        // Queued after the replayed events: the stop comes once they are all shown.
        self.session.break_in(pid)?;
        self.breakins.insert(pid);
        if let Some(stop) = self.wait_stop()? {
            self.show_stop(&stop);
            self.show_displays();
        }
        Ok(())
    }

    /// Opens a core file (post-mortem): its threads and modules are shown,
    /// then the stop at the signal that ended it, on the thread that got it.
    pub fn open_core(&mut self, core: &std::path::Path, program: Option<&std::path::Path>) -> Result<()> {
        let pid = self.session.open_core(core, program)?;
        self.threads.insert(pid, vec![]);
        self.current = Some(Current { pid, tid: pid, frame: 0 });
        if let Ok(info) = self.session.process_info(pid) {
            if !info.arguments.is_empty() {
                say!("Core was generated by `{}'.", info.arguments);
            }
        }
        if let Some(stop) = self.wait_stop()? {
            self.show_stop(&stop);
        }
        Ok(())
    }

    /// The process `old` now goes by `new` (a restored checkpoint): its
    /// breakpoints, thread numbers and selection follow; its stop comes as
    /// an event.
    pub fn renumber_process(&mut self, old: i32, new: i32) {
        self.held.remove(&old);
        self.internal.retain(|(p, _), _| *p != old);
        self.breakins.remove(&old);
        self.stale_breakins.remove(&old);
        self.steps.retain(|(p, _)| *p != old);
        self.stale_steps.retain(|(p, _)| *p != old);
        self.threads.remove(&old);
        self.threads.insert(new, vec![new]);
        for b in self.breakpoints.iter_mut().filter(|b| b.pid == Some(old)) {
            b.pid = Some(new);
        }
        if self.current.is_some_and(|c| c.pid == old) {
            self.current = Some(Current { pid: new, tid: new, frame: 0 });
        }
    }

    /// Forgets what belonged to a process that is gone.
    pub(super) fn forget(&mut self, pid: i32) {
        self.held.remove(&pid);
        self.internal.retain(|(p, _), _| *p != pid);
        self.breakins.remove(&pid);
        self.stale_breakins.remove(&pid);
        self.steps.retain(|(p, _)| *p != pid);
        self.stale_steps.retain(|(p, _)| *p != pid);
        self.threads.remove(&pid);
        for b in self.breakpoints.iter_mut().filter(|b| b.pid == Some(pid)) {
            b.engine = None;
        }
        if self.current.is_some_and(|c| c.pid == pid) {
            self.current = self.session.processes().first().map(|&p| Current { pid: p, tid: p, frame: 0 });
        }
    }

    /// Kills a process and waits until it is gone.
    pub fn kill(&mut self, pid: i32) -> Result<()> {
        self.session.kill(pid)?;
        self.held.remove(&pid);
        loop {
            let event = match self.session.wait_event(Some(std::time::Duration::from_secs(30))) {
                Ok(Some(e)) => e,
                Ok(None) => bail!("process {pid} did not die"),
                Err(dbgkit::Error::NoProcesses) => break,
                Err(e) => return Err(e.into()),
            };
            let done = event.pid == pid && matches!(event.kind, EventKind::ProcessExited { .. });
            if done {
                say!("{}", event_line(&event, None));
            }
            self.session.continue_process(event.pid, ContinueStatus::Handled)?;
            if done {
                break;
            }
        }
        self.forget(pid);
        Ok(())
    }

    /// Detaches from a process: it runs on as if never debugged.
    pub fn detach(&mut self, pid: i32) -> Result<()> {
        self.session.detach(pid)?;
        say!("Detach: pid={pid}");
        self.forget(pid);
        Ok(())
    }

    // ---- running -----------------------------------------------------------------

    /// The continue status an event gets by default: signals per the policy.
    fn default_status(&self, event: &Event) -> ContinueStatus {
        event.kind.default_status_with(|signal| self.signals.get(signal).pass)
    }

    /// Continues every process we hold (with `status`, or each event's default).
    pub fn continue_held(&mut self, status: Option<ContinueStatus>) -> Result<()> {
        if self.held.is_empty() {
            return Err(match self.current {
                Some(c) => anyhow!("process {} is running: break in with Ctrl-C first", c.pid),
                None => no_process(),
            });
        }
        let pids: Vec<i32> = self.held.keys().copied().collect();
        for pid in pids {
            let event = self.held.remove(&pid).expect("listed");
            let status = status.unwrap_or_else(|| self.default_status(&event));
            if let Err(e) = self.session.continue_process(pid, status) {
                self.held.insert(pid, event);
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// `g`: continue and wait for the next stop.
    pub fn go(&mut self, status: Option<ContinueStatus>) -> Result<()> {
        self.continue_held(status)?;
        self.wait_and_show()
    }

    /// Waits for the next stop and shows it; a breakpoint's command list
    /// runs there, and when it says `continue` the target goes on.
    pub fn wait_and_show(&mut self) -> Result<()> {
        while let Some(stop) = self.wait_stop()? {
            if !self.report_stop(&stop)? {
                break;
            }
            self.continue_held(None)?;
        }
        Ok(())
    }

    /// Shows a stop (unless its breakpoint's commands start with `silent`),
    /// the displays, and runs the breakpoint's commands. Returns whether
    /// the commands asked to continue.
    pub fn report_stop(&mut self, stop: &Stop) -> Result<bool> {
        // A user breakpoint's stop is shown with its number (the debugger's own are shown as steps).
        let commands = match (&stop.event.kind, &stop.shown.kind) {
            (EventKind::Breakpoint { id: engine_id, .. }, EventKind::Breakpoint { id: number, .. }) => self
                .breakpoints
                .iter()
                .find(|b| b.number == *number && b.engine == Some(*engine_id) && b.pid == Some(stop.event.pid))
                .map(|b| b.commands.clone())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let silent = commands.first().is_some_and(|c| c.trim() == "silent");
        if !silent {
            self.show_stop(stop);
            self.show_displays();
        }
        for line in commands.iter().skip(usize::from(silent)) {
            let first = line.split_whitespace().next().unwrap_or("");
            if matches!(first, "continue" | "c" | "g" | "cont") && line.split_whitespace().count() == 1 {
                return Ok(true);
            }
            self.run_commands(line, false)?;
            if self.quit || self.stopped().is_err() {
                break;
            }
        }
        Ok(false)
    }

    /// Single-steps the current thread (its process's event is continued).
    pub fn start_step(&mut self) -> Result<Current> {
        let c = self.stopped()?;
        let event = self.held.remove(&c.pid).expect("stopped");
        if let Err(e) = self.session.step_into(c.pid, c.tid) {
            self.held.insert(c.pid, event);
            return Err(e.into());
        }
        self.stale_steps.remove(&(c.pid, c.tid));
        self.steps.insert((c.pid, c.tid));
        Ok(c)
    }

    /// Starts an engine step (a thread plan) of the current thread; its
    /// `StepComplete` (or whatever stops it first) is waited for by the caller.
    pub fn start_plan(&mut self, kind: dbgkit::StepKind) -> Result<Current> {
        let c = self.stopped()?;
        let event = self.held.remove(&c.pid).expect("stopped");
        if let Err(e) = self.session.step(c.pid, c.tid, kind, dbgkit::StepOptions::default()) {
            self.held.insert(c.pid, event);
            return Err(e.into());
        }
        self.stale_steps.remove(&(c.pid, c.tid));
        self.steps.insert((c.pid, c.tid));
        Ok(c)
    }

    /// Plants one of the debugger's own one-shot breakpoints.
    pub fn temporary_breakpoint(&mut self, pid: i32, address: u64, condition: Option<String>) -> Result<u32> {
        let mut options = BreakpointOptions::default().one_shot(true).hidden(true);
        if let Some(c) = condition {
            options = options.condition(c);
        }
        let id = self.session.add_breakpoint_with(pid, address, options)?;
        self.internal.insert((pid, id), Internal::Step);
        Ok(id)
    }

    /// Whether an engine breakpoint is one of the debugger's own (not the user's).
    pub fn is_internal(&self, pid: i32, id: u32) -> bool {
        self.internal.contains_key(&(pid, id))
    }

    /// Removes the debugger's own breakpoints that were not hit.
    pub fn remove_internal(&mut self) {
        for ((_, id), _) in std::mem::take(&mut self.internal) {
            let _ = self.session.remove_breakpoint(id);
        }
    }

    /// Runs until an event stops the target; the events on the way are
    /// printed and continued. `None`: the current process is gone.
    pub fn wait_stop(&mut self) -> Result<Option<Stop>> {
        loop {
            if interrupt::take() {
                self.interrupted = true;
                self.request_break_in();
            }
            let event = match self.session.wait_event(None) {
                Ok(Some(e)) => e,
                Ok(None) => continue,
                Err(dbgkit::Error::NoProcesses) => {
                    self.current = None;
                    return Ok(None);
                }
                Err(e) => return Err(e.into()),
            };
            if let Some((shown, title)) = self.decide(&event)? {
                return Ok(Some(self.stopped_at(event, shown, title)));
            }
            let pid = event.pid;
            let exited = matches!(event.kind, EventKind::ProcessExited { .. });
            let status = self.default_status(&event);
            match self.session.continue_process(pid, status) {
                Ok(()) => {}
                Err(e) if exited => return Err(e.into()),
                Err(e) => {
                    // Cannot go on (should not happen): show it as a stop rather than lose it.
                    report_error(&anyhow::Error::from(e), self.colour);
                    return Ok(Some(self.stopped_at(event.clone(), event, None)));
                }
            }
            if exited {
                let was_current = self.current.is_some_and(|c| c.pid == pid);
                self.forget(pid);
                if was_current {
                    return Ok(None);
                }
            }
        }
    }

    fn request_break_in(&mut self) {
        self.breakins.extend(self.session.break_in_all());
    }

    /// Whether an event stops the target: `Some(how to show it, and a
    /// catchpoint's line to show instead)`, or `None` after printing it
    /// when it deserves a line.
    fn decide(&mut self, event: &Event) -> Result<Option<(Event, Option<String>)>> {
        if let EventKind::Fork { child, .. } = event.kind {
            if self.session.follows_children() {
                self.fork_parents.insert(child, event.pid);
            }
        }
        if let Some(title) = self.caught(event)? {
            return Ok(Some((event.clone(), Some(title))));
        }
        Ok(self.decide_shown(event)?.map(|shown| (shown, None)))
    }

    /// `decide` for an event no catchpoint stops at.
    fn decide_shown(&mut self, event: &Event) -> Result<Option<Event>> {
        let pid = event.pid;
        let print = |dbg: &mut Debugger| {
            let place = event_address(event).and_then(|a| place(&mut dbg.session, pid, a));
            say!("{}", event_line(event, place.as_deref()));
        };
        match &event.kind {
            EventKind::ProcessCreated { .. } => {
                print(self);
                self.threads.insert(pid, vec![pid]);
                if let Some(parent) = self.fork_parents.remove(&pid) {
                    self.on_child_created(parent, pid)?;
                }
                Ok(None)
            }
            EventKind::Fork { .. } => {
                print(self);
                Ok(None)
            }
            EventKind::ThreadCreated { .. } => {
                self.threads.entry(pid).or_default().push(event.tid);
                print(self);
                Ok(None)
            }
            EventKind::ProcessExited { .. }
            | EventKind::ThreadExited { .. }
            | EventKind::ModuleLoaded(_)
            | EventKind::ModuleUnloaded(_)
            | EventKind::Exec { .. }
            | EventKind::DebugOutput { .. } => {
                print(self);
                Ok(None)
            }
            EventKind::Exception { signal, first_chance, .. } => {
                let policy = self.signals.get(*signal);
                if !*first_chance || policy.stop {
                    return Ok(Some(event.clone()));
                }
                if policy.print {
                    print(self);
                }
                Ok(None)
            }
            EventKind::Breakpoint { id, address } => {
                let shown = match self.internal.get(&(pid, *id)) {
                    Some(Internal::Step) => EventKind::StepComplete { address: *address },
                    None => match self.breakpoints.iter().find(|b| b.pid == Some(pid) && b.engine == Some(*id)) {
                        Some(b) => EventKind::Breakpoint { id: b.number, address: *address },
                        None => event.kind.clone(),
                    },
                };
                Ok(Some(Event::new(event.pid, event.tid, shown)))
            }
            EventKind::StepComplete { .. } => {
                let thread = (pid, event.tid);
                if !self.steps.remove(&thread) && self.stale_steps.remove(&thread) {
                    // The end of a step whose command already stopped for something else.
                    return Ok(None);
                }
                Ok(Some(event.clone()))
            }
            EventKind::BreakIn => {
                if let Some(n) = self.stale_breakins.get_mut(&pid).filter(|n| **n > 0) {
                    *n -= 1;
                    return Ok(None);
                }
                self.breakins.remove(&pid);
                Ok(Some(event.clone()))
            }
            // Steps, watchpoints, and whatever else the engine reports: the user asked for them.
            _ => Ok(Some(event.clone())),
        }
    }

    /// Bookkeeping at a stop: the event is held, the debugger's own
    /// breakpoints go, and the stop's thread becomes the current one.
    fn stopped_at(&mut self, event: Event, shown: Event, title: Option<String>) -> Stop {
        let pid = event.pid;
        super::script_commands::report_callback_error(self);
        self.held.insert(pid, event.clone());
        self.remove_internal();
        // Break-ins asked for and not the reason of this stop will come later: let them pass.
        for other in std::mem::take(&mut self.breakins) {
            if !(other == pid && matches!(event.kind, EventKind::BreakIn)) {
                *self.stale_breakins.entry(other).or_default() += 1;
            }
        }
        // Steps still under way finish unseen.
        let finished = (pid, event.tid);
        for step in std::mem::take(&mut self.steps) {
            if !(step == finished && matches!(event.kind, EventKind::StepComplete { .. })) {
                self.stale_steps.insert(step);
            }
        }
        // One-shot breakpoints the engine removed at their hit are gone for the user too.
        let session = &self.session;
        self.breakpoints.retain(|b| {
            !(b.one_shot && b.pid == Some(pid) && b.engine.is_some_and(|id| session.breakpoint(id).is_none()))
        });
        self.current = Some(Current { pid, tid: event.tid, frame: 0 });
        self.next_disassembly = None;
        if interrupt::take() {
            self.interrupted = true;
        }
        Stop { event, shown, title }
    }

    /// Prints a stop: the event line, then where the thread is.
    pub fn show_stop(&mut self, stop: &Stop) {
        let shown = &stop.shown;
        let place = event_address(shown).and_then(|a| place(&mut self.session, shown.pid, a));
        let style = if matches!(shown.kind, EventKind::Exception { .. }) { Style::Alarm } else { Style::Stop };
        match &stop.title {
            Some(title) => say!("{}", paint(title, style)),
            None => say!("{}", paint(&event_line(shown, place.as_deref()), style)),
        }
        if let Ok(regs) = self.session.registers(stop.event.pid, stop.event.tid) {
            self.show_place(stop.event.pid, regs.rip, Some(regs.rip));
        }
    }

    /// The place line (`module!symbol+off (file.c:12):`), the source line
    /// when its file is there, and the instruction at `pc`.
    pub fn show_place(&mut self, pid: i32, pc: u64, current_rip: Option<u64>) {
        if let Ok(s) = self.session.symbolize(pid, pc) {
            if s.module.is_some() {
                say!("{}:", s.with_location());
            }
            if let Some(loc) = &s.location {
                if let Some(text) = self.source_line(&loc.file, loc.line) {
                    say!("{:>6}  {}", loc.line, text);
                }
            }
        }
        if let Ok(insns) = self.session.disassemble(pid, pc, 1) {
            if let Some(insn) = insns.first() {
                say!("{}", instruction_line(insn, current_rip));
            }
        }
    }

    /// One line of a source file, if the file can be read.
    pub fn source_line(&mut self, file: &str, line: u32) -> Option<String> {
        if line == 0 {
            return None;
        }
        let lines = self
            .sources
            .entry(file.to_string())
            .or_insert_with(|| {
                std::fs::read(file)
                    .ok()
                    .map(|b| Rc::new(String::from_utf8_lossy(&b).lines().map(str::to_string).collect()))
            })
            .clone()?;
        lines.get(line as usize - 1).map(|l| l.trim_end().to_string())
    }

    // ---- breakpoints ---------------------------------------------------------------

    /// Creates a user breakpoint in the engine for process `pid`.
    pub fn plant(&mut self, pid: i32, b: &UserBreakpoint) -> Result<(u32, Option<String>)> {
        let mut options = BreakpointOptions::default().one_shot(b.one_shot).disabled(!b.enabled).ignore_count(b.ignore);
        if b.number != 0 {
            // Set before (another process, a disabled pending one): it keeps its number.
            options = options.id(b.number);
        }
        if let Some(c) = &b.condition {
            options = options.condition(eval::gdb_registers(c));
        }
        let spec = eval::gdb_registers(&b.spec);
        // A function or a source line goes where gdb puts it (after the
        // prologue, on a line with code), now or when its module loads.
        let id = if b.deferred || dbgkit::Session::is_source_location(&spec) {
            self.session.add_breakpoint_at(pid, &spec, options)?
        } else {
            // gdb's `*ADDR`: exactly there.
            let expression = spec.trim().strip_prefix('*').unwrap_or(&spec);
            match self.eval(expression) {
                Ok(address) => self.session.add_breakpoint_with(pid, address, options)?,
                // Not loaded yet: wait for the module, as `bu` does.
                Err(e) if eval::is_unknown_name(&e) => self.session.add_breakpoint_at(pid, &spec, options)?,
                Err(e) => return Err(e.into()),
            }
        };
        let pending = self.session.breakpoint(id).and_then(|i| i.unresolved);
        Ok((id, pending))
    }

    /// Plants the user's breakpoints again in a new process (after `.restart`).
    pub(super) fn restore_breakpoints(&mut self, pid: i32) {
        for i in 0..self.breakpoints.len() {
            if self.breakpoints[i].engine.is_some() {
                continue;
            }
            let b = self.breakpoints[i].clone();
            match self.plant(pid, &b) {
                Ok((id, _)) => {
                    self.breakpoints[i].engine = Some(id);
                    self.breakpoints[i].pid = Some(pid);
                }
                Err(e) => say!("breakpoint {} not set again: {e:#}", b.number),
            }
        }
    }

    /// Reads the instruction at an address.
    pub fn instruction_at(&mut self, pid: i32, address: u64) -> Result<Instruction> {
        self.session
            .disassemble(pid, address, 1)?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("no instruction at {address:#x}"))
    }
}

/// `=> 0000555555555189 f30f1efa               endbr64` (the marker when it is the thread's pc).
pub fn instruction_line(insn: &Instruction, current_rip: Option<u64>) -> String {
    let current = current_rip == Some(insn.address);
    let marker = if current { "=> " } else { "   " };
    let line = format!("{marker}{:016x} {:<22} {}", insn.address, insn.hex_bytes(), insn.text);
    if current {
        paint(&line, Style::Current)
    } else {
        line
    }
}

pub fn no_process() -> anyhow::Error {
    anyhow!("no process: start one with .restart, or .attach PID")
}

/// Prints why a command failed; a bad expression shows its column.
pub fn report_error(e: &anyhow::Error, colour: bool) {
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let (red, plain) = if colour { ("\x1b[31m", "\x1b[0m") } else { ("", "") };
    super::output::log_error(&format!("error: {e:#}"));
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{red}error:{plain} {e:#}");
    for cause in e.chain() {
        if let Some(dbgkit::Error::BadExpression { text, error }) = cause.downcast_ref::<dbgkit::Error>() {
            for line in error.pointed(text).lines() {
                let _ = writeln!(err, "  {line}");
            }
            break;
        }
    }
}
