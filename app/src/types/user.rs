//! Users and the checked values they are made of. Each checked type has one constructor,
//! `parse`, so an invalid email, password, name or time zone cannot exist past the edge.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct UserId(pub Uuid);

/// An account as its owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub display_name: Option<DisplayName>,
    pub time_zone: TimeZoneName,
    pub created_at: DateTime<Utc>,
}

/// An email address, trimmed and lower-cased so that one person has one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// RFC 5321 caps a forward path at 256 octets including the angle brackets.
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let email = lower_case(raw.trim());
        let invalid = |message: &str| Err(ApiError::validation("email", message));
        if email.is_empty() {
            return invalid("Enter your email address.");
        }
        if email.chars().any(char::is_control) {
            return invalid("Remove the control characters from the email address.");
        }
        if email.len() > Self::MAX_LEN {
            return invalid("That email address is too long.");
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return invalid("Enter an email address like name@example.com.");
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty() || !domain_ok || email.chars().any(char::is_whitespace) {
            return invalid("Enter an email address like name@example.com.");
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `text` lower-cased. In the browser by JavaScript's `toLowerCase` (the same Unicode rules):
/// Rust's case tables would add kilobytes to every page's code for the emails it decodes.
fn lower_case(text: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        String::from(js_sys::JsString::from(text).to_lower_case())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        text.to_lowercase()
    }
}

impl TryFrom<String> for Email {
    type Error = ApiError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password that meets the rules. Deliberately neither `Serialize` nor `Debug`-printable:
/// it only ever travels inward, to the hasher.
pub struct Password(String);

impl Password {
    /// NIST SP 800-63B asks for at least 8 characters.
    pub const MIN_CHARS: usize = 8;
    /// Bounds the work one request can make the hasher do.
    pub const MAX_CHARS: usize = 128;

    pub fn parse(field: &str, raw: String) -> Result<Self, ApiError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(ApiError::validation(
                field,
                format!("Use at least {} characters.", Self::MIN_CHARS),
            ));
        }
        if chars > Self::MAX_CHARS {
            return Err(ApiError::validation(
                field,
                format!("Use at most {} characters.", Self::MAX_CHARS),
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err(ApiError::validation(
                field,
                "Use letters, digits, spaces and symbols only, not control characters.",
            ));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// A password as someone typed it to prove who they are (signing in, confirming a change).
/// Unchecked, since any string may be tried, but just as secret: its `Debug` is redacted and it
/// cannot be serialised, so it never reaches a log line or a response.
pub struct EnteredPassword(String);

impl EnteredPassword {
    pub fn new(raw: String) -> Self {
        Self(raw)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for EnteredPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnteredPassword([redacted])")
    }
}

/// The name shown in the app instead of the email. Trimmed; empty means "none".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 80;

    pub fn parse(raw: &str) -> Result<Option<Self>, ApiError> {
        let name = raw.trim();
        if name.is_empty() {
            return Ok(None);
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(ApiError::validation(
                "display_name",
                format!("Use at most {} characters.", Self::MAX_CHARS),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(ApiError::validation(
                "display_name",
                "Remove the control characters.",
            ));
        }
        Ok(Some(Self(name.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = ApiError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)?.ok_or_else(|| ApiError::validation("display_name", "Enter a name."))
    }
}

impl From<DisplayName> for String {
    fn from(value: DisplayName) -> Self {
        value.0
    }
}

/// An IANA time zone name such as `Europe/Berlin`, checked against the tz database.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(String);

impl TimeZoneName {
    /// Checks `raw` against the tz database. The database lives on the server only (it would
    /// add about 100 KB to the browser's wasm); in the browser a name is taken as the server
    /// sent it, and anything the browser sends is checked here on the server.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let name = raw.trim();
        let unknown = || {
            ApiError::validation(
                "time_zone",
                format!(
                    "\u{201c}{name}\u{201d} is not a time zone. Pick one from the list, like Europe/Berlin."
                ),
            )
        };
        #[cfg(feature = "ssr")]
        {
            name.parse::<chrono_tz::Tz>()
                .map(|tz| Self(tz.name().to_owned()))
                .map_err(|_| unknown())
        }
        #[cfg(not(feature = "ssr"))]
        {
            if name.is_empty() || name.chars().any(char::is_control) {
                return Err(unknown());
            }
            Ok(Self(name.to_owned()))
        }
    }

    /// What a form or a JSON body sends: nothing (or blanks) means UTC, anything else must be
    /// a real zone. The one rule for the UI and the REST API alike.
    pub fn parse_or_utc(raw: Option<&str>) -> Result<Self, ApiError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(Self::utc()),
            Some(name) => Self::parse(name),
        }
    }

    pub fn utc() -> Self {
        Self("UTC".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The zone's rules. The name was checked against the tz database when it was saved; UTC
    /// only guards against a row changed by hand.
    #[cfg(feature = "ssr")]
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0.parse().unwrap_or(chrono_tz::Tz::UTC)
    }

    /// `at` on this zone's clock, as a `datetime-local` field holds it: `YYYY-MM-DDTHH:MM`.
    #[cfg(feature = "ssr")]
    pub fn local_input(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz())
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    }

    /// Every name in the tz database, for pickers (the browser gets the list from the server).
    #[cfg(feature = "ssr")]
    pub fn all() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = ApiError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TimeZoneName> for String {
    fn from(value: TimeZoneName) -> Self {
        value.0
    }
}

/// What the settings page may change about a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProfileUpdate {
    pub display_name: Option<DisplayName>,
    pub time_zone: TimeZoneName,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ana@Example.COM ").unwrap().as_str(),
            "ana@example.com"
        );
    }

    #[test]
    fn emails_without_a_proper_domain_are_rejected() {
        for raw in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "ana@.com",
            "ana@example..com",
            "a na@example.com",
        ] {
            let error = Email::parse(raw).unwrap_err();
            assert_eq!(error.field(), Some("email"), "{raw:?}");
        }
    }

    #[test]
    fn passwords_are_bounded_in_characters_not_bytes() {
        assert!(Password::parse("password", "short".into()).is_err());
        assert!(Password::parse("password", "ééééééé".into()).is_err());
        assert!(Password::parse("password", "éééééééé".into()).is_ok());
        assert!(Password::parse("password", "x".repeat(129)).is_err());
    }

    #[test]
    fn password_debug_never_shows_the_secret() {
        let password = Password::parse("password", "hunter2hunter2".into()).unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
        let entered = EnteredPassword::new("hunter2hunter2".into());
        assert!(!format!("{entered:?}").contains("hunter2"));
    }

    #[test]
    fn control_characters_are_refused_naming_the_field() {
        for raw in [
            "ana\0@example.com",
            "ana@exa\u{7}mple.com",
            "ana@exam\u{9f}ple.com",
        ] {
            assert_eq!(
                Email::parse(raw).unwrap_err().field(),
                Some("email"),
                "{raw:?}"
            );
        }
        let error = Password::parse("new_password", "correct\0horse".into()).unwrap_err();
        assert_eq!(error.field(), Some("new_password"));
        assert!(DisplayName::parse("An\u{1b}a").is_err());
        assert_eq!(
            TimeZoneName::parse("Europe/Berlin\0").unwrap_err().field(),
            Some("time_zone")
        );
    }

    #[test]
    fn a_missing_or_blank_time_zone_is_utc_and_a_wrong_one_is_refused() {
        assert_eq!(
            TimeZoneName::parse_or_utc(None).unwrap(),
            TimeZoneName::utc()
        );
        assert_eq!(
            TimeZoneName::parse_or_utc(Some("  ")).unwrap(),
            TimeZoneName::utc()
        );
        assert_eq!(
            TimeZoneName::parse_or_utc(Some("Mars/Olympus"))
                .unwrap_err()
                .field(),
            Some("time_zone")
        );
    }

    #[test]
    fn an_empty_display_name_means_none() {
        assert_eq!(DisplayName::parse("   ").unwrap(), None);
        assert_eq!(
            DisplayName::parse(" Ana ").unwrap().unwrap().as_str(),
            "Ana"
        );
        assert!(DisplayName::parse(&"x".repeat(81)).is_err());
    }

    #[test]
    fn time_zones_come_from_the_tz_database() {
        assert_eq!(
            TimeZoneName::parse("Europe/Berlin").unwrap().as_str(),
            "Europe/Berlin"
        );
        let error = TimeZoneName::parse("Mars/Olympus").unwrap_err();
        assert_eq!(error.field(), Some("time_zone"));
        assert!(error.to_string().contains("Mars/Olympus"));
    }

    #[test]
    fn checked_types_refuse_bad_json() {
        assert!(serde_json::from_str::<Email>("\"not-an-email\"").is_err());
        assert!(serde_json::from_str::<TimeZoneName>("\"Nowhere/Land\"").is_err());
    }

    proptest! {
        #[test]
        fn every_tz_database_name_parses_to_itself(index in 0..chrono_tz::TZ_VARIANTS.len()) {
            let name = chrono_tz::TZ_VARIANTS[index].name();
            let parsed = TimeZoneName::parse(name).unwrap();
            prop_assert_eq!(parsed.as_str(), name);
        }

        #[test]
        fn a_parsed_email_parses_again_unchanged(local in "[a-z0-9._%+-]{1,20}", domain in "[a-z0-9-]{1,20}\\.[a-z]{2,6}") {
            let email = Email::parse(&format!("{local}@{domain}")).unwrap();
            prop_assert_eq!(Email::parse(email.as_str()).unwrap(), email);
        }
    }
}
