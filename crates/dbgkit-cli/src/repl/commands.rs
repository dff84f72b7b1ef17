//! Every command, declared once: its name (WinDbg's), the other names it
//! answers to (gdb's first), its arguments, a line of help and more. The
//! same table parses command lines and writes `help`, `help CMD` and the
//! command list of `dbgkit --help`.

use super::args::distance;
use super::debugger::{say, Debugger};
use super::{
    breakpoints, catchpoints, checkpoints, children, control, display, dump, inspect, memory, output, printf, program,
    reach, remote, script, script_commands, shell, signals, source,
};
use anyhow::{anyhow, bail, Result};

pub type Handler = fn(&mut Debugger, &Call) -> Result<()>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Run,
    Breakpoints,
    Stack,
    Memory,
    Symbols,
    Source,
    Signals,
    Scripts,
    Python,
    Other,
}

impl Group {
    fn title(self) -> &'static str {
        match self {
            Group::Run => "Run control",
            Group::Breakpoints => "Breakpoints",
            Group::Stack => "Registers, stack, threads",
            Group::Memory => "Memory and disassembly",
            Group::Symbols => "Symbols and modules",
            Group::Source => "Source level: variables, types, source text",
            Group::Signals => "Signals",
            Group::Scripts => "Command files, user commands, output",
            Group::Python => "Python scripts",
            Group::Other => "Other",
        }
    }
}

pub struct Command {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub args: &'static str,
    pub group: Group,
    pub help: &'static str,
    pub details: &'static str,
    pub run: Handler,
    /// An empty line at the prompt repeats it (steps and listings).
    pub repeats: bool,
}

/// A parsed command line: the name as typed, gdb's `/FMT`, and the rest.
pub struct Call<'a> {
    pub name: &'a str,
    pub fmt: Option<&'a str>,
    pub args: &'a str,
}

macro_rules! cmd {
    ($name:expr, [$($alias:expr),*], $args:expr, $group:ident, $run:expr, $help:expr $(, details: $details:expr)? $(, repeats: $rep:expr)?) => {
        Command {
            name: $name,
            aliases: &[$($alias),*],
            args: $args,
            group: Group::$group,
            help: $help,
            details: { #[allow(unused_mut, unused_assignments)] let mut d = ""; $(d = $details;)? d },
            run: $run,
            repeats: { #[allow(unused_mut, unused_assignments)] let mut r = false; $(r = $rep;)? r },
        }
    };
}

pub static COMMANDS: &[Command] = &[
    // ---- run control
    cmd!("g", ["c", "continue"], "[ADDR]", Run, control::go,
        "go: run until an event stops the target; with ADDR, run to ADDR",
        details: "Exceptions are passed to the program or not as the signal table says (sx, handle).\n\
                  With ADDR (an expression; gdb's `*ADDR` is accepted), a one-shot breakpoint is set there\n\
                  and removed at the next stop, whatever stopped the target."),
    cmd!(
        "gh",
        [],
        "",
        Run,
        control::go_handled,
        "go, with the current exception handled (the signal is not delivered)"
    ),
    cmd!(
        "gn",
        [],
        "",
        Run,
        control::go_not_handled,
        "go, with the current exception not handled (the signal is delivered)"
    ),
    cmd!("t", ["si", "stepi"], "[COUNT]", Run, control::trace,
        "trace: step one instruction (a source line after l+t), into calls", repeats: true),
    cmd!("step", [], "[COUNT]", Run, control::step_line,
        "gdb's step: one source line, into called functions that have line information",
        details: "A function without line information is stepped over; inlined calls are stepped into as gdb does.\n\
                  The step runs in the engine (a thread plan): a breakpoint or a signal first ends it.", repeats: true),
    cmd!("next", ["n"], "[COUNT]", Run, control::next_line,
        "gdb's next: one source line, over calls", repeats: true),
    cmd!(
        "until",
        [],
        "[LOCATION]",
        Run,
        control::advance,
        "until LOCATION: run to it, or until the current function returns; alone, next"
    ),
    cmd!(
        "advance",
        [],
        "LOCATION",
        Run,
        control::advance,
        "run to LOCATION (a line, a function, *ADDR), or until the current function returns"
    ),
    cmd!(
        "l+t",
        ["l-t"],
        "",
        Run,
        control::source_mode,
        "WinDbg's source options: l+t makes p and t step source lines, l-t instructions (the default)"
    ),
    cmd!("p", ["ni", "nexti"], "[COUNT] | EXPR", Run, control::step_over,
        "step one instruction, over calls; p EXPR or p/FMT EXPR prints, as gdb's p does",
        details: "Over a call, the target runs until the call returns to this frame (the engine's step plan:\n\
                  a breakpoint after the call that only this thread at this stack depth takes).\n\
                  p alone or with a count steps (WinDbg); followed by anything else it is gdb's print.", repeats: true),
    cmd!("pc", [], "", Run, control::step_to_call, "step (over calls) until the current instruction is a call", repeats: true),
    cmd!(
        "gu",
        ["finish"],
        "",
        Run,
        control::go_up,
        "go up: run until the selected frame returns to its caller (finish also shows the value returned)"
    ),
    cmd!(".restart", ["run"], "[ARGS] [< IN] [> OUT] [2> ERR]", Run, program::restart,
        "kill the program and start it again (breakpoints are kept); new ARGS replace the old",
        details: "Redirections are done as a shell would: run 3 < in.txt > out.txt (>> appends, 2> for errors).\n\
                  Without ARGS the last arguments are used again (set args changes them)."),
    cmd!(
        "set args",
        [],
        "[ARGS] [< IN] [> OUT]",
        Run,
        program::set_args,
        "the arguments (and redirections) of the next run"
    ),
    cmd!("show args", [], "", Run, program::show_args, "show the arguments of the next run"),
    cmd!(
        "set environment",
        ["set env"],
        "VAR[=VALUE]",
        Run,
        program::set_environment,
        "set an environment variable for the next run (gdb's set environment)"
    ),
    cmd!(
        "unset environment",
        ["unset env"],
        "[VAR]",
        Run,
        program::unset_environment,
        "remove an environment variable for the next run (all of them without VAR)"
    ),
    cmd!(".childdbg", [], "[0|1]", Run, children::childdbg,
        "debug the processes the program starts too (1), or let them run free (0)",
        details: "A child is then a process of its own: its events are shown, | lists it and |Ns selects it.\n\
                  It starts with no breakpoint (breakpoints belong to the process they were set in)."),
    cmd!("set follow-fork-mode", [], "parent|child", Run, children::set_follow_fork_mode,
        "after a fork, stay with the parent (default) or move to the child",
        details: "With detach-on-fork on (the default) the process not followed runs free;\n\
                  moving to the child moves the breakpoints with it, with their numbers."),
    cmd!("show follow-fork-mode", [], "", Run, children::show_follow_fork_mode, "show follow-fork-mode"),
    cmd!(
        "set detach-on-fork",
        [],
        "on|off",
        Run,
        children::set_detach_on_fork,
        "off: after a fork keep debugging both processes (the child as a process of its own)"
    ),
    cmd!("show detach-on-fork", [], "", Run, children::show_detach_on_fork, "show detach-on-fork"),
    cmd!(
        "show environment",
        ["show env"],
        "[VAR]",
        Run,
        program::show_environment,
        "show the environment the next run gets"
    ),
    cmd!(
        "jump",
        [],
        "LOCATION",
        Run,
        control::jump,
        "go on at LOCATION: the current thread's pc becomes it (jump *0x401000, jump counter.c:12)"
    ),
    cmd!("return", [], "[VALUE]", Run, control::return_now,
        "pop the selected frame now: its caller goes on from the return address, with rax = VALUE",
        details: "The rest of the function does not run (gdb's return). The caller's saved registers\n\
                  (rbp, rbx, r12-r15) are put back as the unwinder found them."),
    cmd!(".attach", ["attach"], "PID", Run, control::attach, "attach to a running process"),
    cmd!(".detach", ["detach"], "", Run, control::detach, "detach: the program runs on as if never debugged"),
    cmd!("target remote", ["target extended-remote"], "ADDRESS [FILE]", Run, remote::target,
        "debug through a GDB remote stub: gdbserver, QEMU's -gdb (a kernel), or `| COMMAND`",
        details: "ADDRESS is HOST:PORT, or | COMMAND (a stub on the command's standard input and output).\n\
                  FILE gives the symbols: the program, or a kernel's vmlinux or System.map.\n\
                  extended-remote keeps the stub when the program ends, and runs FILE on a stub with none."),
    cmd!(
        "monitor",
        [],
        "COMMAND",
        Run,
        remote::monitor,
        "run a command of the remote stub: monitor info registers (QEMU), monitor help"
    ),
    cmd!(
        ".reload",
        [],
        "",
        Symbols,
        remote::reload,
        "kernel: find where the kernel is (its KASLR slide) and its loaded modules again"
    ),
    cmd!(
        "!process",
        [],
        "0 0",
        Symbols,
        remote::process_list,
        "kernel: every process (task address, pid, parent, name), read through vmlinux's DWARF types"
    ),
    cmd!(".kill", ["kill"], "", Run, control::kill, "kill the program"),
    cmd!(
        "q",
        ["quit", ".quit", "exit"],
        "[CODE]",
        Run,
        control::quit,
        "quit (launched programs are killed, attached ones left running); CODE is the exit status"
    ),
    // ---- breakpoints
    cmd!("bp", ["break", "b"], "[/1] [/w \"COND\"] EXPR [\"CONDITION\" | \"COMMANDS\"]", Breakpoints, breakpoints::bp,
        "set a breakpoint on an address or symbol, with an optional condition or command list",
        details: "EXPR: main, counter!bump, libc.so.6!malloc+0x10, counter.c:12, 0x401000, rip+5.\n\
                  The condition is an expression evaluated at each hit; the target stops when it is not 0:\n\
                  bp counter!bump \"rdi == 3\" (or bp /w \"rdi == 3\" counter!bump). gdb's form works too:\n\
                  break bump if $rdi == 3. A quoted text that starts with a command is WinDbg's command\n\
                  list, run at each hit: bp counter!bump \"r rdi; g\".\n\
                  /1 makes it one-shot. A name not loaded yet makes the breakpoint pending, as `bu` does."),
    cmd!("tbreak", [], "EXPR [if CONDITION]", Breakpoints, breakpoints::tbreak, "set a one-shot breakpoint"),
    cmd!("catch", [], "KIND [ARGS]", Breakpoints, catchpoints::catch,
        "stop at an event: syscall [NAME|NUMBER...], throw, catch, rethrow, fork, vfork, exec, load [REGEX], unload [REGEX], signal [SIG...]",
        details: "catch syscall write openat: each entry to and return from those calls (every call without names);\n\
                  the kernel is asked for system call stops only while such a catchpoint exists.\n\
                  throw, catch, rethrow: C++ exceptions (the exception's type is shown).\n\
                  load, unload: libraries whose name or path matches REGEX (any without it).\n\
                  signal: these signals, even those the signal table (sx, handle) lets pass; all but SIGTRAP and SIGINT without names.\n\
                  Catchpoints are numbered and listed with the breakpoints; bc, bd, be take them."),
    cmd!("tcatch", [], "KIND [ARGS]", Breakpoints, catchpoints::tcatch, "a catchpoint deleted after it stops once"),
    cmd!("ba", [], "w|r|e SIZE EXPR", Breakpoints, reach::ba,
        "hardware breakpoint or watchpoint: ba w8 counter, ba r4 p, ba e1 main",
        details: "Uses the debug registers (four in all): w write, r read or write, e execute;\n\
                  sizes 1, 2, 4, 8 (other ranges are split over several registers).\n\
                  Each hit prints a `Watchpoint:` line with the old and new value."),
    cmd!(
        "watch",
        ["rwatch", "awatch"],
        "EXPR [SIZE]",
        Breakpoints,
        reach::watch,
        "gdb's watchpoints on SIZE bytes (8): watch = writes, rwatch/awatch = reads and writes"
    ),
    cmd!("hbreak", ["hb"], "EXPR", Breakpoints, reach::watch, "hardware breakpoint (no code byte is changed)"),
    cmd!("wl", ["info watchpoints"], "", Breakpoints, reach::list, "list watchpoints"),
    cmd!("wc", [], "ID", Breakpoints, reach::clear, "remove a watchpoint"),
    cmd!(
        ".call",
        [],
        "FUNCTION [ARG...]",
        Other,
        reach::dot_call,
        "call a function of the target: .call strlen \"text\" (strings are copied in), prints rax"
    ),
    cmd!(
        "call",
        [],
        "FUNCTION(ARG, ...)",
        Other,
        reach::c_call,
        "gdb's call in C syntax: call strlen(\"text\"), call bump(41); prints the value returned"
    ),
    cmd!(".inject", [], "PATH", Other, reach::inject, "load a shared object into the target through its dlopen"),
    cmd!(".dump", [], "[/o] FILE", Other, dump::dot_dump,
        "write the stopped process as an ELF core file (gdb, eu-stack and dbgkit read it)",
        details: "Every thread's registers (general, x87/SSE, XSAVE), the signal of the current event,\n\
                  the auxiliary vector, the mapped files and all readable memory, breakpoints hidden.\n\
                  An existing FILE is an error unless /o (overwrite) is given. The process stays stopped."),
    cmd!(
        "gcore",
        ["generate-core-file"],
        "[FILE]",
        Other,
        dump::gcore,
        "gdb's name: write the stopped process as an ELF core file (default core.PID, replaced)"
    ),
    cmd!("checkpoint", [], "", Run, checkpoints::checkpoint,
        "save the moment of the stopped process, to come back to with restart N",
        details: "A stopped copy of the process (a fork) keeps its memory, registers and the offsets of its files.\n\
                  Only single-threaded processes can be saved. What cannot go back: other processes,\n\
                  the contents of files, pipes and sockets."),
    cmd!("restart", [], "N", Run, checkpoints::restart,
        "go back to checkpoint N: the process is replaced by a copy of that moment (a new process id)",
        details: "Breakpoints and watchpoints stay. The checkpoint itself is kept: restart N again goes back again."),
    cmd!("info checkpoints", [], "", Run, checkpoints::info_checkpoints, "list the checkpoints"),
    cmd!("delete checkpoint", [], "N", Run, checkpoints::delete_checkpoint, "drop checkpoint N"),
    cmd!("bu", [], "EXPR [\"CONDITION\"]", Breakpoints, breakpoints::bu,
        "set a deferred breakpoint: kept as an expression, planted when its module loads",
        details: "The expression is resolved again each time a module loads or comes back:\n\
                  bu libc.so.6!socket sets itself when libc is loaded, and again after a dlclose/dlopen."),
    cmd!("bl", ["info breakpoints", "info break", "i b"], "", Breakpoints, breakpoints::bl, "list breakpoints"),
    cmd!(
        "bc",
        ["delete", "d"],
        "IDS",
        Breakpoints,
        breakpoints::bc,
        "clear (delete) breakpoints: 1, 1-3, 1,4 or *; gdb's delete alone deletes all"
    ),
    cmd!("bd", ["disable"], "IDS", Breakpoints, breakpoints::bd, "disable breakpoints: 1, 1-3, 1,4 or *"),
    cmd!("be", ["enable"], "IDS", Breakpoints, breakpoints::be, "enable breakpoints: 1, 1-3, 1,4 or *"),
    cmd!(
        "condition",
        [],
        "ID [EXPR]",
        Breakpoints,
        breakpoints::condition,
        "set (or, without EXPR, remove) the condition of a breakpoint"
    ),
    cmd!("ignore", [], "ID COUNT", Breakpoints, breakpoints::ignore, "let the next COUNT hits of a breakpoint pass"),
    // ---- registers, stack, threads
    cmd!("r", ["info registers", "info reg", "i r", "info all-registers"], "[REG[=EXPR][, ...] | vector]", Stack,
        inspect::registers,
        "show registers, or set one: r rax=0x10, r xmm0, r st0, r mxcsr, r efl",
        details: "r alone shows every general register and the current instruction; r rip shows one;\n\
                  r rax=rbx+1, rcx=0 sets them. Names: rax..r15, eax, ax, al, ah, r8d, rip, eflags (efl,\n\
                  shown with its flags), fs_base, gs_base, xmm0..xmm15, ymm0..ymm15 (with AVX), st0..st7,\n\
                  mxcsr, fcw, fsw, ftw. info registers vector shows the vector registers, info all-registers\n\
                  every one. gdb's set $rax = 1 does the same."),
    cmd!(
        "k",
        ["kn", "bt", "backtrace", "where"],
        "[COUNT]",
        Stack,
        inspect::stack,
        "show the call stack of the current thread (COUNT frames at most)"
    ),
    cmd!(
        ".frame",
        ["frame", "f"],
        "[N]",
        Stack,
        inspect::frame,
        "select frame N of the stack (expressions then see its registers), or show the selected one"
    ),
    cmd!("up", [], "[N]", Stack, inspect::up, "select the frame N levels up (towards the callers)"),
    cmd!("down", [], "[N]", Stack, inspect::down, "select the frame N levels down"),
    cmd!("~", ["info threads"], "[N|*][s|CMD]", Stack, inspect::threads,
        "list threads; ~Ns selects thread N; ~N CMD and ~* CMD run CMD on thread N or on each thread",
        details: "~ lists the threads of the current process (. marks the current one);\n\
                  ~1s selects thread 1; ~1 k shows its stack; ~* k shows every stack;\n\
                  ~~[TID]s selects a thread by its id."),
    cmd!(
        "thread",
        [],
        "[N | apply all|N CMD]",
        Stack,
        inspect::thread,
        "gdb's thread: select thread N (numbers as ~ shows them), or apply a command"
    ),
    cmd!("|", ["info inferiors"], "[Ns]", Stack, inspect::processes, "list debugged processes; |Ns selects process N"),
    // ---- memory and disassembly
    cmd!("db", [], "ADDR [L COUNT]", Memory, memory::dump, "display bytes and their characters", repeats: true),
    cmd!("dw", [], "ADDR [L COUNT]", Memory, memory::dump, "display 16-bit words", repeats: true),
    cmd!("dd", [], "ADDR [L COUNT]", Memory, memory::dump, "display 32-bit double words", repeats: true),
    cmd!("dq", [], "ADDR [L COUNT]", Memory, memory::dump, "display 64-bit quad words", repeats: true),
    cmd!("dps", [], "ADDR [L COUNT]", Memory, memory::dump, "display pointers with the symbols they point to", repeats: true),
    cmd!("da", [], "ADDR [L COUNT]", Memory, memory::dump, "display an ASCII string", repeats: true),
    cmd!("du", [], "ADDR [L COUNT]", Memory, memory::dump, "display a UTF-16 string", repeats: true),
    cmd!("x/", [], "FMT ADDR", Memory, memory::examine,
        "gdb's examine: x/8xb ADDR, x/4gx, x/2dw, x/s, x/3i, x/2a",
        details: "FMT is [COUNT][FORMAT][SIZE]: FORMAT x (hex), d (signed), u (unsigned), o, t (binary),\n\
                  c (bytes), a (pointers), s (string), i (instructions); SIZE b, h, w, g (1, 2, 4, 8 bytes).\n\
                  The output is the same as db/dw/dd/dq, dps, da and u give."),
    cmd!("eb", [], "ADDR VALUE...", Memory, memory::edit, "write bytes (each VALUE an expression)"),
    cmd!("ew", [], "ADDR VALUE...", Memory, memory::edit, "write 16-bit words"),
    cmd!("ed", [], "ADDR VALUE...", Memory, memory::edit, "write 32-bit double words"),
    cmd!("eq", [], "ADDR VALUE...", Memory, memory::edit, "write 64-bit quad words"),
    cmd!("ea", [], "ADDR \"TEXT\"", Memory, memory::edit, "write an ASCII string (no terminating zero)"),
    cmd!("eza", [], "ADDR \"TEXT\"", Memory, memory::edit, "write an ASCII string and its terminating zero"),
    cmd!(
        "set",
        [],
        "$REG|{TYPE}ADDR|VARIABLE = EXPR",
        Memory,
        source::set_variable,
        "gdb's set: a register (set $rax = 1), memory (set {char}ADDR = 0x41) or a variable (set x = 5)"
    ),
    cmd!("s", [], "-b|-w|-d|-q|-a RANGE WHAT", Memory, memory::search,
        "search memory: s -b START L LEN 68 65 (hex bytes), s -a START END \"text\", s -q ... VALUE",
        details: "The range is START L LENGTH or START END. Bytes of -b are hexadecimal, as in a dump;\n\
                  values of -w/-d/-q are expressions. Every match is shown as a line of db."),
    cmd!("u", [], "[ADDR] [L COUNT]", Memory, inspect::unassemble,
        "disassemble COUNT (8) instructions at ADDR (the selected frame's pc; after u, where it stopped)",
        repeats: true),
    cmd!("uf", ["disassemble", "disas"], "[/r|/m|/s] [ADDR]", Memory, inspect::unassemble_function,
        "disassemble the whole function holding ADDR (default: the selected frame's pc)",
        details: "Raw bytes are always shown (gdb's /r); /m and /s put each source line before its code."),
    cmd!(
        "!address",
        ["info proc mappings"],
        "[ADDR]",
        Memory,
        inspect::address,
        "show the memory map, or the region holding ADDR (the debugger's own pages are labelled)"
    ),
    // ---- symbols and modules
    cmd!(
        "ln",
        ["info symbol"],
        "ADDR",
        Symbols,
        inspect::near_symbol,
        "name an address: module!symbol+offset (file:line)"
    ),
    cmd!("x", [], "[MODULE!]PATTERN", Symbols, inspect::examine_symbols,
        "list symbols matching a wildcard pattern: x counter!b*, x *!malloc",
        details: "* matches any text and ? one character. Without MODULE! every module is searched.\n\
                  gdb's x/FMT is memory, not symbols: see x/."),
    cmd!(
        "info functions",
        ["info variables"],
        "REGEX",
        Symbols,
        inspect::info_functions,
        "gdb's info functions: symbols matching a regular expression, in every module"
    ),
    cmd!(
        "lm",
        [],
        "[m PATTERN]",
        Symbols,
        inspect::modules,
        "list loaded modules (lm m libc* those whose name matches a wildcard pattern)"
    ),
    cmd!(
        "info sharedlibrary",
        ["info shared"],
        "[REGEX]",
        Symbols,
        inspect::shared_libraries,
        "gdb's list of shared libraries: From, To, Syms Read, path"
    ),
    cmd!(
        "?",
        [],
        "EXPR",
        Symbols,
        inspect::evaluate,
        "evaluate a WinDbg expression: ? rsp+8, ? poi(rsp), ? counter!bump (alone, ? shows help)"
    ),
    // ---- source level (variables, types, source text)
    cmd!("print", ["inspect"], "[/FMT] EXPR", Source, source::print,
        "print an expression in the program's language: print *list, p/x mask, print s->name",
        details: "C and C++ rules: members a.b and p->x, *p, &x, arr[i], casts (struct node *) addr,\n\
                  arithmetic, comparisons, x = 5 assigns. Values print as gdb prints them, numbered $1, $2...\n\
                  FMT is one of x d u o t c a z s. `p EXPR` does the same (p alone steps over)."),
    cmd!(
        "??",
        [],
        "EXPR",
        Source,
        source::evaluate_cpp,
        "WinDbg's C++ evaluator: the type and value of an expression, a struct member by member"
    ),
    cmd!(
        "dv",
        [],
        "[/t] [PATTERN]",
        Source,
        source::display_variables,
        "display the parameters and locals of the selected frame (/t: with types)"
    ),
    cmd!(
        "info locals",
        [],
        "",
        Source,
        source::info_locals,
        "gdb's info locals: the local variables of the selected frame"
    ),
    cmd!("info args", [], "", Source, source::info_args, "gdb's info args: the arguments of the selected frame"),
    cmd!(
        "dt",
        [],
        "TYPE [ADDR] | VARIABLE",
        Source,
        source::display_type,
        "display a type's layout, or an object's members: dt struct node, dt struct node 0x601040, dt list"
    ),
    cmd!("ptype", [], "EXPR|TYPE", Source, source::ptype, "the type of an expression, or a type, written out"),
    cmd!(
        "whatis",
        [],
        "EXPR|TYPE",
        Source,
        source::whatis,
        "the name of an expression's type, or what a typedef names"
    ),
    cmd!(
        "set var",
        ["set variable"],
        "VARIABLE = EXPR",
        Source,
        source::set_variable,
        "assign through the variable's type: set var counter = 5, set var p->next = 0"
    ),
    cmd!("list", ["l"], "[LINE|FUNCTION|FILE:LINE|FIRST,LAST]", Source, source::list,
        "show ten source lines around a place (the selected frame's line first), list again goes on",
        repeats: true),
    cmd!("lsa", [], "[ADDR]", Source, source::list_address, "show the source around an address, its line marked"),
    cmd!("info line", [], "[LOCATION]", Source, source::info_line, "where the code of a source line starts and ends"),
    cmd!(
        "info source",
        [],
        "",
        Source,
        source::info_source,
        "the source file of the selected frame and how it was compiled"
    ),
    cmd!("info frame", [], "", Source, source::info_frame, "the selected frame: its addresses, caller, arguments"),
    // ---- signals
    cmd!("sxe", [], "SIGNAL | ld:MODULE | ud:MODULE", Signals, signals::sx,
        "stop when the program receives SIGNAL (first chance), or when MODULE loads (ld:) or unloads (ud:)",
        details: "sxe ld:libfoo.so is a catchpoint (catch load) on that module; sxd ld:libfoo.so removes it."),
    cmd!(
        "sxd",
        [],
        "SIGNAL",
        Signals,
        signals::sx,
        "stop only at the second chance (when SIGNAL would kill); print at the first"
    ),
    cmd!("sxn", [], "SIGNAL", Signals, signals::sx, "print a line when SIGNAL arrives, do not stop"),
    cmd!(
        "sxi",
        [],
        "SIGNAL",
        Signals,
        signals::sx,
        "ignore SIGNAL: neither stop nor print (second chances still stop)"
    ),
    cmd!(
        "sx",
        ["info signals", "info handle"],
        "[SIGNAL]",
        Signals,
        signals::list,
        "show the signal table (or the row of SIGNAL)"
    ),
    cmd!(
        "handle",
        [],
        "SIGNAL KEYWORDS...",
        Signals,
        signals::handle,
        "gdb's handle: whether SIGNAL stops, prints, and is passed to the program"
    ),
    // ---- command files, user commands, output
    cmd!(
        "source",
        [],
        "[-v] FILE",
        Scripts,
        script::source,
        "run the commands of FILE (a Python script when FILE ends in .py); the first that fails ends it"
    ),
    cmd!(
        "$$><",
        ["$$<", "$$>a<"],
        "FILE",
        Scripts,
        script::windbg_script,
        "WinDbg's script run: the commands of FILE (several a line, separated by ;)"
    ),
    cmd!(
        "define",
        [],
        "NAME",
        Scripts,
        script::define,
        "define a command: the lines up to `end`, with $arg0.. and $argc for its arguments"
    ),
    cmd!(
        "document",
        [],
        "NAME",
        Scripts,
        script::document,
        "the help of a command made with define (lines up to `end`)"
    ),
    cmd!("commands", [], "[IDS]", Scripts, script::commands,
        "commands run when breakpoints stop the program (lines up to `end`; last breakpoint without IDS)",
        details: "A first line `silent` shows nothing at the stop; `continue` goes on. gdb's tracing idiom:\n\
                  commands 1 / silent / printf \"x=%d\\n\", $rdi / continue / end"),
    cmd!("end", [], "", Scripts, script::end, "ends define, document and commands"),
    cmd!("silent", [], "", Scripts, script::silent, "first line of a command list: the stop is not shown"),
    cmd!(
        "printf",
        [],
        "\"FORMAT\", EXPR...",
        Scripts,
        printf::printf,
        "print as C's printf: %d %i %u %x %o %c %s (a string in memory) %p, with l, h, width, precision"
    ),
    cmd!("echo", [], "TEXT", Scripts, output::echo, "gdb's echo: TEXT with C escapes (\\n for a new line)"),
    cmd!(".echo", [], "TEXT", Scripts, output::dot_echo, "print TEXT and a new line"),
    cmd!("output", [], "EXPR", Scripts, output::output, "print the value of EXPR alone (no new line): output/x $rax"),
    cmd!(
        "display",
        [],
        "[/FMT] [EXPR]",
        Scripts,
        display::display,
        "show EXPR at every stop (display/x $rax, display/i $pc); alone, show them all now"
    ),
    cmd!(
        "undisplay",
        ["delete display"],
        "[IDS]",
        Scripts,
        display::undisplay,
        "stop showing displays (all without IDS)"
    ),
    cmd!("info display", [], "", Scripts, display::info_display, "list the displays"),
    cmd!(
        "set logging",
        [],
        "on [FILE] | off | file FILE | overwrite on|off | redirect on|off",
        Scripts,
        output::set_logging,
        "copy everything the debugger prints into FILE (gdb.txt by default)"
    ),
    cmd!(
        ".logopen",
        [".logappend"],
        "FILE",
        Scripts,
        output::logopen,
        "copy everything the debugger prints into FILE (.logappend adds to it)"
    ),
    cmd!(".logclose", [], "", Scripts, output::logclose, "stop copying output into the log file"),
    cmd!(
        "set pagination",
        ["set height", "set width", "set confirm"],
        "on|off|N",
        Scripts,
        settings,
        "accepted for gdb scripts: output is never paged and nothing asks for confirmation"
    ),
    // ---- Python
    cmd!(".py", [], "FILE [ARGS...]", Python, script_commands::dot_py,
        "run a Python script against this session (sys.argv = FILE ARGS)",
        details: "Inside, dbgkit.current_session() is this debugger's session: its processes, threads,\n\
                  breakpoints (set there, they show in bl) and the event it is stopped at. A script may\n\
                  continue and wait for events; the debugger goes on from where it left the target.\n\
                  @dbgkit.command(\"name\") registers extension commands (!name)."),
    cmd!("py", [], "CODE", Python, script_commands::py, "run one line of Python (an expression's value is printed)"),
    cmd!(
        "python",
        ["python-interactive", "pi"],
        "[CODE]",
        Python,
        script_commands::python,
        "run Python: one line, or without CODE the lines that follow up to `end`"
    ),
    // ---- other
    cmd!("help", [".help", "h"], "[COMMAND]", Other, help, "list commands, or show one in full"),
    cmd!("shell", ["!"], "[COMMAND]", Other, shell::shell, "run a shell command (!ls works too)"),
    cmd!(".shell", [], "COMMAND", Other, shell::shell, "WinDbg's shell command"),
    cmd!(
        "cd",
        [],
        "[DIR]",
        Other,
        shell::cd,
        "change the debugger's working directory (programs launched later start there)"
    ),
    cmd!("pwd", [], "", Other, shell::pwd, "show the debugger's working directory"),
];

/// `set pagination`, `set height`, `set width`, `set confirm`: nothing to change.
fn settings(_dbg: &mut Debugger, call: &Call) -> Result<()> {
    let value = call.args.trim();
    let ok = matches!(value, "on" | "off" | "1" | "0" | "yes" | "no" | "unlimited") || value.parse::<u64>().is_ok();
    if !ok {
        bail!("{} takes on, off or a number", call.name);
    }
    Ok(())
}

/// The entry for a name (or alias), exactly.
fn by_name(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name || c.aliases.contains(&name))
}

/// Every name and alias.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    COMMANDS.iter().flat_map(|c| std::iter::once(c.name).chain(c.aliases.iter().copied()))
}

/// Parses a command line into its entry and arguments.
pub fn find(line: &str) -> Result<(&'static Command, Call<'_>)> {
    let line = line.trim();
    // WinDbg's script runs take their file without a space: $$><cmds.txt.
    for prefix in ["$$>a<", "$$><", "$$<"] {
        if let Some(rest) = line.strip_prefix(prefix) {
            let command = by_name(prefix).expect("declared");
            return Ok((command, Call { name: prefix, fmt: None, args: rest.trim() }));
        }
    }
    // gdb's !CMD runs a shell command; WinDbg's extension commands
    // (`!address`, `!process`) are commands of their own.
    if let Some(rest) = line.strip_prefix('!') {
        let word = line.split_whitespace().next().unwrap_or(line);
        if word == "!" || by_name(word).is_none() {
            let command = by_name("!").expect("declared");
            return Ok((command, Call { name: "!", fmt: None, args: rest.trim() }));
        }
    }
    // WinDbg's one-character commands take their argument without a space: ~1s, ?rax, ??x, |0s.
    for prefix in ["??", "~", "?", "|"] {
        if let Some(rest) = line.strip_prefix(prefix) {
            let command = by_name(prefix).expect("declared");
            return Ok((command, Call { name: &line[..prefix.len()], fmt: None, args: rest.trim() }));
        }
    }
    // Names of several words (gdb's info ...): the longest that matches.
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut best: Option<(&'static Command, &'static str, usize)> = None;
    for c in COMMANDS {
        for name in std::iter::once(&c.name).chain(c.aliases.iter()) {
            let parts: Vec<&str> = name.split(' ').collect();
            if parts.len() > 1
                && words.len() >= parts.len()
                && words[..parts.len()] == parts[..]
                && best.is_none_or(|(_, _, n)| parts.len() > n)
            {
                best = Some((c, name, parts.len()));
            }
        }
    }
    if let Some((command, name, n)) = best {
        let mut rest = line;
        for _ in 0..n {
            rest = rest.trim_start();
            rest = &rest[rest.find(char::is_whitespace).unwrap_or(rest.len())..];
        }
        return Ok((command, Call { name, fmt: None, args: rest.trim() }));
    }
    let end = line.find(|c: char| c.is_whitespace() || c == '/').unwrap_or(line.len());
    let (word, rest) = line.split_at(end);
    let (fmt, args) = match rest.strip_prefix('/') {
        Some(after) => {
            let fmt_end = after.find(char::is_whitespace).unwrap_or(after.len());
            (Some(&after[..fmt_end]), after[fmt_end..].trim())
        }
        None => (None, rest.trim()),
    };
    // gdb's x/FMT (memory) is not WinDbg's x (symbols).
    let lookup = if word == "x" && fmt.is_some() { "x/" } else { word };
    match by_name(lookup) {
        Some(command) => Ok((command, Call { name: word, fmt, args })),
        None if word.is_empty() => bail!("empty command"),
        None => Err(unknown(line)),
    }
}

/// Commands that change or end something (breakpoints, memory, registers,
/// the program's life): never offered as a guess for a mistyped name.
#[rustfmt::skip]
const NEVER_SUGGESTED: &[&str] = &[
    "bc", "delete", "d", "bd", "disable", ".kill", "kill", "q", "quit", ".quit", "exit", ".detach", "detach",
    ".restart", "run", "jump", "return", "eb", "ew", "ed", "eq", "ea", "eza", "set", "set var", "set variable", "undisplay",
    "delete display", "unset environment", "unset env", "set args", "set environment", "set env", ".logclose",
    "shell", "!", ".shell", "cd", "gh", "gn", "wc", ".call", "call", ".inject", "define", "end", "silent",
];

/// What other debuggers' users type for something this one does under
/// another name, with the harmless command closest in meaning.
const SYNONYMS: &[(&str, &str)] = &[];

/// "unknown command", with a harmless command close in spelling or meaning when there is one.
fn unknown(line: &str) -> anyhow::Error {
    let word = line.split_whitespace().next().unwrap_or(line);
    let two: String = line.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    if let Some((_, hint)) = SYNONYMS.iter().find(|(typed, _)| *typed == two || *typed == word) {
        return anyhow!(
            "unknown command {:?}: {hint}",
            if SYNONYMS.iter().any(|(t, _)| *t == two) { &two } else { word }
        );
    }
    let nearest = all_names()
        .filter(|name| !NEVER_SUGGESTED.contains(name))
        .map(|name| {
            let typed = if name.contains(' ') { two.as_str() } else { word };
            (distance(typed, name), typed.chars().count(), name)
        })
        // A guess must be close: one letter off for short names, two for long ones.
        .filter(|&(d, typed_len, _)| d > 0 && d <= if typed_len <= 4 { 1 } else { 2 } && d < typed_len)
        .min_by_key(|&(d, _, name)| (d, name.len()));
    match nearest {
        Some((_, _, name)) => anyhow!("unknown command {word:?}: did you mean `{name}`? (help lists every command)"),
        None => anyhow!("unknown command {word:?} (help lists every command)"),
    }
}

/// Whether an empty line after `line` runs it again.
pub fn repeats(line: &str) -> bool {
    find(line).is_ok_and(|(c, _)| c.repeats)
}

fn usage(c: &Command) -> String {
    let name = if c.name == "x/" { "x/FMT" } else { c.name };
    let args = if c.name == "x/" { "ADDR" } else { c.args };
    if args.is_empty() {
        name.to_string()
    } else {
        format!("{name} {args}")
    }
}

/// The command list: every command by group, with its other names.
pub fn help_overview() -> String {
    let mut out = String::from("Commands at the prompt (`help COMMAND` there shows one in full):\n");
    let groups = [
        Group::Run,
        Group::Breakpoints,
        Group::Stack,
        Group::Memory,
        Group::Symbols,
        Group::Source,
        Group::Python,
        Group::Signals,
        Group::Scripts,
        Group::Python,
        Group::Other,
    ];
    for group in groups {
        out.push_str(&format!("\n{}:\n", group.title()));
        for c in COMMANDS.iter().filter(|c| c.group == group) {
            let aliases = if c.aliases.is_empty() { String::new() } else { format!("  [{}]", c.aliases.join(", ")) };
            out.push_str(&format!("  {:<34} {}{}\n", usage(c), c.help, aliases));
        }
    }
    out.push_str(
        "\nExpressions: 0x10 (hex), 16 (decimal), rax or @rax, $rax, poi(rsp+8), by/wo/dwo/qwo(ADDR), \
         module!symbol+0x10,\nfile.c:12, C operators. print, ??, dt and set var use the program's language \
         (C, C++, Rust).\nCommands may be joined with `;`.\n",
    );
    out
}

/// `help` and `help COMMAND`.
fn help(dbg: &mut Debugger, call: &Call) -> Result<()> {
    let topic = call.args.trim();
    if topic.is_empty() {
        say!("{}", help_overview().trim_end());
        script_commands::help_extensions(dbg);
        return Ok(());
    }
    if find(topic).is_err() && script_commands::help_extension(dbg, topic) {
        return Ok(());
    }
    if let Some(user) = dbg.user_commands.get(topic) {
        say!("{topic} (defined with define)");
        say!("  {}", user.doc.as_deref().unwrap_or("User-defined."));
        return Ok(());
    }
    let (c, _) = find(topic).map_err(|_| unknown(topic))?;
    say!("{}", usage(c));
    if !c.aliases.is_empty() {
        say!("  also: {}", c.aliases.join(", "));
    }
    say!("  {}", c.help);
    for line in c.details.lines() {
        say!("  {}", line.trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for name in all_names() {
            assert!(seen.insert(name), "{name} declared twice");
        }
    }

    #[test]
    fn lines_find_their_commands() {
        let (c, call) = find("info registers rip").unwrap();
        assert_eq!((c.name, call.args), ("r", "rip"));
        let (c, call) = find("x/4gx rsp").unwrap();
        assert_eq!((c.name, call.fmt, call.args), ("x/", Some("4gx"), "rsp"));
        let (c, call) = find("x counter!b*").unwrap();
        assert_eq!((c.name, call.args), ("x", "counter!b*"));
        let (c, call) = find("~1s").unwrap();
        assert_eq!((c.name, call.args), ("~", "1s"));
        let (c, call) = find("?rax+1").unwrap();
        assert_eq!((c.name, call.args), ("?", "rax+1"));
        let (c, call) = find("print/x $rax").unwrap();
        assert_eq!((c.name, call.fmt, call.args), ("print", Some("x"), "$rax"));
        let (c, call) = find("p/x counter").unwrap();
        assert_eq!((c.name, call.fmt, call.args), ("p", Some("x"), "counter"));
        let (c, call) = find("??list->next").unwrap();
        assert_eq!((c.name, call.args), ("??", "list->next"));
        assert_eq!(find("info locals").unwrap().0.name, "info locals");
        assert_eq!(find("set var x = 1").unwrap().0.name, "set var");
        assert_eq!(find("info proc mappings").unwrap().0.name, "!address");
        // WinDbg's extension commands are not shell commands; other `!`s are.
        assert_eq!(find("!address").unwrap().0.name, "!address");
        assert_eq!(find("!process 0 0").unwrap().0.name, "!process");
        let (c, call) = find("!ls -l /tmp").unwrap();
        assert_eq!((c.name, call.args), ("shell", "ls -l /tmp"));
        let (c, call) = find("! echo hi").unwrap();
        assert_eq!((c.name, call.args), ("shell", "echo hi"));
        assert_eq!(find("bt 3").unwrap().0.name, "k");
    }

    #[test]
    fn unknown_commands_suggest_the_nearest() {
        let e = find("bpp main").err().unwrap().to_string();
        assert!(e.contains("did you mean `bp`"), "{e}");
        let e = find("info registr").err().unwrap().to_string();
        assert!(e.contains("did you mean `info registers`"), "{e}");
    }

    #[test]
    fn no_guess_is_destructive_or_far_fetched() {
        for typed in ["dvv", "info localz", "dlt", "qq", "kil", "detatch", "zzzz", "info argz"] {
            let e = find(typed).err().unwrap().to_string();
            for bad in NEVER_SUGGESTED {
                assert!(!e.contains(&format!("`{bad}`")), "{typed}: {e}");
            }
        }
        assert!(find("zzzz").err().unwrap().to_string().ends_with("(help lists every command)"));
    }

    #[test]
    fn never_suggested_names_are_real_commands() {
        let names: Vec<&str> = all_names().collect();
        for n in NEVER_SUGGESTED {
            assert!(names.contains(n), "{n} is not a command");
        }
    }

    #[test]
    fn help_lists_every_command() {
        let text = help_overview();
        for c in COMMANDS {
            assert!(text.contains(&usage(c)), "{} missing from help", c.name);
            for alias in c.aliases {
                assert!(text.contains(alias), "{alias} missing from help");
            }
        }
    }
}
