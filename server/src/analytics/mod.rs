//! Product analytics: which parts of Picscripterai people use, so that work goes where it helps.
//! Every event belongs to a signed-in person and is only ever shown back to that person (or
//! counted in aggregate); nothing personal is stored beyond their user id.
//!
//! [`events`] owns the closed list of events the app may record, checks reported batches
//! against it, stores them and counts them per day. It must never store free text: a
//! property is a name from a short list, a bounded number or a boolean, so a name, an email or
//! a caption has nowhere to go.
//!
//! [`metrics`] reads published posts' numbers from their platforms and sums them for the
//! Analytics page.

pub mod events;
pub mod metrics;
