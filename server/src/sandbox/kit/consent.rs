//! The consent screen: the page a platform shows before it hands the app a code. In the sandbox
//! the user types the name of a sandbox account instead of logging in, so one browser can connect
//! several accounts; a new name makes a new account.

use super::oauth::Scopes;
use super::pages::{escape_html, page};
use super::request::{Params, parse_query};

/// What a platform's usernames look like: 1 to `max_len` ASCII letters and digits, plus any of
/// `extra_chars` (`_` at Pinterest and X).
#[derive(Debug, Clone, Copy)]
pub struct UsernameRule {
    pub max_len: usize,
    pub extra_chars: &'static str,
    /// What the field holds when the page opens.
    pub default: &'static str,
}

impl UsernameRule {
    pub fn check(&self, username: &str) -> Result<(), String> {
        let valid = (1..=self.max_len).contains(&username.len())
            && username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || self.extra_chars.contains(c));
        if valid {
            Ok(())
        } else {
            Err(format!(
                "The sandbox account name must be 1 to {} letters or digits{}.",
                self.max_len,
                if self.extra_chars.is_empty() {
                    String::new()
                } else {
                    format!(" (or any of {})", self.extra_chars)
                }
            ))
        }
    }

    /// The rule as an HTML `pattern`, so the browser says what is wrong before the server must.
    /// `-` is the one allowed extra that needs escaping inside a class under the `v` flag.
    fn html_pattern(&self) -> String {
        let extras: String = self
            .extra_chars
            .chars()
            .filter(|c| c.is_ascii_punctuation())
            .map(|c| {
                if c == '-' {
                    "\\-".to_owned()
                } else {
                    c.to_string()
                }
            })
            .collect();
        format!("[A-Za-z0-9{extras}]{{1,{}}}", self.max_len)
    }
}

/// The consent form's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow { username: String },
    Deny,
}

impl Decision {
    /// Reads `decision` (and for "allow", `username`) from the submitted form.
    pub fn from_form(params: &Params) -> Result<Self, String> {
        match params.get("decision").map(String::as_str) {
            Some("allow") => Ok(Self::Allow {
                username: params
                    .get("username")
                    .map_or_else(String::new, |name| name.trim().to_owned()),
            }),
            Some("deny") => Ok(Self::Deny),
            _ => Err("decision must be \"allow\" or \"deny\".".to_owned()),
        }
    }
}

/// What the consent page shows.
#[derive(Debug)]
pub struct Consent<'a> {
    /// "Pinterest".
    pub platform: &'a str,
    /// The app asking: its client id (a fake has no app names).
    pub app: &'a str,
    pub scopes: &'a Scopes,
    /// The authorize request again, so the form posts it back (`AuthorizationServer::consent_fields`).
    pub hidden: &'a [(&'static str, String)],
    pub usernames: UsernameRule,
    /// The stylesheet's href relative to the page.
    pub stylesheet: &'a str,
}

pub fn consent_page(consent: &Consent<'_>) -> String {
    let platform = escape_html(consent.platform);
    let app = escape_html(consent.app);
    let scopes: String = consent
        .scopes
        .iter()
        .map(|scope| format!("<li><code>{}</code></li>", escape_html(scope)))
        .collect();
    let hidden: String = consent
        .hidden
        .iter()
        .map(|(name, value)| {
            format!(
                r#"<input type="hidden" name="{name}" value="{}">"#,
                escape_html(value)
            )
        })
        .collect();
    let rule = consent.usernames;
    // No `action`: the form posts back to this very URL, wherever the fake is mounted.
    let body = format!(
        r#"<h1>Sandbox {platform} — authorize {app}?</h1>
<p class="hint">This is picscripter's local stand-in for {platform}. Nothing leaves this machine.</p>
<p id="scopes">{app} asks for:</p>
<ul aria-labelledby="scopes">{scopes}</ul>
<form method="post">
{hidden}
<label for="username">Sandbox account</label>
<input type="text" id="username" name="username" value="{default}" required
  maxlength="{max_len}" pattern="{pattern}" autocomplete="username" aria-describedby="username-hint">
<p id="username-hint" class="hint">A new name creates a new sandbox account.</p>
<button type="submit" class="primary" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" formnovalidate>Cancel</button>
</form>"#,
        default = escape_html(rule.default),
        max_len = rule.max_len,
        pattern = escape_html(&rule.html_pattern()),
    );
    page(
        &format!("Sandbox {} — authorize {}?", consent.platform, consent.app),
        &body,
        consent.stylesheet,
    )
}

/// For tests without a browser: the parameters the consent form would post when `username`
/// allows `authorize_url`, after checking the URL goes to the platform's authorize path. The
/// fake then decides exactly as it does for the form.
pub fn direct_consent(
    authorize_url: &str,
    authorize_path: &str,
    username: &str,
) -> Result<Params, String> {
    let without_fragment = authorize_url.split('#').next().unwrap_or_default();
    let (path, query) = without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""));
    if !path.ends_with(authorize_path) {
        return Err(format!(
            "{path} is not the authorize endpoint ({authorize_path})."
        ));
    }
    let mut params = parse_query(Some(query));
    params.insert("username".to_owned(), username.to_owned());
    params.insert("decision".to_owned(), "allow".to_owned());
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: UsernameRule = UsernameRule {
        max_len: 30,
        extra_chars: "_",
        default: "sandbox_user",
    };

    #[test]
    fn usernames_follow_the_rule() {
        assert!(RULE.check("sandbox_user").is_ok());
        assert!(RULE.check("").is_err());
        assert!(RULE.check("has space").is_err());
        assert!(RULE.check(&"a".repeat(31)).is_err());
        assert_eq!(RULE.html_pattern(), "[A-Za-z0-9_]{1,30}");
    }

    #[test]
    fn the_consent_page_escapes_what_it_echoes() {
        let scopes = Scopes::parse("pins:read,boards:read", ',');
        let hidden = [("state", r#""><script>"#.to_owned())];
        let html = consent_page(&Consent {
            platform: "Pinterest",
            app: "client",
            scopes: &scopes,
            hidden: &hidden,
            usernames: RULE,
            stylesheet: "../sandbox.css",
        });
        assert!(html.contains("<code>boards:read</code>"));
        assert!(html.contains("&quot;&gt;&lt;script&gt;"));
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn direct_consent_checks_the_path() {
        let params = direct_consent(
            "https://p.test/oauth/?client_id=c&state=s",
            "/oauth/",
            "ann",
        )
        .unwrap();
        assert_eq!(params["username"], "ann");
        assert_eq!(params["client_id"], "c");
        assert!(direct_consent("https://p.test/other?x=1", "/oauth/", "ann").is_err());
    }
}
