//! Session tokens: HS256 JWTs that name a user and a session. The signature proves we issued
//! the token; the session row (checked on every request) decides whether it still counts.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use app::types::{SessionId, UserId};

/// How long a session lasts.
pub const SESSION_LIFETIME: Duration = Duration::days(7);

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    sid: Uuid,
    iat: i64,
    exp: i64,
}

/// What a valid token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenClaims {
    pub user: UserId,
    pub session: SessionId,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        // Pinned to HS256: a token may not pick its own algorithm ("alg": "none" and friends).
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        // Expiry is checked in `verify` against the service's clock, so tests can move time.
        validation.validate_exp = false;
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
        }
    }

    pub fn issue(
        &self,
        user: UserId,
        session: SessionId,
        now: DateTime<Utc>,
    ) -> (String, DateTime<Utc>) {
        let expires_at = now + SESSION_LIFETIME;
        let claims = Claims {
            sub: user.0,
            sid: session.0,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail");
        (token, expires_at)
    }

    /// The claims of a token we signed that has not expired at `now`; `None` for anything else.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<TokenClaims> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        if data.claims.exp <= now.timestamp() {
            return None;
        }
        Some(TokenClaims {
            user: UserId(data.claims.sub),
            session: SessionId(data.claims.sid),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(&SecretString::from(secret.to_owned()))
    }

    #[test]
    fn an_issued_token_verifies_for_seven_days() {
        let keys = keys(&"k".repeat(32));
        let (user, session) = (UserId(Uuid::new_v4()), SessionId(Uuid::new_v4()));
        let (token, expires_at) = keys.issue(user, session, Utc::now());
        assert_eq!(
            keys.verify(&token, Utc::now()),
            Some(TokenClaims { user, session })
        );
        assert!(expires_at - Utc::now() > Duration::days(7) - Duration::minutes(1));
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_are_refused() {
        let keys = keys(&"k".repeat(32));
        let (user, session) = (UserId(Uuid::new_v4()), SessionId(Uuid::new_v4()));
        let (expired, _) = keys.issue(user, session, Utc::now() - Duration::days(8));
        assert_eq!(keys.verify(&expired, Utc::now()), None);

        let (token, _) = keys.issue(user, session, Utc::now());
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(keys.verify(&tampered, Utc::now()), None);

        assert_eq!(self::keys(&"o".repeat(32)).verify(&token, Utc::now()), None);
        assert_eq!(keys.verify("not.a.jwt", Utc::now()), None);
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        let keys = keys(&"k".repeat(32));
        // {"alg":"none","typ":"JWT"} . {"sub":…,"sid":…,"exp":far future} . (no signature)
        let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        let body = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            format!(
                r#"{{"sub":"{}","sid":"{}","iat":0,"exp":4102444800}}"#,
                Uuid::new_v4(),
                Uuid::new_v4()
            ),
        );
        assert_eq!(keys.verify(&format!("{header}.{body}."), Utc::now()), None);
    }
}
