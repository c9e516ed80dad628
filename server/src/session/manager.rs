//! The node's live sessions: creating them within the machine's capacity, handing them to
//! transports, expiring the ones nobody joins, restoring the ones a previous process left, and
//! pausing them all when the server stops.
//!
//! Every session ends through one path: its runner finishes with a reason, and the manager
//! tells the [`SessionSink`] what became of it ([`Outcome`]) — filed, interrupted, paused for a
//! resume, or discarded.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use viva_interview::JobConfig;

use super::journal::{JournalKey, Logged};
use super::messages::{Inbound, Outbound};
use super::setup::{EndedSession, Outcome, Restored, SessionConfig, SessionSink};
use super::{machine, runner, Engines};

/// Why a transport may not attach.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AttachError {
    #[error("no such session")]
    Unknown,
    #[error("the session already has a connection")]
    Busy,
    #[error("wrong resume token")]
    BadToken,
    #[error("the session has ended")]
    Ended,
    #[error("all interviewers are busy; try again in {retry_after_s} s")]
    Full { retry_after_s: u64 },
}

/// Why a session could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("all interviewers are busy; try again in {retry_after_s} s")]
    Full { retry_after_s: u64 },
    #[error("the server is restarting; try again in {retry_after_s} s")]
    Draining { retry_after_s: u64 },
    /// The job's interview language cannot be served by this node's models.
    #[error("{0}")]
    Language(String),
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

/// What a client is told to wait before it tries a full server again.
pub const RETRY_AFTER_S: u64 = 15;

/// Interviews in progress on this node, shared by the manager and every handle.
#[derive(Debug, Default)]
struct Capacity {
    live: AtomicUsize,
    max_live: usize,
}

impl Capacity {
    /// Takes a live slot if one is free.
    fn take(&self) -> bool {
        self.live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max_live).then_some(n + 1)
            })
            .is_ok()
    }

    fn give_back(&self) {
        let _ = self
            .live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }
}

/// A live session as the gateways see it.
pub struct SessionHandle {
    pub id: String,
    token_hash: String,
    pub inbound: mpsc::Sender<Inbound>,
    outbound: Mutex<Option<mpsc::Receiver<Outbound>>>,
    attached: AtomicBool,
    /// Transports attached so far (a later one is a resume).
    attachments: AtomicU32,
    /// Restored from a previous process: even its first transport resumes.
    restored: bool,
    /// Holds one of the node's live slots (from its first attach until it ends).
    live_slot: AtomicBool,
    capacity: Arc<Capacity>,
    ended: Arc<AtomicBool>,
}

/// The transport's side of an attached session; give it back with [`SessionHandle::detach`].
pub struct Attachment {
    pub outbound: mpsc::Receiver<Outbound>,
    /// A transport was attached before (or the session was restored): this one resumes.
    pub resumed: bool,
}

impl SessionHandle {
    /// Claims the session for one transport. Checks the token in constant time; the first
    /// attach takes a live slot (refused when the node is full).
    pub fn attach(&self, token: &str) -> Result<Attachment, AttachError> {
        if self.ended.load(Ordering::SeqCst) {
            return Err(AttachError::Ended);
        }
        if !constant_time_eq(hash_token(token).as_bytes(), self.token_hash.as_bytes()) {
            return Err(AttachError::BadToken);
        }
        self.claim()
    }

    /// Claims the session for a transport whose right to it was checked another way (a phone
    /// call that gave the invite's PIN: [`SessionManager::check_grant`]).
    pub fn attach_granted(&self) -> Result<Attachment, AttachError> {
        if self.ended.load(Ordering::SeqCst) {
            return Err(AttachError::Ended);
        }
        self.claim()
    }

    fn claim(&self) -> Result<Attachment, AttachError> {
        if self.attached.swap(true, Ordering::SeqCst) {
            return Err(AttachError::Busy);
        }
        if !self.live_slot.load(Ordering::SeqCst) {
            if !self.capacity.take() {
                self.attached.store(false, Ordering::SeqCst);
                return Err(AttachError::Full {
                    retry_after_s: RETRY_AFTER_S,
                });
            }
            self.live_slot.store(true, Ordering::SeqCst);
        }
        let mut slot = self.outbound.lock().unwrap_or_else(|p| p.into_inner());
        match slot.take() {
            Some(outbound) => Ok(Attachment {
                outbound,
                resumed: self.restored || self.attachments.fetch_add(1, Ordering::SeqCst) > 0,
            }),
            None => {
                self.attached.store(false, Ordering::SeqCst);
                Err(AttachError::Busy)
            }
        }
    }

    /// True while a transport holds the session.
    pub fn is_attached(&self) -> bool {
        self.attached.load(Ordering::SeqCst)
    }

    pub fn is_ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    /// A transport ever joined this session (in this process).
    fn ever_attached(&self) -> bool {
        self.live_slot.load(Ordering::SeqCst)
    }

    /// Returns the outbound queue so a later transport can resume. However the transport ended
    /// (a close by either side with any code, a protocol error, a timeout), the session starts
    /// its grace period for a resume; a session that is over ignores it.
    pub fn detach(&self, attachment: Attachment) {
        let mut slot = self.outbound.lock().unwrap_or_else(|p| p.into_inner());
        *slot = Some(attachment.outbound);
        self.attached.store(false, Ordering::SeqCst);
        drop(slot);
        if !self.is_ended() {
            let tx = self.inbound.clone();
            if let Err(mpsc::error::TrySendError::Full(m)) = tx.try_send(Inbound::Detached) {
                tokio::spawn(async move {
                    let _ = tx.send(m).await;
                });
            }
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// How a resume token is kept (in memory and in the database): its SHA-256, hex.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What `POST /v1/sessions` returns.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Created {
    pub id: String,
    pub resume_token: String,
}

/// A session a previous process left, to bring back (see [`SessionManager::restore`]).
pub struct RestoreSpec {
    pub session_id: String,
    pub token_hash: String,
    pub interview_id: String,
    pub job: JobConfig,
    pub events: Vec<Logged>,
    pub seq: u64,
    pub clock_ms: u64,
    /// How long the candidate still has to come back.
    pub window: Duration,
}

/// Registry of this node's live sessions.
pub struct SessionManager {
    engines: Arc<Engines>,
    config: SessionConfig,
    sessions: Mutex<HashMap<String, Arc<SessionHandle>>>,
    sink: Option<Arc<dyn SessionSink>>,
    capacity: Arc<Capacity>,
    draining: AtomicBool,
    /// Sessions whose end is still being written.
    filing: Arc<AtomicUsize>,
    /// Signs attach grants (random per process: a grant is used seconds after it is made).
    grant_key: [u8; 32],
}

/// How long an attach grant stays valid: Twilio opens the stream within seconds of the TwiML.
const GRANT_TTL_S: u64 = 120;

impl SessionManager {
    pub fn new(engines: Arc<Engines>, config: SessionConfig) -> Arc<Self> {
        Self::with_sink(engines, config, None)
    }

    /// A manager whose linked sessions report to `sink`.
    pub fn with_sink(
        engines: Arc<Engines>,
        config: SessionConfig,
        sink: Option<Arc<dyn SessionSink>>,
    ) -> Arc<Self> {
        let capacity = Arc::new(Capacity {
            live: AtomicUsize::new(0),
            max_live: config.max_live,
        });
        Arc::new(Self {
            engines,
            config,
            sessions: Mutex::new(HashMap::new()),
            sink,
            capacity,
            draining: AtomicBool::new(false),
            filing: Arc::new(AtomicUsize::new(0)),
            grant_key: {
                let mut k = [0u8; 32];
                // Without randomness the key stays zero and every grant is refused below.
                if let Err(e) = getrandom::fill(&mut k) {
                    tracing::error!(error = %e, "no randomness for attach grants: dial-in calls cannot join");
                }
                k
            },
        })
    }

    fn grant_mac(&self, session_id: &str, exp_s: u64) -> hmac::Hmac<Sha256> {
        use hmac::Mac;
        // HMAC takes a key of any length: this cannot fail.
        let mut m = hmac::Hmac::<Sha256>::new_from_slice(&self.grant_key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        m.update(session_id.as_bytes());
        m.update(b".");
        m.update(exp_s.to_string().as_bytes());
        m
    }

    /// A short-lived grant to attach one transport to `session_id` without its resume token
    /// (`g1.<exp>.<hex HMAC>`): what the phone gateway hands a caller who gave the right PIN.
    pub fn grant(&self, session_id: &str, now_s: u64) -> String {
        use hmac::Mac;
        let exp = now_s + GRANT_TTL_S;
        let sig = hex::encode(self.grant_mac(session_id, exp).finalize().into_bytes());
        format!("g1.{exp}.{sig}")
    }

    /// Whether `token` is a valid, unexpired grant for `session_id` (constant-time check).
    pub fn check_grant(&self, session_id: &str, token: &str, now_s: u64) -> bool {
        use hmac::Mac;
        if self.grant_key == [0u8; 32] {
            return false;
        }
        let mut parts = token.splitn(3, '.');
        let (Some("g1"), Some(exp), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let (Ok(exp), Ok(sig)) = (exp.parse::<u64>(), hex::decode(sig)) else {
            return false;
        };
        exp >= now_s
            && exp <= now_s + GRANT_TTL_S
            && self.grant_mac(session_id, exp).verify_slice(&sig).is_ok()
    }

    /// Where a session's recording goes, relative to the recordings folder.
    pub fn recording_key(session_id: &str) -> String {
        format!("{session_id}/recording.wav")
    }

    pub fn engines(&self) -> &Arc<Engines> {
        &self.engines
    }

    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    pub fn get(&self, id: &str) -> Option<Arc<SessionHandle>> {
        self.lock().get(id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<SessionHandle>>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Interviews in progress (joined and not over) on this node.
    pub fn live_count(&self) -> usize {
        self.capacity.live.load(Ordering::SeqCst)
    }

    /// Sessions created and not joined yet.
    pub fn pending_count(&self) -> usize {
        self.lock()
            .values()
            .filter(|h| !h.is_ended() && !h.ever_attached())
            .count()
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Whether `h` may be joined now: its first join needs a free live slot.
    pub fn can_join(&self, h: &SessionHandle) -> Result<(), AttachError> {
        if !h.ever_attached() && self.live_count() >= self.config.max_live {
            return Err(AttachError::Full {
                retry_after_s: RETRY_AFTER_S,
            });
        }
        Ok(())
    }

    /// Whether a new session would be served now.
    pub fn admit(&self) -> Result<(), CreateError> {
        if self.is_draining() {
            return Err(CreateError::Draining {
                retry_after_s: RETRY_AFTER_S,
            });
        }
        if self.live_count() >= self.config.max_live
            || self.pending_count() >= self.config.max_pending
        {
            return Err(CreateError::Full {
                retry_after_s: RETRY_AFTER_S,
            });
        }
        Ok(())
    }

    /// Creates a session for `job` and starts its runner (the interview itself starts when a
    /// transport attaches). Must run inside the tokio runtime.
    pub fn create(self: &Arc<Self>, job: JobConfig) -> Result<Created, CreateError> {
        self.create_linked(job, None)
    }

    /// Like [`create`](Self::create), for the stored interview `interview_id`: its state is
    /// written as it changes and, when the session ends, it is filed under that interview.
    pub fn create_linked(
        self: &Arc<Self>,
        job: JobConfig,
        interview_id: Option<String>,
    ) -> Result<Created, CreateError> {
        // Every language the interview may be held in (the candidate may switch) must be
        // served here, or the interview is refused before it starts rather than midway.
        if let Some(lang) = job
            .allowed_langs()
            .into_iter()
            .find(|l| !self.engines.supports(super::speech_language(*l)))
        {
            return Err(CreateError::Language(format!(
                "this interview may be held in {:?}, which this server cannot transcribe or speak yet: provision the multilingual Whisper model (`viva models fetch --model base-q8_0`, part of `make models`) and restart",
                lang.tag()
            )));
        }
        self.admit()?;
        let id = format!("s-{}", random_hex(8).map_err(CreateError::Failed)?);
        let token = random_hex(16).map_err(CreateError::Failed)?;
        self.start(
            id.clone(),
            hash_token(&token),
            job,
            interview_id,
            None,
            self.config.attach_timeout,
        )
        .map_err(CreateError::Failed)?;
        Ok(Created {
            id,
            resume_token: token,
        })
    }

    /// Brings back a session a previous process left (crashed or paused): the same id and
    /// resume token, the interview rebuilt from its journal, the recording continued. It waits
    /// `spec.window` for the candidate; after that it is filed as interrupted.
    pub fn restore(self: &Arc<Self>, spec: RestoreSpec) -> anyhow::Result<()> {
        if self.get(&spec.session_id).is_some() {
            return Ok(());
        }
        self.start(
            spec.session_id,
            spec.token_hash,
            spec.job,
            Some(spec.interview_id),
            Some(Restored {
                events: spec.events,
                seq: spec.seq,
                clock_ms: spec.clock_ms,
            }),
            spec.window,
        )
    }

    fn start(
        self: &Arc<Self>,
        id: String,
        token_hash: String,
        job: JobConfig,
        interview_id: Option<String>,
        restored: Option<Restored>,
        attach_timeout: Duration,
    ) -> anyhow::Result<()> {
        let dir = self.config.recordings_dir.join(&id);
        std::fs::create_dir_all(&dir)?;
        self.engines
            .prerender_in_background(std::slice::from_ref(&job));
        let (in_tx, in_rx) = mpsc::channel(runner::INBOUND_CAPACITY);
        let (out_tx, out_rx) = mpsc::channel(runner::OUTBOUND_CAPACITY);
        let ended = Arc::new(AtomicBool::new(false));
        let is_restored = restored.is_some();
        let handle = Arc::new(SessionHandle {
            id: id.clone(),
            token_hash: token_hash.clone(),
            inbound: in_tx.clone(),
            outbound: Mutex::new(Some(out_rx)),
            attached: AtomicBool::new(false),
            attachments: AtomicU32::new(0),
            restored: is_restored,
            live_slot: AtomicBool::new(false),
            capacity: self.capacity.clone(),
            ended: ended.clone(),
        });
        let journal = match (&self.sink, &interview_id) {
            (Some(sink), Some(iv)) => Some(runner::JournalOut {
                key: JournalKey {
                    session_id: id.clone(),
                    interview_id: iv.clone(),
                    token_hash,
                },
                sink: sink.clone(),
            }),
            _ => None,
        };
        let running = runner::spawn(
            runner::SessionParts {
                id: id.clone(),
                job,
                dir: dir.clone(),
                journal,
                restored,
            },
            self.engines.clone(),
            self.config.clone(),
            in_rx,
            out_tx,
        )?;
        self.lock().insert(id.clone(), handle.clone());
        // Nobody joins in time: the session ends (and is discarded, or filed as interrupted).
        tokio::spawn(async move {
            tokio::time::sleep(attach_timeout).await;
            if !handle.ever_attached() && !handle.is_ended() {
                tracing::info!(session_id = %handle.id, "nobody joined the session in time");
                let _ = in_tx.send(Inbound::Expire).await;
            }
        });
        let me = self.clone();
        let sid = id.clone();
        me.filing.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            let reason = running.await.unwrap_or_else(|_| "failed".into());
            ended.store(true, Ordering::SeqCst);
            let handle = me.get(&sid);
            let ever_attached = handle.as_ref().is_some_and(|h| h.ever_attached());
            if ever_attached {
                me.capacity.give_back();
            }
            let outcome = match (ever_attached, is_restored, reason.as_str()) {
                (false, false, _) => Outcome::Discarded,
                (_, _, machine::REASON_PAUSED) => Outcome::Paused,
                (false, true, _) => Outcome::Interrupted,
                _ => Outcome::Finished,
            };
            tracing::info!(session_id = %sid, %reason, ?outcome, "session ended");
            match (me.sink.clone(), interview_id) {
                (Some(sink), Some(interview)) => {
                    let done = sink.ended(EndedSession {
                        session_id: sid.clone(),
                        interview_id: interview,
                        dir: dir.clone(),
                        outcome,
                    });
                    let _ = done.await;
                }
                _ if outcome == Outcome::Discarded => {
                    let _ = tokio::fs::remove_dir_all(&dir).await;
                }
                _ => {}
            }
            me.filing.fetch_sub(1, Ordering::SeqCst);
            if outcome == Outcome::Discarded {
                me.lock().remove(&sid);
                return;
            }
            // Keep the entry a little so a late reconnect hears "ended" rather than "unknown".
            tokio::time::sleep(Duration::from_secs(30)).await;
            me.lock().remove(&sid);
        });
        Ok(())
    }

    /// Stops taking sessions and pauses every live one: the interviewer tells the candidate it
    /// must pause, and each session's state (audio, turns, where the plan stands) is saved for a
    /// resume after the restart. Returns when all are saved or `grace` has passed (false then).
    pub async fn drain(&self, grace: Duration) -> bool {
        self.draining.store(true, Ordering::SeqCst);
        let handles: Vec<Arc<SessionHandle>> = self.lock().values().cloned().collect();
        let live = handles.iter().filter(|h| !h.is_ended()).count();
        tracing::info!(sessions = live, "draining: pausing live sessions");
        for h in handles.iter().filter(|h| !h.is_ended()) {
            let _ = h.inbound.try_send(Inbound::Pause);
        }
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let running = self.lock().values().filter(|h| !h.is_ended()).count();
            if running == 0 && self.filing.load(Ordering::SeqCst) == 0 {
                tracing::info!("every session saved");
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(running, "shutdown grace over with sessions still saving");
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    Ok(hex::encode(buf))
}
