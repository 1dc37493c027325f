//! The AI Studio's server side: what turns photos and products into captions that sound like
//! the shop owner, per platform.

pub mod voice;
