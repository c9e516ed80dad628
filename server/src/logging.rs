//! Logging via `tracing`: human-readable by default, one JSON object per line with
//! `--log-format json` (for log shippers). whisper.cpp's own chatter is routed in as
//! `whisper_rs` events and kept at `warn` unless asked for.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

pub fn init(format: &str, level: &str) -> anyhow::Result<()> {
    let directives = if level.contains("whisper_rs") {
        level.to_string()
    } else {
        format!("{level},whisper_rs=warn,ort=warn")
    };
    let filter = EnvFilter::try_new(&directives)
        .map_err(|e| anyhow::anyhow!("invalid log level {level:?}: {e}"))?;
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(GivenUpPasses);
    let result = match format {
        "json" => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        "pretty" | "text" => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .compact()
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        other => anyhow::bail!("unknown log format {other:?}: use `pretty` or `json`"),
    };
    // A second init (tests calling run twice) is harmless.
    let _ = result;
    Ok(())
}

/// Drops whisper.cpp's "failed to encode" / "failed to decode" errors: they are how it reports
/// a pass that viva gave up on (a caption made useless by the endpoint pass), which is routine.
/// A pass that really fails still reaches the session as an error and is logged there ("pass
/// failed").
struct GivenUpPasses;

impl<S: Subscriber> Layer<S> for GivenUpPasses {
    fn event_enabled(&self, event: &Event<'_>, _: Context<'_, S>) -> bool {
        if !event.metadata().target().starts_with("whisper_rs") {
            return true;
        }
        let mut message = GivenUpMessage(false);
        event.record(&mut message);
        !message.0
    }
}

struct GivenUpMessage(bool);

impl Visit for GivenUpMessage {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = is_given_up_pass(&format!("{value:?}"));
        }
    }
}

fn is_given_up_pass(message: &str) -> bool {
    message.contains("failed to encode") || message.contains("failed to decode")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whisper_cpps_given_up_pass_lines_are_dropped() {
        assert!(is_given_up_pass(
            "whisper_full_with_state: failed to encode"
        ));
        assert!(is_given_up_pass(
            "whisper_full_with_state: failed to decode"
        ));
        assert!(!is_given_up_pass("whisper_model_load: loading model"));
        // The layer itself: a whisper_rs event with that message is not enabled, others are.
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Seen(Arc<Mutex<Vec<String>>>);
        impl<S: Subscriber> Layer<S> for Seen {
            fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
                let mut m = Capture(String::new());
                event.record(&mut m);
                if let Ok(mut v) = self.0.lock() {
                    v.push(m.0);
                }
            }
        }
        struct Capture(String);
        impl Visit for Capture {
            fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let seen = Seen::default();
        let subscriber = tracing_subscriber::registry()
            .with(GivenUpPasses)
            .with(seen.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(target: "whisper_rs::whisper_logging_hook", "{}", "whisper_full_with_state: failed to encode");
            tracing::error!(target: "whisper_rs::whisper_logging_hook", "{}", "whisper_init: out of memory");
            tracing::error!("the session's own: failed to decode a frame");
        });
        let seen = seen.0.lock().map(|v| v.clone()).unwrap_or_default();
        assert_eq!(
            seen,
            vec![
                "whisper_init: out of memory".to_string(),
                "the session's own: failed to decode a frame".to_string()
            ]
        );
    }
}
