//! The publishing pipeline's pieces that do not depend on a platform: when a post is due
//! (`schedule`), when a failed attempt is tried again (`backoff`). The pipeline itself
//! (validate, store and enqueue, work, publish, record) joins them as it lands.

pub mod backoff;
pub mod schedule;
