//! The progress bar on a terminal: runs done, and the count of each class so far.

use dbgkit::triage::{Outcome, Record};
use std::collections::BTreeMap;
use std::io::Write;

pub struct Progress {
    total: usize,
    done: usize,
    /// Runs per class (`no-crash`, `hang` and `error` included).
    counts: BTreeMap<String, usize>,
    on_terminal: bool,
    last_draw: std::time::Instant,
}

impl Progress {
    pub fn new(total: usize, on_terminal: bool) -> Progress {
        Progress { total, done: 0, counts: BTreeMap::new(), on_terminal, last_draw: std::time::Instant::now() }
    }

    pub fn add(&mut self, record: &Record) {
        self.done += 1;
        let key = match (&record.outcome, &record.analysis) {
            (Outcome::Crash | Outcome::Hang, Some(a)) => a.class.id(),
            (outcome, _) => outcome.name().to_string(),
        };
        *self.counts.entry(key).or_default() += 1;
        // Redrawing costs a write; ten times a second is enough for a person.
        if self.on_terminal
            && (self.done == self.total || self.last_draw.elapsed() >= std::time::Duration::from_millis(100))
        {
            self.last_draw = std::time::Instant::now();
            self.draw();
        }
    }

    /// The line as drawn: `[#####-----] 412/1000  read-near-null 200  hang 2  no-crash 30`.
    pub fn line(&self) -> String {
        const WIDTH: usize = 24;
        let filled = (self.done * WIDTH).checked_div(self.total).unwrap_or(WIDTH);
        let mut counts: Vec<(&String, &usize)> = self.counts.iter().collect();
        counts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let classes: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!(
            "[{}{}] {}/{}  {}",
            "#".repeat(filled),
            "-".repeat(WIDTH - filled),
            self.done,
            self.total,
            classes.join("  ")
        )
    }

    fn draw(&self) {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{}", self.line());
        let _ = err.flush();
    }

    pub fn finish(&mut self) {
        if self.on_terminal {
            self.draw();
            let _ = writeln!(std::io::stderr());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(outcome: Outcome) -> Record {
        Record {
            input: "x".into(),
            size: 1,
            outcome,
            exit_code: None,
            exit_signal: None,
            analysis: None,
            elapsed: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn the_bar_counts_each_kind_of_run() {
        let mut p = Progress::new(4, false);
        assert_eq!(p.line(), "[------------------------] 0/4  ");
        p.add(&record(Outcome::NoCrash));
        p.add(&record(Outcome::NoCrash));
        p.add(&record(Outcome::Error("gone".into())));
        assert_eq!(p.line(), "[##################------] 3/4  no-crash 2  error 1");
    }
}
