//! The oracle: once every post has had time to settle, each one the campaign made is read back
//! through the API (what its user sees) and held against the ledger of its platform's fake. A
//! post is published exactly once, on its platform, at or after its time, with the text last
//! given to it before it went out; or it failed or was cancelled with a reason the user can
//! read; or it was deleted and nothing went out after the delete was sent. Nothing stays in
//! between, nothing appears on a platform that the campaign did not ask for there, and nothing
//! appears twice.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;

use super::Tracked;
use super::platforms::Platform;
use crate::fakes::LedgerPost;

/// How long after the last action the posts may take to settle. Covers an expired lease (6 s),
/// a sweep (2 s) and the longest run of retries.
const SETTLE_FOR: Duration = Duration::from_secs(180);

const FINAL: [&str; 3] = ["published", "failed", "cancelled"];

/// What the violation of a post that never settled says.
pub const UNSETTLED: &str = "after the campaign ended";

#[derive(Debug, Default)]
pub struct Outcome {
    pub posts: usize,
    pub published: usize,
    pub failed: usize,
    pub cancelled: usize,
    pub deleted_unpublished: usize,
    pub deleted_published: usize,
    /// Posts on each platform's fake, by platform.
    pub on_platforms: BTreeMap<&'static str, usize>,
    pub doubled: usize,
    pub early: usize,
    pub after_deletion: usize,
    pub stuck: usize,
    pub lost: usize,
    pub failed_but_out: usize,
    /// Posts whose log says their media container expired and was made again.
    pub remade_containers: usize,
    /// YouTube videos that went up through a second session, the first having expired.
    pub reopened_sessions: usize,
    pub failure_reasons: BTreeMap<String, usize>,
    pub violations: Vec<String>,
}

/// Reads every post that was not deleted until each is final or [`SETTLE_FOR`] has passed;
/// what each user sees, by post id.
async fn settled(
    client: &reqwest::Client,
    base: &str,
    tokens: &[String],
    posts: &[Tracked],
) -> HashMap<String, Value> {
    let mut seen: HashMap<String, Value> = HashMap::new();
    let mut open: Vec<&Tracked> = posts
        .iter()
        .filter(|post| post.deleted_at.is_none() && !post.id.is_empty() && post.id != "(refused)")
        .collect();
    let deadline = Instant::now() + SETTLE_FOR;
    loop {
        let answers: Vec<(String, Option<Value>)> = futures_util::stream::iter(open.iter())
            .map(|post| async move {
                let answer = client
                    .get(format!("{base}/api/posts/{}", post.id))
                    .bearer_auth(&tokens[post.user])
                    .send()
                    .await;
                let body = match answer {
                    Ok(response) if response.status().is_success() => response.json().await.ok(),
                    Ok(response) if response.status() == 404 => {
                        Some(Value::String("missing".into()))
                    }
                    _ => None,
                };
                (post.id.clone(), body)
            })
            .buffer_unordered(16)
            .collect()
            .await;
        for (id, body) in answers {
            if let Some(body) = body {
                seen.insert(id, body);
            }
        }
        open.retain(|post| match seen.get(&post.id) {
            Some(Value::String(_)) => false,
            Some(body) => !FINAL.contains(&body["targets"][0]["status"].as_str().unwrap_or("")),
            None => true,
        });
        if open.is_empty() || Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The word that marks a post's text: `ref-c12` for the post `c12`.
pub fn marker_word(marker: &str) -> String {
    format!("ref-{marker}")
}

pub async fn judge(
    client: &reqwest::Client,
    base: &str,
    tokens: &[String],
    posts: &[Tracked],
    platforms: &[std::sync::Arc<dyn Platform>],
) -> Outcome {
    let seen = settled(client, base, tokens, posts).await;
    let ledgers: Vec<Vec<LedgerPost>> =
        platforms.iter().map(|platform| platform.ledger()).collect();
    let mut outcome = Outcome {
        posts: posts.len(),
        on_platforms: platforms
            .iter()
            .zip(&ledgers)
            .map(|(platform, ledger)| (platform.name(), ledger.len()))
            .collect(),
        ..Outcome::default()
    };

    // What went out, by platform and the marker each post's text carries.
    let mut out_there: HashMap<(usize, &str), Vec<&LedgerPost>> = HashMap::new();
    for (platform, ledger) in ledgers.iter().enumerate() {
        let name = platforms[platform].name();
        for post in ledger {
            let marker = post
                .text
                .split_whitespace()
                .find_map(|word| word.strip_prefix("ref-"));
            match marker {
                Some(marker) => out_there.entry((platform, marker)).or_default().push(post),
                None => outcome
                    .violations
                    .push(format!("on {name} but never asked for: {:?}", post.text)),
            }
        }
    }
    let known: HashSet<(usize, &str)> = posts
        .iter()
        .map(|post| (post.platform, post.marker.as_str()))
        .collect();
    for (platform, marker) in out_there.keys() {
        if !known.contains(&(*platform, *marker)) {
            outcome.violations.push(format!(
                "on {} but never asked for there: {marker}",
                platforms[*platform].name()
            ));
        }
    }

    for post in posts {
        let on = platforms[post.platform].name();
        let out = out_there
            .get(&(post.platform, post.marker.as_str()))
            .map(Vec::as_slice)
            .unwrap_or_default();
        if out.len() > 1 {
            outcome.doubled += 1;
            outcome.violations.push(format!(
                "{} went out {} times on {on}: {:?}",
                post.marker,
                out.len(),
                out.iter()
                    .map(|p| (&p.ids, p.created_at))
                    .collect::<Vec<_>>()
            ));
        }
        if let Some(first) = out.first()
            && first.created_at < post.scheduled_at
        {
            outcome.early += 1;
            outcome.violations.push(format!(
                "{} went out on {on} at {} before its time {}",
                post.marker, first.created_at, post.scheduled_at
            ));
        }
        if post.id == "(refused)" {
            continue;
        }
        if let Some(deleted_at) = post.deleted_at {
            match out.first() {
                Some(first) if first.created_at > deleted_at => {
                    outcome.after_deletion += 1;
                    outcome.violations.push(format!(
                        "{} went out on {on} at {} after its delete at {deleted_at}",
                        post.marker, first.created_at
                    ));
                }
                Some(_) => outcome.deleted_published += 1,
                None => outcome.deleted_unpublished += 1,
            }
            continue;
        }
        let Some(body) = seen.get(&post.id) else {
            outcome.stuck += 1;
            outcome
                .violations
                .push(format!("{}: never readable through the API", post.marker));
            continue;
        };
        if body.is_string() {
            outcome.lost += 1;
            outcome.violations.push(format!(
                "{} ({}) is gone though nobody deleted it",
                post.marker, post.id
            ));
            continue;
        }
        let target = &body["targets"][0];
        let status = target["status"].as_str().unwrap_or("(none)");
        let reason = target["error"].as_str().unwrap_or("");
        match status {
            "published" => {
                outcome.published += 1;
                let logs = body["logs"].to_string();
                if logs.contains("container expired") {
                    outcome.remade_containers += 1;
                }
                if logs.contains("upload session had expired") {
                    outcome.reopened_sessions += 1;
                }
                match out.first() {
                    None => {
                        outcome.lost += 1;
                        outcome.violations.push(format!(
                            "{} shows as published but {on} has no such post",
                            post.marker
                        ));
                    }
                    Some(first) => {
                        let external = target["external_id"].as_str().unwrap_or_default();
                        if !first.ids.iter().any(|id| id == external) {
                            outcome.violations.push(format!(
                                "{} shows {on} post {external} but {on} has {:?}",
                                post.marker, first.ids
                            ));
                        }
                        if first.text != post.expected_text {
                            outcome.violations.push(format!(
                                "{} went out on {on} as {:?}, expected {:?}",
                                post.marker, first.text, post.expected_text
                            ));
                        }
                    }
                }
            }
            "failed" | "cancelled" => {
                if status == "failed" {
                    outcome.failed += 1;
                    *outcome
                        .failure_reasons
                        .entry(reason.to_owned())
                        .or_default() += 1;
                } else {
                    outcome.cancelled += 1;
                }
                if reason.trim().is_empty() {
                    outcome
                        .violations
                        .push(format!("{} is {status} without a reason", post.marker));
                }
                if !out.is_empty() {
                    outcome.failed_but_out += 1;
                    outcome.violations.push(format!(
                        "{} shows as {status} ({reason}) but went out on {on} at {}; its log: {}",
                        post.marker, out[0].created_at, body["logs"]
                    ));
                }
            }
            other => {
                outcome.stuck += 1;
                outcome.violations.push(format!(
                    "{} ({on}) still {other} {} s {UNSETTLED}: {}",
                    post.marker,
                    SETTLE_FOR.as_secs(),
                    target
                ));
            }
        }
    }
    outcome
}
