//! Reusable pieces of UI.

pub mod app_layout;
pub mod auth_card;
pub mod browser;
pub mod calendar_board;
pub mod caption_editor;
pub mod caption_insights;
pub mod confirm_button;
pub mod draft_preview;
pub mod error_notice;
pub mod filters;
pub mod form;
pub mod latest_answer;
pub mod media_picker;
pub mod notice;
pub mod polling;
pub mod rest;
pub mod sandbox_banner;
pub mod schedule_picker;
pub mod sidebar;
pub mod status_badge;
pub mod studio_calls;
pub mod target_options;
pub mod target_picker;
pub mod theme;
pub mod timestamp;
pub mod upload;
