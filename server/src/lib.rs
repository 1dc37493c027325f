//! The Picscripterai server: everything that touches a database, a queue, a secret or another
//! company's API. It implements the ports the UI declares in `app::services`.

pub mod analytics;
pub mod auth;
pub mod backend;
pub mod clock;
pub mod config;
pub mod connections;
pub mod crypto;
pub mod db;
pub mod error;
pub mod http;
pub mod key_rotation;
pub mod media;
pub mod platforms;
pub mod publishing;
pub mod queue;
pub mod redis;
pub mod sandbox;
pub mod secrets;
pub mod startup;
pub mod state;
pub mod stores;
pub mod studio;
pub mod telemetry;
pub mod templates;
