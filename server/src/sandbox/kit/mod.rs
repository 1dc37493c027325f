//! What every platform fake shares, so each fake's file holds only what its platform does
//! differently: an OAuth 2.0 authorization server ([`oauth`]), scripted failures ([`script`]),
//! cursor paging ([`cursor`]), reading requests ([`request`]), ids and tokens ([`ids`]), files
//! received in pieces ([`upload`]) or whole ([`media`]), the pages a person sees ([`pages`],
//! [`consent`], [`control`]), the controls tests turn on every fake ([`controls`]), what the
//! fakes of text models share ([`model`]), and the numbers a published post gathers
//! ([`engagement`]).
//!
//! Nothing here knows a platform: error envelopes, token answers, scopes and limits are the
//! fake's, passed in as values or closures. Nothing here locks: a fake keeps these parts inside
//! its own world behind its own mutex, and nothing here sleeps or awaits while that lock is held
//! ([`script::answer`] runs after the fake has let go).
//!
//! Like the fakes, the kit trusts whoever reaches it and never logs a token, code or secret.

pub mod catalogue;
pub mod consent;
pub mod control;
pub mod controls;
pub mod cursor;
pub mod engagement;
pub mod ids;
pub mod media;
pub mod model;
pub mod oauth;
pub mod pages;
pub mod request;
pub mod script;
pub mod upload;

pub use controls::{FakeControls, KitWorld};
