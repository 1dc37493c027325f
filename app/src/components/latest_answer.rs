//! The server's view of what is being typed (the composer's previews, the Studio's checks),
//! asked once typing pauses, newest answer only.

use leptos::prelude::*;

/// Asks the server about what is being typed once typing pauses, and keeps only the newest
/// answer: an answer overtaken by a later question is dropped.
#[derive(Debug, Clone, Copy)]
pub struct LatestAnswer {
    asked: StoredValue<u32>,
}

impl LatestAnswer {
    pub fn new() -> Self {
        Self {
            asked: StoredValue::new(0),
        }
    }

    /// Sends `question` after `pause` unless asked again meanwhile, and hands its answer to
    /// `apply` unless asked again before it came.
    pub fn ask<T: 'static>(
        self,
        pause: std::time::Duration,
        question: impl std::future::Future<Output = T> + 'static,
        apply: impl FnOnce(T) + 'static,
    ) {
        let asked = self.asked;
        let ticket = asked.get_value() + 1;
        asked.set_value(ticket);
        set_timeout(
            move || {
                if asked.get_value() != ticket {
                    return;
                }
                leptos::task::spawn_local(async move {
                    let answer = question.await;
                    if asked.get_value() == ticket {
                        apply(answer);
                    }
                });
            },
            pause,
        );
    }
}

impl Default for LatestAnswer {
    fn default() -> Self {
        Self::new()
    }
}
