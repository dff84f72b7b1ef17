//! Loading Python at run time.
//!
//! The `dbgkit` binary does not link libpython: it works where no Python is
//! installed. At start it looks for Python (the `python3` on `PATH`, or
//! `$DBGKIT_PYTHON`), loads that Python's shared library with its symbols
//! global, then loads the plugin `libdbgkit_cli_python.so` (this command
//! line and the Python module, built together; its Python symbols resolve
//! against the library just loaded, as an extension module's do) and lets
//! it run the command line. One copy of the engine then runs in the
//! process, shared by the command line and Python. If any step fails, the
//! binary runs its own copy of the command line without Python, and Python
//! commands say why.

use std::ffi::{CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The plugin's entry point: runs the command line, returns the exit status.
pub const ENTRY: &str = "dbgkit_cli_python_main";
/// The plugin's file name.
pub const PLUGIN: &str = "libdbgkit_cli_python.so";

/// The loaded plugin.
pub struct Plugin {
    entry: extern "C" fn() -> libc::c_int,
}

impl Plugin {
    /// Runs the command line from the plugin.
    pub fn run(&self) -> i32 {
        (self.entry)()
    }
}

/// Loads Python and the plugin, or says why not.
pub fn load() -> Result<Plugin, String> {
    let python = match std::env::var_os("DBGKIT_PYTHON") {
        Some(p) if p == "none" || p.is_empty() => return Err("turned off ($DBGKIT_PYTHON=none)".to_string()),
        Some(p) => PathBuf::from(p),
        None => PathBuf::from("python3"),
    };
    let plugin = plugin_path().ok_or_else(|| format!("the plugin {PLUGIN} is not beside the dbgkit binary"))?;
    let library = libpython(&python)?;
    open(&library, true).map_err(|e| format!("cannot load {}: {e}", library.display()))?;
    let handle = open(&plugin, false).map_err(|e| format!("cannot load {}: {e}", plugin.display()))?;
    let name = CString::new(ENTRY).expect("no NUL");
    // SAFETY: dlsym on a handle dlopen returned; the symbol is the plugin's
    // `extern "C" fn() -> c_int` entry point.
    let symbol = unsafe { libc::dlsym(handle, name.as_ptr()) };
    if symbol.is_null() {
        return Err(format!("{} has no entry point {ENTRY}", plugin.display()));
    }
    // SAFETY: as above: the symbol is a function of this signature.
    let entry: extern "C" fn() -> libc::c_int = unsafe { std::mem::transmute(symbol) };
    Ok(Plugin { entry })
}

/// `$DBGKIT_PYTHON_PLUGIN`, else the plugin beside the binary or in `../lib/dbgkit/`.
fn plugin_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DBGKIT_PYTHON_PLUGIN") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [dir.join(PLUGIN), dir.join("../lib/dbgkit").join(PLUGIN)].into_iter().find(|p| p.is_file())
}

/// The shared library of `python`: `libpython3.X.so.1.0` in its prefix's
/// `lib`, else wherever the system's loader finds that name (a
/// distribution's python3 may be linked statically while its shared library
/// lives in the system's directories). Asked with `-I -S` (no site, no
/// sysconfig): the question costs a bare interpreter start.
fn libpython(python: &Path) -> Result<PathBuf, String> {
    let script = "import sys\n\
                  if sys.version_info < (3, 11): sys.exit('Python 3.11 or later is needed, this is ' + sys.version.split()[0])\n\
                  print(sys.base_prefix)\n\
                  print('%d.%d%s' % (sys.version_info[0], sys.version_info[1], sys.abiflags))";
    let out = Command::new(python)
        .args(["-I", "-S", "-c", script])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(format!("{} failed: {why}", python.display()));
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    let (prefix, version) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
    if version.is_empty() || version.contains('t') {
        return Err(format!("{} is not a Python whose library dbgkit can load ({version})", python.display()));
    }
    let soname = format!("libpython{version}.so.1.0");
    let beside = Path::new(prefix).join("lib").join(&soname);
    Ok(if beside.is_file() { beside } else { PathBuf::from(soname) })
}

/// `dlopen`: global symbols for libpython (the plugin and Python's own
/// extension modules resolve against them), local for the plugin.
fn open(path: &Path, global: bool) -> Result<*mut libc::c_void, String> {
    let name = CString::new(OsStr::as_bytes(path.as_os_str())).map_err(|_| "a NUL in the path".to_string())?;
    let flags = libc::RTLD_NOW | if global { libc::RTLD_GLOBAL } else { libc::RTLD_LOCAL };
    // SAFETY: dlopen with a valid C string; loading runs the library's initialisers, which is the point.
    let handle = unsafe { libc::dlopen(name.as_ptr(), flags) };
    if handle.is_null() {
        // SAFETY: dlerror returns a thread-local message or NULL.
        let err = unsafe { libc::dlerror() };
        let why = if err.is_null() {
            "unknown error".to_string()
        } else {
            // SAFETY: a NUL-terminated string owned by libc.
            unsafe { CStr::from_ptr(err) }.to_string_lossy().into_owned()
        };
        return Err(why);
    }
    Ok(handle)
}
