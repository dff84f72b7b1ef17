//! The test programs of `tests/fixtures/`, built once per test run.
//!
//! `tests/fixtures/manifest.txt` lists every program and how it is built.
//! The first test (of any crate, in any process) that asks for a fixture
//! builds them all into one directory, `target/fixtures`, under a file lock;
//! a stamp of the manifest and sources lets every later process of the run
//! (and later runs, until a source changes) use them as they are.
//!
//! ```no_run
//! let counter = dbgkit_fixtures::path("counter");
//! assert!(counter.is_file());
//! ```

use std::collections::hash_map::DefaultHasher;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// One line of the manifest: what to build and the command that builds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipe {
    pub name: String,
    pub command: Vec<String>,
}

/// The repository's `tests/fixtures` directory.
pub fn sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// Where fixtures are built: `$CARGO_TARGET_DIR/fixtures`, or the workspace's `target/fixtures`.
pub fn output_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("fixtures")
}

/// Parses the manifest's text: `NAME: COMMAND...` lines, `#` comments, blank lines.
pub fn parse_manifest(text: &str) -> Result<Vec<Recipe>, String> {
    let mut recipes = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, command) =
            line.split_once(':').ok_or_else(|| format!("manifest line {}: expected `NAME: COMMAND`", number + 1))?;
        let command: Vec<String> = command.split_whitespace().map(str::to_string).collect();
        if name.trim().is_empty() || command.is_empty() {
            return Err(format!("manifest line {}: a name and a command are both needed", number + 1));
        }
        recipes.push(Recipe { name: name.trim().to_string(), command });
    }
    Ok(recipes)
}

/// The manifest's recipes.
pub fn recipes() -> Vec<Recipe> {
    let path = sources().join("manifest.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_manifest(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The directory holding every built fixture (built now if needed).
pub fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = output_dir();
        if let Err(e) = build_all(&out) {
            panic!("building the test fixtures into {}: {e}", out.display());
        }
        out.canonicalize().unwrap_or(out)
    })
}

/// The path of one built fixture; panics naming the fixture if the manifest has none by that name.
pub fn path(name: &str) -> PathBuf {
    let dir = dir();
    let known = recipes().iter().any(|r| r.name == name);
    assert!(known, "no fixture named {name:?} in tests/fixtures/manifest.txt");
    dir.join(name)
}

/// A hash of everything a build depends on: the manifest and every source file.
fn stamp(sources: &Path) -> std::io::Result<String> {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(sources)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    entries.sort();
    let mut hasher = DefaultHasher::new();
    for entry in entries.iter().filter(|p| p.is_file()) {
        entry.file_name().hash(&mut hasher);
        std::fs::read(entry)?.hash(&mut hasher);
    }
    Ok(format!("{:016x}\n", hasher.finish()))
}

/// An exclusive lock on a file, released when dropped.
struct Lock(File);

impl Lock {
    fn take(path: &Path) -> std::io::Result<Lock> {
        let file = File::create(path)?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Lock(file))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // SAFETY: unlocking our own descriptor.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

/// Builds every fixture into `out` unless the stamp there says they are current.
pub fn build_all(out: &Path) -> Result<(), String> {
    let src = sources();
    std::fs::create_dir_all(out).map_err(|e| e.to_string())?;
    let _lock = Lock::take(&out.join(".lock")).map_err(|e| format!("locking: {e}"))?;
    let wanted = stamp(&src).map_err(|e| format!("reading {}: {e}", src.display()))?;
    let stamp_path = out.join(".stamp");
    if std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    let _ = std::fs::remove_file(&stamp_path);
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let mut running: Vec<(String, Child)> = Vec::new();
    for recipe in recipes() {
        // Something linking against `-L.` needs every earlier library finished.
        if running.len() >= jobs || recipe.command.iter().any(|w| w == "-L.") {
            finish(&mut running, if recipe.command.iter().any(|w| w == "-L.") { 0 } else { jobs - 1 })?;
        }
        let args: Vec<String> = recipe.command[1..]
            .iter()
            .map(|w| {
                let candidate = src.join(w);
                if !w.starts_with('-') && candidate.is_file() {
                    candidate.to_string_lossy().into_owned()
                } else {
                    w.clone()
                }
            })
            .collect();
        let child = Command::new(&recipe.command[0])
            .args(&args)
            .arg("-o")
            .arg(&recipe.name)
            .current_dir(out)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("running {} for {}: {e}", recipe.command[0], recipe.name))?;
        running.push((recipe.name.clone(), child));
    }
    finish(&mut running, 0)?;
    std::fs::write(&stamp_path, wanted).map_err(|e| e.to_string())?;
    Ok(())
}

/// Waits until at most `keep` builds are running; fails on the first failed build.
fn finish(running: &mut Vec<(String, Child)>, keep: usize) -> Result<(), String> {
    while running.len() > keep {
        let (name, child) = running.remove(0);
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(format!("building {name} failed:\n{}", String::from_utf8_lossy(&output.stderr)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_lines_parse_and_bad_ones_are_named() {
        let r = parse_manifest("# c\n\na: gcc -g a.c\nb.so: gcc -shared b.c\n").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].name, "b.so");
        assert_eq!(r[1].command, ["gcc", "-shared", "b.c"]);
        assert!(parse_manifest("a gcc").unwrap_err().contains("line 1"));
        assert!(parse_manifest("x:\n").unwrap_err().contains("line 1"));
    }

    #[test]
    fn the_repository_manifest_names_existing_sources() {
        let src = sources();
        for recipe in recipes() {
            let named = recipe.command.iter().filter(|w| w.ends_with(".c") || w.ends_with(".cpp"));
            for source in named {
                assert!(src.join(source).is_file(), "{}: no source {source}", recipe.name);
            }
        }
    }
}
