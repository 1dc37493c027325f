//! One file per page.

pub mod home;
pub mod login;
pub mod not_found;
pub mod register;
pub mod settings;
