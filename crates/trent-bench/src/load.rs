//! The measured run: one task per connection, each sending back-to-back requests on its own
//! keep-alive connection until the deadline.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use tokio::task::JoinSet;

use crate::client::{error_code, Connection, Endpoint, Signer};
use crate::BenchError;

/// The code under which broken connections, timeouts and other non-HTTP failures are counted.
pub const TRANSPORT_ERROR: &str = "TransportError";

/// A request that takes longer than this counts as a transport error and its connection is
/// replaced.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One operation of a run with its prepared bodies (one per key).
#[derive(Debug)]
pub(crate) struct PlannedOp {
    pub(crate) target: &'static str,
    pub(crate) bodies: Vec<Bytes>,
}

/// Everything a run sends, prepared before the clock starts.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) ops: Vec<PlannedOp>,
    /// Indices into `ops`, cycled through by every worker.
    pub(crate) schedule: Vec<usize>,
}

impl Plan {
    /// Request `i` of worker `worker` (of `workers`): the op by the schedule, the key so that
    /// the workers together walk every key in turn.
    fn pick(&self, worker: usize, workers: usize, i: usize) -> Option<(&'static str, &Bytes)> {
        let slot = self
            .schedule
            .get((worker + i) % self.schedule.len().max(1))?;
        let op = self.ops.get(*slot)?;
        let body = op
            .bodies
            .get((worker + i.wrapping_mul(workers)) % op.bodies.len().max(1))?;
        Some((op.target, body))
    }
}

/// How long and how wide to run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) connections: usize,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
}

/// What the workers measured in the window after the warmup.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// Latency of successful requests, in microseconds.
    pub(crate) histogram: Histogram<u64>,
    pub(crate) successes: u64,
    pub(crate) errors: BTreeMap<String, u64>,
}

impl Outcome {
    fn new() -> Result<Self, BenchError> {
        Ok(Self {
            histogram: new_histogram()?,
            successes: 0,
            errors: BTreeMap::new(),
        })
    }

    fn merge(&mut self, other: Outcome) -> Result<(), BenchError> {
        self.histogram
            .add(&other.histogram)
            .map_err(|e| BenchError::Internal(format!("histogram: {e:?}")))?;
        self.successes += other.successes;
        for (code, count) in other.errors {
            *self.errors.entry(code).or_default() += count;
        }
        Ok(())
    }
}

/// The slowest latency the histogram tells apart: one minute, in microseconds (anything slower
/// is recorded as one minute; requests time out before that).
const HISTOGRAM_MAX_MICROS: u64 = 60_000_000;

/// A histogram of 1 µs to 60 s with 3 significant digits.
pub(crate) fn new_histogram() -> Result<Histogram<u64>, BenchError> {
    Histogram::new_with_bounds(1, HISTOGRAM_MAX_MICROS, 3)
        .map_err(|e| BenchError::Internal(format!("histogram: {e:?}")))
}

/// Opens every connection, then runs the workers through the warmup and the measured window.
/// A response counts if it completes inside the window; latency is from the first byte written
/// to the last byte of the response read (signing happens just before and is not included).
pub(crate) async fn drive(
    endpoint: &Endpoint,
    signer: &Signer,
    plan: Arc<Plan>,
    settings: Settings,
) -> Result<Outcome, BenchError> {
    let mut connections = Vec::with_capacity(settings.connections);
    for _ in 0..settings.connections {
        connections.push(Connection::open(endpoint).await.map_err(|e| {
            BenchError::Transport(format!("cannot open the benchmark connections: {}", e.0))
        })?);
    }
    let measure_from = Instant::now() + settings.warmup;
    let end = measure_from + settings.duration;
    let mut workers = JoinSet::new();
    for (index, connection) in connections.into_iter().enumerate() {
        let worker = Worker {
            index,
            workers: settings.connections,
            endpoint: endpoint.clone(),
            signer: signer.clone(),
            plan: plan.clone(),
            measure_from,
            end,
        };
        workers.spawn(worker.run(connection));
    }
    let mut total = Outcome::new()?;
    while let Some(joined) = workers.join_next().await {
        let outcome = joined.map_err(|e| BenchError::Internal(format!("worker: {e}")))??;
        total.merge(outcome)?;
    }
    Ok(total)
}

struct Worker {
    index: usize,
    workers: usize,
    endpoint: Endpoint,
    signer: Signer,
    plan: Arc<Plan>,
    measure_from: Instant,
    end: Instant,
}

impl Worker {
    async fn run(self, connection: Connection) -> Result<Outcome, BenchError> {
        let mut outcome = Outcome::new()?;
        let mut connection = Some(connection);
        let mut i = 0usize;
        loop {
            if Instant::now() >= self.end {
                return Ok(outcome);
            }
            if connection.as_ref().is_some_and(|c| !c.is_reusable()) {
                connection = None;
            }
            let conn = match connection.as_mut() {
                Some(c) => c,
                None => match Connection::open(&self.endpoint).await {
                    Ok(c) => connection.insert(c),
                    Err(_) => {
                        self.count_error(&mut outcome, Instant::now(), TRANSPORT_ERROR);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                },
            };
            let (target, body) = self
                .plan
                .pick(self.index, self.workers, i)
                .ok_or_else(|| BenchError::Internal("empty plan".to_owned()))?;
            i = i.wrapping_add(1);
            let request = self.signer.request(&self.endpoint, target, body)?;
            let started = Instant::now();
            let result = tokio::time::timeout(REQUEST_TIMEOUT, conn.send(request)).await;
            let finished = Instant::now();
            match result {
                Ok(Ok((status, response))) if status.is_success() => {
                    if self.in_window(finished) {
                        let micros = u64::try_from(finished.duration_since(started).as_micros())
                            .unwrap_or(u64::MAX);
                        outcome
                            .histogram
                            .saturating_record(micros.clamp(1, HISTOGRAM_MAX_MICROS));
                        outcome.successes += 1;
                    }
                    let _ = response;
                }
                Ok(Ok((status, response))) => {
                    let code = error_code(status, &response);
                    self.count_error(&mut outcome, finished, &code);
                }
                Ok(Err(_)) | Err(_) => {
                    connection = None;
                    self.count_error(&mut outcome, finished, TRANSPORT_ERROR);
                }
            }
        }
    }

    fn in_window(&self, at: Instant) -> bool {
        at >= self.measure_from && at <= self.end
    }

    fn count_error(&self, outcome: &mut Outcome, at: Instant, code: &str) {
        if self.in_window(at) {
            *outcome.errors.entry(code.to_owned()).or_default() += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_walk_every_key() {
        let plan = Plan {
            ops: vec![PlannedOp {
                target: "T",
                bodies: (0..10).map(|i| Bytes::from(vec![i])).collect(),
            }],
            schedule: vec![0],
        };
        let mut seen = std::collections::HashSet::new();
        for worker in 0..3 {
            for i in 0..4 {
                let (_, body) = plan.pick(worker, 3, i).unwrap();
                seen.insert(body[0]);
            }
        }
        assert_eq!(seen.len(), 10);
    }

    #[test]
    fn merge_adds_up() {
        let mut a = Outcome::new().unwrap();
        a.histogram.record(100).unwrap();
        a.successes = 1;
        a.errors.insert("X".into(), 2);
        let mut b = Outcome::new().unwrap();
        b.histogram.record(300).unwrap();
        b.successes = 1;
        b.errors.insert("X".into(), 1);
        b.errors.insert("Y".into(), 1);
        a.merge(b).unwrap();
        assert_eq!(a.successes, 2);
        assert_eq!(a.histogram.len(), 2);
        assert_eq!(a.errors["X"], 3);
        assert_eq!(a.errors["Y"], 1);
    }
}
