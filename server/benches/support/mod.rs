//! What the benchmarks share: the release binary run as a child process in a temporary
//! directory, readiness, a user signed in, an account connected through a fake, and the
//! figures a process's `/proc` status gives.
#![allow(dead_code)] // each bench uses a different part of it

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail, ensure};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery staple";
/// How long a started process may take to answer `/readyz`.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How much of a failed process's log is shown.
pub const LOG_TAIL_LINES: usize = 40;

/// Variables the children keep from this process's environment; everything else is set here,
/// so an exported DATABASE_URL or RATE_LIMIT_* cannot leak into a run.
const KEPT_VARS: &[&str] = &["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL"];

pub async fn wait_ready(client: &reqwest::Client, base: &str, web: &mut Child) -> Result<()> {
    let started = Instant::now();
    let url = format!("{base}/readyz");
    loop {
        let ready = client
            .get(&url)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|response| response.status() == StatusCode::OK);
        if ready {
            return Ok(());
        }
        if let Some(status) = web.exited() {
            bail!(
                "the web process exited before it was ready ({status}):\n{}",
                web.log_tail()
            );
        }
        ensure!(
            started.elapsed() < READY_TIMEOUT,
            "the web process was not ready after {} s:\n{}",
            READY_TIMEOUT.as_secs(),
            web.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A child process, killed (and reaped) when dropped, its stdout and stderr in a log file.
pub struct Child {
    pub name: &'static str,
    process: std::process::Child,
    pub log: PathBuf,
}

impl Child {
    pub fn spawn(
        name: &'static str,
        bin: &Path,
        args: &[&str],
        env: &[(String, String)],
        cwd: &Path,
        log: PathBuf,
    ) -> Result<Self> {
        let stdout = File::create(&log)
            .with_context(|| format!("cannot create the log file {}", log.display()))?;
        let stderr = stdout
            .try_clone()
            .with_context(|| format!("cannot share the log file {}", log.display()))?;
        let mut command = Command::new(bin);
        command
            .args(args)
            // The repository root, as `make bench` runs it: `Leptos.toml` is read from there.
            .current_dir(cwd)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        for (var, value) in std::env::vars_os() {
            let kept = var
                .to_str()
                .is_some_and(|var| KEPT_VARS.contains(&var) || var.starts_with("LEPTOS_"));
            if kept {
                command.env(var, value);
            }
        }
        command.envs(
            env.iter()
                .map(|(var, value)| (var.as_str(), value.as_str())),
        );
        let process = command.spawn().with_context(|| {
            format!(
                "cannot start `{} {}` (the {name} process)",
                bin.display(),
                args.join(" ")
            )
        })?;
        Ok(Self { name, process, log })
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// How the process ended, if it has.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.process.try_wait().ok().flatten()
    }

    pub fn log_tail(&self) -> String {
        match std::fs::read(&self.log) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let lines: Vec<&str> = text.lines().collect();
                lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
            }
            Err(error) => format!("(cannot read {}: {error})", self.log.display()),
        }
    }
}

impl Child {
    /// SIGKILL by PID, and the exit reaped.
    pub fn stop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        // Nothing in flight is still needed, and the storage goes right after.
        self.stop();
    }
}

/// A directory under the system's temporary directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn create() -> Result<Self> {
        let path =
            std::env::temp_dir().join(format!("picscripter-bench-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Self(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .context("cannot bind a free port on 127.0.0.1")?;
    Ok(listener
        .local_addr()
        .context("a bound socket has an address")?
        .port())
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the server crate sits inside the workspace")
        .to_path_buf()
}

pub fn server_bin(root: &Path) -> PathBuf {
    let bin = match std::env::var_os("SERVER_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| PathBuf::from("target"), PathBuf::from)
            .join("release")
            .join("picscripter"),
    };
    // cargo runs benches from the package directory; relative paths mean the workspace root.
    if bin.is_absolute() {
        bin
    } else {
        root.join(bin)
    }
}

/// The answer's body, after checking its status.
pub async fn body_of(
    response: reqwest::Response,
    expected: StatusCode,
    what: &str,
) -> Result<String> {
    let status = response.status();
    let text = response
        .text()
        .await
        .with_context(|| format!("{what}: the answer's body broke off"))?;
    ensure!(
        status == expected,
        "{what} answered {status} (expected {expected}): {text}"
    );
    Ok(text)
}

pub async fn json_of(
    response: reqwest::Response,
    expected: StatusCode,
    what: &str,
) -> Result<Value> {
    let text = body_of(response, expected, what).await?;
    serde_json::from_str(&text).with_context(|| format!("{what} did not answer JSON: {text}"))
}

/// Registers a fresh user and signs in; returns the bearer token.
pub async fn sign_in(client: &reqwest::Client, base: &str) -> Result<String> {
    let email = format!("bench-{}@example.com", Uuid::new_v4().simple());
    let credentials = json!({ "email": email, "password": PASSWORD });
    let response = client
        .post(format!("{base}/api/auth/register"))
        .json(&credentials)
        .send()
        .await
        .context("POST /api/auth/register was not answered")?;
    body_of(response, StatusCode::CREATED, "POST /api/auth/register").await?;
    let response = client
        .post(format!("{base}/api/auth/login"))
        .json(&credentials)
        .send()
        .await
        .context("POST /api/auth/login was not answered")?;
    let body = json_of(response, StatusCode::OK, "POST /api/auth/login").await?;
    body["token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("the login answer has no token: {body}"))
}

/// Connects the sandbox account `username` on `platform` as a browser would (authorize, the
/// fake's consent through `consent`, back to the callback); returns the connection id, found
/// by its `handle`.
pub async fn connect(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    platform: &str,
    handle: &str,
    consent: impl FnOnce(&str) -> Result<String, String>,
) -> Result<String> {
    let path = format!("/api/connections/{platform}/authorize");
    let response = client
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .with_context(|| format!("POST {path} was not answered"))?;
    let body = json_of(response, StatusCode::OK, &format!("POST {path}")).await?;
    let authorize_url = body["url"]
        .as_str()
        .with_context(|| format!("the authorize answer has no url: {body}"))?;
    let callback = consent(authorize_url)
        .map_err(|problem| anyhow!("the {platform} fake refused our authorize URL: {problem}"))?;

    let response = client
        .get(&callback)
        .bearer_auth(token)
        .send()
        .await
        .context("the OAuth callback was not answered")?;
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    ensure!(
        status.is_redirection() && location.starts_with("/connections?connected="),
        "the OAuth callback answered {status}, to {location:?}"
    );

    let response = client
        .get(format!("{base}/api/connections"))
        .bearer_auth(token)
        .send()
        .await
        .context("GET /api/connections was not answered")?;
    let overview = json_of(response, StatusCode::OK, "GET /api/connections").await?;
    overview["connections"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|connection| connection["handle"] == handle)
        .and_then(|connection| connection["id"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("{handle} is not among the connections: {overview}"))
}

/// The resident memory (`VmRSS`) of process `pid`, in MiB.
pub fn rss_mib(pid: u32) -> Result<f64> {
    status_mib(pid, "VmRSS")
}

/// The most resident memory process `pid` has had (`VmHWM`), in MiB.
pub fn peak_rss_mib(pid: u32) -> Result<f64> {
    status_mib(pid, "VmHWM")
}

fn status_mib(pid: u32, field: &str) -> Result<f64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .with_context(|| format!("{path} has no {field} line"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .with_context(|| format!("the {field} of {path} is not a number"))?;
    Ok(kib / 1024.0)
}
