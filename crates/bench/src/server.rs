//! The server under test: the release `clientele` binary, started on its own database, and
//! what the kernel says about its CPU time and memory.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// A running server, killed when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub url: String,
    pid: u32,
}

/// The master key of a PostgreSQL benchmark database, which is made for one run and
/// dropped after it (SQLite makes a key file of its own).
const MASTER_KEY: &str = "62656e63682d6f6e6c792d6d61737465722d6b65792d6e6f742d736563726574";

fn clientele(binary: &Path, database: &str) -> Command {
    let mut command = Command::new(binary);
    command.env("CLIENTELE_DATABASE_URL", database);
    if database.starts_with("postgres") && std::env::var_os("CLIENTELE_MASTER_KEY").is_none() {
        command.env("CLIENTELE_MASTER_KEY", MASTER_KEY);
    }
    command
}

/// Runs an administrative `clientele` command and returns its JSON answer.
pub async fn admin(binary: &Path, database: &str, args: &[&str]) -> anyhow::Result<serde_json::Value> {
    let output = clientele(binary, database).args(args).output().await?;
    anyhow::ensure!(output.status.success(), "clientele {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    Ok(serde_json::from_slice(&output.stdout)?)
}

impl Server {
    pub async fn start(binary: &Path, database: &str) -> anyhow::Result<Server> {
        Server::start_with(binary, database, &[]).await
    }

    /// Starts the server with more `serve` flags.
    pub async fn start_with(binary: &Path, database: &str, flags: &[&str]) -> anyhow::Result<Server> {
        let mut child = clientele(binary, database)
            .env("CLIENTELE_LOG", "warn")
            .args(["serve", "--listen", "127.0.0.1:0", "--rate-limit", "0"])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id().context("the server has no pid")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(url) = line.strip_prefix("clientele listening on ") {
                    return Ok(url.to_owned());
                }
            }
            anyhow::bail!("the server exited before listening")
        })
        .await
        .context("the server did not start in time")??;
        Ok(Server { child, url, pid })
    }

    fn proc_file(&self, name: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/{name}", self.pid))
    }

    /// User plus system CPU seconds used so far.
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(self.proc_file("stat")).unwrap_or_default();
        // Fields after the command name (which ends with ')'): utime is the 12th, stime the 13th.
        let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        (ticks(11) + ticks(12)) / clock_ticks()
    }

    /// A memory figure from `/proc/<pid>/status` in MiB: `VmRSS` now, `VmHWM` at its peak.
    pub fn memory_mib(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(self.proc_file("status")).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next().map(str::to_owned))
            .and_then(|kib| kib.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}
