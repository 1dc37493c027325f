//! What this process's publishing machinery has done, for `/metrics` and `/readyz`: how
//! attempts ended, what the sweep and the reaper handed back, and the workers' pulse.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// A label set of one pair, `outcome="published"` and the like.
type Outcome = Vec<(&'static str, &'static str)>;

#[derive(Default)]
pub struct PublishingStats {
    /// Unix milliseconds of the workers' last sign of life; 0 before the first.
    pulse: AtomicI64,
    attempts: Family<Outcome, Counter>,
    requeued: Counter,
    reaped: Counter,
}

impl PublishingStats {
    /// Adds the counters to `registry` (their values stay here).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "picscripter_publish_attempts",
            "Publishing attempts finished by this process, by how they ended",
            self.attempts.clone(),
        );
        registry.register(
            "picscripter_sweep_requeued_jobs",
            "Due jobs the queue had lost, queued again by this process's sweep",
            self.requeued.clone(),
        );
        registry.register(
            "picscripter_reaped_leases",
            "Jobs whose worker stopped answering, handed back by this process's reaper",
            self.reaped.clone(),
        );
    }

    /// An attempt ended: `published`, `retrying`, `failed`, `waiting_reconnect`, or
    /// `superseded` (a newer attempt owned the target) or `backend_error` (ours, not the
    /// platform's: tried again soon).
    pub fn attempt_ended(&self, outcome: &'static str) {
        self.attempts
            .get_or_create(&vec![("outcome", outcome)])
            .inc();
    }

    pub fn requeued(&self, jobs: u64) {
        self.requeued.inc_by(jobs);
    }

    pub fn reaped(&self, jobs: u64) {
        self.reaped.inc_by(jobs);
    }

    /// The workers are alive at `now`: their claim loop turned, or an attempt beat.
    pub fn beat(&self, now: DateTime<Utc>) {
        self.pulse
            .fetch_max(now.timestamp_millis(), Ordering::Relaxed);
    }

    /// How long since the workers last showed life; `None` if they never have.
    pub fn silent_for(&self, now: DateTime<Utc>) -> Option<Duration> {
        match self.pulse.load(Ordering::Relaxed) {
            0 => None,
            last => Some(Duration::milliseconds(
                now.timestamp_millis().saturating_sub(last),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pulse_keeps_the_latest_beat() {
        let stats = PublishingStats::default();
        let now = Utc::now();
        assert_eq!(stats.silent_for(now), None);
        stats.beat(now - Duration::seconds(5));
        stats.beat(now - Duration::seconds(9));
        assert_eq!(stats.silent_for(now), Some(Duration::seconds(5)));
    }

    #[test]
    fn counters_are_written_in_the_prometheus_text_format() {
        let stats = PublishingStats::default();
        stats.attempt_ended("published");
        stats.attempt_ended("published");
        stats.attempt_ended("retrying");
        stats.requeued(3);
        let mut registry = Registry::default();
        stats.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains("picscripter_publish_attempts_total{outcome=\"published\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("picscripter_publish_attempts_total{outcome=\"retrying\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("picscripter_sweep_requeued_jobs_total 3\n"),
            "{text}"
        );
        assert!(
            text.contains("picscripter_reaped_leases_total 0\n"),
            "{text}"
        );
    }
}
