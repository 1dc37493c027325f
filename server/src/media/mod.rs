//! The media library's files: where the bytes live ([`store`]: a directory, or an S3 ([`s3`])
//! or Google Cloud Storage ([`gcs`]) bucket), what an upload really is ([`probe`] for images,
//! [`video`] for videos), uploads that go straight to the store ([`direct`]), and the signed
//! URLs platforms download them from ([`pull`]). Rows describing the files are in `db::media`.

pub mod direct;
pub mod gcs;
pub mod library;
pub mod probe;
pub mod pull;
pub mod s3;
pub mod store;
pub mod video;
