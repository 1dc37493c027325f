//! The choices a chosen account's posts take beyond text and media (a Pinterest board, a
//! title), drawn from the fields its platform describes (`GET /api/connections/{id}/options`).
//! The fields are asked for when the account is first chosen; the answers become the target's
//! `options`.
//!
//! The server writes the fields as escaped HTML (`option_fields_html`), and one change listener
//! on their container reads the changed control's `name` and `value`, rather than the browser
//! reading the fields and drawing a view per kind: every byte here is in the composer's first
//! load, and that way costs about fifteen kilobytes more, which the 250 KB page-weight budget
//! has no room for.

use leptos::prelude::*;

use crate::api::connections::option_fields_html;
use crate::types::{ConnectionId, OptionField, OptionKind, PostOptions, TargetOptions};

/// An account's option fields (as HTML), and why they could not be had.
#[derive(Debug, Clone, Copy)]
pub struct OptionFields {
    html: RwSignal<String>,
    problem: RwSignal<Option<String>>,
    asked: StoredValue<bool>,
}

impl OptionFields {
    pub fn new() -> Self {
        Self {
            html: RwSignal::new(String::new()),
            problem: RwSignal::new(None),
            asked: StoredValue::new(false),
        }
    }

    /// Asks for `connection`'s fields, once, showing the answers in `current`.
    pub fn load(self, connection: ConnectionId, handle: String, current: TargetOptions) {
        if self.asked.get_value() {
            return;
        }
        self.asked.set_value(true);
        leptos::task::spawn_local(async move {
            match option_fields_html(connection, handle, current).await {
                Ok(html) => self.html.set(html),
                Err(error) => self.problem.set(Some(error.to_string())),
            }
        });
    }
}

impl Default for OptionFields {
    fn default() -> Self {
        Self::new()
    }
}

/// The fields of one chosen account, once loaded.
pub fn options_form(loaded: OptionFields, options: RwSignal<TargetOptions>) -> impl IntoView {
    let html = move || loaded.html.get();
    view! {
        {move || {
            loaded
                .problem
                .get()
                .map(|problem| view! { <p class="field-error" role="alert">{problem}</p> })
        }}
        <div inner_html=html on:change=move |ev| changed(options, &ev) on:input=move |ev| changed(options, &ev)></div>
    }
}

/// Sets the option a control names to its value, or removes it when empty.
fn changed(options: RwSignal<TargetOptions>, ev: &leptos::ev::Event) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(control) = ev
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let Some(name) = control.get_attribute("name") else {
            return;
        };
        let value = js_sys::Reflect::get(&control, &"value".into())
            .ok()
            .and_then(|value| value.as_string())
            .unwrap_or_default();
        options.update(|options| {
            if value.trim().is_empty() {
                options.remove(&name);
            } else {
                options.insert(name, value);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (options, ev);
}

/// The fields as HTML, each showing its answer in `current`; `handle` (`@shop`) goes into each
/// label. Written on the server.
pub fn fields_html(
    connection: ConnectionId,
    handle: &str,
    options: &PostOptions,
    current: &TargetOptions,
) -> String {
    let notice = options
        .notice
        .as_deref()
        .map(|notice| {
            format!(
                r#"<p class="field-error" role="note">{}</p>"#,
                escape(notice)
            )
        })
        .unwrap_or_default();
    let fields: String = options
        .fields
        .iter()
        .map(|field| field_html(connection, handle, field, current))
        .collect();
    notice + &fields
}

/// One field as HTML: its label, its input or list, its help. Every text from the platform
/// (board names, say) is escaped.
fn field_html(
    connection: ConnectionId,
    handle: &str,
    field: &OptionField,
    current: &TargetOptions,
) -> String {
    let id = format!("option-{}-{}", connection.0, escape(&field.name));
    let name = escape(&field.name);
    let required = if field.required { " (required)" } else { "" };
    let value = current.get(&field.name).map(String::as_str).unwrap_or("");
    let control = match field.kind {
        OptionKind::Text => format!(
            r#"<input id="{id}" name="{name}" class="field-input" type="text" maxlength="{}" value="{}">"#,
            field.max_chars.unwrap_or(10_000),
            escape(value)
        ),
        OptionKind::Choice => {
            let choices: String = field
                .choices
                .iter()
                .map(|choice| {
                    format!(
                        r#"<option value="{}"{}>{}</option>"#,
                        escape(&choice.value),
                        if choice.value == value {
                            " selected"
                        } else {
                            ""
                        },
                        escape(&choice.label)
                    )
                })
                .collect();
            format!(
                r#"<select id="{id}" name="{name}" class="field-input"><option value="">Choose…</option>{choices}</select>"#
            )
        }
    };
    let help = field
        .help
        .as_deref()
        .map(|help| format!(r#"<p class="field-hint">{}</p>"#, escape(help)))
        .unwrap_or_default();
    format!(
        r#"<div class="field"><label for="{id}" class="field-label">{} for {}{required}</label>{control}{help}</div>"#,
        escape(&field.label),
        escape(handle)
    )
}

/// Text made safe inside HTML content and double-quoted attributes.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::OptionChoice;

    #[test]
    fn a_platforms_texts_cannot_become_markup() {
        let field = OptionField::choice(
            "board_id",
            "Board",
            vec![OptionChoice {
                value: "1\"><script>".into(),
                label: "<b>Mugs</b> & more".into(),
            }],
        );
        let html = field_html(
            ConnectionId(uuid::Uuid::nil()),
            "@shop",
            &field,
            &TargetOptions::new(),
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(
            html.contains("&lt;b&gt;Mugs&lt;/b&gt; &amp; more"),
            "{html}"
        );
        assert!(html.contains(r#"<label for="option-00000000-0000-0000-0000-000000000000-board_id" class="field-label">Board for @shop</label>"#), "{html}");
    }

    #[test]
    fn the_current_answer_is_shown() {
        let mut current = TargetOptions::new();
        current.insert("board_id".into(), "2".into());
        current.insert("title".into(), "Mug \"blue\"".into());
        let board = OptionField::choice(
            "board_id",
            "Board",
            vec![
                OptionChoice {
                    value: "1".into(),
                    label: "One".into(),
                },
                OptionChoice {
                    value: "2".into(),
                    label: "Two".into(),
                },
            ],
        )
        .required();
        let id = ConnectionId(uuid::Uuid::nil());
        let html = field_html(id, "@shop", &board, &current);
        assert!(
            html.contains(r#"<option value="2" selected>Two</option>"#),
            "{html}"
        );
        assert!(html.contains("Board for @shop (required)"), "{html}");
        let title = OptionField::text("title", "Pin title", 100);
        let html = field_html(id, "@shop", &title, &current);
        assert!(
            html.contains(r#"maxlength="100" value="Mug &quot;blue&quot;""#),
            "{html}"
        );
    }

    #[test]
    fn a_notice_comes_first_and_escaped() {
        let options = PostOptions {
            fields: vec![OptionField::text("title", "Title", 90)],
            notice: Some("TikTok cannot reach <this app>".into()),
        };
        let html = fields_html(
            ConnectionId(uuid::Uuid::nil()),
            "@shop",
            &options,
            &TargetOptions::default(),
        );
        assert!(
            html.starts_with(
                r#"<p class="field-error" role="note">TikTok cannot reach &lt;this app&gt;</p>"#
            ),
            "{html}"
        );
        assert!(html.contains("Title for @shop"), "{html}");
    }
}
