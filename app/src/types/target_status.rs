//! Where one post stands on one account: the state machine every publish follows. Moves are
//! checked here, once; the database applies them compare-and-set (`UPDATE … WHERE status =
//! <expected>`), so two workers can never both move the same target.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TargetStatus {
    /// Saved, not due: nothing will happen until it is scheduled.
    Draft,
    /// Due at a time; a job waits for it.
    Scheduled,
    /// A worker holds the job and is talking to the platform.
    Publishing,
    /// The platform is working on it (a video being processed, a post passing moderation): the
    /// worker checks again at `next_attempt_at`. A check is not an attempt.
    Processing,
    /// The platform has it: external id and URL recorded. Final.
    Published,
    /// The last attempt failed in a way worth retrying; the next attempt is at a known time.
    Retrying,
    /// Will not be published without the user: the reason says why.
    Failed,
    /// Stopped by the user (or because its account was disconnected). Final.
    Cancelled,
    /// The account's authorisation lapsed; reconnecting it releases the target.
    WaitingReconnect,
    /// Not sent: the product the post is about sold out, was archived or changed price since
    /// the post was written. The reason says which; the user publishes anyway, edits, or
    /// cancels.
    Held,
}

impl TargetStatus {
    pub const ALL: [TargetStatus; 10] = [
        Self::Draft,
        Self::Scheduled,
        Self::Publishing,
        Self::Processing,
        Self::Published,
        Self::Retrying,
        Self::Failed,
        Self::Cancelled,
        Self::WaitingReconnect,
        Self::Held,
    ];

    /// Whether a target may move from `self` to `next`.
    pub fn can_become(self, next: TargetStatus) -> bool {
        use TargetStatus::*;
        matches!(
            (self, next),
            (Draft, Scheduled | Cancelled)
                | (Scheduled, Draft | Publishing | Cancelled | WaitingReconnect)
                | (Publishing, Published | Processing | Retrying | Failed | WaitingReconnect | Held)
                // The platform took it and works on it: only a check moves it on, and once
                // taken it can no longer be called back, so no cancel.
                | (Processing, Publishing)
                // A lease that ran out mid-call: the next worker takes over and reconciles.
                | (Publishing, Publishing)
                | (Retrying, Publishing | Cancelled | WaitingReconnect)
                | (WaitingReconnect, Scheduled | Cancelled)
                // The user's "retry" on a failed target.
                | (Failed, Scheduled | Cancelled)
                // "Publish anyway", an edit, or a cancel.
                | (Held, Scheduled | Cancelled)
        )
    }

    /// No move leads out of a final status.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Published | Self::Cancelled)
    }

    /// Whether a worker may start an attempt from here.
    pub fn is_claimable(self) -> bool {
        matches!(
            self,
            Self::Scheduled | Self::Retrying | Self::Processing | Self::Publishing
        )
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Publishing => "publishing",
            Self::Processing => "processing",
            Self::Published => "published",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::WaitingReconnect => "waiting_reconnect",
            Self::Held => "held",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn final_statuses_have_no_way_out_and_everything_else_has_one() {
        for from in TargetStatus::ALL {
            let exits = TargetStatus::ALL
                .into_iter()
                .filter(|to| from.can_become(*to))
                .count();
            assert_eq!(exits == 0, from.is_final(), "{from:?}");
        }
    }

    #[test]
    fn only_a_publishing_attempt_can_publish() {
        for from in TargetStatus::ALL {
            assert_eq!(
                from.can_become(TargetStatus::Published),
                from == TargetStatus::Publishing,
                "{from:?}"
            );
        }
    }

    #[test]
    fn the_wire_name_is_the_serde_name() {
        for status in TargetStatus::ALL {
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, status.as_str());
        }
    }

    proptest! {
        #[test]
        fn every_walk_of_allowed_moves_stays_in_the_machine(
            choices in prop::collection::vec(any::<prop::sample::Index>(), 0..40),
        ) {
            let mut status = TargetStatus::Draft;
            let mut published = 0;
            for choice in choices {
                let moves: Vec<TargetStatus> =
                    TargetStatus::ALL.into_iter().filter(|to| status.can_become(*to)).collect();
                if moves.is_empty() {
                    prop_assert!(status.is_final());
                    break;
                }
                let next = *choice.get(&moves);
                if next == TargetStatus::Published {
                    published += 1;
                }
                status = next;
            }
            prop_assert!(published <= 1, "published twice");
        }
    }
}
