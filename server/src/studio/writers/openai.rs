//! Any OpenAI-compatible chat server (Ollama, llama.cpp's `llama-server`, vLLM), as
//! `shared/platforms.md` section 12 describes them: `/chat/completions` streamed, the photos as
//! `data:` URLs, a key only when one is set. The base URL is the user's and ends in `/v1`.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use app::types::CaptionProvider;

use super::{
    CaptionWriter, Pieces, SILENCE, WriterError, base64_of, client, streamed_pieces,
    transport_error,
};
use crate::studio::brief::CaptionBrief;
use crate::studio::prompt::caption_prompt;

const NAME: &str = "The model server";
/// The end of a streamed answer.
const DONE: &str = "[DONE]";

pub struct OpenAiCompatWriter {
    http: reqwest::Client,
    silence: Duration,
    /// As configured, e.g. `http://localhost:11434/v1`.
    base_url: String,
    model: String,
    key: Option<SecretString>,
}

impl OpenAiCompatWriter {
    pub fn new(base_url: &str, model: &str, key: Option<SecretString>) -> Self {
        Self {
            http: client(SILENCE),
            silence: SILENCE,
            base_url: base_url.trim_end_matches('/').to_owned(),
            model: model.trim().to_owned(),
            key: key.filter(|key| !key.expose_secret().trim().is_empty()),
        }
    }

    /// Gives up on a server silent for `silence` (default [`SILENCE`]).
    pub fn silent_after(mut self, silence: Duration) -> Self {
        self.http = client(silence);
        self.silence = silence;
        self
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        match &self.key {
            Some(key) => request.bearer_auth(key.expose_secret()),
            None => request,
        }
    }
}

#[async_trait]
impl CaptionWriter for OpenAiCompatWriter {
    fn name(&self) -> &'static str {
        NAME
    }

    fn provider(&self) -> CaptionProvider {
        CaptionProvider::OpenAiCompatible
    }

    async fn write(&self, brief: &CaptionBrief) -> Result<Pieces, WriterError> {
        let prompt = caption_prompt(brief);
        let mut content = vec![json!({ "type": "text", "text": prompt.user })];
        content.extend(brief.images.iter().map(|image| {
            let url = format!("data:{};base64,{}", image.mime, base64_of(&image.bytes));
            json!({ "type": "image_url", "image_url": { "url": url } })
        }));
        let body = json!({
            "model": self.model,
            "messages": [
                { "role": "system", "content": prompt.system },
                { "role": "user", "content": content },
            ],
            "temperature": 0.9,
            "max_tokens": 256 + brief.rules.max_length / 2,
            "stream": true,
        });
        let response = self
            .request(reqwest::Method::POST, "/chat/completions")
            .json(&body)
            .send()
            .await
            .map_err(|error| transport_error(NAME, &self.base_url, self.silence, &error))?;
        if !response.status().is_success() {
            return Err(refusal(response, &self.model).await);
        }
        streamed_pieces(NAME, response, self.silence, Some(DONE), piece_of)
    }

    async fn models(&self) -> Result<Vec<String>, WriterError> {
        let response = self
            .request(reqwest::Method::GET, "/models")
            .send()
            .await
            .map_err(|error| transport_error(NAME, &self.base_url, self.silence, &error))?;
        if !response.status().is_success() {
            return Err(refusal(response, &self.model).await);
        }
        let listed: ModelList = response
            .json()
            .await
            .map_err(|error| WriterError::Unreadable {
                writer: NAME,
                detail: error.to_string(),
            })?;
        Ok(listed.data.into_iter().map(|model| model.id).collect())
    }
}

#[derive(Deserialize)]
struct ModelList {
    #[serde(default)]
    data: Vec<ListedModel>,
}

#[derive(Deserialize)]
struct ListedModel {
    id: String,
}

/// One `chat.completion.chunk`: the text its first choice adds (none for a usage chunk).
fn piece_of(data: &str) -> Result<String, WriterError> {
    let chunk: Value = serde_json::from_str(data).map_err(|_| WriterError::Unreadable {
        writer: NAME,
        detail: "a streamed piece was not JSON".to_owned(),
    })?;
    if let Some(message) = chunk["error"]["message"].as_str() {
        return Err(WriterError::Unavailable {
            writer: NAME,
            detail: message.to_owned(),
        });
    }
    Ok(chunk["choices"][0]["delta"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// The server's error, in OpenAI's envelope or llama.cpp's or older vLLM's, sorted into what the
/// person can do about it.
async fn refusal(response: reqwest::Response, model: &str) -> WriterError {
    let status = response.status().as_u16();
    let wait = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let message = body["error"]["message"]
        .as_str()
        .or_else(|| body["message"].as_str())
        .unwrap_or("no reason given")
        .to_owned();
    match status {
        401 | 403 => WriterError::BadKey {
            writer: NAME,
            detail: format!(": {message}"),
        },
        404 => WriterError::UnknownModel {
            writer: NAME,
            model: model.to_owned(),
        },
        429 => WriterError::RateLimited { writer: NAME, wait },
        500.. => WriterError::Unavailable {
            writer: NAME,
            detail: message,
        },
        _ => WriterError::Refused {
            writer: NAME,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_is_its_deltas_text() {
        let chunk = r#"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Blue "}}]}"#;
        assert_eq!(piece_of(chunk).unwrap(), "Blue ");
        let usage = r#"{"object":"chat.completion.chunk","choices":[],"usage":{"total_tokens":9}}"#;
        assert_eq!(piece_of(usage).unwrap(), "");
        assert!(piece_of("not json").is_err());
    }
}
