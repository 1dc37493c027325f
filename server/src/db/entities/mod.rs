//! SeaORM entities, one per table. Rows never leave `db`: queries return the shared types.

pub mod connection;
pub mod oauth_state;
pub mod session;
pub mod user;
