//! The `picscripter` binary itself: configuration errors, `migrate`, and a graceful stop on
//! SIGTERM. Like an operator would run it.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_picscripter");
const LEPTOS_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../Leptos.toml");

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("picscripter-bin-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A command with a clean environment: nothing from the developer's shell leaks in.
fn picscripter(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("DATA_DIR", data_dir)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    command.current_dir(data_dir);
    command
}

/// Runs `serve` with `args` and `env`, which must stop the start with exit code 2; its stderr.
fn refused_start(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let output = picscripter(dir)
        .args(["serve", "--leptos-config", LEPTOS_CONFIG])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_bad_configuration_stops_the_start_listing_every_problem() {
    let dir = temp_dir();
    let stderr = refused_start(
        &dir,
        &[],
        &[
            ("PICSCRIPTER_ADDR", "nope"),
            ("LOG_FORMAT", "xml"),
            ("JWT_SECRET", "short"),
        ],
    );
    for name in [
        "PICSCRIPTER_ADDR",
        "LOG_FORMAT",
        "JWT_SECRET",
        "3 problem(s)",
    ] {
        assert!(stderr.contains(name), "{name} missing from:\n{stderr}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn listening_beyond_loopback_without_a_public_url_is_refused() {
    let dir = temp_dir();
    let stderr = refused_start(&dir, &["--addr", "0.0.0.0:0"], &[]);
    assert!(
        stderr.contains("PUBLIC_BASE_URL") && stderr.contains("0.0.0.0"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_dotenv_that_does_not_parse_stops_the_start_naming_the_line() {
    let dir = temp_dir();
    std::fs::write(
        dir.join(".env"),
        "LOG_FORMAT=json\nJWT_SECRET='never-closed-and-secret-secret-secret\n",
    )
    .unwrap();
    let stderr = refused_start(&dir, &["--addr", "127.0.0.1:0"], &[]);
    assert!(stderr.contains(".env line 2"), "{stderr}");
    assert!(
        !stderr.contains("never-closed"),
        "the line's content is not shown: {stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn rotate_key_runs_on_a_fresh_data_directory_and_refuses_a_bad_key() {
    let dir = temp_dir();
    let output = picscripter(&dir).arg("rotate-key").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("re-encrypted the tokens of 0 connection(s)"),
        "{stdout}"
    );
    assert!(
        dir.join("encryption_key").exists(),
        "the embedded default keeps its key"
    );

    let output = picscripter(&dir)
        .arg("rotate-key")
        .env("ENCRYPTION_KEY", "too-short")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("ENCRYPTION_KEY") && !stderr.contains("too-short"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn migrate_creates_the_embedded_database() {
    let dir = temp_dir();
    let status = picscripter(&dir)
        .arg("migrate")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(dir.join("picscripter.db").exists());
    // Running it again is a no-op, not an error.
    assert!(
        picscripter(&dir)
            .arg("migrate")
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let dir = temp_dir();
    let mut server = picscripter(&dir)
        .args([
            "serve",
            "--leptos-config",
            LEPTOS_CONFIG,
            "--addr",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // Ready when it logs that it listens: read its output on a thread, wait on a channel.
    let stdout = server.stdout.take().unwrap();
    let (listening, ready) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("listening") {
                let _ = listening.send(());
            }
        }
    });
    ready
        .recv_timeout(Duration::from_secs(20))
        .expect("the server logs that it listens");

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let (exited, exit) = mpsc::channel();
    let pid = server.id();
    std::thread::spawn(move || {
        let _ = exited.send(server.wait());
    });
    let status = exit
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("the server did not stop within 10 s of SIGTERM")
        });
    assert!(status.unwrap().success(), "a graceful stop exits 0");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Sends the first part of a request and holds the connection, so the request is in flight.
fn start_slow_request(addr: &str) -> std::net::TcpStream {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let body = r#"{"email":"a@b.co","password":"whatever1"}"#;
    write!(
        stream,
        "POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    stream.flush().unwrap();
    stream
}

/// A `picscripter serve` on a free port whose log lines the test can wait for.
struct Running {
    server: std::process::Child,
    log: mpsc::Receiver<String>,
    addr: String,
}

impl Running {
    fn start(dir: &std::path::Path, env: &[(&str, &str)]) -> Self {
        let mut command = picscripter(dir);
        command
            .args([
                "serve",
                "--leptos-config",
                LEPTOS_CONFIG,
                "--addr",
                "127.0.0.1:0",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut server = command.spawn().unwrap();
        // Every log line goes to the channel; the test waits on the lines it needs.
        let stdout = server.stdout.take().unwrap();
        let (lines, log) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let mut running = Self {
            server,
            log,
            addr: String::new(),
        };
        let listening = running.wait_for("listening");
        running.addr = listening
            .split("addr=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("the listening line names the address")
            .to_owned();
        running
    }

    /// The log lines up to and including the first that contains `needle`.
    fn lines_until(&self, needle: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let Ok(line) = self.log.recv_timeout(Duration::from_secs(20)) else {
                let _ = Command::new("kill")
                    .args(["-KILL", &self.server.id().to_string()])
                    .status();
                panic!(
                    "the server never logged `{needle}`; it logged:\n{}",
                    seen.join("\n")
                )
            };
            let found = line.contains(needle);
            seen.push(line);
            if found {
                return seen;
            }
        }
    }

    fn wait_for(&self, needle: &str) -> String {
        self.lines_until(needle)
            .pop()
            .expect("at least the line found")
    }

    fn terminate(&self) {
        let pid = self.server.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
    }
}

/// One HTTP/1.1 exchange on a fresh connection; the whole answer, headers and body.
fn http(addr: &str, request_line: &str, headers: &[&str], body: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut head = format!("{request_line} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for header in headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    write!(stream, "{head}Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn a_request_in_flight_at_sigterm_finishes_before_the_server_stops() {
    let dir = temp_dir();
    let mut running = Running::start(
        &dir,
        &[
            ("RUST_LOG", "info,tower_http=debug"),
            ("SHUTDOWN_GRACE_SECS", "30"),
        ],
    );
    let mut stream = start_slow_request(&running.addr);
    running.wait_for("started processing request");
    running.terminate();
    running.wait_for("shutting down");

    // The rest of the body arrives after the signal; the request still gets its answer.
    let body = r#"{"email":"a@b.co","password":"whatever1"}"#;
    stream.write_all(&body.as_bytes()[10..]).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    // One access line for it: the matched route and the status.
    let access = running.wait_for("request finished");
    assert!(
        access.contains("route=\"/api/auth/login\"") && access.contains("status=401"),
        "{access}"
    );
    running.wait_for("every request finished");
    assert!(
        running.server.wait().unwrap().success(),
        "a graceful stop exits 0"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_server_error_is_logged_once_with_its_request_id() {
    let dir = temp_dir();
    let running = Running::start(&dir, &[]);
    let json = ["Content-Type: application/json"];
    let registered = http(
        &running.addr,
        "POST /api/auth/register",
        &json,
        r#"{"email":"ana@example.com","password":"correct horse battery"}"#,
    );
    let token = registered
        .split("picscripter_session=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .expect("registering sets the session cookie")
        .to_owned();
    // Break the database under the running server: the next session check fails.
    let database = format!("sqlite://{}", dir.join("picscripter.db").display());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            use sea_orm::ConnectionTrait as _;
            let db = sea_orm::Database::connect(database).await.unwrap();
            db.execute_unprepared("DROP TABLE sessions").await.unwrap();
        });

    let me = http(
        &running.addr,
        "GET /api/me",
        &[&format!("Authorization: Bearer {token}")],
        "",
    );
    assert!(me.starts_with("HTTP/1.1 500"), "{me}");
    let request_id = me
        .lines()
        .find_map(|line| line.strip_prefix("x-request-id: "))
        .expect("the answer names its request")
        .trim()
        .to_owned();
    let lines = running.lines_until("status=500");
    let errors: Vec<&String> = lines.iter().filter(|line| line.contains("ERROR")).collect();
    assert_eq!(
        errors.len(),
        1,
        "logged once, not again by the trace layer: {lines:#?}"
    );
    assert!(
        errors[0].contains(&request_id),
        "the line carries the request id: {errors:?}"
    );
    running.terminate();
    running.wait_for("stopped");
    std::fs::remove_dir_all(dir).unwrap();
}
