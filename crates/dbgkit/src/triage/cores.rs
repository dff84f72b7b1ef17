//! Triage of core files: each core opened as a read-only target in one
//! session (symbols are loaded once for all of them) and analysed by the
//! same code as a live crash, at the thread that received the fatal signal.

use super::conclude;
use super::run::{Outcome, Record};
use super::snapshot::{capture, Trigger};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::{ContinueStatus, Session};
use std::path::Path;
use std::time::{Duration, Instant};

/// Analyses one core of `program`; the record's input is the core.
pub fn analyse_core(session: &mut Session, program: &Path, core: &Path, hash_frames: usize) -> Record {
    let started = Instant::now();
    let size = std::fs::metadata(core).map(|m| m.len()).unwrap_or(0);
    let outcome = analyse(session, program, core, hash_frames);
    let (outcome, exit_signal, analysis) = match outcome {
        Ok((signal, analysis)) => (if signal.is_some() { Outcome::Crash } else { Outcome::NoCrash }, signal, analysis),
        Err(e) => (Outcome::Error(e.to_string()), None, None),
    };
    Record {
        input: core.to_path_buf(),
        size,
        outcome,
        exit_code: None,
        exit_signal,
        analysis,
        elapsed: started.elapsed(),
    }
}

fn analyse(
    session: &mut Session,
    program: &Path,
    core: &Path,
    hash_frames: usize,
) -> Result<(Option<i32>, Option<super::Analysis>)> {
    let pid = session.open_core(core, Some(program))?;
    let outcome = (|| {
        // The replayed events, then the fatal signal (or a break-in when the core records none).
        loop {
            let event = session
                .wait_event(Some(Duration::from_secs(5)))?
                .ok_or_else(|| Error::InvalidArgument("the core's events did not come".into()))?;
            match event.kind {
                EventKind::Exception { signal, code, fault_address, .. } => {
                    let trigger = Trigger::Signal { signal, code, fault_address };
                    let snapshot = capture(session, pid, event.tid, trigger, None)?;
                    return Ok((Some(signal), conclude(Some(&snapshot), "", None, hash_frames)));
                }
                EventKind::BreakIn => return Ok((None, None)),
                _ => session.continue_event(ContinueStatus::Handled)?,
            }
        }
    })();
    // Closing a core leaves nothing behind; the analysis is what matters.
    let _ = session.detach(pid);
    outcome
}

/// Analyses every core, in order, in one session; `progress` sees each record.
pub fn analyse_cores(
    program: &Path,
    cores: &[std::path::PathBuf],
    hash_frames: usize,
    mut progress: impl FnMut(&Record),
) -> Vec<Record> {
    let mut session = Session::new();
    cores
        .iter()
        .map(|core| {
            let record = analyse_core(&mut session, program, core, hash_frames);
            progress(&record);
            record
        })
        .collect()
}
