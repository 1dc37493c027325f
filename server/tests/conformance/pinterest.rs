//! What only Pinterest does, beyond the shared cases: an image pin is downloaded by Pinterest
//! from the app's signed URL, which really serves the image; a video pin goes through the media
//! upload, waits for Pinterest's processing (followed at Pinterest's pace, without counting
//! attempts), and takes its cover from the app's signed poster URL, which really serves the
//! video's poster frame. A video Pinterest cannot process fails with a sentence saying so.

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use serde_json::Value;

use server::clock::ManualClock;
use server::sandbox::pinterest::{MediaStatus, PinMedia, PinterestFake};

use crate::{CLIENT_ID, CLIENT_SECRET, World, common};

async fn video_post(world: &World<PinterestFake>, connection: &str) -> Value {
    let options = world.options_for(connection).await;
    let media = world
        .upload_file(common::media::sample_mp4(4), "throwing.mp4")
        .await;
    world
        .create_post(connection, "Throwing a jug on the wheel", &[media], options)
        .await
}

#[tokio::test]
async fn a_video_pin_waits_for_processing_and_takes_the_apps_poster_as_cover() {
    let clock = Arc::new(ManualClock::starting_at(
        Utc.with_ymd_and_hms(2027, 5, 4, 9, 0, 0).unwrap(),
    ));
    let fake = PinterestFake::new(CLIENT_ID, CLIENT_SECRET);
    let world = World::start(fake, Some(clock.clone())).await;
    let connection = world.connect("cornershop").await;
    // Longer than the attempt's own quick checks: the post shows "processing" meanwhile.
    let mut sequence = vec![MediaStatus::Processing; 5];
    sequence.push(MediaStatus::Succeeded);
    world.fake.set_media_status_sequence(sequence);
    let post = video_post(&world, &connection).await;
    world.wait_for(&post, "processing").await;
    // Pinterest's pace: the check comes half a minute later.
    clock.advance(TimeDelta::seconds(31));
    let done = world.wait_for(&post, "published").await;
    assert_eq!(done["targets"][0]["attempts"], 1, "{done:#}");
    let pins = world.fake.pins();
    assert_eq!(pins.len(), 1);
    let PinMedia::Video {
        cover_image_url, ..
    } = &pins[0].media
    else {
        panic!("a video pin: {:?}", pins[0].media);
    };
    assert!(cover_image_url.contains("/poster/"), "{cover_image_url}");
    let cover = world.app.client.get(cover_image_url).send().await.unwrap();
    assert_eq!(cover.headers()["content-type"], "image/jpeg");
    assert_eq!(&cover.bytes().await.unwrap()[..3], &[0xFF, 0xD8, 0xFF]);
}

#[tokio::test]
async fn an_image_pin_is_downloaded_from_the_apps_signed_url() {
    let world = World::start(PinterestFake::new(CLIENT_ID, CLIENT_SECRET), None).await;
    let connection = world.connect("cornershop").await;
    let options = world.options_for(&connection).await;
    let media = world.upload_image(90).await;
    let post = world
        .create_post(&connection, "Speckled mugs", &[media], options)
        .await;
    world.wait_for(&post, "published").await;
    let pins = world.fake.pins();
    let PinMedia::ImageUrl { url } = &pins[0].media else {
        panic!("an image pulled by URL: {:?}", pins[0].media);
    };
    assert!(url.contains("/media/pull/"), "{url}");
    let image = world.app.client.get(url).send().await.unwrap();
    assert_eq!(image.headers()["content-type"], "image/jpeg");
    assert_eq!(&image.bytes().await.unwrap()[..3], &[0xFF, 0xD8, 0xFF]);
}

#[tokio::test]
async fn a_video_pinterest_cannot_process_fails_with_the_reason() {
    let world = World::start(PinterestFake::new(CLIENT_ID, CLIENT_SECRET), None).await;
    let connection = world.connect("cornershop").await;
    world
        .fake
        .set_media_status_sequence(vec![MediaStatus::Processing, MediaStatus::Failed]);
    let post = video_post(&world, &connection).await;
    let failed = world.wait_for(&post, "failed").await;
    let error = failed["targets"][0]["error"].as_str().unwrap();
    assert!(error.contains("could not process the video"), "{error}");
    assert_eq!(world.fake.pin_count(), 0);
}
