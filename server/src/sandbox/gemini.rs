//! A local fake of the Gemini API (`shared/platforms.md`, section 11): `generateContent`, its
//! streaming twin `streamGenerateContent` (Server-Sent Events with `alt=sse`, a JSON array
//! without, as Google sends them), and the model list a client can check a key and a model
//! name against.
//!
//! The caption step reaches it through [`GeminiFake`], a cheap handle tests keep to script
//! failures ([`GeminiFake::fail_next`]: the kit's, plus Gemini's own blocks and quotas), to fix
//! the answer ([`GeminiFake::set_reply`]) and to read back every prompt it was sent
//! ([`GeminiFake::requests`]), so prompt building is tested on what went over the wire. Without a
//! fixed answer the model replies with a plain sentence made from the prompt (how many images,
//! the first words of the user's text), so a test can tell which prompt produced which caption.
//!
//! Where Gemini is strict, so is the fake: the key travels in `x-goog-api-key`, field names must
//! be ones Google knows (camelCase or snake_case, as proto JSON allows), `contents` and every
//! `parts` must be non-empty, roles are `user` or `model`, inline images must be base64 of a png,
//! jpeg, webp, heic or heif image, and a request over the inline limit is refused. Names Google
//! knows but this fake does not play (`tools`, `cachedContent`, `fileData` parts) are refused as
//! unknown, with a message naming them, rather than silently ignored. Blocked prompts and answers
//! are HTTP 200, as Gemini sends them.
//!
//! Gemini has no OAuth, so the kit's [`FakeControls`](super::kit::FakeControls) do not apply; the
//! handle has its own `fail_next`, `set_latency` and `request_count`. It trusts whoever reaches
//! it and never logs or prints its key.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use super::kit::control::back_to_control;
use super::kit::media::sniff_image;
use super::kit::model::{
    break_off, echo_caption, estimate_tokens, event_stream, not_json, prompt_tokens,
    split_into_pieces, within_tokens,
};
use super::kit::pages::{escape_html, page, refusal_page, stylesheet};
use super::kit::request::{parse_form, parse_query};
use super::kit::script::{Failure, Refusal, Script, Turn, answer};

const DEFAULT_MODEL: &str = "gemini-2.5-flash";
const API_KEY_HEADER: &str = "x-goog-api-key";
/// The inline request limit: platforms.md gives "~20 MB" and marks it unverified, so it is a
/// constant here to change in one place once confirmed.
const MAX_REQUEST_BYTES: usize = 20 * 1024 * 1024;

/// What Gemini bills a small image (at most 384 pixels a side; larger ones are tiled and cost
/// more). The fake never looks at pixels, so every image costs this.
const TOKENS_PER_IMAGE: u32 = 258;

const IMAGE_MIME_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/heic",
    "image/heif",
];
/// Types whose first bytes the kit cannot tell, so their content is taken on trust.
const UNSNIFFABLE_MIME_TYPES: &[&str] = &["image/heic", "image/heif"];
const RESPONSE_MIME_TYPES: &[&str] = &[
    "text/plain",
    "application/json",
    "application/xml",
    "application/yaml",
    "text/x.enum",
];
/// Every value of the API's `HarmCategory` enum; proto JSON refuses any other.
const HARM_CATEGORIES: &[&str] = &[
    "HARM_CATEGORY_UNSPECIFIED",
    "HARM_CATEGORY_DEROGATORY",
    "HARM_CATEGORY_TOXICITY",
    "HARM_CATEGORY_VIOLENCE",
    "HARM_CATEGORY_SEXUAL",
    "HARM_CATEGORY_MEDICAL",
    "HARM_CATEGORY_DANGEROUS",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_CIVIC_INTEGRITY",
];
/// Every value of the API's `HarmBlockThreshold` enum.
const HARM_THRESHOLDS: &[&str] = &[
    "HARM_BLOCK_THRESHOLD_UNSPECIFIED",
    "BLOCK_LOW_AND_ABOVE",
    "BLOCK_MEDIUM_AND_ABOVE",
    "BLOCK_ONLY_HIGH",
    "BLOCK_NONE",
    "OFF",
];
/// The categories every answer is rated in.
const RATED_CATEGORIES: &[&str] = &[
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
];
/// The category a scripted safety block is rated high in.
const FLAGGED_CATEGORY: &str = "HARM_CATEGORY_DANGEROUS_CONTENT";

/// The free tier's quotas as Google names them in a `QuotaFailure`; the values are examples
/// (they change by model and tier), the ids are what a client tells a minute from a day by.
const QUOTA_METRIC: &str = "generativelanguage.googleapis.com/generate_content_free_tier_requests";
const PER_MINUTE_QUOTA_ID: &str = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier";
const PER_MINUTE_QUOTA_VALUE: &str = "10";
const PER_DAY_QUOTA_ID: &str = "GenerateRequestsPerDayPerProjectPerModel-FreeTier";
const PER_DAY_QUOTA_VALUE: &str = "250";
/// Google attaches a `RetryInfo` to a daily-quota refusal too; a client that trusts it alone
/// retries all day, so the fake sends one to prove the client reads the quota id instead.
const DAILY_QUOTA_RETRY_DELAY_SECS: i64 = 30;

const OVERLOADED: &str = "The model is overloaded. Please try again later.";
const INTERNAL: &str = "An internal error has occurred. Please retry or report in \
                        https://developers.generativeai.google/guide/troubleshooting";

/// The fake's endpoints, for scripting failures and counting requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /v1beta/models/{model}:generateContent`.
    Generate,
    /// `POST /v1beta/models/{model}:streamGenerateContent`.
    Stream,
    /// `GET /v1beta/models` and `GET /v1beta/models/{model}`.
    Models,
}

/// Why a prompt was blocked (`promptFeedback.blockReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockReason {
    Safety,
    Other,
    Blocklist,
    ProhibitedContent,
}

impl BlockReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Safety => "SAFETY",
            Self::Other => "OTHER",
            Self::Blocklist => "BLOCKLIST",
            Self::ProhibitedContent => "PROHIBITED_CONTENT",
        }
    }
}

/// Why an answer was withheld (its candidate's `finishReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockedFinish {
    Safety,
    Recitation,
    ProhibitedContent,
    Blocklist,
    Spii,
}

impl BlockedFinish {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Safety => "SAFETY",
            Self::Recitation => "RECITATION",
            Self::ProhibitedContent => "PROHIBITED_CONTENT",
            Self::Blocklist => "BLOCKLIST",
            Self::Spii => "SPII",
        }
    }
}

/// What a request meets on top of, or instead of, its normal answer: any of the kit's failures,
/// rendered in Google's envelope, or one of Gemini's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeminiFailure {
    /// One of the kit's failures (see `scripted_refusal`). `CreatedThenDropped` sends the first
    /// half of the answer and then breaks the connection: mid-JSON, or mid-stream after the
    /// first chunks.
    Kit(Failure),
    /// 200 without candidates, with `promptFeedback.blockReason`. The request is still checked
    /// and recorded. On the models endpoint it changes nothing.
    PromptBlocked(BlockReason),
    /// 200 with one candidate that has this `finishReason` and no content. The request is still
    /// checked and recorded. On the models endpoint it changes nothing.
    AnswerBlocked(BlockedFinish),
    /// 429 `RESOURCE_EXHAUSTED` whose `QuotaFailure` names the per-day quota: stop for the day.
    DailyQuota,
    /// 200 whose body is not JSON (a proxy's page; on the stream, an event that is not JSON).
    Malformed,
    /// 500 `INTERNAL`.
    Internal,
}

impl From<Failure> for GeminiFailure {
    fn from(failure: Failure) -> Self {
        Self::Kit(failure)
    }
}

/// One request the fake answered with the model's (possibly blocked) answer, as it parsed it:
/// what tests assert prompt building on.
#[derive(Debug, Clone, PartialEq)]
pub struct GeminiRequest {
    pub model: String,
    /// Sent to `streamGenerateContent`.
    pub streamed: bool,
    /// The texts of `systemInstruction`, joined by newlines.
    pub system_text: Option<String>,
    /// The texts of the `user` turns, in order (earlier `model` turns are checked, not kept).
    pub user_texts: Vec<String>,
    /// The inline images of the `user` turns, in order.
    pub images: Vec<ReceivedImage>,
    pub generation_config: GenerationConfig,
    pub safety_settings: Vec<SafetySetting>,
}

impl GeminiRequest {
    pub fn image_count(&self) -> usize {
        self.images.len()
    }
}

/// An inline image as received: its declared type and decoded size (the bytes are not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedImage {
    pub mime_type: String,
    pub size_bytes: usize,
}

/// The parts of `generationConfig` that change the fake's answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenerationConfig {
    pub temperature: Option<f64>,
    pub max_output_tokens: Option<u32>,
    pub response_mime_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetySetting {
    pub category: String,
    pub threshold: String,
}

/// A handle on one fake Gemini. Clones share the same world.
#[derive(Clone)]
pub struct GeminiFake {
    world: Arc<Mutex<World>>,
}

impl fmt::Debug for GeminiFake {
    // The world holds the API key; printing it would gain a failing test nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeminiFake").finish_non_exhaustive()
    }
}

impl GeminiFake {
    /// A fake Gemini that takes requests carrying `api_key` and knows one model,
    /// `gemini-2.5-flash`.
    pub fn new(api_key: &str) -> Self {
        Self {
            world: Arc::new(Mutex::new(World::new(api_key))),
        }
    }

    /// All the fake's routes, relative to wherever the router is served or nested: configure
    /// the Gemini base URL as the fake's address (the paths start at `/v1beta`).
    pub fn router(&self) -> Router {
        // `{model}:generateContent` is one path segment, and axum cannot match a literal after
        // a capture inside a segment, so the handler splits it at the ':' itself.
        Router::new()
            .route("/v1beta/models", get(list_models))
            .route("/v1beta/models/{target}", get(get_model).post(call_model))
            .route("/_control", get(show_control).post(change_control))
            .route("/sandbox.css", get(stylesheet))
            .with_state(self.clone())
    }

    /// Makes `name` a known model (`models/` in front is allowed and dropped).
    pub fn add_model(&self, name: &str) {
        let name = name.strip_prefix("models/").unwrap_or(name);
        let mut world = self.lock();
        if !world.models.iter().any(|known| known == name) {
            world.models.push(name.to_owned());
        }
    }

    /// The text every later answer carries (still cut at `maxOutputTokens`); `None` restores the
    /// built-in answer made from the prompt.
    pub fn set_reply(&self, reply: Option<String>) {
        self.lock().reply = reply;
    }

    /// Every request answered by the model so far, oldest first. Requests refused (bad key,
    /// unknown model, malformed body, a scripted refusal) are not among them.
    pub fn requests(&self) -> Vec<GeminiRequest> {
        self.lock().requests.clone()
    }

    /// Queues `failures` for `endpoint`: each later request to it takes the next one, in order.
    /// Takes the kit's [`Failure`]s and Gemini's own alike.
    pub fn fail_next<F: Into<GeminiFailure>>(
        &self,
        endpoint: Endpoint,
        failures: impl IntoIterator<Item = F>,
    ) {
        // Collected first, so a caller's iterator never runs while the world is locked.
        let failures: Vec<GeminiFailure> = failures.into_iter().map(Into::into).collect();
        self.lock()
            .scripted
            .entry(endpoint)
            .or_default()
            .extend(failures);
    }

    /// Failures still queued for `endpoint`.
    pub fn armed(&self, endpoint: Endpoint) -> usize {
        self.lock().scripted.get(&endpoint).map_or(0, VecDeque::len)
    }

    /// How long every answer takes (default none): a stand-in for the network and the model's
    /// own time, for benchmarks and for a client's timeout.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().script.set_latency(latency);
    }

    /// Requests that reached `endpoint`, whatever they were answered.
    pub fn request_count(&self, endpoint: Endpoint) -> usize {
        self.lock().script.request_count(endpoint)
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        // A test that panicked mid-request must not turn every later request into a panic.
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one request: counts it, and plays the next scripted failure for `endpoint` around
    /// `work`, in Google's envelope. `work` is told of a scripted block, so it can still check
    /// and record the request before answering blocked. `model` names the quota a rate limit
    /// hits.
    async fn answer(
        &self,
        endpoint: Endpoint,
        model: Option<&str>,
        work: impl FnOnce(Option<Block>) -> Response,
    ) -> Response {
        let (turn, twist) = self.lock().begin(endpoint);
        answer(
            turn,
            |refusal| scripted_refusal(refusal, model),
            async move {
                match twist {
                    None => work(None),
                    Some(Twist::Block(block)) => work(Some(block)),
                    Some(Twist::BreakOff) => break_off(work(None)).await,
                    Some(Twist::DailyQuota) => GoogleError::daily_quota(model).into_response(),
                    Some(Twist::Internal) => GoogleError::internal().into_response(),
                    Some(Twist::NotJson) => not_json(endpoint == Endpoint::Stream),
                }
            },
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers.

async fn list_models(State(fake): State<GeminiFake>, headers: HeaderMap) -> Response {
    fake.answer(Endpoint::Models, None, |_| {
        fake.lock().list_models(&headers).into_response()
    })
    .await
}

async fn get_model(
    State(fake): State<GeminiFake>,
    Path(target): Path<String>,
    headers: HeaderMap,
) -> Response {
    if target.contains(':') {
        return GoogleError::unknown_method(&target).into_response();
    }
    fake.answer(Endpoint::Models, Some(target.as_str()), |_| {
        fake.lock().get_model(&headers, &target).into_response()
    })
    .await
}

async fn call_model(
    State(fake): State<GeminiFake>,
    Path(target): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some((model, method)) = target.split_once(':') else {
        return GoogleError::unknown_method(&target).into_response();
    };
    let (endpoint, framing) = match method {
        "generateContent" => (Endpoint::Generate, Framing::Whole),
        "streamGenerateContent" => (Endpoint::Stream, Framing::for_stream(query.as_deref())),
        _ => return GoogleError::unknown_method(&target).into_response(),
    };
    // `None` when the body is over the limit (or broke off, when nobody reads the answer).
    let body = to_bytes(body, MAX_REQUEST_BYTES).await.ok();
    let call = Call {
        model,
        streamed: endpoint == Endpoint::Stream,
        body: body.as_deref(),
    };
    fake.answer(endpoint, Some(model), |block| {
        let generated = fake.lock().generate(&headers, &call, block);
        match generated {
            Ok(generated) => render(&generated, framing),
            Err(error) => error.into_response(),
        }
    })
    .await
}

/// How a `generateContent` answer is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// One JSON object (`generateContent`).
    Whole,
    /// `data: {chunk}` events (`streamGenerateContent?alt=sse`).
    Events,
    /// One JSON array of chunks (`streamGenerateContent` without `alt=sse`).
    JsonArray,
}

impl Framing {
    fn for_stream(query: Option<&str>) -> Self {
        match parse_query(query).get("alt").map(String::as_str) {
            Some("sse") => Self::Events,
            _ => Self::JsonArray,
        }
    }
}

/// One `generateContent` or `streamGenerateContent` call, as the handler read it.
struct Call<'a> {
    model: &'a str,
    streamed: bool,
    /// `None` when the body was over [`MAX_REQUEST_BYTES`].
    body: Option<&'a [u8]>,
}

// ---------------------------------------------------------------------------------------------
// The world.

struct World {
    api_key: String,
    models: Vec<String>,
    reply: Option<String>,
    requests: Vec<GeminiRequest>,
    /// Counts requests and plays the kit's failures; its own queue holds at most the one failure
    /// being dealt (the queue of record is `scripted`, which also holds Gemini's own).
    script: Script<Endpoint>,
    scripted: HashMap<Endpoint, VecDeque<GeminiFailure>>,
}

/// A block scripted for the next answer.
#[derive(Debug, Clone, Copy)]
enum Block {
    Prompt(BlockReason),
    Answer(BlockedFinish),
}

/// What a request's scripted failure makes of it, when the kit does not play it.
#[derive(Debug)]
enum Twist {
    Block(Block),
    /// The kit's `CreatedThenDropped`, played here so the client gets half the answer rather
    /// than none of it.
    BreakOff,
    DailyQuota,
    Internal,
    NotJson,
}

impl World {
    fn new(api_key: &str) -> Self {
        Self {
            api_key: api_key.to_owned(),
            models: vec![DEFAULT_MODEL.to_owned()],
            reply: None,
            requests: Vec::new(),
            script: Script::default(),
            scripted: HashMap::new(),
        }
    }

    /// Counts a request to `endpoint` and deals it its next scripted failure: a kit failure goes
    /// to the kit's script to be played; the rest come back as a twist for [`GeminiFake::answer`].
    fn begin(&mut self, endpoint: Endpoint) -> (Turn, Option<Twist>) {
        let next = self
            .scripted
            .get_mut(&endpoint)
            .and_then(VecDeque::pop_front);
        let twist = match next {
            None => None,
            Some(GeminiFailure::Kit(Failure::CreatedThenDropped)) => Some(Twist::BreakOff),
            Some(GeminiFailure::Kit(failure)) => {
                self.script.fail_next(endpoint, vec![failure]);
                None
            }
            Some(GeminiFailure::PromptBlocked(reason)) => Some(Twist::Block(Block::Prompt(reason))),
            Some(GeminiFailure::AnswerBlocked(finish)) => Some(Twist::Block(Block::Answer(finish))),
            Some(GeminiFailure::DailyQuota) => Some(Twist::DailyQuota),
            Some(GeminiFailure::Internal) => Some(Twist::Internal),
            Some(GeminiFailure::Malformed) => Some(Twist::NotJson),
        };
        (self.script.begin(endpoint), twist)
    }

    /// Google answers a missing key with 403 on this API too (not 401: an API key is not a
    /// credential in the OAuth sense). platforms.md lists 403 `PERMISSION_DENIED` for a bad key,
    /// so the fake sends that; the live API has also been seen answering a bad key with 400
    /// `INVALID_ARGUMENT`, reason `API_KEY_INVALID`, so clients should treat both as permanent.
    /// Google also takes the key as `?key=`; the fake insists on the header, which keeps the
    /// key out of access logs.
    fn check_key(&self, headers: &HeaderMap) -> Result<(), GoogleError> {
        match headers
            .get(API_KEY_HEADER)
            .and_then(|value| value.to_str().ok())
        {
            None => Err(GoogleError::missing_key()),
            Some(key) if key == self.api_key => Ok(()),
            Some(_) => Err(GoogleError::invalid_key()),
        }
    }

    fn check_model(&self, model: &str) -> Result<(), GoogleError> {
        if self.models.iter().any(|known| known == model) {
            Ok(())
        } else {
            Err(GoogleError::unknown_model(model))
        }
    }

    fn list_models(&self, headers: &HeaderMap) -> Result<Json<Value>, GoogleError> {
        self.check_key(headers)?;
        let models: Vec<Value> = self.models.iter().map(|model| model_json(model)).collect();
        Ok(Json(json!({ "models": models })))
    }

    fn get_model(&self, headers: &HeaderMap, model: &str) -> Result<Json<Value>, GoogleError> {
        self.check_key(headers)?;
        self.check_model(model)?;
        Ok(Json(model_json(model)))
    }

    /// Checks and records one prompt and makes the model's answer to it (or the scripted block).
    fn generate(
        &mut self,
        headers: &HeaderMap,
        call: &Call<'_>,
        block: Option<Block>,
    ) -> Result<Generated, GoogleError> {
        self.check_key(headers)?;
        self.check_model(call.model)?;
        let body = call.body.ok_or_else(GoogleError::payload_too_large)?;
        let request = parse_request(call, body)?;
        let outcome = match block {
            Some(Block::Prompt(reason)) => Outcome::PromptBlocked(reason),
            Some(Block::Answer(finish)) => Outcome::AnswerBlocked(finish),
            None => self.reply_to(&request),
        };
        let generated = Generated {
            model: call.model.to_owned(),
            prompt_tokens: prompt_tokens(
                request.system_text.iter().chain(&request.user_texts),
                request.images.len(),
                TOKENS_PER_IMAGE,
            ),
            outcome,
        };
        self.requests.push(request);
        Ok(generated)
    }

    fn reply_to(&self, request: &GeminiRequest) -> Outcome {
        let full = match &self.reply {
            Some(reply) => reply.clone(),
            None => gemini_echo(request),
        };
        let (text, cut) = within_tokens(full, request.generation_config.max_output_tokens);
        Outcome::Text {
            text,
            finish_reason: if cut { "MAX_TOKENS" } else { "STOP" },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The control page: what a person trying the Studio in `--sandbox` makes the model say or do.

/// The failures the page offers, for the next caption (streamed, as the Studio asks).
const CONTROL_FAILURES: &[(&str, &str)] = &[
    (
        "prompt_blocked",
        "Blocked for safety before answering: the Studio says so",
    ),
    (
        "answer_blocked",
        "Answer blocked for safety: the Studio says so",
    ),
    (
        "rate_limited",
        "Rate limited (429 RESOURCE_EXHAUSTED, retry in 30 s)",
    ),
    (
        "daily_quota",
        "Daily quota spent (429): try tomorrow or another writer",
    ),
    ("unavailable", "Overloaded (503 UNAVAILABLE)"),
    ("malformed", "An answer that is not JSON"),
];

fn control_failure(value: &str) -> Option<GeminiFailure> {
    Some(match value {
        "prompt_blocked" => GeminiFailure::PromptBlocked(BlockReason::Safety),
        "answer_blocked" => GeminiFailure::AnswerBlocked(BlockedFinish::Safety),
        "rate_limited" => GeminiFailure::Kit(Failure::RateLimited { reset_in_secs: 30 }),
        "daily_quota" => GeminiFailure::DailyQuota,
        "unavailable" => GeminiFailure::Kit(Failure::ServerError(503)),
        "malformed" => GeminiFailure::Malformed,
        _ => return None,
    })
}

/// `GET /_control`.
async fn show_control(State(fake): State<GeminiFake>) -> Response {
    let (reply, armed) = {
        let world = fake.lock();
        (
            world.reply.clone().unwrap_or_default(),
            world
                .scripted
                .get(&Endpoint::Stream)
                .map_or(0, VecDeque::len),
        )
    };
    let options: String = CONTROL_FAILURES
        .iter()
        .map(|(value, label)| format!(r#"<option value="{value}">{}</option>"#, escape_html(label)))
        .collect();
    let body = format!(
        r#"<h1>Sandbox Gemini control</h1>
<p class="hint">What the sandbox model answers the AI Studio. Empty, it answers with a sentence made from the prompt.</p>
<form method="post">
<label for="reply">Every answer says</label>
<textarea id="reply" name="reply" rows="4">{reply}</textarea>
<button type="submit" class="primary" name="action" value="reply">Use this answer</button>
</form>
<form method="post">
<label for="failure">Make the next caption fail</label>
<select id="failure" name="failure">{options}</select>
<button type="submit" class="primary" name="action" value="fail">Arm this failure</button>
</form>
<p role="status">{armed} failure(s) armed.</p>"#,
        reply = escape_html(&reply),
    );
    Html(page("Sandbox Gemini control", &body, "sandbox.css")).into_response()
}

/// `POST /_control`: a new answer, or a failure for the next caption.
async fn change_control(State(fake): State<GeminiFake>, body: Bytes) -> Response {
    let form = parse_form(&body);
    match form.get("action").map(String::as_str) {
        Some("reply") => {
            let reply = form
                .get("reply")
                .map(|reply| reply.trim())
                .unwrap_or_default();
            fake.set_reply((!reply.is_empty()).then(|| reply.to_owned()));
            back_to_control()
        }
        Some("fail") => match form.get("failure").and_then(|value| control_failure(value)) {
            Some(failure) => {
                fake.fail_next(Endpoint::Stream, [failure]);
                back_to_control()
            }
            None => refusal_page("Gemini", "Pick one of the listed failures.", "sandbox.css"),
        },
        _ => refusal_page("Gemini", "Choose an answer or a failure.", "sandbox.css"),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading a request.

/// `GenerateContentRequest` as far as the fake plays it. Unknown names are refused, as Google
/// refuses them; each field takes its proto name (snake_case) as well as its JSON name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireRequest {
    contents: Option<Vec<WireContent>>,
    #[serde(rename = "systemInstruction", alias = "system_instruction")]
    system_instruction: Option<WireContent>,
    #[serde(rename = "generationConfig", alias = "generation_config")]
    generation_config: Option<WireGenerationConfig>,
    #[serde(rename = "safetySettings", alias = "safety_settings")]
    safety_settings: Option<Vec<WireSafetySetting>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireContent {
    role: Option<String>,
    parts: Option<Vec<WirePart>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WirePart {
    text: Option<String>,
    #[serde(rename = "inlineData", alias = "inline_data")]
    inline_data: Option<WireBlob>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireBlob {
    #[serde(rename = "mimeType", alias = "mime_type")]
    mime_type: Option<String>,
    data: Option<String>,
}

/// The names Google's `GenerationConfig` knows. Those typed `IgnoredAny` change nothing in the
/// fake's answer; they are here so a client may send them while a misspelt name is refused.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code, reason = "the ignored names are read only to be accepted")]
struct WireGenerationConfig {
    temperature: Option<f64>,
    #[serde(alias = "max_output_tokens")]
    max_output_tokens: Option<u32>,
    #[serde(alias = "response_mime_type")]
    response_mime_type: Option<String>,
    #[serde(alias = "stop_sequences")]
    stop_sequences: Option<IgnoredAny>,
    #[serde(alias = "response_schema")]
    response_schema: Option<IgnoredAny>,
    #[serde(alias = "response_json_schema")]
    response_json_schema: Option<IgnoredAny>,
    #[serde(alias = "response_modalities")]
    response_modalities: Option<IgnoredAny>,
    #[serde(alias = "candidate_count")]
    candidate_count: Option<IgnoredAny>,
    #[serde(alias = "top_p")]
    top_p: Option<IgnoredAny>,
    #[serde(alias = "top_k")]
    top_k: Option<IgnoredAny>,
    seed: Option<IgnoredAny>,
    #[serde(alias = "presence_penalty")]
    presence_penalty: Option<IgnoredAny>,
    #[serde(alias = "frequency_penalty")]
    frequency_penalty: Option<IgnoredAny>,
    #[serde(alias = "response_logprobs")]
    response_logprobs: Option<IgnoredAny>,
    logprobs: Option<IgnoredAny>,
    #[serde(alias = "thinking_config")]
    thinking_config: Option<IgnoredAny>,
    #[serde(alias = "media_resolution")]
    media_resolution: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireSafetySetting {
    category: String,
    threshold: String,
}

/// One checked part of a turn.
enum PromptPart {
    Text(String),
    Image(ReceivedImage),
}

/// Checks `body` the way Google would and reads the prompt out of it. Paths in messages use the
/// proto's snake_case names, as Google's do.
fn parse_request(call: &Call<'_>, body: &[u8]) -> Result<GeminiRequest, GoogleError> {
    let wire: WireRequest = serde_json::from_slice(body).map_err(|error| {
        GoogleError::invalid_argument(format!("Invalid JSON payload received. {error}"))
    })?;
    let contents = wire.contents.unwrap_or_default();
    if contents.is_empty() {
        return Err(invalid_field("contents", "contents is not specified"));
    }
    let mut user_texts = Vec::new();
    let mut images = Vec::new();
    for (index, content) in contents.iter().enumerate() {
        let role = content.role.as_deref().unwrap_or_default();
        if !matches!(role, "" | "user" | "model") {
            return Err(GoogleError::invalid_argument(
                "Please use a valid role: user, model.",
            ));
        }
        let parts = read_parts(content, &format!("contents[{index}]"))?;
        if role == "model" {
            // An earlier answer in a conversation: checked like the rest, not part of the prompt.
            continue;
        }
        for part in parts {
            match part {
                PromptPart::Text(text) => user_texts.push(text),
                PromptPart::Image(image) => images.push(image),
            }
        }
    }
    let system_text = match &wire.system_instruction {
        Some(instruction) => Some(texts_of(read_parts(instruction, "system_instruction")?)),
        None => None,
    };
    let generation_config = read_generation_config(wire.generation_config.unwrap_or_default())?;
    let safety_settings = wire
        .safety_settings
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(index, setting)| read_safety_setting(index, setting))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(GeminiRequest {
        model: call.model.to_owned(),
        streamed: call.streamed,
        system_text,
        user_texts,
        images,
        generation_config,
        safety_settings,
    })
}

fn read_parts(content: &WireContent, path: &str) -> Result<Vec<PromptPart>, GoogleError> {
    let parts = content.parts.as_deref().unwrap_or_default();
    if parts.is_empty() {
        return Err(invalid_field(
            &format!("{path}.parts"),
            "contents.parts must not be empty.",
        ));
    }
    parts
        .iter()
        .enumerate()
        .map(|(index, part)| read_part(part, &format!("{path}.parts[{index}]")))
        .collect()
}

fn read_part(part: &WirePart, path: &str) -> Result<PromptPart, GoogleError> {
    match (&part.text, &part.inline_data) {
        (Some(text), None) => Ok(PromptPart::Text(text.clone())),
        (None, Some(blob)) => read_image(blob, path).map(PromptPart::Image),
        (None, None) => Err(invalid_field(
            &format!("{path}.data"),
            "required oneof field 'data' must have one initialized field",
        )),
        (Some(_), Some(_)) => Err(invalid_field(
            &format!("{path}.data"),
            "oneof field 'data' is already set: a part holds text or inline_data, not both",
        )),
    }
}

/// Proto JSON takes bytes as standard or URL-safe base64, so both are accepted. The bytes must
/// be an image, as Gemini's image decoder would insist; HEIC and HEIF are taken on trust.
fn read_image(blob: &WireBlob, path: &str) -> Result<ReceivedImage, GoogleError> {
    let mime_type = blob.mime_type.as_deref().unwrap_or_default();
    if !IMAGE_MIME_TYPES.contains(&mime_type) {
        return Err(invalid_field(
            &format!("{path}.inline_data.mime_type"),
            &format!(
                "Unsupported MIME type: {mime_type}; images must be one of {}",
                IMAGE_MIME_TYPES.join(", ")
            ),
        ));
    }
    let data = blob.data.as_deref().unwrap_or_default();
    let bytes = STANDARD
        .decode(data)
        .or_else(|_| URL_SAFE.decode(data))
        .map_err(|_| {
            GoogleError::invalid_argument(format!(
                "Invalid value at '{path}.inline_data.data' (TYPE_BYTES), Base64 decoding failed \
                 for \"{}\"",
                excerpt(data)
            ))
        })?;
    let trusted = UNSNIFFABLE_MIME_TYPES.contains(&mime_type);
    if bytes.is_empty() || (!trusted && sniff_image(&bytes).is_none()) {
        return Err(GoogleError::invalid_argument(format!(
            "Unable to process input image at '{path}.inline_data': the data is not a {mime_type} \
             image."
        )));
    }
    Ok(ReceivedImage {
        mime_type: mime_type.to_owned(),
        size_bytes: bytes.len(),
    })
}

fn read_generation_config(config: WireGenerationConfig) -> Result<GenerationConfig, GoogleError> {
    if let Some(mime_type) = &config.response_mime_type
        && !RESPONSE_MIME_TYPES.contains(&mime_type.as_str())
    {
        return Err(invalid_field(
            "generation_config.response_mime_type",
            &format!(
                "allowed mimetypes are {}, not {mime_type}",
                RESPONSE_MIME_TYPES.join(", ")
            ),
        ));
    }
    Ok(GenerationConfig {
        temperature: config.temperature,
        max_output_tokens: config.max_output_tokens,
        response_mime_type: config.response_mime_type,
    })
}

fn read_safety_setting(
    index: usize,
    setting: WireSafetySetting,
) -> Result<SafetySetting, GoogleError> {
    let path = format!("safety_settings[{index}]");
    check_enum(
        &format!("{path}.category"),
        &setting.category,
        HARM_CATEGORIES,
        "HarmCategory",
    )?;
    check_enum(
        &format!("{path}.threshold"),
        &setting.threshold,
        HARM_THRESHOLDS,
        "HarmBlockThreshold",
    )?;
    Ok(SafetySetting {
        category: setting.category,
        threshold: setting.threshold,
    })
}

/// Proto JSON refuses an enum value it does not know, naming the field and the enum type.
fn check_enum(path: &str, value: &str, known: &[&str], type_name: &str) -> Result<(), GoogleError> {
    if known.contains(&value) {
        return Ok(());
    }
    Err(GoogleError::invalid_argument(format!(
        "Invalid JSON payload received. Invalid value at '{path}' \
         (type.googleapis.com/google.ai.generativelanguage.v1beta.{type_name}), \"{value}\""
    )))
}

fn texts_of(parts: Vec<PromptPart>) -> String {
    let texts: Vec<String> = parts
        .into_iter()
        .filter_map(|part| match part {
            PromptPart::Text(text) => Some(text),
            PromptPart::Image(_) => None,
        })
        .collect();
    texts.join("\n")
}

/// The start of a value for an error message: enough to recognise it, never a whole image.
fn excerpt(value: &str) -> String {
    value.chars().take(16).collect()
}

fn invalid_field(path: &str, problem: &str) -> GoogleError {
    GoogleError::invalid_argument(format!("* GenerateContentRequest.{path}: {problem}"))
}

// ---------------------------------------------------------------------------------------------
// The model's answer.

/// The answer to one request, before it is framed as one JSON object or as chunks.
struct Generated {
    model: String,
    prompt_tokens: u32,
    outcome: Outcome,
}

enum Outcome {
    Text {
        text: String,
        finish_reason: &'static str,
    },
    PromptBlocked(BlockReason),
    AnswerBlocked(BlockedFinish),
}

impl Generated {
    fn answer_tokens(&self) -> u32 {
        match &self.outcome {
            Outcome::Text { text, .. } => estimate_tokens(text),
            Outcome::PromptBlocked(_) | Outcome::AnswerBlocked(_) => 0,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering.

/// The built-in reply. Asked for JSON, the sentence comes as a JSON string, the one JSON value
/// that fits no schema wrongly; tests that need a schema's shape set the reply.
fn gemini_echo(request: &GeminiRequest) -> String {
    let caption = echo_caption(&request.user_texts, request.images.len());
    if request.generation_config.response_mime_type.as_deref() == Some("application/json") {
        Value::from(caption).to_string()
    } else {
        caption
    }
}

fn render(generated: &Generated, framing: Framing) -> Response {
    match framing {
        Framing::Whole => (StatusCode::OK, Json(whole_json(generated))).into_response(),
        Framing::Events => event_stream(chunk_jsons(generated).iter().map(Value::to_string)),
        Framing::JsonArray => json_array(&chunk_jsons(generated)),
    }
}

/// `GenerateContentResponse` as platforms.md gives it.
fn whole_json(generated: &Generated) -> Value {
    let mut body = match &generated.outcome {
        Outcome::Text {
            text,
            finish_reason,
        } => json!({ "candidates": [answered_candidate(text, Some(*finish_reason))] }),
        Outcome::PromptBlocked(reason) => json!({
            "promptFeedback": {
                "blockReason": reason.as_str(),
                "safetyRatings": safety_ratings(*reason == BlockReason::Safety),
            }
        }),
        Outcome::AnswerBlocked(finish) => json!({
            "candidates": [{
                "finishReason": finish.as_str(),
                "safetyRatings": safety_ratings(*finish == BlockedFinish::Safety),
                "index": 0,
            }]
        }),
    };
    body["usageMetadata"] = usage_json(generated);
    body["modelVersion"] = Value::from(generated.model.as_str());
    body
}

/// The stream's chunks: the text a few words at a time, the last chunk carrying the
/// `finishReason` and the usage. A block is one chunk, the whole answer.
fn chunk_jsons(generated: &Generated) -> Vec<Value> {
    let Outcome::Text {
        text,
        finish_reason,
    } = &generated.outcome
    else {
        return vec![whole_json(generated)];
    };
    let pieces = split_into_pieces(text);
    let last = pieces.len().saturating_sub(1);
    pieces
        .iter()
        .enumerate()
        .map(|(index, piece)| {
            let finished = (index == last).then_some(*finish_reason);
            let mut chunk = json!({ "candidates": [answered_candidate(piece, finished)] });
            if finished.is_some() {
                chunk["usageMetadata"] = usage_json(generated);
            }
            chunk["modelVersion"] = Value::from(generated.model.as_str());
            chunk
        })
        .collect()
}

/// A candidate with text; only a finished one carries its `finishReason` and ratings.
fn answered_candidate(text: &str, finish_reason: Option<&str>) -> Value {
    let mut candidate = json!({
        "content": { "parts": [{ "text": text }], "role": "model" },
        "index": 0,
    });
    if let Some(finish_reason) = finish_reason {
        candidate["finishReason"] = Value::from(finish_reason);
        candidate["safetyRatings"] = safety_ratings(false);
    }
    candidate
}

/// Proto JSON leaves out a count of zero, so a blocked answer has no `candidatesTokenCount`.
fn usage_json(generated: &Generated) -> Value {
    let answer_tokens = generated.answer_tokens();
    let mut usage = json!({
        "promptTokenCount": generated.prompt_tokens,
        "totalTokenCount": generated.prompt_tokens.saturating_add(answer_tokens),
    });
    if answer_tokens > 0 {
        usage["candidatesTokenCount"] = Value::from(answer_tokens);
    }
    usage
}

fn safety_ratings(flagged: bool) -> Value {
    let ratings: Vec<Value> = RATED_CATEGORIES
        .iter()
        .map(|category| {
            if flagged && *category == FLAGGED_CATEGORY {
                json!({ "category": category, "probability": "HIGH", "blocked": true })
            } else {
                json!({ "category": category, "probability": "NEGLIGIBLE" })
            }
        })
        .collect();
    Value::Array(ratings)
}

fn model_json(model: &str) -> Value {
    json!({
        "name": format!("models/{model}"),
        "displayName": model,
        "supportedGenerationMethods": ["generateContent", "streamGenerateContent"],
    })
}

fn json_array(chunks: &[Value]) -> Response {
    let items: Vec<String> = chunks.iter().map(Value::to_string).collect();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        format!("[{}]", items.join(",\r\n")),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Google's error envelope.

/// `{"error":{"code","message","status","details"?}}`, the envelope of every Google API error.
struct GoogleError {
    http: StatusCode,
    status: &'static str,
    message: String,
    details: Vec<Value>,
}

impl GoogleError {
    fn new(http: StatusCode, status: &'static str, message: impl Into<String>) -> Self {
        Self {
            http,
            status,
            message: message.into(),
            details: Vec::new(),
        }
    }

    fn with_detail(mut self, detail: Value) -> Self {
        self.details.push(detail);
        self
    }

    fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
    }

    fn missing_key() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). \
             Please use API Key or other form of API consumer identity to call this API.",
        )
    }

    fn invalid_key() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "API key not valid. Please pass a valid API key.",
        )
        .with_detail(error_info("API_KEY_INVALID"))
    }

    fn expired_key() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "API key expired. Please renew the API key.",
        )
        .with_detail(error_info("API_KEY_EXPIRED"))
    }

    fn unknown_model(model: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!(
                "models/{model} is not found for API version v1beta, or is not supported for \
                 generateContent. Call ListModels to see the list of available models and their \
                 supported methods."
            ),
        )
    }

    fn unknown_method(target: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!(
                "models/{target} is not a method of the Gemini API: use {{model}}:generateContent \
                 or {{model}}:streamGenerateContent."
            ),
        )
    }

    fn payload_too_large() -> Self {
        Self::invalid_argument(format!(
            "Request payload size exceeds the limit: {MAX_REQUEST_BYTES} bytes."
        ))
    }

    fn server_error(http: StatusCode) -> Self {
        match http {
            StatusCode::INTERNAL_SERVER_ERROR => Self::internal(),
            StatusCode::GATEWAY_TIMEOUT => Self::new(
                http,
                "DEADLINE_EXCEEDED",
                "Deadline expired before operation could complete.",
            ),
            _ => Self::new(http, "UNAVAILABLE", OVERLOADED),
        }
    }

    fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", INTERNAL)
    }

    fn rate_limited(model: Option<&str>, retry_in_secs: i64) -> Self {
        Self::quota_exhausted(model, PER_MINUTE_QUOTA_ID, PER_MINUTE_QUOTA_VALUE)
            .with_detail(retry_info(retry_in_secs))
    }

    fn daily_quota(model: Option<&str>) -> Self {
        Self::quota_exhausted(model, PER_DAY_QUOTA_ID, PER_DAY_QUOTA_VALUE)
            .with_detail(retry_info(DAILY_QUOTA_RETRY_DELAY_SECS))
    }

    fn quota_exhausted(model: Option<&str>, quota_id: &str, quota_value: &str) -> Self {
        let mut violation = json!({
            "quotaMetric": QUOTA_METRIC,
            "quotaId": quota_id,
            "quotaValue": quota_value,
        });
        if let Some(model) = model {
            violation["quotaDimensions"] = json!({ "location": "global", "model": model });
        }
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details. For \
             more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
        )
        .with_detail(json!({
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [violation],
        }))
    }
}

impl IntoResponse for GoogleError {
    fn into_response(self) -> Response {
        let mut error = json!({
            "code": self.http.as_u16(),
            "message": self.message,
            "status": self.status,
        });
        if !self.details.is_empty() {
            error["details"] = Value::Array(self.details);
        }
        (self.http, Json(json!({ "error": error }))).into_response()
    }
}

fn error_info(reason: &str) -> Value {
    json!({
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": { "service": "generativelanguage.googleapis.com" },
    })
}

fn retry_info(retry_in_secs: i64) -> Value {
    json!({
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        "retryDelay": format!("{}s", retry_in_secs.max(0)),
    })
}

/// A scripted kit failure, as Gemini would answer it. An API key neither expires nor is revoked
/// the way a token is; both become the bad-key answer with Google's reason for each. Gemini
/// refuses nothing as a duplicate (it is stateless), so a scripted duplicate is Google's generic
/// 409 `ALREADY_EXISTS`.
fn scripted_refusal(refusal: Refusal, model: Option<&str>) -> Response {
    let error = match refusal {
        Refusal::ServerError(status) => GoogleError::server_error(status),
        Refusal::RateLimited { reset_in_secs } => GoogleError::rate_limited(model, reset_in_secs),
        Refusal::ExpiredToken => GoogleError::expired_key(),
        Refusal::RevokedToken => GoogleError::invalid_key(),
        Refusal::Validation(message) => GoogleError::invalid_argument(message),
        Refusal::Duplicate => GoogleError::new(
            StatusCode::CONFLICT,
            "ALREADY_EXISTS",
            "The request conflicts with one already made.",
        ),
    };
    error.into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;
    use axum::http::Request;
    use futures_util::StreamExt as _;
    use tower::ServiceExt as _;

    use super::*;

    const KEY: &str = "AIza-sandbox-key";
    const GENERATE: &str = "/v1beta/models/gemini-2.5-flash:generateContent";
    const STREAM: &str = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";
    /// The PNG signature plus a little: enough for the magic-byte check.
    const PNG_BYTES: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn post(uri: &str, key: Option<&str>, body: String) -> Request<Body> {
        let mut builder = Request::builder()
            .method("POST")
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(key) = key {
            builder = builder.header(API_KEY_HEADER, key);
        }
        builder.body(Body::from(body)).unwrap()
    }

    fn get_with_key(uri: &str) -> Request<Body> {
        Request::builder()
            .uri(uri)
            .header(API_KEY_HEADER, KEY)
            .body(Body::empty())
            .unwrap()
    }

    fn png_part() -> Value {
        json!({ "inline_data": { "mime_type": "image/png", "data": STANDARD.encode(PNG_BYTES) } })
    }

    fn prompt_with(parts: Value) -> Value {
        json!({
            "systemInstruction": { "parts": [{ "text": "You write Instagram captions." }] },
            "contents": [{ "role": "user", "parts": parts }],
            "generationConfig": { "temperature": 0.7, "maxOutputTokens": 256 },
        })
    }

    fn caption_prompt() -> Value {
        prompt_with(json!([{ "text": "A red bicycle against a yellow wall" }, png_part()]))
    }

    async fn send_raw(fake: &GeminiFake, request: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
        let response = fake.router().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        (
            parts.status,
            parts.headers,
            to_bytes(body, usize::MAX).await.unwrap(),
        )
    }

    async fn send(fake: &GeminiFake, request: Request<Body>) -> (StatusCode, Value) {
        let (status, _, bytes) = send_raw(fake, request).await;
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn generate(fake: &GeminiFake, body: Value) -> (StatusCode, Value) {
        send(fake, post(GENERATE, Some(KEY), body.to_string())).await
    }

    fn events_of(bytes: &[u8]) -> Vec<Value> {
        std::str::from_utf8(bytes)
            .unwrap()
            .split("\n\n")
            .filter_map(|event| event.strip_prefix("data: "))
            .map(|data| serde_json::from_str(data).unwrap())
            .collect()
    }

    fn text_of(answer: &Value) -> String {
        answer["candidates"][0]["content"]["parts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|part| part["text"].as_str())
            .collect()
    }

    #[tokio::test]
    async fn a_caption_is_made_from_the_prompt_and_the_prompt_is_recorded() {
        let fake = GeminiFake::new(KEY);
        let (status, answer) = generate(&fake, caption_prompt()).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(
            text_of(&answer),
            "Sandbox caption for 1 image: A red bicycle against a yellow wall"
        );
        let candidate = &answer["candidates"][0];
        assert_eq!(candidate["finishReason"], "STOP");
        assert_eq!(candidate["index"], 0);
        assert_eq!(candidate["content"]["role"], "model");
        assert!(candidate["safetyRatings"].is_array());
        let usage = &answer["usageMetadata"];
        let prompt = usage["promptTokenCount"].as_u64().unwrap();
        let candidates = usage["candidatesTokenCount"].as_u64().unwrap();
        assert!(prompt > u64::from(TOKENS_PER_IMAGE));
        assert_eq!(usage["totalTokenCount"].as_u64(), Some(prompt + candidates));
        assert_eq!(answer["modelVersion"], "gemini-2.5-flash");

        let requests = fake.requests();
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(request.model, "gemini-2.5-flash");
        assert!(!request.streamed);
        assert_eq!(
            request.system_text.as_deref(),
            Some("You write Instagram captions.")
        );
        assert_eq!(request.user_texts, ["A red bicycle against a yellow wall"]);
        assert_eq!(
            request.images,
            [ReceivedImage {
                mime_type: "image/png".to_owned(),
                size_bytes: PNG_BYTES.len(),
            }]
        );
        assert_eq!(request.generation_config.temperature, Some(0.7));
        assert_eq!(request.generation_config.max_output_tokens, Some(256));
        assert_eq!(fake.request_count(Endpoint::Generate), 1);
    }

    #[tokio::test]
    async fn a_wrong_or_missing_key_is_permission_denied() {
        let fake = GeminiFake::new(KEY);
        for key in [Some("AIza-someone-else"), None] {
            let (status, body) =
                send(&fake, post(GENERATE, key, caption_prompt().to_string())).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{key:?}");
            assert_eq!(body["error"]["code"], 403);
            assert_eq!(body["error"]["status"], "PERMISSION_DENIED");
        }
        let (_, body) = send(
            &fake,
            post(GENERATE, Some("AIza-wrong"), caption_prompt().to_string()),
        )
        .await;
        assert_eq!(
            body["error"]["message"],
            "API key not valid. Please pass a valid API key."
        );
        assert!(fake.requests().is_empty());
    }

    #[tokio::test]
    async fn an_unknown_model_or_method_is_not_found() {
        let fake = GeminiFake::new(KEY);
        for uri in [
            "/v1beta/models/gemini-0.1-nano:generateContent",
            "/v1beta/models/gemini-2.5-flash:writeCaption",
            "/v1beta/models/gemini-2.5-flash",
        ] {
            let request = post(uri, Some(KEY), caption_prompt().to_string());
            let (status, body) = send(&fake, request).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(body["error"]["status"], "NOT_FOUND", "{uri}");
        }
        fake.add_model("models/gemini-2.5-pro");
        let uri = "/v1beta/models/gemini-2.5-pro:generateContent";
        let (status, _) = send(&fake, post(uri, Some(KEY), caption_prompt().to_string())).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn malformed_requests_are_invalid_arguments_that_say_what_is_wrong() {
        let fake = GeminiFake::new(KEY);
        let gif = json!({ "inline_data": { "mime_type": "image/gif", "data": STANDARD.encode(PNG_BYTES) } });
        let not_base64 =
            json!({ "inline_data": { "mime_type": "image/png", "data": "@@not base64@@" } });
        let not_an_image = json!({ "inline_data": { "mime_type": "image/jpeg", "data": STANDARD.encode("<html>") } });
        let cases = [
            ("{\"contents\": [", "Invalid JSON payload"),
            ("{}", "contents is not specified"),
            (r#"{"contents": []}"#, "contents is not specified"),
            (
                r#"{"contents": [{"role": "user", "parts": []}]}"#,
                "must not be empty",
            ),
            (
                r#"{"contents": [{"role": "user", "parts": [{}]}]}"#,
                "oneof field 'data'",
            ),
            (
                r#"{"contents": [{"role": "system", "parts": [{"text": "hi"}]}]}"#,
                "valid role",
            ),
            (r#"{"contents": [{"parts": [{"txet": "hi"}]}]}"#, "txet"),
            (
                r#"{"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {"maxOutputToken": 5}}"#,
                "maxOutputToken",
            ),
            (
                r#"{"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {"responseMimeType": "text/html"}}"#,
                "response_mime_type",
            ),
            (
                r#"{"contents": [{"parts": [{"text": "hi"}]}], "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_SOME"}]}"#,
                "safety_settings[0].threshold",
            ),
        ];
        for (body, expected) in cases {
            let (status, answer) = send(&fake, post(GENERATE, Some(KEY), body.to_owned())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(answer["error"]["status"], "INVALID_ARGUMENT", "{body}");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.contains(expected), "{body}: {message}");
        }
        for (part, expected) in [
            (gif, "Unsupported MIME type: image/gif"),
            (not_base64, "Base64 decoding failed"),
            (not_an_image, "not a image/jpeg image"),
        ] {
            let (status, answer) = generate(&fake, prompt_with(json!([part]))).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.contains(expected), "{message}");
        }
        assert!(fake.requests().is_empty());
    }

    #[tokio::test]
    async fn a_request_over_the_inline_limit_is_refused() {
        let fake = GeminiFake::new(KEY);
        let huge = prompt_with(json!([{ "text": "x".repeat(MAX_REQUEST_BYTES) }]));
        let (status, answer) = generate(&fake, huge).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(answer["error"]["status"], "INVALID_ARGUMENT");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("exceeds the limit")
        );
    }

    #[tokio::test]
    async fn inline_images_are_taken_in_both_spellings() {
        let fake = GeminiFake::new(KEY);
        let camel = json!({ "inlineData": { "mimeType": "image/png", "data": STANDARD.encode(PNG_BYTES) } });
        let body = json!({
            "system_instruction": { "parts": [{ "text": "Be brief." }] },
            "contents": [{ "parts": [{ "text": "Two shots" }, png_part(), camel] }],
            "generation_config": { "max_output_tokens": 100, "top_p": 0.9 },
        });
        let (status, answer) = generate(&fake, body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(text_of(&answer), "Sandbox caption for 2 images: Two shots");
        let request = &fake.requests()[0];
        assert_eq!(request.image_count(), 2);
        assert_eq!(request.system_text.as_deref(), Some("Be brief."));
        assert_eq!(request.generation_config.max_output_tokens, Some(100));
    }

    #[tokio::test]
    async fn a_set_reply_is_cut_at_max_output_tokens() {
        let fake = GeminiFake::new(KEY);
        fake.set_reply(Some(
            "Golden hour on the canal. #amsterdam #bikes".to_owned(),
        ));
        let mut body = caption_prompt();
        let (_, answer) = generate(&fake, body.clone()).await;
        assert_eq!(
            text_of(&answer),
            "Golden hour on the canal. #amsterdam #bikes"
        );
        assert_eq!(answer["candidates"][0]["finishReason"], "STOP");

        body["generationConfig"]["maxOutputTokens"] = json!(3);
        let (status, answer) = generate(&fake, body).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(text_of(&answer), "Golden hour ");
        assert_eq!(answer["candidates"][0]["finishReason"], "MAX_TOKENS");
        assert_eq!(answer["usageMetadata"]["candidatesTokenCount"], 3);

        fake.set_reply(None);
        let (_, answer) = generate(&fake, caption_prompt()).await;
        assert!(text_of(&answer).starts_with("Sandbox caption"));
    }

    #[tokio::test]
    async fn streamed_chunks_concatenate_to_the_whole_reply() {
        let fake = GeminiFake::new(KEY);
        let (_, whole) = generate(&fake, caption_prompt()).await;
        let (status, headers, bytes) =
            send_raw(&fake, post(STREAM, Some(KEY), caption_prompt().to_string())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "text/event-stream");
        let chunks = events_of(&bytes);
        assert!(chunks.len() > 2, "{} chunks", chunks.len());
        let streamed: String = chunks.iter().map(text_of).collect();
        assert_eq!(streamed, text_of(&whole));
        let (last, earlier) = chunks.split_last().unwrap();
        assert_eq!(last["candidates"][0]["finishReason"], "STOP");
        assert_eq!(last["usageMetadata"], whole["usageMetadata"]);
        assert!(
            earlier
                .iter()
                .all(|chunk| chunk["candidates"][0]["finishReason"].is_null())
        );
        assert!(fake.requests()[1].streamed);
        assert_eq!(fake.request_count(Endpoint::Stream), 1);
    }

    #[tokio::test]
    async fn a_stream_without_alt_sse_is_one_json_array() {
        let fake = GeminiFake::new(KEY);
        let uri = "/v1beta/models/gemini-2.5-flash:streamGenerateContent";
        let request = post(uri, Some(KEY), caption_prompt().to_string());
        let (status, chunks) = send(&fake, request).await;
        assert_eq!(status, StatusCode::OK);
        let chunks = chunks.as_array().unwrap();
        let streamed: String = chunks.iter().map(text_of).collect();
        assert!(streamed.starts_with("Sandbox caption for 1 image"));
    }

    #[tokio::test]
    async fn scripted_kit_failures_answer_in_googles_envelope_in_order() {
        let fake = GeminiFake::new(KEY);
        fake.fail_next(
            Endpoint::Generate,
            [
                Failure::ServerError(503),
                Failure::ServerError(500),
                Failure::RateLimited { reset_in_secs: 7 },
            ],
        );
        assert_eq!(fake.armed(Endpoint::Generate), 3);

        let (status, body) = generate(&fake, caption_prompt()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["error"]["status"], "UNAVAILABLE");
        assert_eq!(body["error"]["message"], OVERLOADED);

        let (status, body) = generate(&fake, caption_prompt()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["status"], "INTERNAL");

        let (status, body) = generate(&fake, caption_prompt()).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(body["error"]["status"], "RESOURCE_EXHAUSTED");
        let details = body["error"]["details"].as_array().unwrap();
        assert_eq!(
            details[0]["@type"],
            "type.googleapis.com/google.rpc.QuotaFailure"
        );
        assert_eq!(details[0]["violations"][0]["quotaId"], PER_MINUTE_QUOTA_ID);
        assert_eq!(
            details[1]["@type"],
            "type.googleapis.com/google.rpc.RetryInfo"
        );
        assert_eq!(details[1]["retryDelay"], "7s");

        let (status, _) = generate(&fake, caption_prompt()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(fake.request_count(Endpoint::Generate), 4);
        assert_eq!(fake.requests().len(), 1, "refusals record nothing");
    }

    #[tokio::test]
    async fn gemini_s_own_failures_have_their_own_shapes() {
        let fake = GeminiFake::new(KEY);
        fake.fail_next(
            Endpoint::Generate,
            [
                GeminiFailure::DailyQuota,
                GeminiFailure::Internal,
                GeminiFailure::PromptBlocked(BlockReason::Safety),
                GeminiFailure::AnswerBlocked(BlockedFinish::Recitation),
            ],
        );

        let (status, body) = generate(&fake, caption_prompt()).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            body["error"]["details"][0]["violations"][0]["quotaId"],
            "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
        );

        let (status, body) = generate(&fake, caption_prompt()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["status"], "INTERNAL");

        let (status, body) = generate(&fake, caption_prompt()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.get("candidates").is_none());
        assert_eq!(body["promptFeedback"]["blockReason"], "SAFETY");

        let (status, body) = generate(&fake, caption_prompt()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["candidates"][0]["finishReason"], "RECITATION");
        assert!(body["candidates"][0].get("content").is_none());
        assert_eq!(
            fake.requests().len(),
            2,
            "blocked prompts are still recorded"
        );
    }

    #[tokio::test]
    async fn a_malformed_answer_is_not_json() {
        let fake = GeminiFake::new(KEY);
        fake.fail_next(Endpoint::Generate, [GeminiFailure::Malformed]);
        fake.fail_next(Endpoint::Stream, [GeminiFailure::Malformed]);
        let (status, _, bytes) = send_raw(
            &fake,
            post(GENERATE, Some(KEY), caption_prompt().to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(serde_json::from_slice::<Value>(&bytes).is_err());
        let (status, _, bytes) =
            send_raw(&fake, post(STREAM, Some(KEY), caption_prompt().to_string())).await;
        assert_eq!(status, StatusCode::OK);
        let data = std::str::from_utf8(&bytes)
            .unwrap()
            .strip_prefix("data: ")
            .unwrap();
        assert!(serde_json::from_str::<Value>(data.trim_end()).is_err());
    }

    #[tokio::test]
    async fn a_dropped_answer_breaks_off_after_half_the_body() {
        let fake = GeminiFake::new(KEY);
        fake.fail_next(Endpoint::Generate, [Failure::CreatedThenDropped]);
        fake.fail_next(Endpoint::Stream, [Failure::CreatedThenDropped]);

        let request = post(GENERATE, Some(KEY), caption_prompt().to_string());
        let response = fake.router().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(to_bytes(response.into_body(), usize::MAX).await.is_err());

        let request = post(STREAM, Some(KEY), caption_prompt().to_string());
        let response = fake.router().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut frames = response.into_body().into_data_stream();
        let first = frames.next().await.unwrap().unwrap();
        assert!(first.starts_with(b"data: "), "the first chunks arrive");
        assert!(
            frames.next().await.unwrap().is_err(),
            "then the stream breaks"
        );
        assert_eq!(fake.requests().len(), 2, "the work was done both times");
    }

    #[tokio::test]
    async fn models_are_listed_and_looked_up_with_a_key() {
        let fake = GeminiFake::new(KEY);
        let (status, body) = send(&fake, get_with_key("/v1beta/models")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["models"][0]["name"], "models/gemini-2.5-flash");
        let (status, body) = send(&fake, get_with_key("/v1beta/models/gemini-2.5-flash")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["name"], "models/gemini-2.5-flash");
        let (status, _) = send(&fake, get_with_key("/v1beta/models/gemini-9")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let anonymous = Request::builder()
            .uri("/v1beta/models")
            .body(Body::empty())
            .unwrap();
        let (status, _) = send(&fake, anonymous).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(fake.request_count(Endpoint::Models), 4);
    }
}
