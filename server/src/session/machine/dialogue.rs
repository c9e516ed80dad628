//! The session's side of the interview: final answers into the [`Interview`], its actions out
//! as utterances, the silence timer, the write-ahead journal, withdrawing a reply when the
//! candidate had not finished, and pausing for a server restart (sans-IO).

use viva_audio::turn::Language;
use viva_interview::{Action, EngineConfig, Event, Interview, UtteranceKind, Word};

use super::super::journal::{self, Journal, JournalKey};
use super::super::messages::{Outbound, ServerEvent};
use super::messages::{Cx, Metric, Note, Output, Say, REASON_PAUSED};

/// What the interviewer says when the server must stop mid-interview.
fn pause_text(language: Language) -> &'static str {
    match language {
        Language::En => {
            "I'm sorry, I have to pause our interview for a moment. Please rejoin \
with the same link in a minute or two, and we will continue exactly where we left off."
        }
        Language::Es => {
            "Lo siento, tengo que interrumpir la entrevista un momento. Vuelva a \
entrar con el mismo enlace en uno o dos minutos y seguiremos exactamente donde lo dejamos."
        }
        Language::De => {
            "Es tut mir leid, ich muss unser Gespräch kurz unterbrechen. Bitte \
treten Sie in ein, zwei Minuten über denselben Link wieder bei, dann machen wir genau dort \
weiter, wo wir aufgehört haben."
        }
    }
}

/// What the interviewer says first when a paused or interrupted interview resumes.
fn resume_text(language: Language) -> &'static str {
    match language {
        Language::En => "Welcome back, and thank you for waiting. Let's continue where we left off.",
        Language::Es => "Bienvenido de nuevo, y gracias por esperar. Sigamos donde lo dejamos.",
        Language::De => {
            "Willkommen zurück, und danke fürs Warten. Machen wir dort weiter, wo wir aufgehört haben."
        }
    }
}

/// What the candidate page's "repeat" button stands for, in the interview's language (the
/// engine reads it as the candidate's own words).
pub(super) fn repeat_request(language: Language) -> &'static str {
    match language {
        Language::En => "Could you repeat the question, please?",
        Language::Es => "¿Podría repetir la pregunta, por favor?",
        Language::De => "Könnten Sie die Frage bitte wiederholen?",
    }
}

/// A spoken answer as the dialogue received it, with where the journal stood before it.
struct VoiceAnswer {
    journal_len: usize,
    text: String,
    words: Option<Vec<Word>>,
    speech_end_ms: u64,
    /// What the interviewer said in reply (withdrawn when the candidate went on).
    reply: String,
}

/// Whether `heard` is the interviewer's own `reply` picked up by the candidate's microphone:
/// at least two words, nearly all of them in the reply.
fn is_echo_of(heard: &str, reply: &str) -> bool {
    let words = |t: &str| -> Vec<String> {
        t.split_whitespace()
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect()
    };
    let (heard, reply) = (words(heard), words(reply));
    if heard.len() < 2 || reply.is_empty() {
        return false;
    }
    let inside = heard.iter().filter(|w| reply.contains(w)).count();
    inside * 10 >= heard.len() * 8
}

pub(super) struct Dialogue {
    interview: Interview,
    engine_config: EngineConfig,
    /// The last spoken answer handled (its reply may still be withdrawn).
    last_voice_answer: Option<VoiceAnswer>,
    /// A withdrawn answer waiting for its continuation.
    held: Option<VoiceAnswer>,
    /// The speech end of an answer to hold when its transcript comes.
    hold_next: Option<u64>,
    /// Every event that changed the interview (write-ahead: replayed after a crash).
    journal: Journal,
    journal_key: Option<JournalKey>,
    /// The journal has events not yet handed to the sink.
    dirty: bool,
    /// When the interviewer last stopped with a question the candidate has not started on.
    silent_since: Option<u64>,
    ended: bool,
}

impl Dialogue {
    pub fn new(
        interview: Interview,
        engine_config: EngineConfig,
        journal: Journal,
        journal_key: Option<JournalKey>,
    ) -> Self {
        Self {
            interview,
            engine_config,
            last_voice_answer: None,
            held: None,
            hold_next: None,
            journal,
            journal_key,
            dirty: false,
            silent_since: None,
            ended: false,
        }
    }

    #[cfg(test)]
    pub fn interview(&self) -> &Interview {
        &self.interview
    }

    /// The language the interview is held in now (the candidate may have switched).
    pub fn language(&self) -> Language {
        super::super::speech_language(self.interview.language())
    }

    /// The candidate is connected: the interview begins.
    pub fn start(&mut self, now: u64, cx: &mut Cx) {
        if self.ended {
            return;
        }
        let actions = self.handle(now, Event::Start);
        self.act(now, actions, None, cx);
    }

    /// Once a second: the silence timer and the time budget.
    pub fn tick(&mut self, now: u64, cx: &mut Cx) {
        if self.ended {
            return;
        }
        if let Some(since) = self.silent_since {
            let actions = self.handle(
                now,
                Event::Silence {
                    ms: now.saturating_sub(since),
                },
            );
            self.act(now, actions, None, cx);
        }
        let actions = self.handle(now, Event::TimeTick);
        self.act(now, actions, None, cx);
    }

    pub fn candidate_speaking(&mut self) {
        self.silent_since = None;
    }

    /// The interviewer finished an utterance. Silence counts from the end of a question; a
    /// remark that awaits nothing (the reprompt) leaves the count running, so the give-up
    /// comes `silence_give_up` after the question, reprompt or not.
    pub fn interviewer_done(&mut self, at_ms: u64, awaits_answer: bool, utterance_id: &str) {
        self.interview.mark_spoken(utterance_id, at_ms);
        if awaits_answer {
            self.silent_since = Some(at_ms);
        }
    }

    pub fn left(&mut self, now: u64, cx: &mut Cx) {
        if self.ended {
            return;
        }
        let actions = self.handle(now, Event::CandidateLeft);
        self.act(now, actions, None, cx);
    }

    /// Nobody joined in time (or, restored, came back in time): end without a word.
    pub fn expire(&mut self, cx: &mut Cx) {
        if self.ended {
            return;
        }
        self.ended = true;
        cx.note(Note::End("expired".into()));
    }

    /// A final transcript: held when its reply was withdrawn before it came, merged with a held
    /// answer when it is that answer's continuation, else handed to the interview.
    pub fn answer(
        &mut self,
        now: u64,
        text: String,
        words: Option<Vec<Word>>,
        speech_end_ms: Option<u64>,
        cx: &mut Cx,
    ) {
        if self.ended {
            return;
        }
        if let (Some(hold), Some(end)) = (self.hold_next, speech_end_ms) {
            if hold == end {
                self.hold_next = None;
                tracing::info!(%text, "answer held for its continuation");
                self.held = Some(VoiceAnswer {
                    journal_len: self.journal.len(),
                    text,
                    words,
                    speech_end_ms: end,
                    reply: String::new(),
                });
                return;
            }
        }
        let (text, words) = match self.held.take() {
            Some(first) if !first.reply.is_empty() && is_echo_of(&text, &first.reply) => {
                // Not the candidate going on: the reply came back through their speakers.
                tracing::info!(%text, "the continuation was the reply's echo; the answer stands alone");
                cx.metric(Metric::Count("turn_resume_echo"));
                (first.text, first.words)
            }
            Some(first) => {
                let merged = [first.text.trim(), text.trim()]
                    .iter()
                    .filter(|t| !t.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" ");
                let words = match (first.words, words) {
                    (Some(mut a), Some(b)) => {
                        a.extend(b);
                        Some(a)
                    }
                    (a, b) => a.or(b),
                };
                tracing::info!(text = %merged, "continuation merged into the same answer");
                (merged, words)
            }
            None => (text, words),
        };
        let journal_len = self.journal.len();
        let turn = self.interview.transcript().turns.len();
        let span = tracing::info_span!("answer", turn);
        // No words (noise, a failed pass) are no answer: the silence count starts again.
        self.silent_since = text.trim().is_empty().then_some(now);
        let actions = self.handle(
            now,
            Event::CandidateAnswered {
                text: text.clone(),
                words: words.clone(),
            },
        );
        span.in_scope(|| tracing::info!(actions = actions.len(), "answer handled"));
        let reply = actions
            .iter()
            .filter_map(|a| match a {
                Action::Say { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" ");
        self.last_voice_answer = speech_end_ms.map(|end| VoiceAnswer {
            journal_len,
            text,
            words,
            speech_end_ms: end,
            reply,
        });
        self.act(now, actions, speech_end_ms, cx);
    }

    /// No continuation came: a held answer stands alone.
    pub fn release_held(&mut self, now: u64, cx: &mut Cx) {
        self.hold_next = None;
        if let Some(h) = self.held.take() {
            tracing::info!("no continuation came: the held answer stands alone");
            self.answer(now, h.text, h.words, Some(h.speech_end_ms), cx);
        }
    }

    /// The candidate went on after their turn was ended. If the answer was already handled,
    /// the interview is rebuilt from the journal as it stood before it (its reply leaves the
    /// transcript) and the answer is held; if it is still being transcribed, it will be held
    /// when it comes. Either way the continuation is merged into it.
    pub fn withdraw(&mut self, now: u64, speech_end_ms: u64, cx: &mut Cx) {
        if self.ended {
            return;
        }
        match self.last_voice_answer.take() {
            Some(a) if a.speech_end_ms == speech_end_ms => {
                self.journal.truncate(a.journal_len);
                self.interview = journal::replay(
                    self.interview.job().clone(),
                    self.engine_config.clone(),
                    self.journal.events(),
                );
                self.silent_since = None;
                self.dirty = true;
                self.save(now, cx);
                tracing::info!(text = %a.text, "reply withdrawn; the answer waits for its continuation");
                self.held = Some(a);
            }
            other => {
                self.last_voice_answer = other;
                self.hold_next = Some(speech_end_ms);
            }
        }
    }

    /// A restored session's candidate is back: a word of welcome, then the question they owe
    /// an answer to. Neither is a new turn: the answer still belongs to that question.
    pub fn resume(&mut self, cx: &mut Cx) {
        if self.ended {
            return;
        }
        let Some(prompt) = journal::pending_prompt(&self.interview) else {
            // It had ended before the process died (its filing was lost): file it now.
            self.ended = true;
            cx.note(Note::End("completed".into()));
            return;
        };
        tracing::info!("restored interview resumed");
        self.welcome_back(prompt, cx);
    }

    /// The candidate came back after being away long enough to have missed something (a
    /// dropped call they called back, a page that reconnected late): a word of welcome and the
    /// question that stands, asked again.
    pub fn rejoined(&mut self, cx: &mut Cx) {
        if self.ended {
            return;
        }
        if let Some(prompt) = journal::pending_prompt(&self.interview) {
            tracing::info!("candidate rejoined: the question is asked again");
            self.welcome_back(prompt, cx);
        }
    }

    fn welcome_back(&mut self, prompt: String, cx: &mut Cx) {
        let text = format!("{} {prompt}", resume_text(self.language()));
        self.silent_since = None;
        let language = self.language();
        cx.note(Note::Say(Say {
            utterance_id: viva_interview::utterance_id(&text),
            text,
            kind: UtteranceKind::Repeat,
            awaits_answer: true,
            speech_end_ms: None,
            language,
        }));
    }

    /// The server is stopping: everything is saved, the candidate is told (when `say`), the
    /// session ends with [`REASON_PAUSED`] (kept for a resume, not filed).
    pub fn pause(&mut self, now: u64, say: bool, cx: &mut Cx) {
        if self.ended {
            return;
        }
        self.ended = true;
        self.dirty = true;
        self.save(now, cx);
        tracing::info!(say, "interview paused for a server restart");
        if say {
            let language = self.language();
            cx.note(Note::Say(Say {
                utterance_id: viva_interview::utterance_id(pause_text(self.language())),
                text: pause_text(self.language()).into(),
                kind: UtteranceKind::Transition,
                awaits_answer: false,
                speech_end_ms: None,
                language,
            }));
        }
        cx.note(Note::End(REASON_PAUSED.into()));
    }

    /// Where the interview stands, for the candidate's page.
    pub fn progress(&self, now: u64, cx: &mut Cx) {
        let t = self.interview.transcript();
        let total_ms = u64::from(self.interview.job().duration_minutes) * 60_000;
        let elapsed = t.started_at_ms.map(|s| now.saturating_sub(s)).unwrap_or(0);
        cx.output(Output::Send(Outbound::Event(ServerEvent::Progress {
            phase: self.interview.phase(),
            turns: t.turns.len(),
            remaining_s: total_ms.saturating_sub(elapsed) / 1000,
        })));
    }

    /// The state as it stands, for a last save when the session ends.
    pub fn finish(&mut self, now: u64, cx: &mut Cx) {
        self.save(now, cx);
    }

    /// One event into the interview, kept in the journal when it changed something.
    fn handle(&mut self, now: u64, event: Event) -> Vec<Action> {
        let actions = self.interview.handle(now, event.clone());
        if self.journal.record(now, &event, !actions.is_empty()) {
            self.dirty = true;
        }
        actions
    }

    fn act(&mut self, now: u64, actions: Vec<Action>, mut speech_end_ms: Option<u64>, cx: &mut Cx) {
        if actions.is_empty() {
            return;
        }
        for a in actions {
            match a {
                Action::Say {
                    utterance_id,
                    text,
                    kind,
                    awaits_answer,
                    ..
                } => {
                    if kind != UtteranceKind::Reprompt {
                        self.silent_since = None;
                    }
                    let language = self.language();
                    cx.note(Note::Say(Say {
                        utterance_id,
                        text,
                        kind,
                        awaits_answer,
                        // Only the first utterance answers the candidate's turn.
                        speech_end_ms: speech_end_ms.take(),
                        language,
                    }));
                }
                Action::EndInterview { reason } => {
                    self.ended = true;
                    let reason = serde_json::to_value(reason)
                        .ok()
                        .and_then(|v| match v {
                            serde_json::Value::String(s) => Some(s),
                            serde_json::Value::Object(o) => {
                                o.get("code").and_then(|c| c.as_str()).map(str::to_string)
                            }
                            _ => None,
                        })
                        .unwrap_or_else(|| "ended".into());
                    tracing::info!(%reason, "interview ended");
                    cx.note(Note::End(reason));
                }
            }
        }
        self.save(now, cx);
        self.progress(now, cx);
    }

    /// The transcript so far (for the session's directory), and the journal's new state for
    /// the sink (the database) when it changed.
    fn save(&mut self, now: u64, cx: &mut Cx) {
        match serde_json::to_vec_pretty(self.interview.transcript()) {
            Ok(json) => cx.output(Output::SaveTranscript(json)),
            Err(e) => tracing::warn!(error = %e, "transcript not serialised"),
        }
        if !std::mem::take(&mut self.dirty) {
            return;
        }
        if let Some(key) = &self.journal_key {
            match self.journal.snapshot(key, now, &self.interview) {
                Ok(snapshot) => cx.output(Output::Persist(snapshot)),
                Err(e) => tracing::warn!(error = %e, "session state not saved"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_echo_of;

    #[test]
    fn the_replys_own_words_coming_back_are_an_echo_not_a_continuation() {
        let reply = "Thank you. Tell me about a system you designed for high write load.";
        assert!(is_echo_of("tell me about a system you designed", reply));
        assert!(!is_echo_of("and that is why we sharded the table", reply));
        assert!(!is_echo_of("system", reply), "one word proves nothing");
        assert!(!is_echo_of("by a similar process", ""));
    }
}
