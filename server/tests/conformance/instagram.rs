//! What only Instagram does, beyond the shared cases: a reel whose container stays
//! `IN_PROGRESS` for a while, followed until `FINISHED` and published once; a container that
//! expired before it was published, made again; the 24-hour publishing quota shown in the
//! composer and waited out; a
//! consent with several Pages, of which only those linked to Instagram are offered; and media
//! that the fake really downloads from the app's signed URLs.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use server::clock::{Clock, ManualClock};
use server::sandbox::meta::{ContainerKind, ContainerStatus, InstagramKind, MetaFake};

use crate::conformance::fakes::InstagramSide;
use crate::{CLIENT_ID, CLIENT_SECRET, World, common, log_messages};

async fn world_on(fake: MetaFake, clock: &Arc<ManualClock>) -> World<InstagramSide> {
    World::start(InstagramSide(fake), Some(clock.clone())).await
}

fn app_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::starting_at(Utc::now()))
}

#[tokio::test]
async fn a_reel_in_progress_is_followed_until_finished_and_published_once() {
    let clock = app_clock();
    let fake = MetaFake::new(CLIENT_ID, CLIENT_SECRET);
    let mut statuses = vec![ContainerStatus::InProgress; 6];
    statuses.push(ContainerStatus::Finished);
    fake.set_container_sequence(ContainerKind::Video, statuses);
    let world = world_on(fake, &clock).await;
    let connection = world.connect("kilnworks").await;
    let media = world
        .upload_file(common::media::sample_mp4(4), "kiln.mp4")
        .await;
    let post = world
        .create_post(&connection, "The kiln, opened.", &[media], json!({}))
        .await;
    let processing = world.wait_for(&post, "processing").await;
    assert_eq!(world.fake.0.instagram_post_count(), 0, "{processing:#}");
    let done = world.advance_until(&clock, &post, "published").await;
    let target = &done["targets"][0];
    assert_eq!(target["attempts"], 1, "checks are not attempts: {done:#}");
    assert!(
        target["url"].as_str().unwrap().contains("/reel/"),
        "{done:#}"
    );
    let posts = world.fake.0.instagram_posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].kind, InstagramKind::Reel);
    assert_eq!(posts[0].caption.as_deref(), Some("The kiln, opened."));
    assert_eq!(
        world.fake.0.containers().len(),
        1,
        "one container, followed, never made again"
    );
    assert!(
        log_messages(&done)
            .iter()
            .any(|line| line.contains("Instagram is processing the media")),
        "{done:#}"
    );
}

#[tokio::test]
async fn a_container_that_expired_before_publishing_is_made_again() {
    let clock = app_clock();
    let fake_clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let fake = MetaFake::with_clock(CLIENT_ID, CLIENT_SECRET, fake_clock.clone());
    fake.set_container_sequence(ContainerKind::Image, vec![ContainerStatus::InProgress; 20]);
    let world = world_on(fake, &clock).await;
    let connection = world.connect("kilnworks").await;
    let media = world.upload_image(10).await;
    let post = world
        .create_post(&connection, "Glaze test tiles.", &[media], json!({}))
        .await;
    world.wait_for(&post, "processing").await;
    // Instagram never finished the first container and it is a day old; a new one is ready.
    world
        .fake
        .0
        .set_container_sequence(ContainerKind::Image, vec![ContainerStatus::Finished]);
    fake_clock.advance(TimeDelta::hours(25));
    let done = world.advance_until(&clock, &post, "published").await;
    let containers = world.fake.0.containers();
    assert_eq!(containers.len(), 2, "{done:#}");
    assert_eq!(containers[0].status, ContainerStatus::Expired);
    assert_eq!(containers[1].status, ContainerStatus::Published);
    assert_eq!(world.fake.0.instagram_post_count(), 1);
    assert!(
        log_messages(&done)
            .iter()
            .any(|line| line.contains("container expired before it was published")),
        "{done:#}"
    );
}

#[tokio::test]
async fn over_the_publishing_quota_a_post_waits_for_the_window_to_roll() {
    let clock = app_clock();
    let fake_clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let fake = MetaFake::with_clock(CLIENT_ID, CLIENT_SECRET, fake_clock.clone());
    fake.set_publishing_quota(1);
    let world = world_on(fake, &clock).await;
    let connection = world.connect("kilnworks").await;
    // The composer says the quota when the account is chosen, before anything is scheduled.
    let notice = |options: Value| options["notice"].as_str().unwrap_or_default().to_owned();
    let options_path = format!("/api/connections/{connection}/options");
    let before = notice(world.get(&options_path).await.1);
    assert!(before.contains("this account has used 0"), "{before}");
    let first = world.upload_image(20).await;
    let post = world
        .create_post(&connection, "Monday's batch.", &[first], json!({}))
        .await;
    world.wait_for(&post, "published").await;
    let full = notice(world.get(&options_path).await.1);
    assert!(full.contains("has used all 1 posts"), "{full}");
    assert!(full.contains("waits for it"), "{full}");

    let second = world.upload_image(60).await;
    let post = world
        .create_post(&connection, "Tuesday's batch.", &[second], json!({}))
        .await;
    let waiting = world.wait_for(&post, "retrying").await;
    let target = &waiting["targets"][0];
    let error = target["error"].as_str().unwrap();
    assert!(error.contains("per 24 hours"), "{error}");
    let next: DateTime<Utc> = target["next_attempt_at"].as_str().unwrap().parse().unwrap();
    let ahead = next - clock.now();
    assert!(
        ahead > TimeDelta::hours(23) + TimeDelta::minutes(55)
            && ahead < TimeDelta::hours(24) + TimeDelta::minutes(5),
        "the retry waits for the first post to leave the window: {ahead}"
    );
    assert_eq!(world.fake.0.instagram_post_count(), 1);
    assert!(
        world.fake.0.containers().len() == 1,
        "no container is made for a post that cannot go out"
    );

    let day = TimeDelta::hours(24) + TimeDelta::minutes(2);
    fake_clock.advance(day);
    clock.advance(day);
    let done = world.wait_for(&post, "published").await;
    assert_eq!(done["targets"][0]["attempts"], 2, "{done:#}");
    assert_eq!(world.fake.0.instagram_post_count(), 2);
}

#[tokio::test]
async fn a_consent_with_several_linked_pages_offers_a_choice_of_instagram_accounts() {
    let fake = MetaFake::new(CLIENT_ID, CLIENT_SECRET);
    // The user's first Page (linked to Instagram) comes with them; one more linked, one not.
    let second = fake.add_page("twoshops", "Second Shop", true);
    fake.add_page("twoshops", "Plain Page", false);
    let world = World::start(InstagramSide(fake), None).await;
    let location = world.consent("twoshops").await;
    let choice = location
        .strip_prefix("/connections?choose=")
        .unwrap_or_else(|| panic!("a choice: {location}"));
    let path = format!("/api/connections/choices/{choice}");
    let (status, offered) = world.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{offered}");
    assert_eq!(offered["platform"], "instagram");
    let handles: Vec<&str> = offered["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|account| account["handle"].as_str().unwrap())
        .collect();
    assert_eq!(handles, ["twoshops_sandbox_page", "second_shop"]);
    let instagram_id = second.instagram_id.unwrap();
    let (status, chosen) = world
        .post(&path, &json!({ "account_ids": [instagram_id] }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{chosen}");
    let connection = chosen["connections"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(chosen["connections"][0]["handle"], "second_shop");

    let media = world.upload_image(30).await;
    let post = world
        .create_post(&connection, "From the second shop.", &[media], json!({}))
        .await;
    world.wait_for(&post, "published").await;
    assert_eq!(world.fake.0.instagram_posts()[0].ig_user_id, instagram_id);
}

#[tokio::test]
async fn meta_downloads_a_carousel_from_the_apps_signed_urls() {
    let world = World::<InstagramSide>::new().await;
    world.fake.0.set_fetch_pulled_media(true);
    let connection = world.connect("kilnworks").await;
    let mut media = Vec::new();
    for shade in [0, 90] {
        media.push(world.upload_image(shade).await);
    }
    let post = world
        .create_post(&connection, "Two glazes.", &media, json!({}))
        .await;
    let done = world.wait_for(&post, "published").await;
    assert_pulled(&world.fake.0, 2, &done);
    assert_eq!(
        world.fake.0.instagram_posts()[0].kind,
        InstagramKind::Carousel
    );
}

/// Every media URL the fake pulled was the app's signed URL, really fetched, and answered.
pub fn assert_pulled(fake: &MetaFake, count: usize, done: &Value) {
    let pulled = fake.pulled_media();
    assert_eq!(pulled.len(), count, "{pulled:#?} {done:#}");
    for media in pulled {
        assert!(media.fetched, "{media:?}");
        assert_eq!(media.status, Some(200), "{media:?}");
        assert!(media.bytes > 0, "{media:?}");
        assert!(media.url.contains("/media/pull/"), "{media:?}");
    }
}
