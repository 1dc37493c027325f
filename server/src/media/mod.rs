//! The media library's files: where the bytes live ([`store`]) and what an upload really is
//! ([`probe`] for images, [`video`] for videos). Rows describing the files are in `db::media`.

pub mod library;
pub mod probe;
pub mod store;
pub mod video;
