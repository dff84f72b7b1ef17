//! What a benchmark hands back, and how it is printed.
//!
//! Benchmarks only measure; the report decides what is shown, so every
//! benchmark reads the same way: medians first, the spread next to them,
//! and goals judged on medians only (a single lucky run proves nothing).

/// One contender's results: one value per run (a rate or a time, as the
/// report's unit says).
pub struct Series {
    pub name: String,
    /// The work done per run (hits, steps, MiB, threads: the report's `work`).
    pub work: u64,
    pub values: Vec<f64>,
}

impl Series {
    pub fn new(name: &str, work: u64) -> Series {
        Series { name: name.into(), work, values: Vec::new() }
    }
    pub fn median(&self) -> f64 {
        median(&self.values)
    }
    pub fn min(&self) -> f64 {
        self.values.iter().copied().fold(f64::INFINITY, f64::min)
    }
    pub fn max(&self) -> f64 {
        self.values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }
}

/// The median of some values (NaN for none).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

pub enum Row {
    Measured(Series),
    Skipped { name: String, reason: String },
}

impl Row {
    fn name(&self) -> &str {
        match self {
            Row::Measured(s) => &s.name,
            Row::Skipped { name, .. } => name,
        }
    }
}

/// What the values are: a rate (higher is better), a time or an amount of
/// memory (lower is better).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Rate,
    Time,
    Memory,
}

/// A bound on the ratio of two medians.
#[derive(Clone, Copy)]
pub enum Bound {
    AtLeast(f64),
    AtMost(f64),
}

/// "median(numerator) / median(denominator) must be within `bound`".
pub struct Goal {
    pub numerator: &'static str,
    pub denominator: &'static str,
    pub bound: Bound,
}

impl Goal {
    pub fn at_least(numerator: &'static str, denominator: &'static str, ratio: f64) -> Goal {
        Goal { numerator, denominator, bound: Bound::AtLeast(ratio) }
    }
    pub fn at_most(numerator: &'static str, denominator: &'static str, ratio: f64) -> Goal {
        Goal { numerator, denominator, bound: Bound::AtMost(ratio) }
    }
}

pub struct Report {
    /// The benchmark's name, as given on the command line.
    pub name: &'static str,
    /// One line on what one number means.
    pub measures: String,
    /// The values' unit, such as `hits/s` or `ms`.
    pub unit: &'static str,
    /// What the work column counts, such as `hits` or `threads`.
    pub work: &'static str,
    pub kind: Kind,
    /// Decimals printed for values.
    pub decimals: usize,
    /// Setup details a reader needs to reproduce the numbers.
    pub context: Vec<String>,
    pub rows: Vec<Row>,
    pub goals: Vec<Goal>,
    pub notes: Vec<String>,
    /// Further tables of the same runs in other units (peak memory next to
    /// time), printed under this one, each with its own `measures` line;
    /// their `name` is not printed.
    pub also: Vec<Report>,
}

/// 1234567.8 -> "1,234,568" (or "1,234,567.80" with 2 decimals): values are
/// easier to compare with separators.
fn thousands(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "-".into();
    }
    let text = format!("{:.decimals$}", value.abs());
    let (digits, fraction) = match text.split_once('.') {
        Some((d, f)) => (d, Some(f)),
        None => (text.as_str(), None),
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = fraction {
        out.push('.');
        out.push_str(f);
    }
    if value < 0.0 {
        out.insert(0, '-');
    }
    out
}

impl Report {
    fn series(&self, name: &str) -> Option<&Series> {
        self.rows.iter().find_map(|r| match r {
            Row::Measured(s) if s.name == name => Some(s),
            _ => None,
        })
    }

    pub fn print(&self) {
        println!("== {} ==", self.name);
        self.print_table();
        for table in &self.also {
            println!();
            table.print_table();
        }
        println!();
    }

    /// Everything but the name: what is measured, the table, goals and notes.
    fn print_table(&self) {
        println!("{}", self.measures);
        for line in &self.context {
            println!("  {line}");
        }
        println!();
        let width = self.rows.iter().map(|r| r.name().len()).max().unwrap_or(4).max(4);
        let (unit, decimals) = (self.unit, self.decimals);
        let work_width = self.work.len().max(8);
        println!(
            "  {:<width$}  {:>work_width$}  {:>16}  {:>16}  {:>16}",
            "name",
            self.work,
            format!("median {unit}"),
            format!("min {unit}"),
            format!("max {unit}")
        );
        for row in &self.rows {
            match row {
                Row::Measured(s) => println!(
                    "  {:<width$}  {:>work_width$}  {:>16}  {:>16}  {:>16}",
                    s.name,
                    s.work,
                    thousands(s.median(), decimals),
                    thousands(s.min(), decimals),
                    thousands(s.max(), decimals)
                ),
                Row::Skipped { name, reason } => println!("  {name:<width$}  skipped: {reason}"),
            }
        }
        if !self.goals.is_empty() {
            println!();
            match self.kind {
                Kind::Rate => println!("  goals (from the issue), ratios of median rates (higher is faster):"),
                Kind::Time => println!("  goals (from the issue), ratios of median times (lower is faster):"),
                Kind::Memory => println!("  goals (from the issue), ratios of median peak memory (lower is less):"),
            }
            let label_width = self.goals.iter().map(|g| g.numerator.len() + g.denominator.len() + 3).max().unwrap_or(0);
            for goal in &self.goals {
                let label = format!("{} / {}", goal.numerator, goal.denominator);
                let target = match goal.bound {
                    Bound::AtLeast(x) => format!("goal >= {x:.1}x"),
                    Bound::AtMost(x) => format!("goal <= {x:.1}x"),
                };
                match (self.series(goal.numerator), self.series(goal.denominator)) {
                    (Some(n), Some(d)) => {
                        let ratio = n.median() / d.median();
                        let met = match goal.bound {
                            Bound::AtLeast(x) => ratio >= x,
                            Bound::AtMost(x) => ratio <= x,
                        };
                        let verdict = if met { "met" } else { "NOT met" };
                        // The same ratio run by run (the runs are interleaved, so
                        // run i of both was taken at nearly the same moment): its
                        // spread shows how far the machine's noise moves the verdict.
                        let spread = if n.values.len() == d.values.len() && n.values.len() > 1 {
                            let ratios: Vec<f64> = n.values.iter().zip(&d.values).map(|(a, b)| a / b).collect();
                            let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
                            let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                            format!("  (run by run: {lo:.2}x to {hi:.2}x)")
                        } else {
                            String::new()
                        };
                        let line = format!(
                            "    {label:<label_width$}  {:>8}  {target:<14} {verdict:<8}{spread}",
                            format!("{ratio:.2}x")
                        );
                        println!("{}", line.trim_end());
                    }
                    _ => println!("    {label:<label_width$}  {:>8}  {target:<14} not judged (not measured)", "-"),
                }
            }
        }
        for note in &self.notes {
            println!("  note: {note}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_separators() {
        let s = Series { name: "x".into(), work: 1, values: vec![3.0, 1.0, 2.0] };
        assert_eq!((s.median(), s.min(), s.max()), (2.0, 1.0, 3.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        assert_eq!(thousands(1234567.6, 0), "1,234,568");
        assert_eq!(thousands(999.0, 0), "999");
        assert_eq!(thousands(1000.0, 0), "1,000");
        assert_eq!(thousands(1234.567, 2), "1,234.57");
        assert_eq!(thousands(-0.5, 1), "-0.5");
        assert_eq!(thousands(f64::NAN, 1), "-");
    }
}
