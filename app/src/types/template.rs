//! Post templates: a saved text with variables and the options a post starts with, and what
//! starting from one gives back. The text keeps `{title}`, `{price}`, `{url}` and `{store}`
//! (filled from a product) and `{date}` (the day the post is made) until a post or an AI
//! Studio session is started from it; any other `{word}` is the person's own and stays.
//!
//! No schedule and no media: a template is what recurs from post to post, and those do not.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ApiError, CaptionRequest, MediaId, NewPost, NewTarget, ProductId, Schedule, Tone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct TemplateId(pub Uuid);

/// The variables a product fills (see [`super::fill_product_variables`]), in the order a note
/// names them.
pub const PRODUCT_VARIABLES: [&str; 4] = ["{title}", "{price}", "{url}", "{store}"];

/// The variable filled with the day a post is made, in its author's time zone.
pub const DATE_VARIABLE: &str = "{date}";

/// A template's name: trimmed, 1 to 80 characters, without control characters. Unique per
/// person whatever its case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct TemplateName(String);

impl TemplateName {
    pub const MAX_CHARS: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(ApiError::validation("name", "Give the template a name."));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(ApiError::validation(
                "name",
                format!("Use at most {} characters.", Self::MAX_CHARS),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(ApiError::validation(
                "name",
                "Remove the control characters.",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TemplateName {
    type Error = ApiError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TemplateName> for String {
    fn from(value: TemplateName) -> Self {
        value.0
    }
}

impl std::fmt::Display for TemplateName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a post from the template starts with besides its text: the accounts (each with its
/// own text, if it differs, and its platform's options, as in a new post) and whether a post
/// about a product is checked before it goes out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TemplateOptions {
    #[serde(default)]
    pub targets: Vec<NewTarget>,
    #[serde(default = "checked_by_default")]
    pub check_product: bool,
}

/// The same default as a new post's.
fn checked_by_default() -> bool {
    true
}

impl Default for TemplateOptions {
    fn default() -> Self {
        Self {
            targets: Vec::new(),
            check_product: checked_by_default(),
        }
    }
}

/// `POST /api/templates` and `PUT /api/templates/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewTemplate {
    /// 1 to 80 characters; no other template of yours may have it, whatever the case.
    pub name: String,
    /// Up to 10,000 characters, variables included.
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub options: TemplateOptions,
}

/// A saved template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Template {
    pub id: TemplateId,
    pub name: TemplateName,
    /// As saved, variables unfilled.
    pub text: String,
    pub options: TemplateOptions,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `POST /api/templates/{id}/start`: the product to fill the variables from, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StartTemplate {
    #[serde(default)]
    pub product: Option<ProductId>,
}

/// A template made ready for a new post or an AI Studio session: its texts with `{date}`
/// filled (and the product's variables, when a product was given), its accounts without
/// those that are gone or must be connected again, and what a person should know about that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TemplateStart {
    pub template_id: TemplateId,
    pub text: String,
    pub options: TemplateOptions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<ProductId>,
    /// Sentences for the person: accounts left out, variables still to fill.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl TemplateStart {
    /// The post this start makes, with the schedule the person picks.
    pub fn new_post(&self, schedule: Schedule, media_ids: Vec<MediaId>) -> NewPost {
        NewPost {
            text: self.text.clone(),
            media_ids,
            targets: self.options.targets.clone(),
            schedule,
            product_id: self.product_id,
            check_product: self.options.check_product,
        }
    }

    /// The captions this start asks the AI Studio for: one per account, with the text as the
    /// person's note to the writer.
    pub fn caption_request(&self, media_ids: Vec<MediaId>, tone: Tone) -> CaptionRequest {
        CaptionRequest {
            media_ids,
            connection_ids: self
                .options
                .targets
                .iter()
                .map(|target| target.connection_id)
                .collect(),
            tone,
            note: (!self.text.trim().is_empty()).then(|| self.text.clone()),
            variant: 0,
            product_id: self.product_id,
        }
    }
}

/// A day as `{date}` writes it: `27 November 2026`.
pub fn written_date(day: NaiveDate) -> String {
    super::long_date(day)
}

/// `text` with `{date}` written as `day`. Other braces are left as written.
pub fn fill_date_variable(text: &str, day: NaiveDate) -> String {
    text.replace(DATE_VARIABLE, &written_date(day))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ConnectionId;

    #[test]
    fn days_are_written_out_in_words() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(written_date(day(2026, 11, 27)), "27 November 2026");
        assert_eq!(written_date(day(2027, 1, 3)), "3 January 2027");
        assert_eq!(written_date(day(2028, 12, 31)), "31 December 2028");
        assert_eq!(
            fill_date_variable("Sale ends {date}! {title} {when}", day(2026, 5, 1)),
            "Sale ends 1 May 2026! {title} {when}"
        );
    }

    #[test]
    fn every_month_has_its_own_name() {
        let names: std::collections::BTreeSet<String> = (1..=12)
            .map(|month| {
                let written = written_date(NaiveDate::from_ymd_opt(2026, month, 1).unwrap());
                let parts: Vec<&str> = written.split(' ').collect();
                assert_eq!(parts.len(), 3, "{written}");
                assert_eq!((parts[0], parts[2]), ("1", "2026"), "{written}");
                parts[1].to_owned()
            })
            .collect();
        assert_eq!(names.len(), 12, "{names:?}");
        assert_eq!(
            written_date(NaiveDate::from_ymd_opt(2026, 9, 9).unwrap()),
            "9 September 2026"
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded_in_characters() {
        assert_eq!(
            TemplateName::parse("  Weekly sale ").unwrap().as_str(),
            "Weekly sale"
        );
        assert_eq!(
            TemplateName::parse("   ").unwrap_err().field(),
            Some("name")
        );
        assert!(TemplateName::parse(&"é".repeat(80)).is_ok());
        assert!(TemplateName::parse(&"é".repeat(81)).is_err());
        assert!(TemplateName::parse("Sale\u{7}").is_err());
        assert!(serde_json::from_str::<TemplateName>("\"\"").is_err());
    }

    #[test]
    fn options_left_out_of_the_body_are_none_with_the_product_checked() {
        let new: NewTemplate = serde_json::from_str(r#"{"name": "Plain"}"#).unwrap();
        assert_eq!(new.text, "");
        assert!(new.options.targets.is_empty());
        assert!(new.options.check_product);
        let start: StartTemplate = serde_json::from_str("{}").unwrap();
        assert_eq!(start.product, None);
    }

    #[test]
    fn a_start_becomes_a_post_and_a_caption_request_alike() {
        let account = ConnectionId(Uuid::from_u128(7));
        let product = ProductId(Uuid::from_u128(9));
        let start = TemplateStart {
            template_id: TemplateId(Uuid::from_u128(1)),
            text: "Mug, $24.00".into(),
            options: TemplateOptions {
                targets: vec![NewTarget {
                    connection_id: account,
                    text: None,
                    options: Default::default(),
                }],
                check_product: false,
            },
            product_id: Some(product),
            notes: Vec::new(),
        };
        let media = vec![MediaId(Uuid::from_u128(3))];
        let post = start.new_post(Schedule::DRAFT, media.clone());
        assert_eq!(post.text, "Mug, $24.00");
        assert_eq!(post.targets[0].connection_id, account);
        assert_eq!(post.product_id, Some(product));
        assert!(!post.check_product);
        assert_eq!(post.media_ids, media);

        let request = start.caption_request(media, Tone::default());
        assert_eq!(request.connection_ids, vec![account]);
        assert_eq!(request.note.as_deref(), Some("Mug, $24.00"));
        assert_eq!(request.product_id, Some(product));
        let blank = TemplateStart {
            text: "  ".into(),
            ..start
        };
        assert_eq!(
            blank.caption_request(Vec::new(), Tone::default()).note,
            None
        );
    }
}
