//! Crash triage for Python: the engine's `dbgkit::triage` runs the program
//! on every input (a session per worker thread, without the GIL) and hands
//! back its JSON, which `dbgkit/triage.py` turns into records.

use crate::errors::InvalidArgument;
use dbgkit::triage::{self, RunOptions};
use pyo3::prelude::*;
use std::path::PathBuf;
use std::time::Duration;

/// Runs `argv` (`"@@"` for the input's path) on each input, `jobs` at a
/// time; returns `{"clusters": [...], "records": [...]}` as JSON text.
#[pyfunction]
#[pyo3(signature = (argv, inputs, jobs, timeout, frames, aslr, follow_children=false))]
#[allow(clippy::too_many_arguments)]
pub fn triage_run(
    py: Python<'_>,
    argv: Vec<String>,
    inputs: Vec<PathBuf>,
    jobs: usize,
    timeout: f64,
    frames: usize,
    aslr: bool,
    follow_children: bool,
) -> PyResult<String> {
    if argv.is_empty() {
        return Err(InvalidArgument::new_err("no program to run"));
    }
    if jobs == 0 || frames == 0 {
        return Err(InvalidArgument::new_err("jobs and frames must be at least 1"));
    }
    if !(timeout > 0.0 && timeout.is_finite() && timeout < 1e9) {
        return Err(InvalidArgument::new_err(format!("timeout must be a positive number of seconds, not {timeout}")));
    }
    let mut options = RunOptions::new(argv);
    options.timeout = Duration::from_secs_f64(timeout);
    options.hash_frames = frames;
    options.disable_aslr = !aslr;
    options.follow_children = follow_children;
    // The runs happen on threads of their own, each with its own session:
    // nothing here touches Python, so other Python threads may run meanwhile.
    Ok(py.detach(move || {
        let records = triage::run_inputs(&options, &inputs, jobs, |_| {});
        let clusters = triage::cluster(&records);
        triage::triage_to_json(&records, &clusters)
    }))
}
