//! What a benchmark hands back, and how it is printed.
//!
//! Benchmarks only measure; the report decides what is shown, so every
//! benchmark reads the same way: medians first, the spread next to them,
//! and goals judged on medians only (a single lucky run proves nothing).

/// One debugger's results: a rate per run.
pub struct Series {
    pub name: String,
    /// The fixture's work per run (calls, hence expected hits).
    pub calls: u64,
    pub rates: Vec<f64>,
}

impl Series {
    pub fn median(&self) -> f64 {
        let mut sorted = self.rates.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        match n {
            0 => f64::NAN,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        }
    }
    pub fn min(&self) -> f64 {
        self.rates.iter().copied().fold(f64::INFINITY, f64::min)
    }
    pub fn max(&self) -> f64 {
        self.rates.iter().copied().fold(f64::NEG_INFINITY, f64::max)
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

/// "numerator must be at least `at_least` times denominator", on medians.
pub struct Goal {
    pub numerator: &'static str,
    pub denominator: &'static str,
    pub at_least: f64,
}

pub struct Report {
    /// The benchmark's name, as given on the command line.
    pub name: &'static str,
    /// One line on what one number means.
    pub measures: String,
    /// The rate's unit, such as `hits/s`.
    pub unit: &'static str,
    /// Setup details a reader needs to reproduce the numbers.
    pub context: Vec<String>,
    pub rows: Vec<Row>,
    pub goals: Vec<Goal>,
    pub notes: Vec<String>,
}

/// 1234567.8 -> "1,234,568": rates are easier to compare with separators.
fn thousands(value: f64) -> String {
    if !value.is_finite() {
        return "-".into();
    }
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
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
        println!("{}", self.measures);
        for line in &self.context {
            println!("  {line}");
        }
        println!();
        let width = self.rows.iter().map(|r| r.name().len()).max().unwrap_or(4).max(4);
        let unit = self.unit;
        println!(
            "  {:<width$}  {:>8}  {:>16}  {:>16}  {:>16}",
            "name",
            "calls",
            format!("median {unit}"),
            format!("min {unit}"),
            format!("max {unit}")
        );
        for row in &self.rows {
            match row {
                Row::Measured(s) => println!(
                    "  {:<width$}  {:>8}  {:>16}  {:>16}  {:>16}",
                    s.name,
                    s.calls,
                    thousands(s.median()),
                    thousands(s.min()),
                    thousands(s.max())
                ),
                Row::Skipped { name, reason } => println!("  {name:<width$}  skipped: {reason}"),
            }
        }
        if !self.goals.is_empty() {
            println!();
            println!("  goals (from the issue), on medians:");
            for goal in &self.goals {
                let label = format!("{} / {}", goal.numerator, goal.denominator);
                let target = format!("goal >= {:.1}x", goal.at_least);
                match (self.series(goal.numerator), self.series(goal.denominator)) {
                    (Some(n), Some(d)) => {
                        let ratio = n.median() / d.median();
                        let verdict = if ratio >= goal.at_least { "met" } else { "NOT met" };
                        println!("    {label:<24} {:>8}  {target:<14} {verdict}", format!("{ratio:.2}x"));
                    }
                    _ => println!("    {label:<24} {:>8}  {target:<14} not judged (not measured)", "-"),
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
        let s = Series { name: "x".into(), calls: 1, rates: vec![3.0, 1.0, 2.0] };
        assert_eq!((s.median(), s.min(), s.max()), (2.0, 1.0, 3.0));
        let even = Series { name: "x".into(), calls: 1, rates: vec![4.0, 1.0, 2.0, 3.0] };
        assert_eq!(even.median(), 2.5);
        assert_eq!(thousands(1234567.6), "1,234,568");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
    }
}
