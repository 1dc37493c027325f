//! What an uploaded video really is, read by Debian's `ffprobe` and `ffmpeg` (package `ffmpeg`,
//! found on `PATH`) rather than by a Rust demuxer: they know every container and codec a phone
//! or editor writes, and the facts they report are what each platform's limits are written in.
//!
//! The upload is already a file on disk (up to 1 GB); nothing here reads it into memory. The
//! tools run as child processes with their arguments as a list (no shell), the path passed as a
//! `file:` URL so a name can never be taken for an option or another protocol, and each run is
//! killed when it outlives its time limit. Whether `moov` comes before `mdat` (Instagram's
//! "fast start") is read from the top-level boxes here, because `ffprobe` does not report it;
//! the same walk notices an MP4 or MOV cut short, which `ffprobe` accepts when `moov` is first.
//!
//! Errors are worded for the person who uploaded the file and never contain its path. A WebM
//! cut short is not noticed here.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use serde::Deserialize;
use tokio::process::Command;

/// Reading the headers of even a 1 GB file takes ffprobe well under a second; more means a
/// file built to make it work hard.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);
/// Seeking (`-ss` before `-i`) jumps to a keyframe, so one frame is quick at any position.
const POSTER_TIMEOUT: Duration = Duration::from_secs(30);
/// Posters are for previews; wider frames are scaled down.
const POSTER_MAX_WIDTH: u32 = 1280;
/// A real MP4 has a handful of top-level boxes (a fragmented one a few thousand); past this
/// the walk stops rather than let a file of tiny boxes keep it busy, and trusts ffprobe.
const MAX_TOP_LEVEL_BOXES: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Mp4,
    Mov,
    WebM,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AudioFacts {
    /// ffprobe's codec name: `aac`, `opus`, `mp3`…
    pub codec: String,
    pub sample_rate: Option<u32>,
}

/// The facts each platform's video limits are written in.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoFacts {
    pub container: Container,
    /// To the millisecond.
    pub duration: Duration,
    /// As shown to a viewer: a phone's portrait video is stored landscape with a 90° rotation,
    /// and is reported here as portrait.
    pub width: u32,
    pub height: u32,
    /// The average rate; `None` when the file does not say.
    pub frames_per_second: Option<f64>,
    /// ffprobe's codec name: `h264`, `hevc`, `vp8`, `vp9`, `av1`…
    pub video_codec: String,
    /// `yuv420p` is the one every platform plays.
    pub pixel_format: Option<String>,
    /// Bits per second of the whole file, or of the video stream when only that is known.
    pub bit_rate: Option<u64>,
    /// `None` when the video is silent.
    pub audio: Option<AudioFacts>,
    /// `moov` before `mdat`, so playback can start before the whole file has arrived. Always
    /// true for WebM, where the question does not arise.
    pub faststart: bool,
}

impl VideoFacts {
    /// Width over height as displayed (9:16 portrait is 0.5625).
    pub fn aspect_ratio(&self) -> f64 {
        f64::from(self.width) / f64::from(self.height)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PosterFacts {
    pub width: u32,
    pub height: u32,
    /// Where the frame was taken: the time asked for, or zero when that was past the end.
    pub taken_at: Duration,
}

/// Why a video was refused or could not be read, in words a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("{tool} is not installed on this server: install Debian's ffmpeg package.")]
    ToolMissing { tool: &'static str },
    #[error("This file has no video in it.")]
    NoVideo,
    #[error("This video is {found}; only MP4, MOV and WebM videos are accepted.")]
    UnsupportedContainer { found: String },
    #[error("The video is damaged or cut short and cannot be read; export it again and upload it.")]
    Damaged,
    #[error("Reading the video took longer than {} seconds; try a shorter or smaller file.", .limit.as_secs())]
    TimedOut { tool: &'static str, limit: Duration },
    #[error("{tool} gave an answer this server cannot read ({detail}).")]
    UnreadableOutput { tool: &'static str, detail: String },
    #[error("No picture could be taken from this video.")]
    NoFrame,
    #[error("The video could not be read on this server ({0}).")]
    Io(#[from] io::Error),
}

/// Measures the video at `path` and checks it is an MP4, MOV or WebM with a picture in it.
pub async fn probe_video(path: &Path) -> Result<VideoFacts, VideoError> {
    let mut args = os_args(&["-v", "error", "-print_format", "json"]);
    args.extend(os_args(&["-show_format", "-show_streams", "-i"]));
    args.push(file_url(path));
    let output = run("ffprobe", args, PROBE_TIMEOUT).await?;
    if !output.status.success() {
        return Err(judge_unreadable(path.to_owned()).await?);
    }
    let probed: Probed =
        serde_json::from_slice(&output.stdout).map_err(|error| VideoError::UnreadableOutput {
            tool: "ffprobe",
            detail: error.to_string(),
        })?;
    let facts = facts(&probed)?;
    if facts.container == Container::WebM {
        return Ok(facts);
    }
    let layout = blocking({
        let path = path.to_owned();
        move || read_layout_of(&path)
    })
    .await??;
    if !layout.whole {
        return Err(VideoError::Damaged);
    }
    Ok(VideoFacts {
        faststart: layout.moov_first,
        ..facts
    })
}

/// Writes one frame of `video`, at `at` or (when that is past the end) the first, to `out` as
/// a JPEG no wider than 1280 pixels, shown the right way up.
pub async fn poster_frame(
    video: &Path,
    out: &Path,
    at: Duration,
) -> Result<PosterFacts, VideoError> {
    let taken_at = if extract_frame(video, out, at).await? {
        at
    } else if extract_frame(video, out, Duration::ZERO).await? {
        Duration::ZERO
    } else {
        return Err(VideoError::NoFrame);
    };
    let (width, height) = blocking({
        let out = out.to_owned();
        move || jpeg_dimensions(&out)
    })
    .await??;
    Ok(PosterFacts {
        width,
        height,
        taken_at,
    })
}

/// True when a frame was written; ffmpeg succeeds without writing one when `at` is past the end.
async fn extract_frame(video: &Path, out: &Path, at: Duration) -> Result<bool, VideoError> {
    // A poster left by an earlier run must not pass for this one.
    blocking({
        let out = out.to_owned();
        move || remove_if_present(&out)
    })
    .await??;
    let mut args = os_args(&["-v", "error", "-nostdin", "-ss"]);
    args.push(format!("{:.3}", at.as_secs_f64()).into());
    args.push("-i".into());
    args.push(file_url(video));
    args.extend(os_args(&["-frames:v", "1", "-vf"]));
    args.push(format!("scale='min({POSTER_MAX_WIDTH},iw)':-2").into());
    // `-update 1`: the name is one file, not a `%d` pattern for a numbered sequence.
    args.extend(os_args(&[
        "-q:v", "4", "-f", "image2", "-update", "1", "-y",
    ]));
    args.push(file_url(out));
    let output = run("ffmpeg", args, POSTER_TIMEOUT).await?;
    if !output.status.success() {
        return Err(VideoError::NoFrame);
    }
    let out = out.to_owned();
    Ok(blocking(move || std::fs::metadata(out).is_ok_and(|written| written.len() > 0)).await?)
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

fn jpeg_dimensions(path: &Path) -> Result<(u32, u32), VideoError> {
    let unreadable = |error: image::ImageError| VideoError::UnreadableOutput {
        tool: "ffmpeg",
        detail: error.to_string(),
    };
    image::ImageReader::open(path)?
        .with_guessed_format()?
        .into_dimensions()
        .map_err(unreadable)
}

/// Runs `tool`, killing it (through `kill_on_drop`) when it outlives `limit`.
async fn run(
    tool: &'static str,
    args: Vec<OsString>,
    limit: Duration,
) -> Result<Output, VideoError> {
    let child = Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| match error.kind() {
            io::ErrorKind::NotFound => VideoError::ToolMissing { tool },
            _ => VideoError::Io(error),
        })?;
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(output) => Ok(output?),
        Err(_) => Err(VideoError::TimedOut { tool, limit }),
    }
}

fn os_args(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// `file:` keeps a name like `-version.mp4` or `concat:a|b` from meaning anything to ffmpeg.
fn file_url(path: &Path) -> OsString {
    let mut url = OsString::from("file:");
    url.push(path);
    url
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(io::Error::other)
}

/// ffprobe's stderr cannot tell a cut-short MP4 from a text file named `.mp4` (both are
/// "moov atom not found"), so the first box decides which the person is told.
async fn judge_unreadable(path: PathBuf) -> Result<VideoError, VideoError> {
    let starts_like_mp4 = blocking(move || starts_like_iso_media(&path)).await??;
    Ok(if starts_like_mp4 {
        VideoError::Damaged
    } else {
        VideoError::NoVideo
    })
}

fn starts_like_iso_media(path: &Path) -> io::Result<bool> {
    let mut head = Vec::with_capacity(8);
    File::open(path)?.take(8).read_to_end(&mut head)?;
    Ok(head.len() == 8 && matches!(&head[4..], b"ftyp" | b"moov" | b"mdat" | b"wide" | b"free"))
}

// ---- ffprobe's JSON, as far as it is used ----

#[derive(Debug, Deserialize)]
struct Probed {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
}

#[derive(Debug, Deserialize)]
struct Format {
    format_name: String,
    format_long_name: Option<String>,
    duration: Option<String>,
    bit_rate: Option<String>,
    #[serde(default)]
    tags: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Stream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    pix_fmt: Option<String>,
    avg_frame_rate: Option<String>,
    duration: Option<String>,
    bit_rate: Option<String>,
    sample_rate: Option<String>,
    #[serde(default)]
    disposition: Disposition,
    #[serde(default)]
    tags: HashMap<String, String>,
    #[serde(default)]
    side_data_list: Vec<SideData>,
}

#[derive(Debug, Default, Deserialize)]
struct Disposition {
    /// Cover art in a music file is a "video" stream of one picture.
    #[serde(default)]
    attached_pic: u8,
}

#[derive(Debug, Deserialize)]
struct SideData {
    side_data_type: Option<String>,
    rotation: Option<f64>,
}

impl Stream {
    fn is(&self, kind: &str) -> bool {
        self.codec_type.as_deref() == Some(kind)
    }

    /// Degrees from the display matrix (ffmpeg 5.1 and later), else the older `rotate` tag.
    fn rotation(&self) -> f64 {
        self.side_data_list
            .iter()
            .filter(|side| side.side_data_type.as_deref() == Some("Display Matrix"))
            .find_map(|side| side.rotation)
            .or_else(|| self.tags.get("rotate").and_then(|tag| tag.parse().ok()))
            .unwrap_or(0.0)
    }
}

fn facts(probed: &Probed) -> Result<VideoFacts, VideoError> {
    let format = probed
        .format
        .as_ref()
        .ok_or_else(|| VideoError::UnreadableOutput {
            tool: "ffprobe",
            detail: "no format section".into(),
        })?;
    // A still image is read by ffprobe as a one-frame video.
    if format.format_name == "image2" || format.format_name.ends_with("_pipe") {
        return Err(VideoError::NoVideo);
    }
    let video = probed
        .streams
        .iter()
        .find(|stream| stream.is("video") && stream.disposition.attached_pic == 0)
        .ok_or(VideoError::NoVideo)?;
    let video_codec = video.codec_name.clone().ok_or(VideoError::Damaged)?;
    let audio = probed
        .streams
        .iter()
        .find(|stream| stream.is("audio"))
        .map(audio_facts);
    let container = container(format, &video_codec, audio.as_ref())?;
    let (width, height) = displayed_size(video)?;
    let duration = [&format.duration, &video.duration]
        .into_iter()
        .find_map(|seconds| parse_duration(seconds.as_deref()?))
        .ok_or(VideoError::Damaged)?;
    Ok(VideoFacts {
        container,
        duration,
        width,
        height,
        frames_per_second: video.avg_frame_rate.as_deref().and_then(parse_rate),
        video_codec,
        pixel_format: video.pix_fmt.clone(),
        bit_rate: [&format.bit_rate, &video.bit_rate]
            .into_iter()
            .find_map(|rate| rate.as_deref()?.parse().ok()),
        audio,
        faststart: true,
    })
}

fn audio_facts(stream: &Stream) -> AudioFacts {
    AudioFacts {
        codec: stream.codec_name.clone().unwrap_or_default(),
        sample_rate: stream
            .sample_rate
            .as_deref()
            .and_then(|rate| rate.parse().ok()),
    }
}

/// MP4 and MOV share one ffprobe format name and differ by brand; Matroska and WebM share
/// one too, and WebM is Matroska holding only the codecs the WebM project allows.
fn container(
    format: &Format,
    video_codec: &str,
    audio: Option<&AudioFacts>,
) -> Result<Container, VideoError> {
    let unsupported = |found: &str| VideoError::UnsupportedContainer {
        found: found.to_owned(),
    };
    match format.format_name.as_str() {
        "mov,mp4,m4a,3gp,3g2,mj2" => match format.tags.get("major_brand").map(|b| b.trim()) {
            None | Some("qt") => Ok(Container::Mov),
            Some(brand) if brand.starts_with("3g") => Err(unsupported("a 3GP file")),
            Some("mjp2") => Err(unsupported("Motion JPEG 2000")),
            Some(_) => Ok(Container::Mp4),
        },
        "matroska,webm" => {
            let webm_video = matches!(video_codec, "vp8" | "vp9" | "av1");
            let webm_audio =
                audio.is_none_or(|audio| matches!(audio.codec.as_str(), "opus" | "vorbis"));
            if webm_video && webm_audio {
                Ok(Container::WebM)
            } else {
                Err(unsupported("a Matroska (MKV) file"))
            }
        }
        name => Err(unsupported(&format!(
            "in the {} format",
            format.format_long_name.as_deref().unwrap_or(name)
        ))),
    }
}

/// Stored size, turned a quarter when the file asks players to rotate it.
fn displayed_size(video: &Stream) -> Result<(u32, u32), VideoError> {
    let (Some(width), Some(height)) = (video.width, video.height) else {
        return Err(VideoError::Damaged);
    };
    if width == 0 || height == 0 {
        return Err(VideoError::Damaged);
    }
    let quarter_turns = ((video.rotation() / 90.0).round() as i64).rem_euclid(4);
    Ok(if quarter_turns % 2 == 1 {
        (height, width)
    } else {
        (width, height)
    })
}

/// ffprobe writes seconds as `"2.000000"`, or `"N/A"` when it does not know.
fn parse_duration(seconds: &str) -> Option<Duration> {
    let seconds: f64 = seconds.parse().ok()?;
    (seconds.is_finite() && seconds > 0.0)
        .then(|| Duration::from_millis((seconds * 1000.0).round() as u64))
}

/// `"30000/1001"`; `"0/0"` is ffprobe's "unknown".
fn parse_rate(rate: &str) -> Option<f64> {
    let (numerator, denominator) = rate.split_once('/').unwrap_or((rate, "1"));
    let rate = numerator.parse::<f64>().ok()? / denominator.parse::<f64>().ok()?;
    (rate.is_finite() && rate > 0.0).then_some(rate)
}

// ---- the top-level boxes of an MP4 or MOV ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    /// `moov` was met before `mdat`.
    moov_first: bool,
    /// Every box ends inside the file and the last ends where it does.
    whole: bool,
}

struct BoxHeader {
    kind: [u8; 4],
    end: u64,
}

fn read_layout_of(path: &Path) -> io::Result<Layout> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    read_layout(&mut file, len)
}

fn read_layout(file: &mut (impl Read + Seek), len: u64) -> io::Result<Layout> {
    let mut offset = 0;
    let mut moov_first = None;
    for _ in 0..MAX_TOP_LEVEL_BOXES {
        if offset == len {
            break;
        }
        let Some(header) = read_box_header(file, offset, len)? else {
            return Ok(Layout {
                moov_first: moov_first == Some(true),
                whole: false,
            });
        };
        moov_first = moov_first.or(match &header.kind {
            b"moov" => Some(true),
            b"mdat" => Some(false),
            _ => None,
        });
        offset = header.end;
    }
    Ok(Layout {
        moov_first: moov_first == Some(true),
        whole: true,
    })
}

/// The box at `offset`, or `None` when its header or body runs past the end of the file or
/// its size is impossible. Size 0 means "to the end of the file"; size 1, that a 64-bit size
/// follows the type.
fn read_box_header(
    file: &mut (impl Read + Seek),
    offset: u64,
    len: u64,
) -> io::Result<Option<BoxHeader>> {
    if len - offset < 8 {
        return Ok(None);
    }
    let mut header = [0; 8];
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(&mut header)?;
    let [s0, s1, s2, s3, k0, k1, k2, k3] = header;
    let kind = [k0, k1, k2, k3];
    let (size, header_len) = match u32::from_be_bytes([s0, s1, s2, s3]) {
        0 => (len - offset, 8),
        1 if len - offset < 16 => return Ok(None),
        1 => {
            let mut large = [0; 8];
            file.read_exact(&mut large)?;
            (u64::from_be_bytes(large), 16)
        }
        size => (u64::from(size), 8),
    };
    let end = offset.checked_add(size).filter(|end| *end <= len);
    Ok(end
        .filter(|_| size >= header_len)
        .map(|end| BoxHeader { kind, end }))
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// A directory of its own per test, removed even when the test fails.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Self {
            let dir =
                std::env::temp_dir().join(format!("picscripter-video-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&dir).expect("the temp dir is writable");
            Self(dir)
        }

        fn path(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }

        /// Makes `name` from ffmpeg's test sources: 2 seconds of a 320×240 test card at 30 fps,
        /// then `args` (more inputs, codecs, flags) before the output name.
        async fn video(&self, name: &str, args: &[&str]) -> PathBuf {
            let out = self.path(name);
            let mut all = vec!["-v", "error", "-nostdin", "-f", "lavfi", "-t", "2"];
            all.extend(["-i", "testsrc=size=320x240:rate=30"]);
            all.extend(args);
            ffmpeg(&all, &out).await;
            out
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const NEEDS_FFMPEG: &str =
        "these tests need ffmpeg and ffprobe: apt-get install -y --no-install-recommends ffmpeg";

    async fn ffmpeg(args: &[&str], out: &Path) {
        let output = Command::new("ffmpeg")
            .args(args)
            .args(["-y".as_ref(), out.as_os_str()])
            .output()
            .await
            .unwrap_or_else(|error| panic!("{NEEDS_FFMPEG} ({error})"));
        assert!(
            output.status.success(),
            "ffmpeg {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    async fn probe(path: &Path) -> VideoFacts {
        match probe_video(path).await {
            Err(VideoError::ToolMissing { .. }) => panic!("{NEEDS_FFMPEG}"),
            other => other.expect("the video is probed"),
        }
    }

    const H264: [&str; 6] = [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    ];
    const TONE_44K: [&str; 6] = ["-f", "lavfi", "-t", "2", "-i", "sine=sample_rate=44100"];
    const TONE_48K: [&str; 6] = ["-f", "lavfi", "-t", "2", "-i", "sine=sample_rate=48000"];

    async fn mp4(scratch: &Scratch, name: &str, faststart: bool) -> PathBuf {
        let mut args = TONE_44K.to_vec();
        args.extend(H264);
        args.extend(["-c:a", "aac"]);
        if faststart {
            args.extend(["-movflags", "+faststart"]);
        }
        scratch.video(name, &args).await
    }

    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 0.01,
            "{actual} is not {expected}"
        );
    }

    #[tokio::test]
    async fn an_mp4_is_measured() {
        let scratch = Scratch::new();
        let facts = probe(&mp4(&scratch, "clip.mp4", true).await).await;
        assert_eq!(facts.container, Container::Mp4);
        assert!(facts.duration.abs_diff(Duration::from_secs(2)) <= Duration::from_millis(50));
        assert_eq!((facts.width, facts.height), (320, 240));
        assert_close(facts.aspect_ratio(), 4.0 / 3.0);
        assert_close(facts.frames_per_second.expect("a frame rate"), 30.0);
        assert_eq!(facts.video_codec, "h264");
        assert_eq!(facts.pixel_format.as_deref(), Some("yuv420p"));
        assert!(facts.bit_rate.is_some_and(|rate| rate > 0));
        let audio = facts.audio.expect("an audio stream");
        assert_eq!(
            (audio.codec.as_str(), audio.sample_rate),
            ("aac", Some(44100))
        );
        assert!(facts.faststart);
    }

    #[tokio::test]
    async fn an_mp4_written_without_faststart_says_so() {
        let scratch = Scratch::new();
        let facts = probe(&mp4(&scratch, "clip.mp4", false).await).await;
        assert_eq!(facts.container, Container::Mp4);
        assert!(!facts.faststart);
    }

    #[tokio::test]
    async fn a_mov_is_told_apart_from_an_mp4_by_its_brand() {
        let scratch = Scratch::new();
        let mut args = TONE_48K.to_vec();
        args.extend(H264);
        args.extend(["-c:a", "aac"]);
        let facts = probe(&scratch.video("clip.mov", &args).await).await;
        assert_eq!(facts.container, Container::Mov);
        assert_eq!(
            facts.audio.map(|audio| audio.sample_rate),
            Some(Some(48000))
        );
        assert!(!facts.faststart);
    }

    #[tokio::test]
    async fn a_webm_is_measured() {
        let scratch = Scratch::new();
        let mut args = TONE_48K.to_vec();
        args.extend(["-c:v", "libvpx-vp9", "-deadline", "realtime"]);
        args.extend(["-cpu-used", "8", "-pix_fmt", "yuv420p", "-c:a", "libopus"]);
        let facts = probe(&scratch.video("clip.webm", &args).await).await;
        assert_eq!(facts.container, Container::WebM);
        assert_eq!(facts.video_codec, "vp9");
        assert_eq!(facts.pixel_format.as_deref(), Some("yuv420p"));
        assert_eq!((facts.width, facts.height), (320, 240));
        assert_close(facts.frames_per_second.expect("a frame rate"), 30.0);
        assert!(facts.duration.abs_diff(Duration::from_secs(2)) <= Duration::from_millis(50));
        let audio = facts.audio.expect("an audio stream");
        assert_eq!(
            (audio.codec.as_str(), audio.sample_rate),
            ("opus", Some(48000))
        );
        assert!(facts.faststart);
    }

    #[tokio::test]
    async fn a_silent_video_has_no_audio() {
        let scratch = Scratch::new();
        let facts = probe(&scratch.video("silent.mp4", &H264).await).await;
        assert_eq!(facts.audio, None);
        assert_eq!(facts.video_codec, "h264");
    }

    /// ffmpeg 5.1 writes the `rotate` metadata as a display matrix only when copying streams,
    /// and ffprobe 5.1 reports it as side data (`"rotation": 90`), no longer as a tag.
    #[tokio::test]
    async fn a_rotated_video_is_measured_as_displayed() {
        let scratch = Scratch::new();
        let stored = scratch.video("stored.mp4", &H264).await;
        let rotated = scratch.path("rotated.mp4");
        let input = stored.to_str().expect("a UTF-8 temp path");
        ffmpeg(
            &[
                "-v",
                "error",
                "-i",
                input,
                "-c",
                "copy",
                "-metadata:s:v:0",
                "rotate=90",
            ],
            &rotated,
        )
        .await;
        let facts = probe(&rotated).await;
        assert_eq!((facts.width, facts.height), (240, 320));
        assert_close(facts.aspect_ratio(), 0.75);
        let poster = poster_frame(
            &rotated,
            &scratch.path("poster.jpg"),
            Duration::from_secs(1),
        )
        .await
        .expect("a poster");
        assert_eq!((poster.width, poster.height), (240, 320));
    }

    #[tokio::test]
    async fn a_png_named_mp4_is_not_a_video() {
        let scratch = Scratch::new();
        let path = scratch.path("photo.mp4");
        image::RgbImage::from_pixel(4, 4, image::Rgb([200, 80, 20]))
            .save_with_format(&path, image::ImageFormat::Png)
            .expect("the PNG is written");
        assert!(matches!(probe_video(&path).await, Err(VideoError::NoVideo)));
        std::fs::write(&path, b"hello\n").expect("the text is written");
        assert!(matches!(probe_video(&path).await, Err(VideoError::NoVideo)));
    }

    #[tokio::test]
    async fn a_cut_short_video_is_refused_as_damaged() {
        let scratch = Scratch::new();
        for faststart in [true, false] {
            let whole = std::fs::read(mp4(&scratch, "whole.mp4", faststart).await).unwrap();
            let cut = scratch.path("cut.mp4");
            std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
            let refusal = probe_video(&cut).await;
            assert!(
                matches!(refusal, Err(VideoError::Damaged)),
                "faststart {faststart}: {refusal:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_matroska_file_with_h264_is_not_a_webm() {
        let scratch = Scratch::new();
        let facts = probe_video(&scratch.video("clip.mkv", &H264).await).await;
        let Err(refusal) = facts else {
            panic!("accepted: {facts:?}")
        };
        assert_eq!(
            refusal.to_string(),
            "This video is a Matroska (MKV) file; only MP4, MOV and WebM videos are accepted."
        );
    }

    #[tokio::test]
    async fn a_poster_is_a_jpeg_of_the_frame_asked_for() {
        let scratch = Scratch::new();
        let video = mp4(&scratch, "clip.mp4", true).await;
        let out = scratch.path("poster.jpg");
        let poster = poster_frame(&video, &out, Duration::from_millis(1500))
            .await
            .expect("a poster");
        assert_eq!(
            poster,
            PosterFacts {
                width: 320,
                height: 240,
                taken_at: Duration::from_millis(1500)
            }
        );
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(
            image::guess_format(&bytes).unwrap(),
            image::ImageFormat::Jpeg
        );
    }

    #[tokio::test]
    async fn a_poster_asked_for_past_the_end_is_the_first_frame() {
        let scratch = Scratch::new();
        let video = mp4(&scratch, "clip.mp4", false).await;
        let poster = poster_frame(&video, &scratch.path("poster.jpg"), Duration::from_secs(60))
            .await
            .expect("a poster");
        assert_eq!(poster.taken_at, Duration::ZERO);
        assert_eq!((poster.width, poster.height), (320, 240));
    }

    #[tokio::test]
    async fn a_missing_tool_says_how_to_install_it() {
        let refusal = run("ffprobe-not-installed", vec![], PROBE_TIMEOUT)
            .await
            .expect_err("no such program");
        assert_eq!(
            refusal.to_string(),
            "ffprobe-not-installed is not installed on this server: install Debian's ffmpeg package."
        );
    }

    #[tokio::test]
    async fn a_tool_that_runs_too_long_is_stopped() {
        let started = std::time::Instant::now();
        let refusal = run("sleep", os_args(&["10"]), Duration::from_millis(100))
            .await
            .expect_err("stopped");
        assert!(matches!(refusal, VideoError::TimedOut { .. }));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn frame_rates_are_fractions_and_zero_over_zero_is_unknown() {
        assert_close(parse_rate("30000/1001").unwrap(), 29.97);
        assert_close(parse_rate("25/1").unwrap(), 25.0);
        assert_eq!(parse_rate("0/0"), None);
        assert_eq!(parse_rate("30/0"), None);
        assert_eq!(parse_duration("N/A"), None);
        assert_eq!(parse_duration("2.0005"), Some(Duration::from_millis(2001)));
    }

    fn boxed(kind: &[u8; 4], body_len: usize) -> Vec<u8> {
        let mut bytes = u32::try_from(8 + body_len).unwrap().to_be_bytes().to_vec();
        bytes.extend(kind);
        bytes.resize(8 + body_len, 0);
        bytes
    }

    fn layout(bytes: &[u8]) -> Layout {
        read_layout(&mut Cursor::new(bytes), bytes.len() as u64).unwrap()
    }

    #[test]
    fn moov_first_is_faststart() {
        let file = [boxed(b"ftyp", 12), boxed(b"moov", 40), boxed(b"mdat", 100)].concat();
        assert_eq!(
            layout(&file),
            Layout {
                moov_first: true,
                whole: true
            }
        );
        let file = [boxed(b"ftyp", 12), boxed(b"mdat", 100), boxed(b"moov", 40)].concat();
        assert_eq!(
            layout(&file),
            Layout {
                moov_first: false,
                whole: true
            }
        );
    }

    #[test]
    fn a_64_bit_box_size_is_followed() {
        let mut mdat = 1u32.to_be_bytes().to_vec();
        mdat.extend(b"mdat");
        mdat.extend(116u64.to_be_bytes());
        mdat.resize(116, 0);
        let file = [boxed(b"ftyp", 12), mdat, boxed(b"moov", 40)].concat();
        assert_eq!(
            layout(&file),
            Layout {
                moov_first: false,
                whole: true
            }
        );
    }

    #[test]
    fn a_box_running_past_the_end_means_the_file_is_cut_short() {
        let file = [boxed(b"ftyp", 12), boxed(b"moov", 40), boxed(b"mdat", 100)].concat();
        assert!(!layout(&file[..file.len() - 1]).whole);
        assert!(!layout(&[file.as_slice(), &[0, 0, 0]].concat()).whole);
        let mut impossible = boxed(b"ftyp", 12);
        impossible[..4].copy_from_slice(&4u32.to_be_bytes());
        assert!(!layout(&impossible).whole);
    }

    #[test]
    fn a_size_of_zero_runs_to_the_end_of_the_file() {
        let mut mdat = boxed(b"mdat", 100);
        mdat[..4].copy_from_slice(&0u32.to_be_bytes());
        let file = [boxed(b"ftyp", 12), boxed(b"moov", 40), mdat].concat();
        assert_eq!(
            layout(&file),
            Layout {
                moov_first: true,
                whole: true
            }
        );
    }
}
