//! The `/_control` page: a person clicking through `--sandbox` arms a failure for the next
//! publish and watches what Picscripterai does about it, without writing a test.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::pages::{escape_html, page};
use super::request::Params;
use super::script::Failure;

/// One failure the page offers.
#[derive(Debug, Clone)]
pub struct ControlChoice {
    /// The form value.
    pub value: &'static str,
    /// What the person reads: the failure, then what the app should do about it.
    pub label: &'static str,
    pub failure: Failure,
}

/// The failures every platform can show; `validation_message` is the platform's wording of a
/// refused post.
pub fn standard_choices(validation_message: &str) -> Vec<ControlChoice> {
    vec![
        ControlChoice {
            value: "server_error",
            label: "The platform is down (503): retried with backoff",
            failure: Failure::ServerError(503),
        },
        ControlChoice {
            value: "rate_limited",
            label: "Rate limited (429, 30 s): retried after the reset",
            failure: Failure::RateLimited { reset_in_secs: 30 },
        },
        ControlChoice {
            value: "validation",
            label: "Refused as invalid (400): fails; retry it from the Posts page",
            failure: Failure::Validation(validation_message.to_owned()),
        },
        ControlChoice {
            value: "created_then_dropped",
            label: "Published, but the answer is lost: the next attempt finds it",
            failure: Failure::CreatedThenDropped,
        },
        ControlChoice {
            value: "expired_token",
            label: "Token expired (401): refreshed, then retried",
            failure: Failure::ExpiredToken,
        },
        ControlChoice {
            value: "revoked_token",
            label: "Token revoked (401): the account needs a reconnect",
            failure: Failure::RevokedToken,
        },
    ]
}

/// The failure the submitted form picked, if it is one of `choices`.
pub fn chosen_failure(choices: &[ControlChoice], params: &Params) -> Option<Failure> {
    let value = params.get("failure")?;
    choices
        .iter()
        .find(|choice| choice.value == value)
        .map(|choice| choice.failure.clone())
}

/// A link to something the fake holds, newest first on the page.
#[derive(Debug, Clone)]
pub struct Recent {
    /// Relative to the control page.
    pub href: String,
    pub text: String,
}

/// What the control page shows.
#[derive(Debug)]
pub struct Control<'a> {
    pub platform: &'a str,
    /// What a publish makes there: "pin", "post", "video".
    pub item: &'a str,
    pub choices: &'a [ControlChoice],
    /// What this platform alone can do wrong, beyond the failures every platform can show:
    /// `(form value, label)`.
    pub own_choices: &'a [(&'a str, &'a str)],
    /// Failures still queued for the publish endpoint.
    pub armed: usize,
    pub recent: &'a [Recent],
    pub stylesheet: &'a str,
}

pub fn control_page(control: &Control<'_>) -> String {
    let platform = escape_html(control.platform);
    let item = escape_html(control.item);
    let options: String = control
        .choices
        .iter()
        .map(|choice| {
            format!(
                r#"<option value="{}">{}</option>"#,
                escape_html(choice.value),
                escape_html(choice.label)
            )
        })
        .chain(control.own_choices.iter().map(|(value, label)| {
            format!(
                r#"<option value="{}">{}</option>"#,
                escape_html(value),
                escape_html(label)
            )
        }))
        .collect();
    let rows: String = control
        .recent
        .iter()
        .map(|recent| {
            format!(
                r#"<li><a href="{}">{}</a></li>"#,
                escape_html(&recent.href),
                escape_html(&recent.text)
            )
        })
        .collect();
    let body = format!(
        r#"<h1>Sandbox {platform} control</h1>
<p class="hint">Make {platform} misbehave to see what Picscripterai does about it. Failures apply to the next {item}s, in order.</p>
<form method="post">
<label for="failure">Make the next {item}</label>
<select id="failure" name="failure">{options}</select>
<button type="submit" class="primary">Arm this failure</button>
</form>
<p role="status">{armed} failure(s) armed.</p>
<h2>Recent sandbox {item}s</h2>
<ul>{rows}</ul>"#,
        armed = control.armed,
    );
    page(
        &format!("Sandbox {} control", control.platform),
        &body,
        control.stylesheet,
    )
}

/// After arming: back to the page (303, so a reload does not arm again).
pub fn back_to_control() -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, "_control")]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::kit::request::parse_form;

    #[test]
    fn only_offered_failures_can_be_chosen() {
        let choices = standard_choices("Invalid link.");
        assert_eq!(
            chosen_failure(&choices, &parse_form(b"failure=validation")),
            Some(Failure::Validation("Invalid link.".to_owned()))
        );
        assert_eq!(chosen_failure(&choices, &parse_form(b"failure=boom")), None);
        let html = control_page(&Control {
            platform: "Pinterest",
            item: "pin",
            choices: &choices,
            own_choices: &[("slow", "Pins take <a while>")],
            armed: 2,
            recent: &[Recent {
                href: "pin/1/".to_owned(),
                text: "<b>".to_owned(),
            }],
            stylesheet: "sandbox.css",
        });
        assert!(html.contains("2 failure(s) armed."));
        assert!(html.contains(r#"<option value="slow">Pins take &lt;a while&gt;</option>"#));
        assert!(html.contains(r#"<a href="pin/1/">&lt;b&gt;</a>"#));
    }
}
