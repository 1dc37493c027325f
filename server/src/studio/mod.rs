//! The AI Studio's server side: what turns photos and products into captions that sound like
//! the shop owner, per platform. A [`brief::CaptionBrief`] says what is wanted, [`prompt`] writes
//! it for a model in one place, a [`writers::CaptionWriter`] writes the caption, [`fit`] holds
//! it to the platform's limits whatever the writer did, and [`voice`] makes it sound like a
//! person. [`facts`] reads what the basic writer knows of a photo. Beside the writing,
//! [`proofread`] checks spelling and grammar offline and [`emoji`] suggests and finds emoji.

pub mod brief;
pub mod emoji;
pub mod facts;
pub mod fit;
pub mod prompt;
pub mod proofread;
pub mod service;
pub mod settings;
pub mod voice;
pub mod writers;
