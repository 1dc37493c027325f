//! The `picscripter` binary itself: configuration errors, `migrate`, and a graceful stop on
//! SIGTERM. Like an operator would run it.

use std::io::{BufRead, BufReader};
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
