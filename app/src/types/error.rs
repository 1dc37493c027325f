//! `ApiError`: the one error that reaches a client, from a REST handler or a server function.
//!
//! It carries what a person can act on and nothing internal: a database or library message
//! never ends up here (the server logs those with the request id and sends `Internal`).

use http::StatusCode;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ApiError {
    /// 422: one input field is wrong; `field` names it so a form can show the message beside it.
    #[error("{message}")]
    Validation { field: String, message: String },
    /// 400: the request itself could not be read (malformed JSON, wrong types, missing fields).
    #[error("{message}")]
    BadRequest { message: String },
    /// 401: no session, or an expired or revoked one.
    #[error("Please sign in to continue.")]
    Unauthorized,
    /// 401: sign-in failed. The same message whether or not the email has an account.
    #[error("The email or password is not correct.")]
    InvalidCredentials,
    /// 403: signed in, but this is not yours.
    #[error("You do not have access to this.")]
    Forbidden,
    /// 404
    #[error("Not found.")]
    NotFound,
    /// 409: the thing already exists (an account with this email, say).
    #[error("{message}")]
    Conflict { message: String },
    /// 413
    #[error("The request is too large: the limit is {limit_bytes} bytes.")]
    PayloadTooLarge { limit_bytes: u64 },
    /// 429: sent with a `Retry-After` header of the same number of seconds.
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    /// 405: the path exists but not for this HTTP method; sent with an `Allow` header.
    #[error("This address does not accept that HTTP method.")]
    MethodNotAllowed,
    /// 403: a state-changing request sent by another site's page (login CSRF and the like).
    #[error(
        "This request came from another website and was refused. Open Picscripterai itself and try again."
    )]
    CrossSite,
    /// 503: a dependency (database, Redis) is down or busy; sent with a `Retry-After` header.
    #[error(
        "The service is temporarily unavailable. Please try again in {retry_after_secs} seconds."
    )]
    Unavailable { retry_after_secs: u64 },
    /// 503: the request took longer than its route group allows and was stopped.
    #[error("The request took too long and was stopped. Please try again.")]
    TimedOut,
    /// 502: another company's service (a social platform, a store) refused or failed; the
    /// message says what it said, in words a person can act on.
    #[error("{message}")]
    Upstream { message: String },
    /// 500: logged on the server under `request_id`; the client only gets the id.
    #[error("Something went wrong on our side{}.", request_id.as_ref().map(|id| format!(" (request {id})")).unwrap_or_default())]
    Internal { request_id: Option<String> },
}

impl ApiError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
        }
    }

    /// The stable, machine-readable code of the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation { .. } => "validation",
            Self::BadRequest { .. } => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict { .. } => "conflict",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::RateLimited { .. } => "rate_limited",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::CrossSite => "cross_site",
            Self::Unavailable { .. } => "unavailable",
            Self::TimedOut => "timed_out",
            Self::Upstream { .. } => "upstream",
            Self::Internal { .. } => "internal",
        }
    }

    /// The only mapping from error to HTTP status, used by REST handlers and server functions.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::CrossSite => StatusCode::FORBIDDEN,
            Self::Unavailable { .. } | Self::TimedOut => StatusCode::SERVICE_UNAVAILABLE,
            Self::Upstream { .. } => StatusCode::BAD_GATEWAY,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Seconds the client should wait before retrying, sent as `Retry-After`.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_secs } | Self::Unavailable { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            _ => None,
        }
    }

    /// The one JSON form of an error: its serde fields (`code` and the variant's data, such as
    /// `field` or `retry_after_secs`) plus the human `message`. Server functions send exactly
    /// this object; the REST API sends it as `{"error": …}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("an ApiError always serialises");
        value["message"] = self.to_string().into();
        value
    }

    /// The field a form should show this message beside, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Validation { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    /// The same JSON form as the REST API's (`to_json`), so both carry the message and data.
    fn ser(&self) -> leptos::server_fn::Bytes {
        self.to_json().to_string().into()
    }

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // Every variant decided on its own, so a new one in server_fn forces a decision here.
        match value {
            // Arguments that did not decode are the caller's mistake, like malformed JSON.
            ServerFnErrorErr::Args(message) => Self::BadRequest { message },
            ServerFnErrorErr::MissingArg(name) => Self::BadRequest {
                message: format!("The request is missing `{name}`."),
            },
            // The browser could not reach the server: worth retrying in a moment.
            ServerFnErrorErr::Request(_) => Self::Unavailable {
                retry_after_secs: 5,
            },
            // Bugs on one side or the other (or a client and server of different versions).
            ServerFnErrorErr::Registration(_)
            | ServerFnErrorErr::UnsupportedRequestMethod(_)
            | ServerFnErrorErr::ServerError(_)
            | ServerFnErrorErr::MiddlewareError(_)
            | ServerFnErrorErr::Deserialization(_)
            | ServerFnErrorErr::Serialization(_)
            | ServerFnErrorErr::Response(_) => Self::Internal { request_id: None },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_with_a_snake_case_code_tag() {
        let json = serde_json::to_value(ApiError::RateLimited {
            retry_after_secs: 7,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "rate_limited", "retry_after_secs": 7})
        );
        let back: ApiError = serde_json::from_value(json).unwrap();
        assert_eq!(
            back,
            ApiError::RateLimited {
                retry_after_secs: 7
            }
        );
    }

    #[test]
    fn code_matches_the_serde_tag_for_every_variant() {
        let all = [
            ApiError::validation("email", "x"),
            ApiError::bad_request("x"),
            ApiError::Unauthorized,
            ApiError::InvalidCredentials,
            ApiError::Forbidden,
            ApiError::NotFound,
            ApiError::Conflict {
                message: "x".into(),
            },
            ApiError::PayloadTooLarge { limit_bytes: 1 },
            ApiError::RateLimited {
                retry_after_secs: 1,
            },
            ApiError::MethodNotAllowed,
            ApiError::CrossSite,
            ApiError::Unavailable {
                retry_after_secs: 1,
            },
            ApiError::TimedOut,
            ApiError::Internal { request_id: None },
        ];
        for error in all {
            let json = serde_json::to_value(&error).unwrap();
            assert_eq!(json["code"], error.code(), "{error:?}");
        }
    }

    #[test]
    fn the_json_form_carries_the_data_and_the_message() {
        let json = ApiError::Unavailable {
            retry_after_secs: 3,
        }
        .to_json();
        assert_eq!(json["code"], "unavailable");
        assert_eq!(json["retry_after_secs"], 3);
        assert!(json["message"].as_str().unwrap().contains("3 seconds"));
        // A client that reads the JSON form gets the same error back.
        let back: ApiError = serde_json::from_value(json).unwrap();
        assert_eq!(
            back,
            ApiError::Unavailable {
                retry_after_secs: 3
            }
        );
        let unit: ApiError = serde_json::from_value(ApiError::Unauthorized.to_json()).unwrap();
        assert_eq!(unit, ApiError::Unauthorized);
    }

    #[test]
    fn internal_message_names_the_request_but_nothing_else() {
        let error = ApiError::Internal {
            request_id: Some("abc".into()),
        };
        assert_eq!(
            error.to_string(),
            "Something went wrong on our side (request abc)."
        );
    }
}
