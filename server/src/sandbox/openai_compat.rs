//! A local fake of an OpenAI-compatible chat server (`shared/platforms.md`, section 12): the
//! shape Ollama, llama.cpp's `llama-server` and vLLM share, `GET /v1/models` and
//! `POST /v1/chat/completions`, whole or streamed as Server-Sent Events.
//!
//! The caption step reaches it through [`OpenAiCompatFake`], a cheap handle tests keep to script
//! failures ([`OpenAiCompatFake::fail_next`]), to fix the answer
//! ([`OpenAiCompatFake::set_reply`]), to choose the models on offer
//! ([`OpenAiCompatFake::set_models`]) and to read back every prompt it was sent
//! ([`OpenAiCompatFake::requests`]). Without a fixed answer the model replies with a plain
//! sentence made from the prompt (how many images, the first words of the user's text), so a
//! test can tell which prompt produced which caption.
//!
//! These servers are lenient about fields they do not use, and so is the fake; where they are
//! strict, so is it: a key, when configured, must come as `Authorization: Bearer` (without one,
//! the header is ignored, as Ollama ignores it), the model must be one the server has, messages
//! must be a non-empty array of known roles, and images must be base64 data URLs of real images
//! (Ollama takes no other kind), given as `{"url": ...}` or as a bare string (Ollama's own
//! example sends the bare string).
//!
//! The servers have no OAuth, so the kit's [`FakeControls`](super::kit::FakeControls) do not
//! apply; the handle has its own `fail_next`, `set_latency` and `request_count`. It trusts
//! whoever reaches it and never logs or prints its key.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::kit::ids::IdSequence;
use super::kit::media::sniff_image;
use super::kit::model::{
    break_off, echo_caption, estimate_tokens, event_stream, not_json, prompt_tokens,
    split_into_pieces, within_tokens,
};
use super::kit::request::bearer_token;
use super::kit::script::{Failure, Refusal, Script, Turn, answer};

/// Ollama's name for its best-known vision model, so a default configuration meets a model.
const DEFAULT_MODEL: &str = "llava";
/// What `/v1/models` says owns each model (Ollama says `library`, llama.cpp `llamacpp`, vLLM
/// `vllm`; clients must not care).
const OWNED_BY: &str = "sandbox";
/// None of the three servers documents a body limit; this one keeps a runaway client from
/// filling memory while leaving room for several large images in base64.
const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

/// What llava bills an image (a 24 by 24 grid of patches); other vision models differ, and the
/// fake never looks at pixels, so every image costs this.
const TOKENS_PER_IMAGE: u32 = 576;

const KNOWN_ROLES: &[&str] = &["system", "developer", "user", "assistant", "tool"];

/// The fake's endpoints, for scripting failures and counting requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET /v1/models`.
    Models,
    /// `POST /v1/chat/completions`, whole or streamed.
    ChatCompletions,
}

/// What a request meets on top of, or instead of, its normal answer: any of the kit's failures,
/// rendered in OpenAI's envelope, or one of this fake's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenAiCompatFailure {
    /// One of the kit's failures (see `scripted_refusal`). `CreatedThenDropped` sends the first
    /// half of the answer and then breaks the connection: mid-JSON, or mid-stream after the
    /// first chunks.
    Kit(Failure),
    /// 200 whose body is not JSON (a proxy's error page).
    Malformed,
}

impl From<Failure> for OpenAiCompatFailure {
    fn from(failure: Failure) -> Self {
        Self::Kit(failure)
    }
}

/// One chat request the fake answered, as it parsed it: what tests assert prompt building on.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    /// The texts of the `system` and `developer` messages, joined by newlines.
    pub system_text: Option<String>,
    /// The texts of the `user` messages, in order (`assistant` and `tool` messages are checked,
    /// not kept).
    pub user_texts: Vec<String>,
    /// The images of the `user` messages, in order.
    pub images: Vec<ReceivedImage>,
    pub temperature: Option<f64>,
    /// `max_completion_tokens` when sent (OpenAI's newer name), else `max_tokens`.
    pub max_tokens: Option<u32>,
    pub stream: bool,
}

impl ChatRequest {
    pub fn image_count(&self) -> usize {
        self.images.len()
    }
}

/// An image as received: the data URL's type and the decoded size (the bytes are not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedImage {
    pub mime_type: String,
    pub size_bytes: usize,
}

/// A handle on one fake OpenAI-compatible server. Clones share the same world.
#[derive(Clone)]
pub struct OpenAiCompatFake {
    world: Arc<Mutex<World>>,
}

impl fmt::Debug for OpenAiCompatFake {
    // The world may hold an API key; printing it would gain a failing test nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiCompatFake").finish_non_exhaustive()
    }
}

impl OpenAiCompatFake {
    /// A fake server offering one model, `llava`. With `Some(key)` every request must carry
    /// `Authorization: Bearer <key>` (llama.cpp and vLLM started with `--api-key`); with `None`
    /// the header is ignored (Ollama).
    pub fn new(api_key: Option<&str>) -> Self {
        Self {
            world: Arc::new(Mutex::new(World::new(api_key))),
        }
    }

    /// All the fake's routes, relative to wherever the router is served or nested: configure
    /// the base URL as the fake's address plus `/v1`, as for the real servers.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/models", get(list_models))
            .route("/v1/chat/completions", post(chat_completions))
            .with_state(self.clone())
    }

    /// The models the server offers from now on, replacing the ones it had.
    pub fn set_models(&self, models: impl IntoIterator<Item = impl Into<String>>) {
        // Collected first, so a caller's iterator never runs while the world is locked.
        let models: Vec<String> = models.into_iter().map(Into::into).collect();
        self.lock().models = models;
    }

    /// The text every later answer carries (still cut at `max_tokens`); `None` restores the
    /// built-in answer made from the prompt.
    pub fn set_reply(&self, reply: Option<String>) {
        self.lock().reply = reply;
    }

    /// Every chat request answered so far, oldest first. Requests refused (bad key, unknown
    /// model, malformed body, a scripted refusal) are not among them.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.lock().requests.clone()
    }

    /// Queues `failures` for `endpoint`: each later request to it takes the next one, in order.
    /// Takes the kit's [`Failure`]s and this fake's own alike.
    pub fn fail_next<F: Into<OpenAiCompatFailure>>(
        &self,
        endpoint: Endpoint,
        failures: impl IntoIterator<Item = F>,
    ) {
        // Collected first, so a caller's iterator never runs while the world is locked.
        let failures: Vec<OpenAiCompatFailure> = failures.into_iter().map(Into::into).collect();
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
    /// `work`, in OpenAI's envelope.
    async fn answer(&self, endpoint: Endpoint, work: impl FnOnce() -> Response) -> Response {
        let (turn, twist) = self.lock().begin(endpoint);
        answer(turn, scripted_refusal, async move {
            match twist {
                None => work(),
                Some(Twist::BreakOff) => break_off(work()).await,
                Some(Twist::NotJson) => not_json(false),
            }
        })
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers.

async fn list_models(State(fake): State<OpenAiCompatFake>, headers: HeaderMap) -> Response {
    fake.answer(Endpoint::Models, || {
        fake.lock().list_models(&headers).into_response()
    })
    .await
}

async fn chat_completions(
    State(fake): State<OpenAiCompatFake>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // `None` when the body is over the limit (or broke off, when nobody reads the answer).
    let body = to_bytes(body, MAX_REQUEST_BYTES).await.ok();
    fake.answer(Endpoint::ChatCompletions, || {
        let completion = fake.lock().complete(&headers, body.as_deref());
        match completion {
            Ok(completion) => render(&completion),
            Err(error) => error.into_response(),
        }
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// The world.

struct World {
    api_key: Option<String>,
    models: Vec<String>,
    /// What `/v1/models` gives as every model's `created`.
    started_at: i64,
    reply: Option<String>,
    requests: Vec<ChatRequest>,
    completion_ids: IdSequence,
    /// Counts requests and plays the kit's failures; its own queue holds at most the one failure
    /// being dealt (the queue of record is `scripted`, which also holds this fake's own).
    script: Script<Endpoint>,
    scripted: HashMap<Endpoint, VecDeque<OpenAiCompatFailure>>,
}

/// What a request's scripted failure makes of it, when the kit does not play it.
#[derive(Debug)]
enum Twist {
    /// The kit's `CreatedThenDropped`, played here so the client gets half the answer rather
    /// than none of it.
    BreakOff,
    NotJson,
}

impl World {
    fn new(api_key: Option<&str>) -> Self {
        Self {
            api_key: api_key.map(str::to_owned),
            models: vec![DEFAULT_MODEL.to_owned()],
            started_at: Utc::now().timestamp(),
            reply: None,
            requests: Vec::new(),
            completion_ids: IdSequence::starting_at(1),
            script: Script::default(),
            scripted: HashMap::new(),
        }
    }

    /// Counts a request to `endpoint` and deals it its next scripted failure: a kit failure goes
    /// to the kit's script to be played; the rest come back as a twist for
    /// [`OpenAiCompatFake::answer`].
    fn begin(&mut self, endpoint: Endpoint) -> (Turn, Option<Twist>) {
        let next = self
            .scripted
            .get_mut(&endpoint)
            .and_then(VecDeque::pop_front);
        let twist = match next {
            None => None,
            Some(OpenAiCompatFailure::Kit(Failure::CreatedThenDropped)) => Some(Twist::BreakOff),
            Some(OpenAiCompatFailure::Kit(failure)) => {
                self.script.fail_next(endpoint, vec![failure]);
                None
            }
            Some(OpenAiCompatFailure::Malformed) => Some(Twist::NotJson),
        };
        (self.script.begin(endpoint), twist)
    }

    /// With a key configured, every endpoint needs it (vLLM checks it on `/v1/models` too).
    fn check_key(&self, headers: &HeaderMap) -> Result<(), OpenAiError> {
        match &self.api_key {
            None => Ok(()),
            Some(key) if bearer_token(headers) == Some(key.as_str()) => Ok(()),
            Some(_) => Err(OpenAiError::invalid_api_key()),
        }
    }

    fn list_models(&self, headers: &HeaderMap) -> Result<Json<Value>, OpenAiError> {
        self.check_key(headers)?;
        let data: Vec<Value> = self
            .models
            .iter()
            .map(|id| {
                json!({
                    "id": id,
                    "object": "model",
                    "created": self.started_at,
                    "owned_by": OWNED_BY,
                })
            })
            .collect();
        Ok(Json(json!({ "object": "list", "data": data })))
    }

    /// Checks and records one chat request and makes the model's answer to it.
    fn complete(
        &mut self,
        headers: &HeaderMap,
        body: Option<&[u8]>,
    ) -> Result<Completion, OpenAiError> {
        self.check_key(headers)?;
        let body = body.ok_or_else(OpenAiError::too_large)?;
        let wire: WireChat = serde_json::from_slice(body).map_err(|error| {
            OpenAiError::invalid_request(format!("Invalid request body: {error}"), None)
        })?;
        let model = match wire.model.as_deref() {
            Some(model) if !model.is_empty() => model,
            _ => {
                return Err(OpenAiError::invalid_request(
                    "you must provide a model parameter",
                    Some("model".to_owned()),
                ));
            }
        };
        if !self.models.iter().any(|known| known == model) {
            return Err(OpenAiError::model_not_found(model));
        }
        let request = read_chat(model, &wire)?;
        let full = match &self.reply {
            Some(reply) => reply.clone(),
            None => echo_caption(&request.user_texts, request.images.len()),
        };
        let (text, cut) = within_tokens(full, request.max_tokens);
        let completion = Completion {
            id: format!("chatcmpl-{}", self.completion_ids.next_id()),
            created: Utc::now().timestamp(),
            model: model.to_owned(),
            prompt_tokens: prompt_tokens(
                request.system_text.iter().chain(&request.user_texts),
                request.images.len(),
                TOKENS_PER_IMAGE,
            ),
            completion_tokens: estimate_tokens(&text),
            text,
            finish_reason: if cut { "length" } else { "stop" },
            stream: request.stream,
            include_usage: wire
                .stream_options
                .as_ref()
                .and_then(|options| options.include_usage)
                .unwrap_or(false),
        };
        self.requests.push(request);
        Ok(completion)
    }
}

// ---------------------------------------------------------------------------------------------
// Reading a request.

/// A chat request as far as the fake plays it; other fields are ignored, as these servers
/// ignore what they do not use. Messages stay JSON so each problem can be named by its place.
#[derive(Deserialize)]
struct WireChat {
    model: Option<String>,
    messages: Option<Vec<WireMessage>>,
    temperature: Option<f64>,
    max_tokens: Option<u32>,
    max_completion_tokens: Option<u32>,
    stream: Option<bool>,
    stream_options: Option<WireStreamOptions>,
}

#[derive(Deserialize)]
struct WireMessage {
    role: Option<String>,
    content: Option<Value>,
}

#[derive(Deserialize)]
struct WireStreamOptions {
    include_usage: Option<bool>,
}

/// One checked part of a message.
enum ChatPart {
    Text(String),
    Image(ReceivedImage),
}

fn read_chat(model: &str, wire: &WireChat) -> Result<ChatRequest, OpenAiError> {
    let messages = match &wire.messages {
        None => {
            return Err(OpenAiError::invalid_request(
                "Missing required parameter: 'messages'.",
                Some("messages".to_owned()),
            ));
        }
        Some(messages) if messages.is_empty() => {
            return Err(OpenAiError::invalid_request(
                "[] is too short - 'messages'",
                Some("messages".to_owned()),
            ));
        }
        Some(messages) => messages,
    };
    let mut system_texts = Vec::new();
    let mut user_texts = Vec::new();
    let mut images = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        let path = format!("messages[{index}]");
        let role = check_role(message, &path)?;
        let parts = match (role, &message.content) {
            // An answer that only called tools has no content.
            ("assistant" | "tool", None) => Vec::new(),
            (_, content) => read_content(content.as_ref(), &path)?,
        };
        for part in parts {
            match (role, part) {
                ("system" | "developer", ChatPart::Text(text)) => system_texts.push(text),
                ("user", ChatPart::Text(text)) => user_texts.push(text),
                ("user", ChatPart::Image(image)) => images.push(image),
                // Earlier answers and tool results: checked like the rest, not part of the prompt.
                _ => {}
            }
        }
    }
    Ok(ChatRequest {
        model: model.to_owned(),
        system_text: (!system_texts.is_empty()).then(|| system_texts.join("\n")),
        user_texts,
        images,
        temperature: wire.temperature,
        max_tokens: wire.max_completion_tokens.or(wire.max_tokens),
        stream: wire.stream.unwrap_or(false),
    })
}

fn check_role<'a>(message: &'a WireMessage, path: &str) -> Result<&'a str, OpenAiError> {
    let role = message.role.as_deref().unwrap_or_default();
    if KNOWN_ROLES.contains(&role) {
        return Ok(role);
    }
    Err(OpenAiError::invalid_request(
        format!(
            "Invalid value for '{path}.role': '{role}'. Supported values are: {}.",
            KNOWN_ROLES.join(", ")
        ),
        Some(format!("{path}.role")),
    ))
}

/// `content` is a string, or an array of `text` and `image_url` parts.
fn read_content(content: Option<&Value>, path: &str) -> Result<Vec<ChatPart>, OpenAiError> {
    match content {
        Some(Value::String(text)) => Ok(vec![ChatPart::Text(text.clone())]),
        Some(Value::Array(parts)) if !parts.is_empty() => parts
            .iter()
            .enumerate()
            .map(|(index, part)| read_part(part, &format!("{path}.content[{index}]")))
            .collect(),
        _ => Err(OpenAiError::invalid_request(
            format!("{path}.content must be a string or a non-empty array of content parts."),
            Some(format!("{path}.content")),
        )),
    }
}

fn read_part(part: &Value, path: &str) -> Result<ChatPart, OpenAiError> {
    let invalid = |problem: String| {
        OpenAiError::invalid_request(format!("{path}: {problem}"), Some(path.to_owned()))
    };
    match part.get("type").and_then(Value::as_str) {
        Some("text") => part
            .get("text")
            .and_then(Value::as_str)
            .map(|text| ChatPart::Text(text.to_owned()))
            .ok_or_else(|| invalid("a text part needs a string 'text'.".to_owned())),
        Some("image_url") => {
            let url = match part.get("image_url") {
                Some(Value::String(url)) => Some(url.as_str()),
                Some(Value::Object(image)) => image.get("url").and_then(Value::as_str),
                _ => None,
            };
            let url = url.ok_or_else(|| {
                invalid(
                    "an image_url part needs 'image_url' as {\"url\": ..} or a string.".to_owned(),
                )
            })?;
            read_data_url(url).map(ChatPart::Image).map_err(invalid)
        }
        Some(other) => Err(invalid(format!(
            "unsupported content part type '{other}'; use 'text' or 'image_url'."
        ))),
        None => Err(invalid("a content part needs a 'type'.".to_owned())),
    }
}

/// `data:image/<type>;base64,<data>`, holding a real image; the error says what is wrong.
fn read_data_url(url: &str) -> Result<ReceivedImage, String> {
    let Some((meta, data)) = url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(','))
    else {
        return Err(
            "images must be base64 data URLs (data:image/<type>;base64,<data>), not remote URLs."
                .to_owned(),
        );
    };
    let Some(media_type) = meta.strip_suffix(";base64") else {
        return Err("the data URL must be base64 (data:image/<type>;base64,...).".to_owned());
    };
    let mime_type = media_type.split(';').next().unwrap_or(media_type);
    if !mime_type.starts_with("image/") {
        return Err(format!("the data URL holds {mime_type}, not an image."));
    }
    let bytes = STANDARD
        .decode(data)
        .map_err(|error| format!("the image's base64 does not decode: {error}."))?;
    if sniff_image(&bytes).is_none() {
        return Err(format!("the data URL's bytes are not a {mime_type} image."));
    }
    Ok(ReceivedImage {
        mime_type: mime_type.to_owned(),
        size_bytes: bytes.len(),
    })
}

// ---------------------------------------------------------------------------------------------
// The model's answer.

/// The answer to one chat request, before it is framed whole or as chunks.
struct Completion {
    id: String,
    created: i64,
    model: String,
    prompt_tokens: u32,
    completion_tokens: u32,
    text: String,
    finish_reason: &'static str,
    stream: bool,
    /// `stream_options.include_usage`: a last chunk with the usage and no choices.
    include_usage: bool,
}

// ---------------------------------------------------------------------------------------------
// Rendering.

fn render(completion: &Completion) -> Response {
    if completion.stream {
        event_stream(stream_events(completion))
    } else {
        (StatusCode::OK, Json(completion_json(completion))).into_response()
    }
}

/// `chat.completion` as platforms.md gives it.
fn completion_json(completion: &Completion) -> Value {
    json!({
        "id": completion.id,
        "object": "chat.completion",
        "created": completion.created,
        "model": completion.model,
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": completion.text },
            "finish_reason": completion.finish_reason,
        }],
        "usage": usage_json(completion),
    })
}

/// The streamed answer: the text a few words at a time, then a chunk with the `finish_reason`
/// and an empty delta, the usage when asked for, and `[DONE]`.
fn stream_events(completion: &Completion) -> Vec<String> {
    let mut events: Vec<String> = split_into_pieces(&completion.text)
        .iter()
        .map(|piece| {
            let delta = json!({ "role": "assistant", "content": piece });
            chunk_json(completion, json!([choice_delta(delta, None)])).to_string()
        })
        .collect();
    let finished = choice_delta(json!({}), Some(completion.finish_reason));
    events.push(chunk_json(completion, json!([finished])).to_string());
    if completion.include_usage {
        let mut usage_chunk = chunk_json(completion, json!([]));
        usage_chunk["usage"] = usage_json(completion);
        events.push(usage_chunk.to_string());
    }
    events.push("[DONE]".to_owned());
    events
}

fn chunk_json(completion: &Completion, choices: Value) -> Value {
    json!({
        "id": completion.id,
        "object": "chat.completion.chunk",
        "created": completion.created,
        "model": completion.model,
        "choices": choices,
    })
}

fn choice_delta(delta: Value, finish_reason: Option<&str>) -> Value {
    json!({ "index": 0, "delta": delta, "finish_reason": finish_reason })
}

fn usage_json(completion: &Completion) -> Value {
    json!({
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "total_tokens": completion.prompt_tokens.saturating_add(completion.completion_tokens),
    })
}

// ---------------------------------------------------------------------------------------------
// OpenAI's error envelope.

/// `{"error":{"message","type","param","code"}}`, OpenAI's envelope, which clients of all three
/// servers parse (llama.cpp and older vLLM differ slightly; platforms.md names the differences).
struct OpenAiError {
    status: StatusCode,
    message: String,
    kind: &'static str,
    param: Option<String>,
    code: Option<&'static str>,
    retry_after_secs: Option<i64>,
}

impl OpenAiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            kind,
            param: None,
            code: None,
            retry_after_secs: None,
        }
    }

    fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    fn invalid_request(message: impl Into<String>, param: Option<String>) -> Self {
        let mut error = Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message);
        error.param = param;
        error
    }

    fn invalid_api_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "Invalid API key",
        )
        .with_code("invalid_api_key")
    }

    fn model_not_found(model: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("model '{model}' not found"),
        )
        .with_code("model_not_found")
    }

    fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            format!("The request body is larger than {MAX_REQUEST_BYTES} bytes."),
        )
    }

    /// 503 is what a server answers while it loads the model (llama.cpp says "Loading model");
    /// any other 5xx is a plain server error.
    fn server_error(status: StatusCode) -> Self {
        if status == StatusCode::SERVICE_UNAVAILABLE {
            Self::new(status, "unavailable_error", "Loading model")
        } else {
            Self::new(
                status,
                "server_error",
                "The server had an error while processing your request.",
            )
        }
    }

    fn rate_limited(retry_after_secs: i64) -> Self {
        let retry_after_secs = retry_after_secs.max(0);
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "requests",
            format!("Rate limit reached. Please try again in {retry_after_secs}s."),
        )
        .with_code("rate_limit_exceeded");
        error.retry_after_secs = Some(retry_after_secs);
        error
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// A scripted kit failure, as these servers would answer it. An API key neither expires nor is
/// revoked the way a token is; both become the bad-key answer. None of them refuses duplicates
/// (they are stateless), so a scripted duplicate is a generic 409.
fn scripted_refusal(refusal: Refusal) -> Response {
    let error = match refusal {
        Refusal::ServerError(status) => OpenAiError::server_error(status),
        Refusal::RateLimited { reset_in_secs } => OpenAiError::rate_limited(reset_in_secs),
        Refusal::ExpiredToken | Refusal::RevokedToken => OpenAiError::invalid_api_key(),
        Refusal::Validation(message) => OpenAiError::invalid_request(message, None),
        Refusal::Duplicate => OpenAiError::new(
            StatusCode::CONFLICT,
            "invalid_request_error",
            "The request conflicts with one already made.",
        )
        .with_code("conflict"),
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

    const KEY: &str = "sk-sandbox";
    const CHAT: &str = "/v1/chat/completions";
    /// The PNG signature plus a little: enough for the magic-byte check.
    const PNG_BYTES: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn png_data_url() -> String {
        format!("data:image/png;base64,{}", STANDARD.encode(PNG_BYTES))
    }

    fn post(key: Option<&str>, body: String) -> Request<Body> {
        let mut builder = Request::builder()
            .method("POST")
            .uri(CHAT)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(key) = key {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        builder.body(Body::from(body)).unwrap()
    }

    fn models_request(key: Option<&str>) -> Request<Body> {
        let mut builder = Request::builder().uri("/v1/models");
        if let Some(key) = key {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        builder.body(Body::empty()).unwrap()
    }

    fn chat_with(image_url: Value) -> Value {
        json!({
            "model": "llava",
            "messages": [
                { "role": "system", "content": "You write Instagram captions." },
                { "role": "user", "content": [
                    { "type": "text", "text": "A red bicycle against a yellow wall" },
                    { "type": "image_url", "image_url": image_url },
                ]},
            ],
            "temperature": 0.7,
            "max_tokens": 256,
            "stream": false,
        })
    }

    fn caption_chat() -> Value {
        chat_with(json!({ "url": png_data_url() }))
    }

    async fn send_raw(
        fake: &OpenAiCompatFake,
        request: Request<Body>,
    ) -> (StatusCode, HeaderMap, Bytes) {
        let response = fake.router().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        (
            parts.status,
            parts.headers,
            to_bytes(body, usize::MAX).await.unwrap(),
        )
    }

    async fn send(fake: &OpenAiCompatFake, request: Request<Body>) -> (StatusCode, Value) {
        let (status, _, bytes) = send_raw(fake, request).await;
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn chat(fake: &OpenAiCompatFake, body: Value) -> (StatusCode, Value) {
        send(fake, post(None, body.to_string())).await
    }

    fn events_of(bytes: &[u8]) -> Vec<String> {
        std::str::from_utf8(bytes)
            .unwrap()
            .split("\n\n")
            .filter_map(|event| event.strip_prefix("data: "))
            .map(str::to_owned)
            .collect()
    }

    #[tokio::test]
    async fn a_caption_is_made_from_the_prompt_and_the_prompt_is_recorded() {
        let fake = OpenAiCompatFake::new(None);
        let (status, answer) = chat(&fake, caption_chat()).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["object"], "chat.completion");
        assert_eq!(answer["model"], "llava");
        assert!(answer["id"].as_str().unwrap().starts_with("chatcmpl-"));
        let choice = &answer["choices"][0];
        assert_eq!(choice["index"], 0);
        assert_eq!(choice["message"]["role"], "assistant");
        assert_eq!(
            choice["message"]["content"],
            "Sandbox caption for 1 image: A red bicycle against a yellow wall"
        );
        assert_eq!(choice["finish_reason"], "stop");
        let usage = &answer["usage"];
        let prompt = usage["prompt_tokens"].as_u64().unwrap();
        let completion = usage["completion_tokens"].as_u64().unwrap();
        assert!(prompt > u64::from(TOKENS_PER_IMAGE));
        assert_eq!(usage["total_tokens"].as_u64(), Some(prompt + completion));

        let requests = fake.requests();
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(request.model, "llava");
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
        assert_eq!(request.temperature, Some(0.7));
        assert_eq!(request.max_tokens, Some(256));
        assert!(!request.stream);
        assert_eq!(fake.request_count(Endpoint::ChatCompletions), 1);
    }

    #[tokio::test]
    async fn an_image_url_may_be_a_bare_string() {
        let fake = OpenAiCompatFake::new(None);
        let (status, answer) = chat(&fake, chat_with(json!(png_data_url()))).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(fake.requests()[0].image_count(), 1);
    }

    #[tokio::test]
    async fn a_configured_key_is_required_and_an_absent_one_ignored() {
        let fake = OpenAiCompatFake::new(Some(KEY));
        for key in [None, Some("sk-someone-else")] {
            let (status, body) = send(&fake, post(key, caption_chat().to_string())).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?}");
            assert_eq!(
                body,
                json!({ "error": {
                    "message": "Invalid API key",
                    "type": "invalid_request_error",
                    "param": null,
                    "code": "invalid_api_key",
                }})
            );
        }
        let (status, _) = send(&fake, models_request(None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = send(&fake, post(Some(KEY), caption_chat().to_string())).await;
        assert_eq!(status, StatusCode::OK);

        let keyless = OpenAiCompatFake::new(None);
        let (status, _) = send(&keyless, post(Some("anything"), caption_chat().to_string())).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn models_are_listed_and_an_unknown_one_is_not_found() {
        let fake = OpenAiCompatFake::new(None);
        fake.set_models(["qwen2.5vl:7b", "gemma3"]);
        let (status, body) = send(&fake, models_request(None)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["object"], "list");
        let ids: Vec<&str> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|model| model["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["qwen2.5vl:7b", "gemma3"]);
        assert_eq!(body["data"][0]["object"], "model");
        assert_eq!(body["data"][0]["owned_by"], OWNED_BY);
        assert!(body["data"][0]["created"].is_i64());

        let (status, body) = chat(&fake, caption_chat()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            body,
            json!({ "error": {
                "message": "model 'llava' not found",
                "type": "invalid_request_error",
                "param": null,
                "code": "model_not_found",
            }})
        );
        assert!(fake.requests().is_empty());
    }

    #[tokio::test]
    async fn malformed_requests_are_refused_with_what_is_wrong() {
        let fake = OpenAiCompatFake::new(None);
        let remote = chat_with(json!({ "url": "https://example.com/bike.png" }));
        let not_an_image = chat_with(json!(format!(
            "data:image/png;base64,{}",
            STANDARD.encode("<html>")
        )));
        let not_base64 = chat_with(json!("data:image/png;base64,@@@"));
        let cases = [
            (
                json!({ "model": "llava" }),
                "Missing required parameter: 'messages'",
            ),
            (json!({ "model": "llava", "messages": [] }), "too short"),
            (
                json!({ "messages": [{ "role": "user", "content": "hi" }] }),
                "model parameter",
            ),
            (
                json!({ "model": "llava", "messages": [{ "role": "narrator", "content": "hi" }] }),
                "messages[0].role",
            ),
            (
                json!({ "model": "llava", "messages": [{ "role": "user" }] }),
                "messages[0].content",
            ),
            (
                json!({ "model": "llava", "messages": [{ "role": "user", "content": [{ "type": "audio" }] }] }),
                "unsupported content part type 'audio'",
            ),
            (
                json!({ "model": "llava", "messages": "hi" }),
                "Invalid request body",
            ),
            (remote, "not remote URLs"),
            (not_an_image, "not a image/png image"),
            (not_base64, "does not decode"),
        ];
        for (body, expected) in cases {
            let (status, answer) = chat(&fake, body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(answer["error"]["type"], "invalid_request_error", "{body}");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.contains(expected), "{body}: {message}");
        }
        let (status, answer) = send(&fake, post(None, "{\"model\":".to_owned())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(answer["error"]["type"], "invalid_request_error");
        assert!(fake.requests().is_empty());
    }

    #[tokio::test]
    async fn a_reply_over_max_tokens_is_cut_with_finish_reason_length() {
        let fake = OpenAiCompatFake::new(None);
        fake.set_reply(Some(
            "Golden hour on the canal. #amsterdam #bikes".to_owned(),
        ));
        let mut body = caption_chat();
        body["max_tokens"] = json!(3);
        let (status, answer) = chat(&fake, body).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer["choices"][0]["message"]["content"], "Golden hour ");
        assert_eq!(answer["choices"][0]["finish_reason"], "length");
        assert_eq!(answer["usage"]["completion_tokens"], 3);

        fake.set_reply(None);
        let (_, answer) = chat(&fake, caption_chat()).await;
        assert_eq!(answer["choices"][0]["finish_reason"], "stop");
    }

    #[tokio::test]
    async fn streamed_deltas_concatenate_to_the_whole_reply_then_done() {
        let fake = OpenAiCompatFake::new(None);
        let (_, whole) = chat(&fake, caption_chat()).await;
        let mut body = caption_chat();
        body["stream"] = json!(true);
        body["stream_options"] = json!({ "include_usage": true });
        let (status, headers, bytes) = send_raw(&fake, post(None, body.to_string())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "text/event-stream");
        let events = events_of(&bytes);
        let (done, chunks) = events.split_last().unwrap();
        assert_eq!(done, "[DONE]");
        let chunks: Vec<Value> = chunks
            .iter()
            .map(|chunk| serde_json::from_str(chunk).unwrap())
            .collect();
        assert!(chunks.len() > 3, "{} chunks", chunks.len());
        assert!(
            chunks
                .iter()
                .all(|chunk| chunk["object"] == "chat.completion.chunk")
        );
        let streamed: String = chunks
            .iter()
            .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(streamed, whole["choices"][0]["message"]["content"]);
        let (usage, content_chunks) = chunks.split_last().unwrap();
        assert_eq!(usage["usage"], whole["usage"]);
        assert_eq!(
            content_chunks.last().unwrap()["choices"][0]["finish_reason"],
            "stop"
        );
        assert!(fake.requests()[1].stream);
    }

    #[tokio::test]
    async fn scripted_failures_answer_in_openai_s_envelope_in_order() {
        let fake = OpenAiCompatFake::new(None);
        fake.fail_next(
            Endpoint::ChatCompletions,
            [
                Failure::ServerError(503),
                Failure::RateLimited { reset_in_secs: 12 },
            ],
        );
        fake.fail_next(Endpoint::ChatCompletions, [OpenAiCompatFailure::Malformed]);
        assert_eq!(fake.armed(Endpoint::ChatCompletions), 3);

        let (status, body) = chat(&fake, caption_chat()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["error"]["message"], "Loading model");

        let request = post(None, caption_chat().to_string());
        let (status, headers, bytes) = send_raw(&fake, request).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers[header::RETRY_AFTER], "12");
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"]["code"], "rate_limit_exceeded");

        let (status, _, bytes) = send_raw(&fake, post(None, caption_chat().to_string())).await;
        assert_eq!(status, StatusCode::OK);
        assert!(serde_json::from_slice::<Value>(&bytes).is_err());

        let (status, _) = chat(&fake, caption_chat()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(fake.request_count(Endpoint::ChatCompletions), 4);
        assert_eq!(fake.requests().len(), 1, "refusals record nothing");
    }

    #[tokio::test]
    async fn a_dropped_answer_breaks_off_after_half_the_body() {
        let fake = OpenAiCompatFake::new(None);
        fake.fail_next(
            Endpoint::ChatCompletions,
            [Failure::CreatedThenDropped, Failure::CreatedThenDropped],
        );
        let response = fake
            .router()
            .oneshot(post(None, caption_chat().to_string()))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(to_bytes(response.into_body(), usize::MAX).await.is_err());

        let mut body = caption_chat();
        body["stream"] = json!(true);
        let response = fake
            .router()
            .oneshot(post(None, body.to_string()))
            .await
            .unwrap();
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
}
