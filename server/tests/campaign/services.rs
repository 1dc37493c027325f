//! The campaign's own PostgreSQL, Redis and nginx, on free ports under a temporary directory,
//! so that it can restart, flush and kill them without touching the services other tests use.
//! Each is stopped by its PID (or its pid file) when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::process::free_port;

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "picscripter-chaos-{name}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Runs a command to completion; its output goes into the panic message when it fails.
fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("{command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user.
pub struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Postgres {
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is installed (`.ci/services start` installs it)")
            .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists())
            .max_by_key(|bin| {
                bin.parent()
                    .and_then(|version| version.file_name()?.to_str()?.parse::<u32>().ok())
            })
            .expect("a PostgreSQL server binary under /usr/lib/postgresql");
        let dir = scratch("pg");
        let as_postgres = running_as_root();
        if as_postgres {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir));
        }
        let postgres = Self {
            bin,
            port: free_port(),
            dir,
            as_postgres,
        };
        run(postgres
            .command("initdb")
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(postgres.dir.join("data")));
        postgres.ctl(&["start", "-w", "-t", "30"], true);
        postgres
    }

    fn command(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    /// `pg_ctl` with the server's options; `options` only where pg_ctl takes them.
    fn ctl(&self, args: &[&str], options: bool) {
        let mut command = self.command("pg_ctl");
        command.arg("-D").arg(self.dir.join("data")).args(args);
        if options {
            // Durability is not under test: the campaign's machine does not crash, its
            // database does.
            command.arg("-o").arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
                self.port,
                self.dir.display()
            ));
            command.arg("-l").arg(self.dir.join("server.log"));
        }
        run(command.stdin(Stdio::null()));
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn create_database(&self, name: &str) {
        run(self
            .command("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-q",
                "-c",
            ])
            .arg(format!("CREATE DATABASE {name}")));
    }

    /// A crash and a start: `immediate` skips the shutdown checkpoint, and the start recovers
    /// from the log. Every connection is cut.
    pub fn crash_and_restart(&self) {
        self.ctl(&["stop", "-m", "immediate", "-w"], false);
        self.ctl(&["start", "-w", "-t", "30"], true);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let mut command = self.command("pg_ctl");
        command
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["stop", "-m", "immediate", "-w"]);
        let _ = command.output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Redis with its append-only file on, so that a restart keeps the queue as a real restart
/// would; losing it is the separate FLUSHALL fault.
pub struct Redis {
    dir: PathBuf,
    pub port: u16,
    child: Option<Child>,
}

impl Redis {
    pub fn start() -> Self {
        let mut redis = Self {
            dir: scratch("redis"),
            port: free_port(),
            child: None,
        };
        redis.launch();
        redis
    }

    fn launch(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (`.ci/services start` installs it)");
        self.child = Some(child);
        for _ in 0..100 {
            if self.cli(&["ping"]).is_some_and(|answer| answer == "PONG") {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("Redis did not answer on port {}", self.port);
    }

    fn cli(&self, args: &[&str]) -> Option<String> {
        let output = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .ok()?;
        Some(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGTERM (Redis saves its file and exits), then a new server on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Every key gone: the queue forgets every job.
    pub fn flush_all(&self) {
        assert_eq!(self.cli(&["flushall"]).as_deref(), Some("OK"));
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Debian's nginx in front of the web processes, configured with the shipped production
/// snippet (`server/deploy/nginx/picscripter-proxy.conf`): only the listening address, the
/// upstream ports and the paths of a process that is not the system's differ.
pub struct Nginx {
    dir: PathBuf,
    pub port: u16,
    child: Child,
}

pub const PROXY_SNIPPET: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/deploy/nginx/picscripter-proxy.conf"
);

impl Nginx {
    pub fn start(upstreams: &[u16]) -> Self {
        let dir = scratch("nginx");
        if running_as_root() {
            // Its workers run as `nobody` and write their temporary files here.
            run(Command::new("chmod").arg("777").arg(&dir));
        }
        let port = free_port();
        let servers: String = upstreams
            .iter()
            .map(|port| format!("        server 127.0.0.1:{port};\n"))
            .collect();
        let d = dir.display();
        let config = format!(
            "worker_processes 1;\n\
             pid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n\
                 access_log off;\n\
                 client_body_temp_path {d}/body;\n\
                 proxy_temp_path {d}/proxy;\n\
                 fastcgi_temp_path {d}/fastcgi;\n\
                 uwsgi_temp_path {d}/uwsgi;\n\
                 scgi_temp_path {d}/scgi;\n\
                 upstream picscripter_web {{\n{servers}        keepalive 32;\n    }}\n\
                 server {{\n\
                     listen 127.0.0.1:{port};\n\
                     location / {{ include {PROXY_SNIPPET}; }}\n\
                 }}\n\
             }}\n"
        );
        std::fs::write(dir.join("nginx.conf"), config).expect("the nginx configuration");
        // Debian puts it in /usr/sbin, which is not on every user's PATH.
        let program = ["/usr/sbin/nginx", "nginx"]
            .into_iter()
            .find(|path| Path::new(path).exists())
            .unwrap_or("nginx");
        let child = Command::new(program)
            .args(["-e", "stderr", "-g", "daemon off;", "-p"])
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("startup.log")).expect("a log file"))
            .spawn()
            .expect("nginx starts (`.ci/services start` installs it)");
        let nginx = Self { dir, port, child };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return nginx;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "nginx did not listen on {port}:\n{}",
            std::fs::read_to_string(nginx.dir.join("startup.log")).unwrap_or_default()
        );
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGQUIT: the master ends its workers and exits.
        let _ = Command::new("kill")
            .args(["-QUIT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
