//! Loading Python at run time is done with the dynamic loader of Unix
//! systems (see `python_plugin.rs`); elsewhere the command line runs
//! without Python, and Python commands say why.

/// The loaded plugin (never, here).
pub struct Plugin;

impl Plugin {
    /// Runs the command line from the plugin.
    pub fn run(&self) -> i32 {
        unreachable!("no plugin is loaded on this system")
    }
}

/// Says why Python is not loaded.
pub fn load() -> Result<Plugin, String> {
    Err("Python is loaded only on Linux so far".to_string())
}
