//! Configuration: every environment variable the server reads, parsed once at start-up into
//! one typed [`Config`]. A bad value does not stop at the first problem: all of them are
//! collected and reported together. Nothing else in the server calls `std::env::var`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::http::rate_limit::{Quota, Tier};

/// Which database the server stores its data in.
#[derive(Debug, Clone)]
pub enum DatabaseTarget {
    /// The embedded default: a SQLite file under the data directory.
    SqliteFile(PathBuf),
    /// `DATABASE_URL`: `postgres://…` or `sqlite:…`. Secret because it may hold a password.
    Url(SecretString),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `PICSCRIPTER_ADDR` (default `127.0.0.1:3000`): where `serve` listens.
    pub addr: SocketAddr,
    /// `DATA_DIR` (default `./data`): the SQLite file, generated secrets, later media.
    pub data_dir: PathBuf,
    /// `DATABASE_URL` (optional): PostgreSQL in production; the SQLite file without it.
    pub database: DatabaseTarget,
    /// `REDIS_URL` (optional): the job queue's Redis; the in-process queue without it.
    pub redis_url: Option<SecretString>,
    /// `JWT_SECRET` (optional, at least 32 bytes): signs session tokens. Without it a random
    /// secret is generated once and kept in `DATA_DIR`, so sessions survive restarts.
    pub jwt_secret: Option<SecretString>,
    /// `PUBLIC_BASE_URL` (default `http://<addr>`): the address users reach the app at. Decides
    /// whether cookies are `Secure` and HSTS is sent (both off only for localhost).
    pub public_base_url: http::Uri,
    /// `CORS_ORIGINS` (optional, comma-separated): origins allowed to call the API from a browser.
    pub cors_origins: Vec<http::HeaderValue>,
    /// `LOG_FORMAT` (`pretty` or `json`, default `pretty`); the level comes from `RUST_LOG`.
    pub log_format: LogFormat,
    /// `RATE_LIMIT_<TIER>` (e.g. `RATE_LIMIT_AUTH=20/min`): requests per client and window.
    pub rate_limits: BTreeMap<Tier, Quota>,
    /// `SHUTDOWN_GRACE_SECS` (default 20): how long in-flight requests may finish on SIGTERM.
    pub shutdown_grace: Duration,
}

/// Every problem found in the environment, one per line.
#[derive(Debug, thiserror::Error)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the configuration has {} problem(s):", self.0.len())?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

/// Variables with our prefix that the server knows; any other `PICSCRIPTER_*` is likely a typo.
const KNOWN_PREFIXED: &[&str] = &["PICSCRIPTER_ADDR"];
const PREFIX: &str = "PICSCRIPTER_";
/// HS256 wants a key at least as long as its 256-bit output.
const MIN_JWT_SECRET_BYTES: usize = 32;

impl Config {
    /// Reads the process environment (after `.env`, if there is one).
    pub fn from_env() -> Result<(Self, Vec<String>), ConfigErrors> {
        let _ = dotenvy::dotenv();
        let vars: BTreeMap<String, String> = std::env::vars().collect();
        Self::from_vars(&vars)
    }

    /// Parses configuration from a set of variables. Returns the config and warnings (unknown
    /// `PICSCRIPTER_*` names), or every problem found.
    pub fn from_vars(vars: &BTreeMap<String, String>) -> Result<(Self, Vec<String>), ConfigErrors> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let mut problems = Vec::new();

        let addr = match get("PICSCRIPTER_ADDR") {
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                problems.push(format!(
                    "PICSCRIPTER_ADDR: `{raw}` is not an address like 127.0.0.1:3000"
                ));
                SocketAddr::from(([127, 0, 0, 1], 3000))
            }),
        };

        let data_dir = PathBuf::from(get("DATA_DIR").unwrap_or("./data"));

        let database = match get("DATABASE_URL") {
            None => DatabaseTarget::SqliteFile(data_dir.join("picscripter.db")),
            Some(url)
                if ["postgres://", "postgresql://", "sqlite:"]
                    .iter()
                    .any(|s| url.starts_with(s)) =>
            {
                DatabaseTarget::Url(SecretString::from(url.to_owned()))
            }
            Some(_) => {
                problems.push("DATABASE_URL: must start with postgres://, postgresql:// or sqlite: (value not shown)".into());
                DatabaseTarget::SqliteFile(data_dir.join("picscripter.db"))
            }
        };

        let redis_url = match get("REDIS_URL") {
            None => None,
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
                Some(SecretString::from(url.to_owned()))
            }
            Some(_) => {
                problems.push(
                    "REDIS_URL: must start with redis:// or rediss:// (value not shown)".into(),
                );
                None
            }
        };

        let jwt_secret = match get("JWT_SECRET") {
            None => None,
            Some(secret) if secret.len() >= MIN_JWT_SECRET_BYTES => {
                Some(SecretString::from(secret.to_owned()))
            }
            Some(_) => {
                problems.push(format!(
                    "JWT_SECRET: must be at least {MIN_JWT_SECRET_BYTES} bytes; make one with `openssl rand -base64 48`, or unset it to use a generated one"
                ));
                None
            }
        };

        let default_base = format!("http://{addr}");
        let public_base_url = match get("PUBLIC_BASE_URL")
            .unwrap_or(&default_base)
            .parse::<http::Uri>()
        {
            Ok(uri)
                if matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some() =>
            {
                uri
            }
            _ => {
                problems
                    .push("PUBLIC_BASE_URL: must be an absolute http:// or https:// URL".into());
                default_base
                    .parse()
                    .expect("an http URL made from a socket address parses")
            }
        };

        let mut cors_origins = Vec::new();
        for origin in get("CORS_ORIGINS")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
        {
            let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
                && !origin.ends_with('/');
            match http::HeaderValue::from_str(origin) {
                Ok(value) if valid => cors_origins.push(value),
                _ => problems.push(format!(
                    "CORS_ORIGINS: `{origin}` is not an origin like https://app.example.com (scheme and host, no path)"
                )),
            }
        }

        let log_format = match get("LOG_FORMAT") {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                problems.push(format!(
                    "LOG_FORMAT: `{other}` is neither `pretty` nor `json`"
                ));
                LogFormat::Pretty
            }
        };

        let mut rate_limits = BTreeMap::new();
        for tier in Tier::ALL {
            let name = tier.env_var();
            let quota = match get(&name) {
                None => tier.default_quota(),
                Some(raw) => raw.parse().unwrap_or_else(|error| {
                    problems.push(format!("{name}: {error}"));
                    tier.default_quota()
                }),
            };
            rate_limits.insert(tier, quota);
        }

        let shutdown_grace = match get("SHUTDOWN_GRACE_SECS") {
            None => Duration::from_secs(20),
            Some(raw) => Duration::from_secs(raw.parse().unwrap_or_else(|_| {
                problems.push(format!(
                    "SHUTDOWN_GRACE_SECS: `{raw}` is not a whole number of seconds"
                ));
                20
            })),
        };

        let warnings = vars
            .keys()
            .filter(|name| name.starts_with(PREFIX) && !KNOWN_PREFIXED.contains(&name.as_str()))
            .map(|name| format!("{name} is set but not used by picscripter (a typo?)"))
            .collect();

        if !problems.is_empty() {
            return Err(ConfigErrors(problems));
        }
        Ok((
            Self {
                addr,
                data_dir,
                database,
                redis_url,
                jwt_secret,
                public_base_url,
                cors_origins,
                log_format,
                rate_limits,
                shutdown_grace,
            },
            warnings,
        ))
    }

    /// True when users reach the app on this machine over plain http: cookies then cannot be
    /// `Secure` and HSTS must not be sent.
    pub fn is_local(&self) -> bool {
        let host = self.public_base_url.host().unwrap_or_default();
        self.public_base_url.scheme_str() == Some("http")
            && matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
    }

    /// The SQLite or PostgreSQL connection URL.
    pub fn database_url(&self) -> SecretString {
        match &self.database {
            DatabaseTarget::SqliteFile(path) => {
                SecretString::from(format!("sqlite://{}?mode=rwc", path.display()))
            }
            DatabaseTarget::Url(url) => url.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_empty_environment_gives_the_embedded_default() {
        let (config, warnings) = Config::from_vars(&vars(&[])).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
        assert!(
            matches!(config.database, DatabaseTarget::SqliteFile(ref p) if p.ends_with("picscripter.db"))
        );
        assert!(config.redis_url.is_none() && config.jwt_secret.is_none());
        assert!(config.is_local());
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert!(warnings.is_empty());
        assert_eq!(
            config.database_url().expose_secret(),
            "sqlite://./data/picscripter.db?mode=rwc"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errors = Config::from_vars(&vars(&[
            ("PICSCRIPTER_ADDR", "nope"),
            ("DATABASE_URL", "mysql://root:hunter2@db/x"),
            ("REDIS_URL", "localhost:6379"),
            ("JWT_SECRET", "short"),
            ("LOG_FORMAT", "xml"),
            ("CORS_ORIGINS", "https://ok.example.com, not an origin"),
            ("RATE_LIMIT_AUTH", "lots"),
            ("PUBLIC_BASE_URL", "ftp://x"),
        ]))
        .unwrap_err();
        assert_eq!(errors.0.len(), 8, "{errors}");
        let text = errors.to_string();
        for name in [
            "PICSCRIPTER_ADDR",
            "DATABASE_URL",
            "REDIS_URL",
            "JWT_SECRET",
            "LOG_FORMAT",
            "CORS_ORIGINS",
            "RATE_LIMIT_AUTH",
            "PUBLIC_BASE_URL",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }

    #[test]
    fn secrets_never_appear_in_messages_or_debug_output() {
        let errors =
            Config::from_vars(&vars(&[("DATABASE_URL", "mysql://root:hunter2@db/x")])).unwrap_err();
        assert!(!errors.to_string().contains("hunter2"));
        let secret = "s".repeat(40);
        let (config, _) = Config::from_vars(&vars(&[
            ("JWT_SECRET", &secret),
            ("DATABASE_URL", "postgres://app:hunter2@db/app"),
        ]))
        .unwrap();
        let debug = format!("{config:?}");
        assert!(
            !debug.contains(&secret) && !debug.contains("hunter2"),
            "{debug}"
        );
    }

    #[test]
    fn public_https_url_turns_on_secure_cookies() {
        let (config, _) =
            Config::from_vars(&vars(&[("PUBLIC_BASE_URL", "https://app.example.com")])).unwrap();
        assert!(!config.is_local());
        let (config, _) =
            Config::from_vars(&vars(&[("PUBLIC_BASE_URL", "http://192.168.1.5:3000")])).unwrap();
        assert!(!config.is_local(), "only loopback counts as local");
    }

    #[test]
    fn unknown_prefixed_variables_warn_without_failing() {
        let (_, warnings) = Config::from_vars(&vars(&[("PICSCRIPTER_ADR", "x")])).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("PICSCRIPTER_ADR"));
    }

    #[test]
    fn rate_limits_are_read_per_tier() {
        let (config, _) = Config::from_vars(&vars(&[("RATE_LIMIT_AUTH", "3/min")])).unwrap();
        assert_eq!(
            config.rate_limits[&Tier::Auth],
            Quota {
                requests: 3,
                per: Duration::from_secs(60)
            }
        );
        assert_eq!(config.rate_limits[&Tier::Api], Tier::Api.default_quota());
    }
}
