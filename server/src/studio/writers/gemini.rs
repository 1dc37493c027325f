//! Google Gemini, as `shared/platforms.md` section 11 describes it: `streamGenerateContent`
//! with `alt=sse`, the photos inline, the key in `x-goog-api-key`. Safety blocks arrive as
//! answers, not errors; quota and key problems as Google's error envelope.

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

const NAME: &str = "Gemini";
/// Gemini's models think before they answer, and thinking spends output tokens: room for that
/// and for the longest caption (counted loosely at a token for every two characters).
const THINKING_TOKENS: usize = 1_024;

pub struct GeminiWriter {
    http: reqwest::Client,
    silence: Duration,
    /// Up to the host, e.g. `https://generativelanguage.googleapis.com`.
    base_url: String,
    model: String,
    key: SecretString,
}

impl GeminiWriter {
    pub fn new(base_url: &str, model: &str, key: SecretString) -> Self {
        Self {
            http: client(SILENCE),
            silence: SILENCE,
            base_url: base_url.trim_end_matches('/').to_owned(),
            model: model.trim().trim_start_matches("models/").to_owned(),
            key,
        }
    }

    /// Gives up on a server silent for `silence` (default [`SILENCE`]).
    pub fn silent_after(mut self, silence: Duration) -> Self {
        self.http = client(silence);
        self.silence = silence;
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1beta/{path}", self.base_url)
    }
}

#[async_trait]
impl CaptionWriter for GeminiWriter {
    fn name(&self) -> &'static str {
        NAME
    }

    fn provider(&self) -> CaptionProvider {
        CaptionProvider::Gemini
    }

    async fn write(&self, brief: &CaptionBrief) -> Result<Pieces, WriterError> {
        let prompt = caption_prompt(brief);
        let mut parts = vec![json!({ "text": prompt.user })];
        parts.extend(brief.images.iter().map(|image| {
            json!({ "inline_data": { "mime_type": image.mime, "data": base64_of(&image.bytes) } })
        }));
        let body = json!({
            "systemInstruction": { "parts": [{ "text": prompt.system }] },
            "contents": [{ "role": "user", "parts": parts }],
            "generationConfig": {
                "temperature": 0.9,
                "maxOutputTokens": THINKING_TOKENS + brief.rules.max_length / 2,
            },
        });
        let url = self.url(&format!("models/{}:streamGenerateContent", self.model));
        let response = self
            .http
            .post(&url)
            .query(&[("alt", "sse")])
            .header("x-goog-api-key", self.key.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(|error| transport_error(NAME, &self.base_url, self.silence, &error))?;
        if !response.status().is_success() {
            return Err(refusal(response, &self.model).await);
        }
        streamed_pieces(NAME, response, self.silence, None, piece_of)
    }

    async fn models(&self) -> Result<Vec<String>, WriterError> {
        let response = self
            .http
            .get(self.url("models"))
            .header("x-goog-api-key", self.key.expose_secret())
            .send()
            .await
            .map_err(|error| transport_error(NAME, &self.base_url, self.silence, &error))?;
        if !response.status().is_success() {
            return Err(refusal(response, &self.model).await);
        }
        let listed: ModelList = response.json().await.map_err(|error| unreadable(&error))?;
        Ok(listed
            .models
            .into_iter()
            .map(|model| model.name.trim_start_matches("models/").to_owned())
            .collect())
    }
}

#[derive(Deserialize)]
struct ModelList {
    #[serde(default)]
    models: Vec<ListedModel>,
}

#[derive(Deserialize)]
struct ListedModel {
    name: String,
}

/// One streamed `GenerateContentResponse`: its text, or the block that ended it.
fn piece_of(data: &str) -> Result<String, WriterError> {
    let chunk: Value = serde_json::from_str(data).map_err(|_| WriterError::Unreadable {
        writer: NAME,
        detail: "a streamed piece was not JSON".to_owned(),
    })?;
    if let Some(reason) = chunk["promptFeedback"]["blockReason"].as_str() {
        return Err(blocked(&format!("the request was blocked: {reason}")));
    }
    let candidate = &chunk["candidates"][0];
    let text: String = candidate["content"]["parts"]
        .as_array()
        .map(|parts| {
            parts
                .iter()
                .filter_map(|part| part["text"].as_str())
                .collect()
        })
        .unwrap_or_default();
    match candidate["finishReason"].as_str() {
        Some(reason @ ("SAFETY" | "RECITATION" | "PROHIBITED_CONTENT" | "BLOCKLIST" | "SPII")) => {
            Err(blocked(&format!("the answer was blocked: {reason}")))
        }
        _ => Ok(text),
    }
}

fn blocked(reason: &str) -> WriterError {
    WriterError::Blocked {
        writer: NAME,
        reason: reason.to_owned(),
    }
}

fn unreadable(error: &reqwest::Error) -> WriterError {
    WriterError::Unreadable {
        writer: NAME,
        detail: error.to_string(),
    }
}

/// Google's error envelope, sorted into what the person can do about it.
async fn refusal(response: reqwest::Response, model: &str) -> WriterError {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let error = &body["error"];
    let message = error["message"]
        .as_str()
        .unwrap_or("no reason given")
        .to_owned();
    let details = error["details"].as_array().cloned().unwrap_or_default();
    let reason_is = |wanted: &str| {
        details
            .iter()
            .any(|detail| detail["reason"].as_str() == Some(wanted))
    };
    match (status, error["status"].as_str().unwrap_or_default()) {
        (429, _) | (_, "RESOURCE_EXHAUSTED") => {
            let daily = details.iter().any(|detail| {
                detail["violations"].as_array().is_some_and(|violations| {
                    violations.iter().any(|violation| {
                        violation["quotaId"]
                            .as_str()
                            .is_some_and(|quota| quota.contains("PerDay"))
                    })
                })
            });
            if daily {
                WriterError::DailyQuota { writer: NAME }
            } else {
                WriterError::RateLimited {
                    writer: NAME,
                    wait: retry_delay(&details),
                }
            }
        }
        (401 | 403, _) | (_, "PERMISSION_DENIED" | "UNAUTHENTICATED") => WriterError::BadKey {
            writer: NAME,
            detail: format!(": {message}"),
        },
        (400, _) if reason_is("API_KEY_INVALID") => WriterError::BadKey {
            writer: NAME,
            detail: format!(": {message}"),
        },
        (404, _) => WriterError::UnknownModel {
            writer: NAME,
            model: model.to_owned(),
        },
        (500.., _) => WriterError::Unavailable {
            writer: NAME,
            detail: message,
        },
        _ => WriterError::Refused {
            writer: NAME,
            message,
        },
    }
}

/// `google.rpc.RetryInfo`'s `retryDelay` ("27s", "1.5s").
fn retry_delay(details: &[Value]) -> Option<Duration> {
    details.iter().find_map(|detail| {
        let delay = detail["retryDelay"].as_str()?;
        let secs: f64 = delay.strip_suffix('s')?.parse().ok()?;
        (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_delay_is_read_in_seconds() {
        let details = vec![
            json!({ "@type": "type.googleapis.com/google.rpc.QuotaFailure" }),
            json!({ "@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "27s" }),
        ];
        assert_eq!(retry_delay(&details), Some(Duration::from_secs(27)));
        assert_eq!(retry_delay(&[]), None);
    }

    #[test]
    fn a_streamed_piece_is_its_text_or_its_block() {
        let piece = r#"{"candidates":[{"content":{"parts":[{"text":"Blue "},{"text":"mugs"}]}}]}"#;
        assert_eq!(piece_of(piece).unwrap(), "Blue mugs");
        let blocked = r#"{"candidates":[{"finishReason":"SAFETY","index":0}]}"#;
        assert!(matches!(
            piece_of(blocked),
            Err(WriterError::Blocked { .. })
        ));
        let prompt = r#"{"promptFeedback":{"blockReason":"OTHER"}}"#;
        assert!(matches!(piece_of(prompt), Err(WriterError::Blocked { .. })));
        let cut = r#"{"candidates":[{"content":{"parts":[{"text":"Blue"}]},"finishReason":"MAX_TOKENS"}]}"#;
        assert_eq!(piece_of(cut).unwrap(), "Blue");
    }
}
