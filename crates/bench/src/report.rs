//! The run's report: a JSON file and a markdown table.

use std::path::Path;

use serde::Serialize;

use crate::load::Outcome;

/// One scenario's figures.
#[derive(Debug, Serialize)]
pub struct Row {
    pub name: String,
    pub requests: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub errors: u64,
    /// Server CPU seconds spent per 1000 requests.
    pub cpu_seconds_per_1000: f64,
    /// The HTTP ceiling (`GET /healthz`) measured in slices between this scenario's slices.
    pub http_alongside_per_second: Option<f64>,
    /// The lower of the ceilings this scenario is compared with, and the share of it reached.
    pub ceiling: Option<String>,
    pub fraction_of_ceiling: Option<f64>,
}

impl Row {
    pub fn new(name: &str, outcome: &Outcome, cpu_seconds: f64) -> Row {
        Row {
            name: name.to_owned(),
            requests: outcome.requests,
            per_second: outcome.per_second(),
            p50_ms: outcome.quantile_ms(0.5),
            p99_ms: outcome.quantile_ms(0.99),
            p999_ms: outcome.quantile_ms(0.999),
            errors: outcome.errors,
            cpu_seconds_per_1000: cpu_seconds * 1000.0 / (outcome.requests.max(1) as f64),
            http_alongside_per_second: None,
            ceiling: None,
            fraction_of_ceiling: None,
        }
    }
}

/// A ceiling: the best rate of a layer on its own.
#[derive(Debug, Serialize)]
pub struct Ceiling {
    pub name: String,
    pub per_second: f64,
}

/// A figure of the run beside its target.
#[derive(Debug, Serialize)]
pub struct Goal {
    pub name: String,
    pub measured: f64,
    pub target: f64,
    /// Whether the figure must be at least the target (else at most).
    pub at_least: bool,
    pub unit: String,
}

impl Goal {
    pub fn at_least(name: &str, measured: f64, target: f64, unit: &str) -> Goal {
        Goal { name: name.to_owned(), measured, target, at_least: true, unit: unit.to_owned() }
    }

    pub fn at_most(name: &str, measured: f64, target: f64, unit: &str) -> Goal {
        Goal { name: name.to_owned(), measured, target, at_least: false, unit: unit.to_owned() }
    }

    pub fn met(&self) -> bool {
        if self.at_least { self.measured >= self.target } else { self.measured <= self.target }
    }

    fn figure(&self, value: f64) -> String {
        if self.unit == "ratio" { format!("{:.0}%", value * 100.0) } else { format!("{value:.0} {}", self.unit) }
    }
}

/// The whole run.
#[derive(Debug, Serialize)]
pub struct Report {
    pub database: String,
    pub users: u64,
    pub concurrency: usize,
    pub seconds_per_scenario: f64,
    pub idle_rss_mib: f64,
    pub peak_rss_mib: f64,
    pub ceilings: Vec<Ceiling>,
    pub scenarios: Vec<Row>,
    pub goals: Vec<Goal>,
}

impl Report {
    /// Every scenario answered, and answered without an error.
    pub fn clean(&self) -> bool {
        self.scenarios.iter().all(|row| row.requests > 0 && row.errors == 0)
    }

    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("report.json"), serde_json::to_string_pretty(self)?)?;
        std::fs::write(dir.join("report.md"), self.markdown())?;
        Ok(())
    }

    pub fn markdown(&self) -> String {
        let mut text = format!(
            "Clientele on {}, {} users, {} connections, {:.0} s a scenario; idle RSS {:.1} MiB, peak {:.1} MiB\n\n",
            self.database,
            self.users,
            self.concurrency,
            self.seconds_per_scenario,
            self.idle_rss_mib,
            self.peak_rss_mib
        );
        text.push_str(
            "| scenario | req/s | p50 ms | p99 ms | p99.9 ms | errors | CPU s / 1000 | HTTP ceiling alongside | of ceiling |\n",
        );
        text.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for row in &self.scenarios {
            let ceiling = match (&row.ceiling, row.fraction_of_ceiling) {
                (Some(name), Some(fraction)) => format!("{:.0}% of {name}", fraction * 100.0),
                _ => String::new(),
            };
            text.push_str(&format!(
                "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {:.3} | {} | {} |\n",
                row.name,
                row.per_second,
                row.p50_ms,
                row.p99_ms,
                row.p999_ms,
                row.errors,
                row.cpu_seconds_per_1000,
                row.http_alongside_per_second.map(|rate| format!("{rate:.0}")).unwrap_or_default(),
                ceiling
            ));
        }
        if !self.goals.is_empty() {
            text.push_str("\n| target | measured | wanted | met |\n|---|---:|---:|---|\n");
            for goal in &self.goals {
                let bound = if goal.at_least { "at least" } else { "at most" };
                text.push_str(&format!(
                    "| {} | {} | {bound} {} | {} |\n",
                    goal.name,
                    goal.figure(goal.measured),
                    goal.figure(goal.target),
                    if goal.met() { "yes" } else { "**no**" }
                ));
            }
        }
        text.push_str("\n| ceiling | per second |\n|---|---:|\n");
        for ceiling in &self.ceilings {
            text.push_str(&format!("| {} | {:.0} |\n", ceiling.name, ceiling.per_second));
        }
        text
    }
}
