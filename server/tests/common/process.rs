//! The `picscripter` binary as an operator runs it: a child process with its own environment,
//! its output collected for assertions, and the REST API driven as a user's script would.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use server::sandbox::x::XFake;

pub const BIN: &str = env!("CARGO_BIN_EXE_picscripter");
pub const LEPTOS_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../Leptos.toml");

/// A child process whose stdout and stderr are collected line by line; killed when dropped.
pub struct Process {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Process {
    pub fn start(args: &[&str], env: &[(String, String)], dir: &std::path::Path) -> Self {
        Self::start_binary(std::path::Path::new(BIN), args, env, dir)
    }

    /// [`Process::start`] of another build of the binary (the release one, say).
    pub fn start_binary(
        binary: &std::path::Path,
        args: &[&str],
        env: &[(String, String)],
        dir: &std::path::Path,
    ) -> Self {
        let mut child = Command::new(binary)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    log.lock().unwrap().push(line);
                }
            });
        }
        Self { child, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, as a crash or the OOM killer would: no shutdown, no goodbye.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    pub async fn wait_for(&self, needle: &str) -> String {
        for _ in 0..200 {
            if let Some(line) = self.lines().into_iter().find(|line| line.contains(needle)) {
                return line;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never logged `{needle}`:\n{}", self.lines().join("\n"));
    }

    /// SIGTERM, then the exit status (SIGKILL after 15 s).
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        for _ in 0..150 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = self.child.kill();
        panic!(
            "did not stop within 15 s of SIGTERM:\n{}",
            self.lines().join("\n")
        );
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on yet.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// The REST API of a running `serve`, called as a user's script would.
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(base: &str) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            client,
            base: base.to_owned(),
        }
    }

    /// `method` on `path` (under the base, or a whole URL), with the bearer `token` and the
    /// JSON `body` when given; the answer as it came.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let mut request = self.client.request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("the request is sent")
    }

    /// [`Api::send`], the answer's JSON body.
    pub async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Value {
        self.send(method, path, token, body)
            .await
            .json()
            .await
            .expect("a JSON answer")
    }

    /// Registers `email` and signs in; the bearer token.
    pub async fn sign_up(&self, email: &str) -> String {
        let credentials = json!({ "email": email, "password": super::PASSWORD });
        let registered = self
            .send(
                reqwest::Method::POST,
                "/api/auth/register",
                None,
                Some(&credentials),
            )
            .await;
        assert_eq!(registered.status(), 201);
        let login = self
            .json(
                reqwest::Method::POST,
                "/api/auth/login",
                None,
                Some(&credentials),
            )
            .await;
        login["token"].as_str().unwrap().to_owned()
    }

    /// Connects the fake's `username` through the consent round trip; the connection's id,
    /// and the connections overview as the API answered it.
    pub async fn connect_x(&self, token: &str, fake: &XFake, username: &str) -> (Value, String) {
        self.connect(token, "x", |url| fake.authorize_directly(url, username))
            .await
    }

    /// Connects an account of `platform` (its wire name) through the consent round trip, the
    /// fake's consent answered by `allow` (the authorization URL in, the redirect back out);
    /// the new connection's id, and the connections overview as the API answered it.
    pub async fn connect(
        &self,
        token: &str,
        platform: &str,
        allow: impl FnOnce(&str) -> Result<String, String>,
    ) -> (Value, String) {
        let authorize = self
            .json(
                reqwest::Method::POST,
                &format!("/api/connections/{platform}/authorize"),
                Some(token),
                None,
            )
            .await;
        let url = authorize["url"]
            .as_str()
            .unwrap_or_else(|| panic!("authorizing {platform} answered {authorize}"));
        let back = allow(url).unwrap();
        let callback = self
            .send(reqwest::Method::GET, &back, Some(token), None)
            .await;
        assert!(callback.status().is_redirection());
        let overview = self
            .send(reqwest::Method::GET, "/api/connections", Some(token), None)
            .await
            .text()
            .await
            .unwrap();
        let connection = serde_json::from_str::<Value>(&overview).unwrap()["connections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|connection| connection["platform"] == platform)
            .unwrap_or_else(|| panic!("no {platform} connection in {overview}"))["id"]
            .clone();
        (connection, overview)
    }

    /// Uploads `bytes` as `name` to the media library; the media id.
    pub async fn upload(&self, token: &str, bytes: Vec<u8>, name: &str) -> String {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
        let response = self
            .client
            .post(format!("{}/api/media", self.base))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("the upload is sent");
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// The post, looked at every 100 ms until its first target is published (20 s at most).
    pub async fn until_published(&self, token: &str, post: &Value) -> Value {
        let path = format!("/api/posts/{}", post["id"].as_str().unwrap());
        let mut current = Value::Null;
        for _ in 0..200 {
            current = self
                .json(reqwest::Method::GET, &path, Some(token), None)
                .await;
            if current["targets"][0]["status"] == "published" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        current
    }
}
