//! The AI Studio's captions through the app: `POST /api/studio/captions` for a connected X
//! account, written by the Gemini fake (or, without a key, the basic writer), streamed as events
//! and held to X's limits; refusals before anything is written; and the authenticity pass over
//! a caption (`POST /api/studio/voice`).

use reqwest::StatusCode;
use serde_json::{Value, json};

use server::sandbox::gemini::GeminiFake;
use server::sandbox::x::XFake;

use crate::{CLIENT_ID, CLIENT_SECRET, World};

const GEMINI_KEY: &str = "AIza-studio";

/// The events of a caption stream: each `data:` line's JSON, in order.
async fn stream_captions(world: &World<XFake>, body: &Value) -> (StatusCode, Vec<Value>) {
    let response = world
        .app
        .client
        .post(world.app.url("/api/studio/captions"))
        .bearer_auth(&world.token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    if status != StatusCode::OK {
        return (
            status,
            vec![serde_json::from_str(&text).unwrap_or(Value::Null)],
        );
    }
    let events = text
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .map(|data| serde_json::from_str(data).unwrap())
        .collect();
    (status, events)
}

#[tokio::test]
async fn gemini_writes_an_x_caption_streamed_and_held_to_xs_limits() {
    let gemini = GeminiFake::new(GEMINI_KEY);
    let (addr, _gemini_server) = server::sandbox::serve(gemini.router()).await.unwrap();
    let gemini_url = format!("http://{addr}");
    let world = World::start_with(
        XFake::new(CLIENT_ID, CLIENT_SECRET),
        None,
        &[
            ("GEMINI_API_KEY", GEMINI_KEY),
            ("GEMINI_API_URL", &gemini_url),
        ],
    )
    .await;
    let connection = world.connect("kilnworks").await;
    let photos = [world.upload_image(40).await, world.upload_image(200).await];
    // A model that ignores the limit it was given.
    let rambling = "Spring glazes are out of the kiln and on the shelf. ".repeat(12);
    gemini.set_reply(Some(format!("{rambling}#pottery #mugs #blue #spring")));

    let (status, events) = stream_captions(
        &world,
        &json!({ "media_ids": photos, "connection_ids": [connection], "tone": "witty" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{events:?}");
    assert_eq!(events[0], json!({ "event": "writer", "name": "Gemini" }));
    let pieces: Vec<&str> = events
        .iter()
        .filter(|event| event["event"] == "piece")
        .map(|event| event["text"].as_str().unwrap())
        .collect();
    assert!(pieces.len() > 1, "streamed: {events:?}");
    let done = events.last().unwrap();
    assert_eq!(done["event"], "done", "{events:?}");
    assert_eq!(done["connection_id"], connection.as_str());
    let caption = done["caption"].as_str().unwrap();
    assert!(app::types::x_weighted_length(caption) <= 280, "{caption}");
    assert!(
        caption.ends_with("#pottery #mugs"),
        "X takes two hashtags: {caption}"
    );
    assert!(done["score"]["score"].as_u64().unwrap() <= 100);

    let asked = &gemini.requests()[0];
    assert_eq!(asked.image_count(), 2);
    let system = asked.system_text.as_deref().unwrap();
    assert!(system.contains("at most 280 characters"), "{system}");
    assert!(system.contains("light and a little funny"), "{system}");
}

#[tokio::test]
async fn without_a_key_the_basic_writer_writes_and_bad_requests_are_refused() {
    let world = World::<XFake>::new().await;
    let connection = world.connect("kilnworks").await;
    let photo = world.upload_image(90).await;
    let (status, events) = stream_captions(
        &world,
        &json!({ "media_ids": [photo], "connection_ids": [connection], "note": "back in stock" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(events[0]["name"], "The basic writer");
    let done = events.last().unwrap();
    assert_eq!(done["event"], "done", "{events:?}");
    assert!(
        done["caption"].as_str().unwrap().contains("Back in stock."),
        "{done}"
    );

    let (status, refused) = stream_captions(
        &world,
        &json!({ "media_ids": [photo], "connection_ids": [] }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused[0]["error"]["field"], "connection_ids",
        "{refused:?}"
    );
    let eleven: Vec<&str> = std::iter::repeat_n(photo.as_str(), 11).collect();
    let (status, refused) = stream_captions(
        &world,
        &json!({ "media_ids": eleven, "connection_ids": [connection] }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("up to 10 photos"),
        "{refused:?}"
    );
    let (status, refused) = stream_captions(
        &world,
        &json!({ "media_ids": [uuid::Uuid::new_v4()], "connection_ids": [connection] }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused:?}");
}

#[tokio::test]
async fn the_authenticity_pass_shows_each_change_and_the_score_before_and_after() {
    let world = World::<XFake>::new().await;
    let (status, answer) = world
        .post(
            "/api/studio/voice",
            &json!({ "text": "Unleash your mornings!! A bold, bright and beautiful mug." }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["pass"]["text"],
        "Bring out your mornings! A bold and bright mug."
    );
    let rules: Vec<&Value> = answer["pass"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| &change["rules"][0])
        .collect();
    assert_eq!(rules, ["buzzword", "exclamations", "triple_adjectives"]);
    assert!(answer["score"]["score"].as_u64() < answer["score_after"]["score"].as_u64());
    assert_eq!(answer["score_after"]["score"], 100);
}

#[tokio::test]
async fn a_models_caption_is_rewritten_once_by_the_same_rules_without_the_photos() {
    let gemini = GeminiFake::new(GEMINI_KEY);
    let (addr, _gemini_server) = server::sandbox::serve(gemini.router()).await.unwrap();
    let gemini_url = format!("http://{addr}");
    let world = World::start_with(
        XFake::new(CLIENT_ID, CLIENT_SECRET),
        None,
        &[
            ("GEMINI_API_KEY", GEMINI_KEY),
            ("GEMINI_API_URL", &gemini_url),
        ],
    )
    .await;
    let connection = world.connect("kilnworks").await;
    let photo = world.upload_image(120).await;

    let (status, events) = stream_captions(
        &world,
        &json!({ "media_ids": [photo], "connection_ids": [connection] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{events:?}");
    let done = events.last().unwrap();
    assert_eq!(done["event"], "done", "{events:?}");

    let asked = gemini.requests();
    assert_eq!(asked.len(), 2, "a caption, then its rewrite");
    assert_eq!(asked[0].image_count(), 1);
    assert_eq!(asked[1].image_count(), 0, "the rewrite needs no photos");
    let first = done["pass"]["original"].as_str().unwrap();
    let rewrite = asked[1].user_texts.join("\n");
    assert!(
        rewrite.contains(&format!("<caption>\n{first}\n</caption>")),
        "{rewrite}"
    );
    assert_eq!(asked[1].system_text, asked[0].system_text, "the same rules");
    // The fake gives the caption back as it came: nothing for the rewrite to change.
    assert_eq!(done["caption"], done["pass"]["text"]);
}

#[tokio::test]
async fn the_editors_check_counts_the_platforms_way_and_never_flags_the_persons_words() {
    let world = World::<XFake>::new().await;
    let connection = world.connect("kilnworks").await;
    let text = "Glazeworks coffee mugs are realy nice. https://kiln.example/mugs #potterylife";
    let body = json!({ "text": text, "connection_id": connection });
    let check = || world.post("/api/studio/check", &body);

    let (status, answer) = check().await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["max_length"], 280);
    // X counts a link as 23 characters, whatever its length.
    let link = "https://kiln.example/mugs";
    assert_eq!(
        answer["length"].as_u64().unwrap() as usize,
        text.chars().count() - link.chars().count() + 23
    );
    let flagged = |answer: &Value| -> Vec<String> {
        answer["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|flag| {
                text[flag["start"].as_u64().unwrap() as usize
                    ..flag["end"].as_u64().unwrap() as usize]
                    .to_owned()
            })
            .collect()
    };
    let words = flagged(&answer);
    assert!(words.contains(&"realy".to_owned()), "{answer}");
    assert!(words.contains(&"Glazeworks".to_owned()), "{answer}");
    assert!(
        !words
            .iter()
            .any(|word| word.contains("pottery") || word.contains("kiln"))
    );
    let realy = answer["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|flag| flag["kind"] == "spelling" && flagged(&json!({"flags": [flag]}))[0] == "realy")
        .unwrap();
    assert!(
        realy["fixes"]
            .as_array()
            .unwrap()
            .contains(&json!("really")),
        "{realy}"
    );
    assert!(
        answer["emoji"]
            .as_array()
            .unwrap()
            .iter()
            .any(|pick| pick["emoji"] == "☕"),
        "{answer}"
    );

    let (status, _) = world
        .post("/api/studio/dictionary", &json!({ "word": "Glazeworks" }))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, answer) = check().await;
    assert!(
        !flagged(&answer).contains(&"Glazeworks".to_owned()),
        "{answer}"
    );

    let (status, drawn) = world
        .post(
            "/api/studio/check/view",
            &json!({ "text": text, "connection_id": connection }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{drawn}");
    assert_eq!(drawn["text"], text);
    assert!(
        drawn["underlay"]
            .as_str()
            .unwrap()
            .contains(">realy</mark>"),
        "{drawn}"
    );
    assert!(
        drawn["panel"]
            .as_str()
            .unwrap()
            .contains(r#"data-fix="really""#),
        "{drawn}"
    );

    let (status, found) = world.get("/api/studio/emoji?q=red%20heart").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found[0]["emoji"], "❤\u{fe0f}", "{found}");

    // The pass keeps to the account's platform: X takes two hashtags.
    let (_, passed) = world
        .post(
            "/api/studio/voice",
            &json!({ "text": "New mugs. #a #b #c #d", "connection_id": connection }),
        )
        .await;
    assert_eq!(passed["pass"]["text"], "New mugs. #a #b", "{passed}");

    let (status, refused) = world
        .post(
            "/api/studio/check",
            &json!({ "text": "x", "connection_id": uuid::Uuid::new_v4() }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["field"], "connection_id");
}
