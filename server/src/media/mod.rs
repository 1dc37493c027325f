//! The media library's files: where the bytes live ([`store`]) and what an upload really is
//! ([`probe`] for images, [`video`] for videos), and the signed URLs platforms download them
//! from ([`pull`]). Rows describing the files are in `db::media`.

pub mod library;
pub mod probe;
pub mod pull;
pub mod store;
pub mod video;
