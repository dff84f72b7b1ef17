//! Building the C fixtures the benchmarks debug, and finding their symbols.

use anyhow::{bail, ensure, Context, Result};
use object::{Object, ObjectKind, ObjectSegment, ObjectSymbol, SymbolKind};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A compiled fixture program.
pub struct Fixture {
    pub path: PathBuf,
}

/// The repository root: the benchmark crate lives one level below it, and the
/// fixture sources are shared with the engine's tests rather than copied.
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Where built fixtures and scratch files go: under the cargo target directory,
/// so `cargo clean` removes them and they never land in the source tree.
pub fn work_dir() -> Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"));
    let dir = target.join("dbgkit-bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// The flags every fixture is built with (see [`build`]).
pub const CFLAGS: &[&str] = &["-O0", "-g", "-no-pie", "-fno-omit-frame-pointer", "-fcf-protection=none", "-pthread"];

/// Compiles `tests/fixtures/<name>.c` the way the numbers were taken:
/// no optimisation (so the call is not inlined away), frame pointers, no CET
/// (so a function starts with `push %rbp`, not `endbr64`, whichever default
/// the distribution's gcc has), and a fixed load address (so symbol values
/// are runtime addresses).
pub fn build(name: &str) -> Result<Fixture> {
    let source = repo_root().join("tests/fixtures").join(format!("{name}.c"));
    ensure!(source.is_file(), "fixture source {} not found", source.display());
    let dir = work_dir()?;
    let path = dir.join(name);
    // Compile under a private name and rename: two benchmark runs at once must
    // never execute a half-written binary.
    let partial = dir.join(format!("{name}.{}.partial", std::process::id()));
    let output = Command::new("gcc")
        .args(CFLAGS)
        .arg("-o")
        .arg(&partial)
        .arg(&source)
        .output()
        .context("running gcc (is it installed?)")?;
    if !output.status.success() {
        let _ = std::fs::remove_file(&partial);
        bail!("gcc failed to build {}:\n{}", source.display(), String::from_utf8_lossy(&output.stderr));
    }
    std::fs::rename(&partial, &path).with_context(|| format!("moving the build to {}", path.display()))?;
    Ok(Fixture { path })
}

impl Fixture {
    /// The runtime address of a function. Only valid because the fixture is
    /// linked non-PIE; a PIE would need the load base from the running process.
    pub fn symbol_address(&self, name: &str) -> Result<u64> {
        let data = std::fs::read(&self.path).with_context(|| format!("reading {}", self.path.display()))?;
        let file = object::File::parse(&*data).with_context(|| format!("parsing {}", self.path.display()))?;
        ensure!(
            file.kind() == ObjectKind::Executable,
            "{} is not a fixed-address executable (built as PIE?), so its symbol values are not addresses",
            self.path.display()
        );
        file.symbols()
            .find(|s| s.kind() == SymbolKind::Text && s.is_definition() && s.name() == Ok(name))
            .map(|s| s.address())
            .filter(|&a| a != 0)
            .with_context(|| format!("no function symbol `{name}` in {}", self.path.display()))
    }

    /// Where the loadable segment holding `address` ends (its size in memory):
    /// what follows up to the end of its last page is padding.
    pub fn segment_end(&self, address: u64) -> Result<u64> {
        let data = std::fs::read(&self.path).with_context(|| format!("reading {}", self.path.display()))?;
        let file = object::File::parse(&*data).with_context(|| format!("parsing {}", self.path.display()))?;
        file.segments()
            .map(|s| (s.address(), s.address() + s.size()))
            .find(|(start, end)| (*start..*end).contains(&address))
            .map(|(_, end)| end)
            .with_context(|| format!("no segment of {} holds {address:#x}", self.path.display()))
    }

    /// The path relative to the repository, for reports.
    pub fn display(&self) -> String {
        let root = repo_root();
        self.path.strip_prefix(&root).unwrap_or(&self.path).display().to_string()
    }

    /// How the fixture was built, for reports.
    pub fn build_line(&self) -> String {
        format!("fixture: {} (built with gcc {})", self.display(), CFLAGS.join(" "))
    }

    /// Runs the fixture without any debugger: what every debugged run must
    /// reproduce byte for byte.
    pub fn reference_output(&self, args: &[String]) -> Result<String> {
        let output = Command::new(&self.path)
            .args(args)
            .output()
            .with_context(|| format!("running {} without a debugger", self.path.display()))?;
        ensure!(output.status.success(), "{} {:?} failed on its own: {}", self.path.display(), args, output.status);
        String::from_utf8(output.stdout).context("fixture output is not UTF-8")
    }
}
