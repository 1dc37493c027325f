//! The job-queue contract, one suite for every backend: due order, leases that fence a
//! worker whose time ran out, reaping, retries and re-enqueueing, on the in-process backend
//! and on Redis (127.0.0.1:6379, a fresh key prefix per case).

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use server::queue::local::LocalQueue;
use server::queue::redis::RedisQueue;
use server::queue::{JobId, JobQueue, QueueError};

fn job() -> JobId {
    JobId(uuid::Uuid::new_v4())
}

const VISIBILITY: Duration = Duration::seconds(30);

async fn jobs_come_out_when_due_and_earliest_first(queue: &dyn JobQueue, now: DateTime<Utc>) {
    assert_eq!(
        queue.next_due().await.unwrap(),
        None,
        "an empty queue has nothing due"
    );
    let (later, sooner, future) = (job(), job(), job());
    queue
        .enqueue(later, now - Duration::seconds(1))
        .await
        .unwrap();
    queue
        .enqueue(sooner, now - Duration::seconds(5))
        .await
        .unwrap();
    queue
        .enqueue(future, now + Duration::minutes(1))
        .await
        .unwrap();
    let first = queue.claim(now, VISIBILITY).await.unwrap().unwrap();
    let second = queue.claim(now, VISIBILITY).await.unwrap().unwrap();
    assert_eq!((first.job, second.job), (sooner, later));
    assert!(
        queue.claim(now, VISIBILITY).await.unwrap().is_none(),
        "the future job waits"
    );
    // To the millisecond: an idle worker sleeps until then.
    assert_eq!(
        queue
            .next_due()
            .await
            .unwrap()
            .map(|due| due.timestamp_millis()),
        Some((now + Duration::minutes(1)).timestamp_millis())
    );
    let at_its_time = queue
        .claim(now + Duration::minutes(1), VISIBILITY)
        .await
        .unwrap();
    assert_eq!(at_its_time.map(|lease| lease.job), Some(future));
}

async fn enqueueing_again_moves_a_waiting_job_and_leaves_a_leased_one(
    queue: &dyn JobQueue,
    now: DateTime<Utc>,
) {
    let moved = job();
    queue.enqueue(moved, now).await.unwrap();
    queue
        .enqueue(moved, now + Duration::hours(1))
        .await
        .unwrap();
    assert!(queue.claim(now, VISIBILITY).await.unwrap().is_none());

    let held = job();
    queue.enqueue(held, now).await.unwrap();
    let two_hours = now + Duration::hours(2);
    let lease_held = queue.claim(two_hours, VISIBILITY).await.unwrap().unwrap();
    assert_eq!(lease_held.job, held, "the earliest due goes first");
    let lease_moved = queue.claim(two_hours, VISIBILITY).await.unwrap().unwrap();
    assert_eq!(lease_moved.job, moved);
    queue.enqueue(held, now).await.unwrap();
    assert!(
        queue.claim(two_hours, VISIBILITY).await.unwrap().is_none(),
        "a leased job is not handed out twice"
    );
    assert!(queue.contains(held).await.unwrap());
    queue.ack(&lease_held).await.unwrap();
    queue.ack(&lease_moved).await.unwrap();
    assert!(!queue.contains(held).await.unwrap());
}

async fn an_expired_lease_is_reaped_and_its_holder_is_fenced_off(
    queue: &dyn JobQueue,
    now: DateTime<Utc>,
) {
    let work = job();
    queue.enqueue(work, now).await.unwrap();
    let stale = queue.claim(now, VISIBILITY).await.unwrap().unwrap();
    assert_eq!(
        queue
            .reap(now + VISIBILITY - Duration::seconds(1))
            .await
            .unwrap(),
        0
    );
    let later = now + VISIBILITY;
    assert_eq!(queue.reap(later).await.unwrap(), 1);
    let fresh = queue.claim(later, VISIBILITY).await.unwrap().unwrap();
    assert_eq!(fresh.job, work);
    assert_ne!(fresh.token, stale.token);
    for refused in [
        queue.ack(&stale).await.err(),
        queue.retry(&stale, later).await.err(),
        queue.extend(&stale, later + VISIBILITY).await.err(),
    ] {
        assert!(
            matches!(refused, Some(QueueError::LeaseLost(id)) if id == work),
            "{refused:?}"
        );
    }
    let extended = queue.extend(&fresh, later + VISIBILITY * 2).await.unwrap();
    assert_eq!(
        queue.reap(later + VISIBILITY).await.unwrap(),
        0,
        "the heartbeat kept it"
    );
    queue.ack(&extended).await.unwrap();
}

async fn a_retry_waits_for_its_time(queue: &dyn JobQueue, now: DateTime<Utc>) {
    let flaky = job();
    queue.enqueue(flaky, now).await.unwrap();
    let lease = queue.claim(now, VISIBILITY).await.unwrap().unwrap();
    let retry_at = now + Duration::seconds(90);
    queue.retry(&lease, retry_at).await.unwrap();
    assert!(
        queue
            .claim(retry_at - Duration::seconds(1), VISIBILITY)
            .await
            .unwrap()
            .is_none()
    );
    let again = queue.claim(retry_at, VISIBILITY).await.unwrap().unwrap();
    assert_eq!(again.job, flaky);
    queue.ack(&again).await.unwrap();
    assert!(queue.ack(&again).await.is_err(), "acked once");
}

async fn concurrent_workers_never_share_a_job(queue: Arc<dyn JobQueue>, now: DateTime<Utc>) {
    let jobs: Vec<JobId> = (0..200).map(|_| job()).collect();
    for (index, job) in jobs.iter().enumerate() {
        queue
            .enqueue(*job, now - Duration::milliseconds(index as i64))
            .await
            .unwrap();
    }
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(lease) = queue.claim(now, VISIBILITY).await.unwrap() {
                    queue.ack(&lease).await.unwrap();
                    mine.push(lease.job);
                }
                mine
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for worker in workers {
        for job in worker.await.unwrap() {
            assert!(seen.insert(job), "job {job:?} was handed out twice");
        }
    }
    assert_eq!(seen.len(), jobs.len(), "every job ran");
}

/// The whole contract, on a fresh queue per case.
async fn conformance(make: impl Fn() -> Arc<dyn JobQueue>) {
    let now = Utc::now();
    jobs_come_out_when_due_and_earliest_first(&*make(), now).await;
    enqueueing_again_moves_a_waiting_job_and_leaves_a_leased_one(&*make(), now).await;
    an_expired_lease_is_reaped_and_its_holder_is_fenced_off(&*make(), now).await;
    a_retry_waits_for_its_time(&*make(), now).await;
    concurrent_workers_never_share_a_job(make(), now).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_process_queue_keeps_the_contract() {
    conformance(|| Arc::new(LocalQueue::default())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_queue_keeps_the_contract() {
    let url = secrecy::SecretString::from("redis://127.0.0.1:6379".to_owned());
    let pool = server::redis::connect(&url).expect("a Redis URL");
    fred::prelude::ClientLike::wait_for_connect(&pool)
        .await
        .expect("Redis answers at 127.0.0.1:6379 (`make test` starts it)");
    let prefixes = std::sync::Mutex::new(Vec::new());
    conformance(|| {
        let prefix = format!("picscripter-test:{}", uuid::Uuid::new_v4().simple());
        prefixes.lock().unwrap().push(prefix.clone());
        Arc::new(RedisQueue::new(pool.clone(), &prefix))
    })
    .await;
    let keys: Vec<String> = prefixes
        .into_inner()
        .unwrap()
        .iter()
        .flat_map(|prefix| ["waiting", "leased", "tokens"].map(|key| format!("{prefix}:{key}")))
        .collect();
    fred::prelude::KeysInterface::del::<(), _>(pool.next(), keys)
        .await
        .expect("the test's keys are removed");
}
