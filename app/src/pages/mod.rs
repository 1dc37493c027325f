//! One file per page.

pub mod analytics;
pub mod calendar;
pub mod compose;
pub mod connections;
pub mod home;
pub mod login;
pub mod media;
pub mod not_found;
pub mod post_detail;
pub mod posts;
pub mod products;
pub mod register;
pub mod settings;
pub mod studio;
pub mod templates;
