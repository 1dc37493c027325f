//! Whether the server runs against the platform fakes (`serve --sandbox`).

/// Given to Leptos as context by the server, read by the `meta/sandbox` server function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxMode(pub bool);
