//! Reusable pieces of UI.

pub mod app_layout;
pub mod auth_card;
pub mod browser;
pub mod error_notice;
pub mod form;
pub mod sidebar;
pub mod theme;
