//! A large video through YouTube's resumable upload, end to end: the release binary (`serve`:
//! SQLite, workers inside, in-process queue) publishes to the YouTube fake served in this
//! process on 127.0.0.1, which streams, counts and hashes every byte and holds none.
//!
//! For each size in `BENCH_VIDEO_MB` (comma-separated, default `50,500`) a fresh server process:
//! 1. ffmpeg makes a constant-bitrate MP4 of that size (40 s of test pattern, padded);
//! 2. `curl` uploads it to the media library (`POST /api/media`, streamed to disk, probed);
//! 3. a post of it goes out: `publish_secs` from creation until published, `publish_mb_s`;
//! 4. a second post of it goes out, and when the fake holds half of the file the next upload
//!    request breaks off after 1 MiB and 1,000 bytes: `interrupted_publish_secs`,
//!    `resent_bytes` (what the fake received beyond the file's size: what YouTube had not
//!    kept, never the part it confirmed), `resumed_at_mb`;
//! 5. `peak_rss_mib`: the server process's highest resident memory over all of it (`VmHWM`),
//!    which must not grow with the file's size.
//!
//! Output: one `{size}mb.figure: value` line per figure, then a line of JSON with all of them.
//! Run it with `make bench-youtube`, or by hand:
//!
//! ```text
//! cargo build --release -p server && cargo bench -p server --bench youtube_upload
//! ```
//!
//! It needs ffmpeg and curl on the PATH and about twice the largest size free on the temporary
//! directory's disk. Without `--bench` among its arguments it does nothing.

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail, ensure};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use server::sandbox::youtube::YouTubeFake;

mod support;
use support::{
    Child, TempDir, free_port, json_of, peak_rss_mib, server_bin, sign_in, wait_ready,
    workspace_root,
};

const CLIENT_ID: &str = "bench-client";
const CLIENT_SECRET: &str = "bench-secret";
const DEFAULT_SIZES_MB: &str = "50,500";
/// The sample's length; its bitrate is chosen to reach the size.
const VIDEO_SECONDS: u64 = 40;
/// Where the interruption starts: this share of the file already at the fake.
const INTERRUPT_AT: f64 = 0.5;
/// The broken request delivers this much before the connection drops: a whole MiB that YouTube
/// keeps, and 1,000 bytes it does not (it keeps whole 256 KiB pieces).
const BREAK_AFTER: u64 = 1024 * 1024 + 1000;
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(1800);

#[tokio::main(flavor = "multi_thread")]
async fn main() -> ExitCode {
    if !std::env::args().any(|arg| arg == "--bench") {
        println!(
            "youtube_upload: skipped (run it with `cargo bench -p server --bench youtube_upload`)"
        );
        return ExitCode::SUCCESS;
    }
    let outcome = tokio::select! {
        outcome = run() => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("youtube_upload bench failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let sizes: Vec<u64> = std::env::var("BENCH_VIDEO_MB")
        .unwrap_or_else(|_| DEFAULT_SIZES_MB.to_owned())
        .split(',')
        .map(|size| {
            size.trim()
                .parse()
                .with_context(|| format!("BENCH_VIDEO_MB: `{size}` is not a number"))
        })
        .collect::<Result<_>>()?;
    let root = workspace_root();
    let bin = server_bin(&root);
    ensure!(
        bin.exists(),
        "no release binary at {} (cargo build --release -p server)",
        bin.display()
    );
    let mut all = Map::new();
    for size_mb in sizes {
        let figures = measure(size_mb, &bin, &root).await?;
        for (name, value) in figures {
            println!("{size_mb}mb.{name}: {value}");
            all.insert(format!("{size_mb}mb.{name}"), json!(value));
        }
    }
    println!("{}", Value::Object(all));
    Ok(())
}

/// One size on a fresh server: the figures, by name.
async fn measure(size_mb: u64, bin: &Path, root: &Path) -> Result<Vec<(&'static str, f64)>> {
    let fake = YouTubeFake::new(CLIENT_ID, CLIENT_SECRET);
    let (address, fake_task) = server::sandbox::serve(fake.router())
        .await
        .context("the YouTube fake listens")?;
    let fake_url = format!("http://{address}");
    // Declared before the server, dropped after it.
    let dir = TempDir::create()?;
    let video = dir.path().join("sample.mp4");
    make_video(&video, size_mb)?;
    let size = std::fs::metadata(&video)?.len();

    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let env = server_env(&dir.path().join("data"), port, &fake_url);
    let log = dir.path().join("server.log");
    let mut server = Child::spawn("server", bin, &["serve"], &env, root, log)?;
    // The OAuth callback answers a redirect that is read, not followed.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("the HTTP client builds")?;
    wait_ready(&client, &base, &mut server).await?;

    let token = sign_in(&client, &base).await?;
    let connection = support::connect(&client, &base, &token, "youtube", "bench", |url| {
        fake.authorize_directly(url, "bench")
    })
    .await?;
    let media = upload(&base, &token, &video)?;

    let started = Instant::now();
    let post = create_post(&client, &base, &token, &connection, &media, "Whole").await?;
    wait_published(&client, &base, &token, &post, &mut server).await?;
    let publish_secs = started.elapsed().as_secs_f64();
    ensure!(
        fake.bytes_received_total() == size,
        "an uninterrupted upload sent {} bytes for a file of {size}",
        fake.bytes_received_total()
    );

    let started = Instant::now();
    let post = create_post(&client, &base, &token, &connection, &media, "Broken").await?;
    let halfway = size + (size as f64 * INTERRUPT_AT) as u64;
    while fake.bytes_received_total() < halfway {
        ensure!(
            started.elapsed() < PUBLISH_TIMEOUT,
            "the second upload never reached halfway"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    fake.interrupt_next_upload_after(BREAK_AFTER);
    wait_published(&client, &base, &token, &post, &mut server).await?;
    let interrupted_secs = started.elapsed().as_secs_f64();
    let resent = fake.bytes_received_total() - 2 * size;
    let resumed_at = resumed_at(&client, &base, &token, &post).await?;
    let peak = peak_rss_mib(server.pid())?;
    ensure!(fake.video_count() == 2, "two videos on the channel");

    server.stop();
    fake_task.abort();
    let mb = size as f64 / 1_000_000.0;
    Ok(vec![
        ("file_mb", round(mb)),
        ("publish_secs", round(publish_secs)),
        ("publish_mb_s", round(mb / publish_secs)),
        ("interrupted_publish_secs", round(interrupted_secs)),
        ("resent_bytes", resent as f64),
        ("resumed_at_mb", resumed_at),
        ("peak_rss_mib", round(peak)),
    ])
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// A constant-bitrate MP4 of about `size_mb` megabytes.
fn make_video(path: &Path, size_mb: u64) -> Result<()> {
    let rate = format!("{}k", size_mb * 8 * 1000 / VIDEO_SECONDS);
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg(format!(
            "testsrc=size=320x240:rate=30:duration={VIDEO_SECONDS}"
        ))
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-b:v", &rate])
        .args(["-minrate", &rate, "-maxrate", &rate, "-bufsize", &rate])
        .args([
            "-x264-params",
            "nal-hrd=cbr",
            "-movflags",
            "+faststart",
            "-y",
        ])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .context("cannot run ffmpeg (apt-get install ffmpeg)")?;
    ensure!(
        status.success(),
        "ffmpeg failed to make the sample ({status})"
    );
    Ok(())
}

/// The server's variables: SQLite and the in-process queue, YouTube pointed at the fake.
fn server_env(data_dir: &Path, port: u16, fake_url: &str) -> Vec<(String, String)> {
    let jwt_secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let mut env: Vec<(String, String)> = [
        ("DATA_DIR", data_dir.display().to_string()),
        ("PICSCRIPTER_ADDR", format!("127.0.0.1:{port}")),
        ("JWT_SECRET", jwt_secret),
        ("DATABASE_URL", String::new()),
        ("REDIS_URL", String::new()),
        ("YOUTUBE_CLIENT_ID", CLIENT_ID.to_owned()),
        ("YOUTUBE_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("RATE_LIMIT_API", "1000000/s".to_owned()),
        ("RATE_LIMIT_AUTH", "1000000/s".to_owned()),
        ("RATE_LIMIT_POST", "1000000/s".to_owned()),
        ("RATE_LIMIT_OAUTH", "1000000/s".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    for name in [
        "YOUTUBE_AUTH_URL",
        "YOUTUBE_API_URL",
        "YOUTUBE_UPLOAD_URL",
        "YOUTUBE_TOKEN_URL",
        "YOUTUBE_WEB_URL",
    ] {
        env.push((name.to_owned(), fake_url.to_owned()));
    }
    env
}

/// Uploads `video` with curl, which streams it from disk; returns the media id.
fn upload(base: &str, token: &str, video: &Path) -> Result<String> {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--fail-with-body"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["-F", &format!("file=@{};type=video/mp4", video.display())])
        .arg(format!("{base}/api/media"))
        .stdin(Stdio::null())
        .output()
        .context("cannot run curl")?;
    let body = String::from_utf8_lossy(&output.stdout);
    ensure!(
        output.status.success(),
        "POST /api/media failed ({}): {body} {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let media: Value = serde_json::from_str(&body)
        .with_context(|| format!("POST /api/media did not answer JSON: {body}"))?;
    media["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("the media answer has no id: {media}"))
}

async fn create_post(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    connection: &str,
    media: &str,
    title: &str,
) -> Result<String> {
    let options = json!({ "title": title, "privacy": "private", "made_for_kids": "false" });
    let body = json!({
        "text": format!("{title}: the benchmark's video."),
        "media_ids": [media],
        "targets": [{ "connection_id": connection, "options": options }],
        "schedule": "now",
    });
    let response = client
        .post(format!("{base}/api/posts"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .context("POST /api/posts was not answered")?;
    let post = json_of(response, StatusCode::CREATED, "POST /api/posts").await?;
    post["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("the post answer has no id: {post}"))
}

async fn get_post(client: &reqwest::Client, base: &str, token: &str, id: &str) -> Result<Value> {
    let response = client
        .get(format!("{base}/api/posts/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .context("GET /api/posts/{id} was not answered")?;
    json_of(response, StatusCode::OK, "GET /api/posts/{id}").await
}

async fn wait_published(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    id: &str,
    server: &mut Child,
) -> Result<()> {
    let started = Instant::now();
    loop {
        let post = get_post(client, base, token, id).await?;
        match post["targets"][0]["status"].as_str() {
            Some("published") => return Ok(()),
            Some("failed" | "waiting_reconnect" | "cancelled") => {
                bail!("the post did not go out: {post:#}")
            }
            _ => {}
        }
        if let Some(status) = server.exited() {
            bail!("the server exited ({status}):\n{}", server.log_tail());
        }
        ensure!(
            started.elapsed() < PUBLISH_TIMEOUT,
            "the post was not published within {} s: {post:#}",
            PUBLISH_TIMEOUT.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Where the interrupted upload went on from, in MB, as its job log says ("YouTube confirmed
/// 262.1 MB of 524.3 MB").
async fn resumed_at(client: &reqwest::Client, base: &str, token: &str, id: &str) -> Result<f64> {
    let post = get_post(client, base, token, id).await?;
    post["logs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|line| line["message"].as_str())
        .find_map(|message| {
            message
                .strip_prefix("YouTube confirmed ")?
                .split(" MB")
                .next()?
                .parse()
                .ok()
        })
        .with_context(|| format!("the job log never says where the upload resumed: {post:#}"))
}
