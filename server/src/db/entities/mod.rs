//! SeaORM entities, one per table. Rows never leave `db`: queries return the shared types.

pub mod account_choice;
pub mod analytics_event;
pub mod connection;
pub mod idempotency_key;
pub mod job;
pub mod job_log;
pub mod media;
pub mod media_upload;
pub mod oauth_state;
pub mod post;
pub mod post_media;
pub mod post_metric;
pub mod post_target;
pub mod product;
pub mod session;
pub mod store;
pub mod studio_setting;
pub mod template;
pub mod user;
