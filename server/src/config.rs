//! Configuration: one TOML file plus `VIVA_<SECTION>_<KEY>` environment overrides.
//!
//! Precedence: built-in defaults < the TOML file < environment. Every option and its default is
//! documented in `docs/configuration.md`; `viva config show` prints the effective values.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub models: ModelsConfig,
    pub storage: StorageConfig,
    pub worker: WorkerConfig,
    pub webhooks: WebhooksConfig,
    pub log: LogConfig,
    pub session: SessionSettings,
    pub demo: DemoConfig,
    pub telephony: TelephonyConfig,
    pub shutdown: ShutdownConfig,
}

/// Live sessions: how many, how long they wait, how long a candidate may take to come back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    /// Most interviews in progress at once on this server (0: 3 per core, what a 2-core machine
    /// serves with replies under about a second). Over it, new sessions get 503 + Retry-After.
    pub max_live: usize,
    /// Most sessions created and not yet joined by a candidate.
    pub max_pending: usize,
    /// A session nobody joins within this many seconds is discarded (its invite works again).
    pub attach_timeout_s: u64,
    /// How long a dropped connection may take to come back before the candidate counts as gone.
    pub resume_grace_s: u64,
    /// After a crash or a restart, how long a candidate may resume an interview with its resume
    /// token; after it the interview is filed as `interrupted` and scored.
    pub resume_window_s: u64,
    /// Silence after a question before the interviewer offers to repeat it.
    pub silence_reprompt_s: u64,
    /// Silence after a question (reprompt included) before the interviewer moves on.
    pub silence_give_up_s: u64,
    /// Questions in a row the candidate stays silent through before the interview ends; 0: never.
    pub silence_end_after: u8,
    /// Cut-off recovery: a candidate who goes on speaking within 2.5 s of the end of their turn
    /// (a thinking pause taken for the end) stops the reply, which is withdrawn, and the
    /// continuation joins the same answer.
    pub cutoff_recovery: bool,
    /// Weigh Smart Turn's acoustic end-of-turn probability in the decision (when the model is
    /// provisioned). Off: turns end on the text and silence alone (for comparisons).
    pub turn_model: bool,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            max_live: 0,
            max_pending: 64,
            attach_timeout_s: 120,
            resume_grace_s: 60,
            resume_window_s: 600,
            silence_reprompt_s: 12,
            silence_give_up_s: 30,
            silence_end_after: 2,
            cutoff_recovery: true,
            turn_model: true,
        }
    }
}

impl SessionSettings {
    /// `max_live`, with 0 resolved for this machine.
    pub fn max_live(&self) -> usize {
        if self.max_live > 0 {
            return self.max_live;
        }
        3 * std::thread::available_parallelism().map_or(2, |n| n.get())
    }
}

/// The public demo interview (`POST /v1/sessions {"job":"demo"}`: no sign-in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemoConfig {
    /// Serve demo sessions at all (`make run` turns it on).
    pub enabled: bool,
    /// Demo sessions one client address may start per hour (0: no limit).
    pub per_address_per_hour: u32,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            per_address_per_hour: 10,
        }
    }
}

/// Dial-in by PIN over Twilio (`docs/telephony.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelephonyConfig {
    /// The Twilio account's auth token: the voice webhook checks `X-Twilio-Signature` with it.
    /// Empty: dial-in is off (the webhook answers 503).
    pub twilio_auth_token: String,
    /// The number candidates call, shown with each invite (display only).
    pub dial_in_number: String,
    /// Digits of an invite's PIN (6–8).
    pub pin_digits: usize,
    /// Wrong PINs one call may enter before it is ended politely.
    pub pin_attempts: u32,
    /// PIN entries one caller number may make per hour (0: no limit).
    pub pin_attempts_per_hour: u32,
}

impl Default for TelephonyConfig {
    fn default() -> Self {
        Self {
            twilio_auth_token: String::new(),
            dial_in_number: String::new(),
            pin_digits: 8,
            pin_attempts: 3,
            pin_attempts_per_hour: 10,
        }
    }
}

/// Stopping on SIGTERM / Ctrl-C.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShutdownConfig {
    /// Seconds the server takes to pause live interviews (the interviewer says so, everything is
    /// saved for a resume after the restart) before it exits.
    pub grace_s: u64,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self { grace_s: 10 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// Run the scoring and webhook workers inside `viva serve` (turn off when separate
    /// `viva worker` processes share the database).
    pub in_process: bool,
    /// How often an idle worker looks at the queue, in milliseconds.
    pub poll_ms: u64,
    /// A claimed scoring job whose worker has not finished within this lease is re-claimed.
    pub lease_ms: i64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            in_process: true,
            poll_ms: 2000,
            lease_ms: 600_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Receivers (http:// or https:// URLs) of this deployment's events, besides those added
    /// through the API.
    pub urls: Vec<String>,
    /// HMAC-SHA256 signing secret for the configured URLs (required when `urls` is set).
    pub secret: String,
    /// Events the configured URLs receive.
    pub events: Vec<String>,
    /// Attempts per delivery before it is marked failed.
    pub max_attempts: u32,
    /// First retry delay in milliseconds; doubled after each failure.
    pub retry_base_ms: i64,
    /// Longest retry delay in milliseconds.
    pub retry_max_ms: i64,
    /// Per-attempt timeout in milliseconds.
    pub timeout_ms: i64,
    /// PEM file of extra CA certificates trusted for https:// receivers (a private CA), on top
    /// of the system's roots (empty: none).
    pub ca_file: String,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            urls: Vec::new(),
            secret: String::new(),
            events: vec!["interview.completed".into(), "report.ready".into()],
            max_attempts: 8,
            retry_base_ms: 10_000,
            retry_max_ms: 3_600_000,
            timeout_ms: 10_000,
            ca_file: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address the HTTP server listens on.
    pub bind: String,
    /// Public base URL used in candidate links (empty: derived from `bind`).
    pub public_url: String,
    /// STUN/TURN servers for WebRTC, comma-separated (`turn:user:pass@host:port`); empty: host
    /// candidates only.
    pub ice_servers: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelsConfig {
    /// Folder holding provisioned models (relative paths are relative to the working directory).
    pub dir: PathBuf,
    /// Whisper model name: `tiny.en-q8_0` (default: tiny.en with 8-bit weights, same WER, a
    /// quarter faster), `tiny.en`, `base` or `base-q8_0`.
    pub whisper: String,
    /// Multilingual Whisper model for interviews in other languages (Spanish, German):
    /// `base-q8_0` (default) or `base`. Loaded only when provisioned; empty: none.
    pub whisper_multilingual: String,
    /// Whisper threads: offline commands use this many per pass; live sessions run this many
    /// single-threaded passes at once (ggml threads spin, so one per core). 0 = one per core.
    pub threads: usize,
    /// whisper.cpp flash attention (a faster encoder on CPU).
    pub flash_attention: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Folder for the embedded database and recordings.
    pub data_dir: PathBuf,
    /// Where recordings are kept once the interview is filed: `local` (under `data_dir`) or
    /// `s3` (an S3-compatible object store; the live recording is still written locally first).
    pub recordings: String,
    /// S3 bucket (required with `recordings = "s3"`).
    pub s3_bucket: String,
    /// S3 endpoint URL for MinIO and other S3-compatible servers (empty: AWS).
    pub s3_endpoint: String,
    /// S3 region (empty: `AWS_REGION`/`AWS_DEFAULT_REGION`, else `us-east-1`).
    pub s3_region: String,
    /// Key prefix of recordings in the bucket.
    pub s3_prefix: String,
    /// Access key id (empty: `AWS_ACCESS_KEY_ID`).
    pub s3_access_key_id: String,
    /// Secret access key (empty: `AWS_SECRET_ACCESS_KEY`).
    pub s3_secret_access_key: String,
    /// Per-request timeout of object-store calls, in milliseconds.
    pub s3_timeout_ms: u64,
    /// How often recordings whose upload failed are tried again, in milliseconds.
    pub upload_retry_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `pretty` (default on a terminal) or `json`.
    pub format: String,
    /// A tracing filter, e.g. `info` or `viva=debug,whisper_rs=warn`.
    pub level: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            public_url: String::new(),
            ice_servers: String::new(),
        }
    }
}

impl Default for ModelsConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from(viva_models::DEFAULT_MODELS_DIR),
            whisper: "tiny.en-q8_0".into(),
            whisper_multilingual: "base-q8_0".into(),
            threads: 0,
            flash_attention: false,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            recordings: "local".into(),
            s3_bucket: String::new(),
            s3_endpoint: String::new(),
            s3_region: String::new(),
            s3_prefix: "recordings".into(),
            s3_access_key_id: String::new(),
            s3_secret_access_key: String::new(),
            s3_timeout_ms: 30_000,
            upload_retry_ms: 60_000,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: "pretty".into(),
            level: "info".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {var}={value:?}: {message}")]
    Env {
        var: String,
        value: String,
        message: String,
    },
}

impl Config {
    /// Loads defaults, then `path` (when given), then environment overrides from `env`.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut value =
            toml::Value::try_from(Config::default()).map_err(|e| ConfigError::Parse {
                path: PathBuf::from("<defaults>"),
                message: e.to_string(),
            })?;
        let file_path = path
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("<defaults>"));
        if let Some(path) = path {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.into(),
                source,
            })?;
            // Parse into the typed struct first so unknown keys and wrong types are reported
            // with the file's line and column.
            toml::from_str::<Config>(&text).map_err(|e| ConfigError::Parse {
                path: path.into(),
                message: e.to_string(),
            })?;
            let file: toml::Value = toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.into(),
                message: e.to_string(),
            })?;
            merge(&mut value, file);
        }
        apply_env(&mut value, env)?;
        value
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse {
                path: file_path,
                message: e.to_string(),
            })
    }

    /// The environment variable that overrides `section.key`.
    pub fn env_name(section: &str, key: &str) -> String {
        format!("VIVA_{}_{}", section.to_uppercase(), key.to_uppercase())
    }

    /// The configuration of a server a benchmark or simulation starts inside its own process:
    /// demo sessions on and unlimited, no session cap (the benchmark measures what the cap
    /// would protect).
    pub fn in_process_harness(&self) -> Config {
        let mut c = self.clone();
        c.demo.enabled = true;
        c.demo.per_address_per_hour = 0;
        c.session.max_live = 100_000;
        c.session.max_pending = 100_000;
        c
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// Every leaf `section.key` of the defaults can be set by `VIVA_SECTION_KEY`; the value is parsed
/// as the type of the default. Unknown `VIVA_*` variables are ignored (other tools share the prefix).
fn apply_env(
    value: &mut toml::Value,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let env: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("VIVA_"))
        .collect();
    let Some(sections) = value.as_table_mut() else {
        return Ok(());
    };
    for (section, table) in sections.iter_mut() {
        let Some(table) = table.as_table_mut() else {
            continue;
        };
        for (key, slot) in table.iter_mut() {
            let var = Config::env_name(section, key);
            let Some((_, raw)) = env.iter().find(|(k, _)| *k == var) else {
                continue;
            };
            let err = |message: &str| ConfigError::Env {
                var: var.clone(),
                value: raw.clone(),
                message: message.into(),
            };
            *slot = match slot {
                toml::Value::String(_) => toml::Value::String(raw.clone()),
                toml::Value::Integer(_) => toml::Value::Integer(
                    raw.trim().parse().map_err(|_| err("expected an integer"))?,
                ),
                toml::Value::Float(_) => {
                    toml::Value::Float(raw.trim().parse().map_err(|_| err("expected a number"))?)
                }
                toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim() {
                    "1" | "true" | "yes" | "on" => true,
                    "0" | "false" | "no" | "off" => false,
                    _ => return Err(err("expected true or false")),
                }),
                // Lists: comma-separated (`VIVA_WEBHOOKS_URLS=http://a/x,http://b/y`).
                toml::Value::Array(_) => toml::Value::Array(
                    raw.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| toml::Value::String(s.to_string()))
                        .collect(),
                ),
                _ => toml::Value::String(raw.clone()),
            };
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_file_then_env() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("viva.toml");
        std::fs::write(
            &path,
            "[server]\nbind = \"0.0.0.0:9000\"\n[models]\nthreads = 3\n",
        )
        .expect("write");
        let cfg = Config::load(
            Some(&path),
            env(&[("VIVA_MODELS_THREADS", "4"), ("VIVA_UNRELATED", "x")]),
        )
        .expect("load");
        assert_eq!(cfg.server.bind, "0.0.0.0:9000");
        assert_eq!(cfg.models.threads, 4);
        assert_eq!(cfg.models.whisper, "tiny.en-q8_0");
        let cfg = Config::load(
            None,
            env(&[
                ("VIVA_WEBHOOKS_URLS", "http://a/x, http://b/y"),
                ("VIVA_WORKER_IN_PROCESS", "false"),
            ]),
        )
        .expect("lists from env");
        assert_eq!(cfg.webhooks.urls, vec!["http://a/x", "http://b/y"]);
        assert!(!cfg.worker.in_process);
        assert_eq!(
            Config::load(None, env(&[])).expect("defaults"),
            Config::default()
        );
    }

    #[test]
    fn the_example_file_shows_the_defaults() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../viva.example.toml"));
        assert_eq!(
            Config::load(Some(path), env(&[])).expect("example loads"),
            Config::default()
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("viva.toml");
        std::fs::write(&path, "[server]\nbindd = \"x\"\n").expect("write");
        let msg = Config::load(Some(&path), env(&[]))
            .expect_err("unknown key")
            .to_string();
        assert!(msg.contains("bindd") && msg.contains("line 2"), "{msg}");
        let msg = Config::load(None, env(&[("VIVA_MODELS_THREADS", "many")]))
            .expect_err("bad env")
            .to_string();
        assert!(
            msg.contains("VIVA_MODELS_THREADS") && msg.contains("integer"),
            "{msg}"
        );
        assert!(matches!(
            Config::load(Some(&dir.path().join("none.toml")), env(&[])),
            Err(ConfigError::Read { .. })
        ));
    }
}
