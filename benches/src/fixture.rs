//! Building the C fixtures the benchmarks debug, and finding their symbols.

use anyhow::{ensure, Context, Result};
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

/// The flags every benchmark fixture is built with (`bench_*` in
/// `tests/fixtures/manifest.txt`): no optimisation (so the call is not
/// inlined away), frame pointers, no CET (so a function starts with
/// `push %rbp`, not `endbr64`, whichever default the distribution's gcc
/// has), and a fixed load address (so symbol values are runtime addresses).
pub const CFLAGS: &[&str] = &["-O0", "-g", "-no-pie", "-fno-omit-frame-pointer", "-fcf-protection=none", "-pthread"];

/// The benchmark build of `tests/fixtures/<name>.c` (`bench_<name>` in the
/// shared fixture manifest, built once per run with every other fixture).
pub fn build(name: &str) -> Result<Fixture> {
    let out = dbgkit_fixtures::output_dir();
    dbgkit_fixtures::build_all(&out).map_err(|e| anyhow::anyhow!("building fixtures: {e}"))?;
    let path = out.join(format!("bench_{name}"));
    ensure!(path.is_file(), "no fixture bench_{name} in tests/fixtures/manifest.txt");
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

/// An executable named `name` on `PATH`, if any.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| {
        std::fs::metadata(candidate).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// Builds binary `bin` of workspace package `package` with `cargo build -p
/// PACKAGE [--release]` (cargo skips it when up to date) and returns the
/// executable's path, as cargo reports it (so a configured target directory
/// is honoured). The cargo running the benchmark holds no lock meanwhile.
/// cargo's progress and errors go to stderr; the build is not pinned to the
/// benchmark's CPU, so it may use them all.
pub fn cargo_build(package: &str, bin: &str, release: bool) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    command.args(["build", "-p", package]);
    if release {
        command.arg("--release");
    }
    // Artifacts as JSON on stdout, diagnostics rendered as usual on stderr.
    command
        .arg("--message-format=json-render-diagnostics")
        .current_dir(repo_root())
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit());
    // SAFETY: between fork and exec the closure only makes a system call on
    // a set it owns. The benchmark pins itself before anything runs, and
    // every child inherits that: widen the build's set again (the kernel
    // keeps only the CPUs the process may use).
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            let mut all: libc::cpu_set_t = std::mem::zeroed();
            for cpu in 0..libc::CPU_SETSIZE as usize {
                libc::CPU_SET(cpu, &mut all);
            }
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &all);
            Ok(())
        })
    };
    let what = format!("`cargo build -p {package}{}`", if release { " --release" } else { "" });
    let output = command.output().with_context(|| format!("running {what} ({})", cargo.to_string_lossy()))?;
    ensure!(output.status.success(), "{what} failed ({}); its errors are above", output.status);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let found = stdout.lines().filter_map(artifact_executable).find(|p| p.file_name() == Some(bin.as_ref()));
    let path = found.with_context(|| format!("{what} reported no executable `{bin}`"))?;
    ensure!(path.is_file(), "{what} reported {}, which is not a file", path.display());
    Ok(path)
}

/// The `executable` of one line of cargo's JSON messages, if it is a
/// compiler artifact that has one (escaped paths are not expected, and skipped).
fn artifact_executable(line: &str) -> Option<PathBuf> {
    if !line.contains(r#""reason":"compiler-artifact""#) {
        return None;
    }
    let (_, rest) = line.split_once(r#""executable":""#)?;
    let (path, _) = rest.split_once('"')?;
    (!path.contains('\\')).then(|| PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    #[test]
    fn executable_of_cargo_messages() {
        let line = r#"{"reason":"compiler-artifact","package_id":"x","target":{"kind":["bin"],"name":"dbgkit"},"executable":"/r/target/debug/dbgkit","fresh":true}"#;
        assert_eq!(super::artifact_executable(line), Some("/r/target/debug/dbgkit".into()));
        let lib = r#"{"reason":"compiler-artifact","target":{"kind":["lib"]},"executable":null,"fresh":true}"#;
        assert_eq!(super::artifact_executable(lib), None);
        assert_eq!(super::artifact_executable(r#"{"reason":"build-finished","success":true}"#), None);
    }
}
