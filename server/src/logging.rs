//! Logging via `tracing`: human-readable by default, one JSON object per line with
//! `--log-format json` (for log shippers). whisper.cpp's own chatter is routed in as
//! `whisper_rs` events and kept at `warn` unless asked for.

use tracing_subscriber::EnvFilter;

pub fn init(format: &str, level: &str) -> anyhow::Result<()> {
    let directives = if level.contains("whisper_rs") {
        level.to_string()
    } else {
        format!("{level},whisper_rs=warn,ort=warn")
    };
    let filter = EnvFilter::try_new(&directives)
        .map_err(|e| anyhow::anyhow!("invalid log level {level:?}: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match format {
        "json" => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        "pretty" | "text" => builder.compact().try_init(),
        other => anyhow::bail!("unknown log format {other:?}: use `pretty` or `json`"),
    };
    // A second init (tests calling run twice) is harmless.
    let _ = result;
    Ok(())
}
