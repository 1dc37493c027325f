//! The publishing pipeline: validate -> store (post, targets, jobs in one transaction) ->
//! queue -> worker -> platform -> record. `posts` is what the user does to posts, `worker` what
//! happens to a due job, `sweep` keeps the queue in step with the database; `schedule` and
//! `backoff` are the pure rules of when; `stats` counts what happened, for `/metrics`.

pub mod backoff;
pub mod calendar;
pub mod posts;
pub mod preview;
pub mod schedule;
pub mod stats;
pub mod sweep;
pub mod worker;

pub use posts::Pipeline;
