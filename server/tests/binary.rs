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

#[test]
fn a_bad_configuration_stops_the_start_listing_every_problem() {
    let dir = temp_dir();
    let output = picscripter(&dir)
        .args(["serve", "--leptos-config", LEPTOS_CONFIG])
        .env("PICSCRIPTER_ADDR", "nope")
        .env("LOG_FORMAT", "xml")
        .env("JWT_SECRET", "short")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
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
    let output = picscripter(&dir)
        .args([
            "serve",
            "--leptos-config",
            LEPTOS_CONFIG,
            "--addr",
            "0.0.0.0:0",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
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
    let output = picscripter(&dir)
        .args([
            "serve",
            "--leptos-config",
            LEPTOS_CONFIG,
            "--addr",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
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

#[test]
fn a_request_in_flight_at_sigterm_finishes_before_the_server_stops() {
    let dir = temp_dir();
    let mut server = picscripter(&dir)
        .args([
            "serve",
            "--leptos-config",
            LEPTOS_CONFIG,
            "--addr",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "info,tower_http=debug")
        .env("SHUTDOWN_GRACE_SECS", "30")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = server.id();
    // Every log line goes to the channel; the test waits on the lines it needs.
    let stdout = server.stdout.take().unwrap();
    let (lines, log) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let wait_for = |needle: &str| -> String {
        loop {
            let line = log
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| {
                    let _ = Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status();
                    panic!("the server never logged `{needle}`")
                });
            if line.contains(needle) {
                return line;
            }
        }
    };
    let listening = wait_for("listening");
    let addr = listening
        .split("addr=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the listening line names the address")
        .to_owned();

    let mut stream = start_slow_request(&addr);
    wait_for("started processing request");
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    wait_for("shutting down");

    // The rest of the body arrives after the signal; the request still gets its answer.
    let body = r#"{"email":"a@b.co","password":"whatever1"}"#;
    stream.write_all(&body.as_bytes()[10..]).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    // One access line for it: the matched route and the status.
    let access = wait_for("request finished");
    assert!(
        access.contains("route=\"/api/auth/login\"") && access.contains("status=401"),
        "{access}"
    );
    wait_for("every request finished");
    assert!(server.wait().unwrap().success(), "a graceful stop exits 0");
    std::fs::remove_dir_all(dir).unwrap();
}
