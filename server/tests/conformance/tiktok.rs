//! What only TikTok does, beyond the shared cases: a video is sent in chunks after an init that
//! creates a publish TikTok fills only when every byte arrived. An init whose answer is lost
//! leaves a publish nobody sees (its bytes never come), so the next attempt starts again and one
//! post goes out; a chunk that breaks off is sent again from TikTok's own count of what arrived,
//! never from zero. The PKCE challenge can be written in hex for a TikTok that wants it so.

use reqwest::StatusCode;
use serde_json::json;

use server::sandbox::kit::FakeControls;
use server::sandbox::kit::script::Failure;
use server::sandbox::tiktok::{Endpoint, RateLimits, TikTokFake};

use crate::{CLIENT_ID, CLIENT_SECRET, World, common, log_messages};

const MIB: u64 = 1024 * 1024;

async fn world() -> (World<TikTokFake>, String) {
    let fake = TikTokFake::new(CLIENT_ID, CLIENT_SECRET);
    fake.set_rate_limits(RateLimits::OFF);
    let world = World::start(fake, None).await;
    let connection = world.connect("kilnclips").await;
    (world, connection)
}

fn options() -> serde_json::Value {
    json!({ "privacy_level": "PUBLIC_TO_EVERYONE" })
}

#[tokio::test]
async fn a_video_init_whose_answer_was_lost_is_started_again_and_posts_once() {
    let (world, connection) = world().await;
    world
        .fake
        .fail_next(Endpoint::VideoInit, [Failure::CreatedThenDropped]);
    let media = world
        .upload_file(common::media::sample_mp4(1), "clip.mp4")
        .await;
    let post = world
        .create_post(&connection, "Trimming the pots.", &[media], options())
        .await;
    let done = world.wait_for(&post, "published").await;
    assert_eq!(world.fake.request_count(Endpoint::VideoInit), 2, "{done:#}");
    assert_eq!(world.fake.post_count(), 1, "one post on the account");
    let logs = log_messages(&done);
    assert!(
        logs.iter()
            .any(|line| line.starts_with("reconciled: not among")),
        "{logs:#?}"
    );
}

#[tokio::test]
async fn a_broken_chunk_is_sent_again_from_tiktoks_count_never_from_zero() {
    let (world, connection) = world().await;
    // Over 20 MiB: two chunks of the platform's 10 MiB, the second taking the rest.
    let video = common::media::padded_mp4(4, 45);
    let size = video.len() as u64;
    assert!(size > 21 * MIB, "{size}");
    // The first chunk goes through (a break longer than it is spent); the second breaks.
    world.fake.interrupt_next_upload_after(u64::MAX);
    world.fake.interrupt_next_upload_after(MIB);
    let media = world.upload_file(video, "wheel.mp4").await;
    let post = world
        .create_post(&connection, "At the wheel.", &[media], options())
        .await;
    let done = world.wait_for(&post, "published").await;
    assert_eq!(done["targets"][0]["attempts"], 2, "{done:#}");
    assert_eq!(
        world.fake.request_count(Endpoint::VideoInit),
        1,
        "one publish"
    );
    assert_eq!(world.fake.post_count(), 1);
    assert_eq!(
        world.fake.bytes_received_total(),
        size + MIB,
        "the first chunk is never sent again; only the broken one is"
    );
    let logs = log_messages(&done);
    assert!(
        logs.iter()
            .any(|line| line.starts_with(&format!("TikTok has {} of {size} bytes", 10 * MIB))),
        "{logs:#?}"
    );
}

#[tokio::test]
async fn the_pkce_challenge_can_be_written_in_hex() {
    // A TikTok that expects hex refuses the standard base64url challenge, saying why.
    let fake = TikTokFake::new(CLIENT_ID, CLIENT_SECRET);
    fake.set_hex_pkce(true);
    let world = World::start(fake, None).await;
    let (status, body) = world
        .post("/api/connections/tiktok/authorize", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let refused = world
        .fake
        .authorize_directly(body["url"].as_str().unwrap(), "kilnclips")
        .unwrap_err();
    assert!(refused.contains("hex"), "{refused}");

    // With `TIKTOK_PKCE_CHALLENGE=hex` the consent goes through and the verifier matches it.
    let fake = TikTokFake::new(CLIENT_ID, CLIENT_SECRET);
    fake.set_hex_pkce(true);
    let world = World::start_with(fake, None, &[("TIKTOK_PKCE_CHALLENGE", "hex")]).await;
    world.connect("kilnclips").await;
    assert_eq!(world.fake.code_exchange_count(), 1);
}
