//! What only YouTube does, beyond the shared cases: a resumable upload that breaks off and
//! resumes from the byte YouTube confirmed (in the same attempt, and in the next one from the
//! saved session), a session that expired between attempts replaced by a new one, a video
//! whose answer was lost found among the uploads once its session has expired (never uploaded
//! twice), and the processing that follows the last byte. Videos here are larger than one upload chunk.

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use server::clock::ManualClock;
use server::sandbox::kit::FakeControls;
use server::sandbox::youtube::{Endpoint, UploadStatus, YouTubeFake};

use crate::{CLIENT_ID, CLIENT_SECRET, World, common, log_messages};

const MIB: u64 = 1024 * 1024;

/// A 10 MB video (two chunks of the platform's 8 MiB), its bytes and its SHA-256.
struct Clip {
    bytes: Vec<u8>,
    sha256: String,
}

impl Clip {
    fn make() -> Self {
        let bytes = common::media::padded_mp4(4, 20);
        assert!(bytes.len() as u64 > 8 * MIB, "{} bytes", bytes.len());
        let sha256 = format!("{:x}", Sha256::digest(&bytes));
        Self { bytes, sha256 }
    }

    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }
}

fn options() -> Value {
    json!({ "title": "Glazing day", "privacy": "public", "made_for_kids": "false" })
}

async fn post_clip(world: &World<YouTubeFake>, connection: &str, clip: &Clip) -> Value {
    let media = world.upload_file(clip.bytes.clone(), "glazing.mp4").await;
    world
        .create_post(connection, "A morning at the kiln.", &[media], options())
        .await
}

fn start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 5, 4, 9, 0, 0).unwrap()
}

#[tokio::test]
async fn a_broken_upload_resumes_from_the_confirmed_byte_in_the_same_attempt() {
    let world = World::start(YouTubeFake::new(CLIENT_ID, CLIENT_SECRET), None).await;
    let connection = world.connect("kilnworks").await;
    let clip = Clip::make();
    // Halfway through the first chunk, plus a little that YouTube will not keep (it keeps
    // whole 256 KiB pieces).
    world.fake.interrupt_next_upload_after(5 * MIB + 1000);
    let post = post_clip(&world, &connection, &clip).await;
    let done = world.wait_for(&post, "published").await;
    assert_eq!(done["targets"][0]["attempts"], 1, "{done:#}");
    let videos = world.fake.videos();
    assert_eq!(videos.len(), 1);
    assert_eq!(videos[0].sha256_hex, clip.sha256);
    assert_eq!(videos[0].title, "Glazing day");
    assert_eq!(
        world.fake.bytes_received_total() - clip.len(),
        1000,
        "only what YouTube did not keep is sent again"
    );
    let logs = log_messages(&done);
    assert!(
        logs.iter()
            .any(|line| line.contains("YouTube confirmed 5.2 MB of")),
        "{logs:#?}"
    );
}

#[tokio::test]
async fn the_next_attempt_resumes_the_saved_session_and_never_starts_over() {
    let clock = Arc::new(ManualClock::starting_at(start()));
    let fake = YouTubeFake::new(CLIENT_ID, CLIENT_SECRET);
    let world = World::start(fake, Some(clock.clone())).await;
    let connection = world.connect("kilnworks").await;
    let clip = Clip::make();
    // One more break than an attempt mends by itself: the attempt ends, the next resumes.
    for _ in 0..4 {
        world.fake.interrupt_next_upload_after(MIB);
    }
    let post = post_clip(&world, &connection, &clip).await;
    let retrying = world.wait_for(&post, "retrying").await;
    assert_eq!(world.fake.video_count(), 0, "{retrying:#}");
    clock.advance(TimeDelta::minutes(5));
    let done = world.wait_for(&post, "published").await;
    assert_eq!(done["targets"][0]["attempts"], 2, "{done:#}");
    assert_eq!(world.fake.upload_session_count(), 1, "one session, resumed");
    assert_eq!(
        world.fake.bytes_received_total(),
        clip.len(),
        "no byte sent twice"
    );
    assert_eq!(world.fake.videos()[0].sha256_hex, clip.sha256);
    let logs = log_messages(&done);
    assert!(
        logs.iter()
            .any(|line| line.contains("YouTube confirmed 4.2 MB of")),
        "{logs:#?}"
    );
}

/// A connected channel whose upload sessions last half an hour (so that the access token
/// outlives them), YouTube's clock apart from the app's, for a session to end between attempts.
struct ShortSessions {
    world: World<YouTubeFake>,
    connection: String,
    clock: Arc<ManualClock>,
    fake_clock: Arc<ManualClock>,
}

impl ShortSessions {
    async fn start() -> Self {
        let clock = Arc::new(ManualClock::starting_at(start()));
        let fake_clock = Arc::new(ManualClock::starting_at(start()));
        let fake = YouTubeFake::with_clock(CLIENT_ID, CLIENT_SECRET, fake_clock.clone());
        fake.set_session_lifetime(TimeDelta::minutes(30));
        let world = World::start(fake, Some(clock.clone())).await;
        let connection = world.connect("kilnworks").await;
        Self {
            world,
            connection,
            clock,
            fake_clock,
        }
    }

    /// The session ends at YouTube, then the retry comes.
    fn expire_then_retry(&self) {
        self.fake_clock.advance(TimeDelta::minutes(31));
        self.clock.advance(TimeDelta::minutes(5));
    }
}

#[tokio::test]
async fn a_session_that_expired_between_attempts_is_opened_again() {
    let short = ShortSessions::start().await;
    let world = &short.world;
    let clip = Clip::make();
    for _ in 0..4 {
        world.fake.interrupt_next_upload_after(MIB);
    }
    let post = post_clip(world, &short.connection, &clip).await;
    world.wait_for(&post, "retrying").await;
    short.expire_then_retry();
    let done = world.wait_for(&post, "published").await;
    assert_eq!(world.fake.upload_session_count(), 2, "{done:#}");
    assert_eq!(world.fake.video_count(), 1);
    assert_eq!(world.fake.videos()[0].sha256_hex, clip.sha256);
    let logs = log_messages(&done);
    assert!(
        logs.iter().any(|line| line.contains("session had expired")),
        "{logs:#?}"
    );
}

#[tokio::test]
async fn a_video_whose_answer_was_lost_is_found_after_its_session_expired() {
    let short = ShortSessions::start().await;
    let world = &short.world;
    // The last byte makes the video but its answer is lost, and the look at the session that
    // follows fails too: the attempt ends not knowing.
    world.fake.fail_next(
        Endpoint::UploadBytes,
        [server::sandbox::kit::script::Failure::CreatedThenDropped],
    );
    world.fake.fail_next(
        Endpoint::ProbeUpload,
        [server::sandbox::kit::script::Failure::ServerError(503)],
    );
    let media = world
        .upload_file(common::media::sample_mp4(1), "short.mp4")
        .await;
    let post = world
        .create_post(
            &short.connection,
            "A morning at the kiln.",
            &[media],
            options(),
        )
        .await;
    world.wait_for(&post, "retrying").await;
    assert_eq!(world.fake.video_count(), 1, "the video was made");
    // The session can no longer say the video is up.
    short.expire_then_retry();
    let done = world.wait_for(&post, "published").await;
    assert_eq!(world.fake.video_count(), 1, "uploaded once: {done:#}");
    assert_eq!(world.fake.upload_session_count(), 1, "{done:#}");
    assert_eq!(
        done["targets"][0]["external_id"],
        world.fake.videos()[0].id.as_str(),
        "{done:#}"
    );
}

#[tokio::test]
async fn processing_is_followed_to_the_end_without_counting_attempts() {
    let clock = Arc::new(ManualClock::starting_at(start()));
    let world = World::start(
        YouTubeFake::new(CLIENT_ID, CLIENT_SECRET),
        Some(clock.clone()),
    )
    .await;
    let connection = world.connect("kilnworks").await;
    world.fake.set_processing_sequence(vec![
        UploadStatus::Uploaded,
        UploadStatus::Uploaded,
        UploadStatus::Processed,
    ]);
    let media = world
        .upload_file(common::media::sample_mp4(1), "short.mp4")
        .await;
    let post = world
        .create_post(
            &connection,
            "Short one.",
            std::slice::from_ref(&media),
            options(),
        )
        .await;
    let processing = world.wait_for(&post, "processing").await;
    assert_eq!(world.fake.video_count(), 1, "{processing:#}");
    // The status was read once after the upload; each minute reads it once more.
    for reads in [2, 3] {
        clock.advance(TimeDelta::seconds(61));
        status_reads_reach(&world.fake, reads).await;
    }
    let done = world.wait_for(&post, "published").await;
    assert_eq!(done["targets"][0]["attempts"], 1, "{done:#}");
    assert_eq!(world.fake.video_count(), 1, "checked, never uploaded again");

    // A video YouTube cannot process fails with the reason, and is not uploaded again.
    world
        .fake
        .set_processing_sequence(vec![UploadStatus::Uploaded, UploadStatus::Failed]);
    let post = world
        .create_post(&connection, "Broken one.", &[media], options())
        .await;
    world.wait_for(&post, "processing").await;
    status_reads_reach(&world.fake, 4).await;
    clock.advance(TimeDelta::seconds(61));
    let failed = world.wait_for(&post, "failed").await;
    let error = failed["targets"][0]["error"].as_str().unwrap();
    assert!(error.contains("could not process"), "{error}");
    assert_eq!(world.fake.video_count(), 2);
}

/// Waits (up to 20 s) until the video's status has been read `reads` times.
async fn status_reads_reach(fake: &YouTubeFake, reads: usize) {
    for _ in 0..200 {
        if fake.request_count(Endpoint::Videos) >= reads {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "the status was read {} times, not {reads}",
        fake.request_count(Endpoint::Videos)
    );
}
