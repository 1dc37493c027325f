//! Media files for tests, made on the spot: videos by ffmpeg's test sources (Debian's ffmpeg,
//! which `make test` installs).

use std::path::PathBuf;
use std::process::Command;

/// A 320x240 H.264/AAC MP4 of `seconds`, with its index first (`faststart`).
pub fn sample_mp4(seconds: u32) -> Vec<u8> {
    let path: PathBuf =
        std::env::temp_dir().join(format!("picscripter-sample-{}.mp4", uuid::Uuid::new_v4()));
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=size=320x240:rate=30:duration={seconds}"))
        .args(["-f", "lavfi", "-i"])
        .arg(format!("sine=frequency=440:duration={seconds}"))
        .args([
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ])
        .args(["-movflags", "+faststart", "-y"])
        .arg(&path)
        .status()
        .expect("these tests need ffmpeg: apt-get install -y --no-install-recommends ffmpeg");
    assert!(status.success(), "ffmpeg made the sample");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    bytes
}

/// A constant-bitrate MP4 of about `megabits_per_second` × `seconds` / 8 megabytes (the encoder
/// pads with filler), for tests that need a video larger than an upload's chunk.
pub fn padded_mp4(seconds: u32, megabits_per_second: u32) -> Vec<u8> {
    let path: PathBuf =
        std::env::temp_dir().join(format!("picscripter-padded-{}.mp4", uuid::Uuid::new_v4()));
    let rate = format!("{megabits_per_second}M");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=size=320x240:rate=30:duration={seconds}"))
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-b:v"])
        .args([&rate, "-minrate", &rate, "-maxrate", &rate])
        .args(["-bufsize", "2M", "-x264-params", "nal-hrd=cbr"])
        .args(["-movflags", "+faststart", "-y"])
        .arg(&path)
        .status()
        .expect("these tests need ffmpeg: apt-get install -y --no-install-recommends ffmpeg");
    assert!(status.success(), "ffmpeg made the padded sample");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    bytes
}
