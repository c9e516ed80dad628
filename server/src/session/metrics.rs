//! Prometheus metrics of the live pipeline, one histogram per stage.
//!
//! Why the `prometheus` crate rather than `metrics` + `metrics-exporter-prometheus`: the latter
//! installs one global recorder per process, and this process may run several servers (the
//! in-process server of `viva simulate`, tests). An explicit [`Registry`] per server keeps them
//! apart and needs no global state; the text encoder is all `/metrics` needs.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    /// Per stage (`docs/protocol.md`, section 8): front_end, end_of_turn, turn_acoustic,
    /// asr_partial, asr_endpoint, asr_final_pass, asr_final, dialogue, tts_first_audio(_cached),
    /// barge_in_detect, barge_in_stop.
    pub stage_seconds: HistogramVec,
    /// Candidate's last speech → first interviewer audio sent (server side of response latency).
    pub response_seconds: Histogram,
    pub live_sessions: IntGauge,
    /// Things dropped or refused, by kind (late_audio, flood, bad_frame, …).
    pub events: IntCounterVec,
}

const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2,
    1.5, 2.0, 3.0, 5.0, 10.0,
];

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let stage_seconds = HistogramVec::new(
            HistogramOpts::new(
                "viva_stage_seconds",
                "Latency of each session pipeline stage",
            )
            .buckets(BUCKETS.to_vec()),
            &["stage"],
        )
        .expect("static metric definition");
        let response_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "viva_response_seconds",
                "Candidate's last speech to the interviewer's first audio sent",
            )
            .buckets(BUCKETS.to_vec()),
        )
        .expect("static metric definition");
        let live_sessions = IntGauge::new("viva_live_sessions", "Sessions with a running pipeline")
            .expect("static metric definition");
        let events = IntCounterVec::new(
            Opts::new(
                "viva_session_events_total",
                "Dropped or refused input, by kind",
            ),
            &["kind"],
        )
        .expect("static metric definition");
        for c in [
            Box::new(stage_seconds.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(response_seconds.clone()),
            Box::new(live_sessions.clone()),
            Box::new(events.clone()),
        ] {
            // Names are unique and static: registering into a fresh registry cannot fail.
            let _ = registry.register(c);
        }
        Self {
            registry,
            stage_seconds,
            response_seconds,
            live_sessions,
            events,
        }
    }

    pub fn observe(&self, stage: &str, seconds: f64) {
        self.stage_seconds
            .with_label_values(&[stage])
            .observe(seconds);
    }

    pub fn count(&self, kind: &str) {
        self.events.with_label_values(&[kind]).inc();
    }

    pub fn count_n(&self, kind: &str, n: u64) {
        if n > 0 {
            self.events.with_label_values(&[kind]).inc_by(n);
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .is_err()
        {
            return String::new();
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
