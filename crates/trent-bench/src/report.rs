//! What a run reports, as text for people and as one JSON line for scripts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::Serialize;

/// The result of one measured run (and, with `--compare-baseline`, of its baseline).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BenchReport {
    /// `server` or `baseline`.
    pub target: String,
    /// The endpoint that was loaded.
    pub endpoint: String,
    /// The `--op`.
    pub op: String,
    /// Concurrent connections (one worker each).
    pub connections: usize,
    /// `--payload-bytes`.
    pub payload_bytes: usize,
    /// Keys the load was spread over.
    pub keys: usize,
    /// Length of the measured window, in seconds.
    pub duration_s: f64,
    /// Warmup before the window, in seconds.
    pub warmup_s: f64,
    /// Time setup took (finding or creating keys, ciphertexts), in seconds.
    pub setup_s: f64,
    /// Responses completed in the window, successful or not.
    pub total_requests: u64,
    /// Successful (HTTP 200) responses in the window.
    pub successful_requests: u64,
    /// Successful responses per second.
    pub requests_per_second: f64,
    /// Latency percentiles of successful requests, in milliseconds.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Slowest successful request.
    pub max_ms: f64,
    /// Mean of successful requests.
    pub mean_ms: f64,
    /// Failed requests by AWS error code (`__type`), plus `TransportError`.
    pub errors: BTreeMap<String, u64>,
    /// The baseline measured in the same invocation (`--compare-baseline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Box<BenchReport>>,
    /// This run's requests/s divided by the baseline's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_to_baseline: Option<f64>,
    /// This run's p99 divided by the baseline's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_ratio_to_baseline: Option<f64>,
}

/// Latency figures read from a histogram of microseconds, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Percentiles {
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
    pub(crate) p999: f64,
    pub(crate) max: f64,
    pub(crate) mean: f64,
}

impl Percentiles {
    pub(crate) fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self {
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                p999: 0.0,
                max: 0.0,
                mean: 0.0,
            };
        }
        let ms = |micros: u64| round3(micros as f64 / 1000.0);
        Self {
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
            p999: ms(histogram.value_at_quantile(0.999)),
            max: ms(histogram.max()),
            mean: round3(histogram.mean() / 1000.0),
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl BenchReport {
    /// The report as one line of JSON (what `--json` prints last).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The report for people, several lines.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if let Some(baseline) = &self.baseline {
            out.push_str(&baseline.block());
            out.push('\n');
        }
        out.push_str(&self.block());
        if let (Some(ratio), Some(p99)) = (self.ratio_to_baseline, self.p99_ratio_to_baseline) {
            let _ = writeln!(
                out,
                "\nratio to baseline: {ratio:.3} of its requests/s ({:.1}%), p99 {p99:.2}x",
                ratio * 100.0
            );
        }
        out
    }

    fn block(&self) -> String {
        let mut out = String::new();
        let keys = if self.keys == 1 {
            "1 key".to_owned()
        } else {
            format!("{} keys", self.keys)
        };
        let _ = writeln!(
            out,
            "{} {} at {}: {} connections, {keys}, {}-byte payload, {:.1} s measured after {:.1} s warmup",
            self.target, self.op, self.endpoint, self.connections, self.payload_bytes,
            self.duration_s, self.warmup_s
        );
        if self.setup_s > 0.0 {
            let _ = writeln!(out, "  setup:        {:.1} s", self.setup_s);
        }
        let _ = writeln!(
            out,
            "  requests:     {} ok of {} ({:.1}/s)",
            self.successful_requests, self.total_requests, self.requests_per_second
        );
        let _ = writeln!(
            out,
            "  latency (ms): p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}  mean {:.3}",
            self.p50_ms, self.p90_ms, self.p99_ms, self.p999_ms, self.max_ms, self.mean_ms
        );
        if self.errors.is_empty() {
            let _ = writeln!(out, "  errors:       none");
        } else {
            let list: Vec<String> = self
                .errors
                .iter()
                .map(|(code, n)| format!("{code} {n}"))
                .collect();
            let _ = writeln!(out, "  errors:       {}", list.join(", "));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> BenchReport {
        BenchReport {
            target: "server".into(),
            endpoint: "http://127.0.0.1:1/".into(),
            op: "encrypt".into(),
            connections: 32,
            payload_bytes: 1024,
            keys: 1,
            duration_s: 5.0,
            warmup_s: 1.0,
            setup_s: 0.1,
            total_requests: 1002,
            successful_requests: 1000,
            requests_per_second: 200.0,
            p50_ms: 1.0,
            p90_ms: 2.0,
            p99_ms: 3.0,
            p999_ms: 4.0,
            max_ms: 5.0,
            mean_ms: 1.2,
            errors: BTreeMap::from([("ThrottlingException".to_owned(), 2)]),
            baseline: None,
            ratio_to_baseline: None,
            p99_ratio_to_baseline: None,
        }
    }

    #[test]
    fn percentiles_from_histogram() {
        let mut h = crate::load::new_histogram().unwrap();
        for micros in 1..=1000u64 {
            h.record(micros * 10).unwrap(); // 10 µs .. 10 ms, uniform
        }
        let p = Percentiles::of(&h);
        let close = |a: f64, b: f64| (a - b).abs() <= b * 0.002 + 0.001;
        assert!(close(p.p50, 5.0), "{p:?}");
        assert!(close(p.p90, 9.0), "{p:?}");
        assert!(close(p.p99, 9.9), "{p:?}");
        assert!(close(p.p999, 9.99), "{p:?}");
        assert!(close(p.max, 10.0), "{p:?}");
        assert!(close(p.mean, 5.005), "{p:?}");
    }

    #[test]
    fn slow_requests_are_not_clipped() {
        let mut h = crate::load::new_histogram().unwrap();
        h.saturating_record(250_000); // 250 ms
        h.saturating_record(3);
        let p = Percentiles::of(&h);
        assert!((p.max - 250.0).abs() < 0.5, "{p:?}");
        assert!((p.p50 - 0.003).abs() < 0.0005, "{p:?}");
    }

    #[test]
    fn empty_histogram_reports_zeros() {
        let h = crate::load::new_histogram().unwrap();
        assert_eq!(Percentiles::of(&h).p99, 0.0);
    }

    #[test]
    fn json_line_has_the_documented_fields() {
        let line = sample().to_json_line();
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        for field in [
            "requests_per_second",
            "p50_ms",
            "p90_ms",
            "p99_ms",
            "p999_ms",
            "op",
            "connections",
            "payload_bytes",
            "keys",
            "duration_s",
            "total_requests",
        ] {
            assert!(v.get(field).is_some(), "missing {field}: {line}");
        }
        assert_eq!(v["errors"]["ThrottlingException"], 2);
        assert_eq!(v["requests_per_second"], 200.0);
        assert!(v.get("baseline").is_none());
        assert!(v.get("ratio_to_baseline").is_none());
    }

    #[test]
    fn comparison_nests_the_baseline() {
        let mut report = sample();
        let mut baseline = sample();
        baseline.target = "baseline".into();
        baseline.requests_per_second = 400.0;
        report.baseline = Some(Box::new(baseline));
        report.ratio_to_baseline = Some(0.5);
        report.p99_ratio_to_baseline = Some(1.0);
        let v: serde_json::Value = serde_json::from_str(&report.to_json_line()).unwrap();
        assert_eq!(v["ratio_to_baseline"], 0.5);
        assert_eq!(v["baseline"]["target"], "baseline");
        assert_eq!(v["baseline"]["requests_per_second"], 400.0);
        let text = report.to_text();
        assert!(text.contains("ratio to baseline: 0.500"), "{text}");
        assert!(text.contains("ThrottlingException 2"), "{text}");
    }
}
