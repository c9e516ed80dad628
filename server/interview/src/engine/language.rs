//! The candidate asks to continue in another language: confirm in that language and say again
//! what they were answering, or refuse politely (in the current language) when the job does
//! not allow it. Either way the question stays open.

use super::*;
use crate::lang_switch::{language_request, LanguageRequest};

impl Interview {
    /// Handles `text` when it asks for another language; false when it does not (it is then an
    /// ordinary answer). Asking for the language already spoken is not a request.
    pub(super) fn on_language_request(
        &mut self,
        now_ms: u64,
        text: &str,
        turn: Option<usize>,
        out: &mut Vec<Action>,
    ) -> bool {
        if matches!(self.awaiting, Awaiting::Nothing) {
            return false;
        }
        let Some(request) = language_request(text) else {
            return false;
        };
        if request == LanguageRequest::Supported(self.lang) {
            return false;
        }
        match request {
            LanguageRequest::Supported(to) if self.job.allowed_langs().contains(&to) => {
                let from = self.lang;
                let before = Phrases::for_job_in(&self.job, &self.guard, to);
                let before = std::mem::replace(&mut self.phrases, before);
                self.lang = to;
                let reason = Reason::LanguageSwitched { from, to };
                self.log(now_ms, turn, Decision::SwitchLanguage, reason.clone());
                self.remark(
                    now_ms,
                    out,
                    self.phrases.language_switched.clone(),
                    UtteranceKind::Transition,
                    Decision::SwitchLanguage,
                    reason.clone(),
                );
                self.ask_again(now_ms, turn, &before, Decision::SwitchLanguage, reason, out);
            }
            _ => {
                let reason = Reason::LanguageSwitchDeclined {
                    requested: request.tag().to_string(),
                };
                self.log(
                    now_ms,
                    turn,
                    Decision::DeclineLanguageSwitch,
                    reason.clone(),
                );
                self.remark(
                    now_ms,
                    out,
                    self.phrases.language_declined.clone(),
                    UtteranceKind::Deflection,
                    Decision::DeclineLanguageSwitch,
                    reason.clone(),
                );
                let same = self.phrases.clone();
                self.ask_again(
                    now_ms,
                    turn,
                    &same,
                    Decision::DeclineLanguageSwitch,
                    reason,
                    out,
                );
            }
        }
        true
    }

    /// Says again what the candidate was answering, in the current language where it is the
    /// engine's own wording (`before` holds the phrases it was said with); the job's texts as
    /// written. A bank question or probe is not said outside English: the skill question, or
    /// the main question, takes its place.
    fn ask_again(
        &mut self,
        now_ms: u64,
        turn: Option<usize>,
        before: &Phrases,
        decision: Decision,
        reason: Reason,
        out: &mut Vec<Action>,
    ) {
        let Some(t) = turn.and_then(|t| self.transcript.turns.get(t)) else {
            return;
        };
        let prompt = t.prompt.clone();
        let question = t.question.clone();
        let parent = self.parent_of(turn);
        let mut text = before
            .key_of(&prompt)
            .and_then(|k| self.phrases.get(k).cloned())
            .unwrap_or_else(|| prompt.clone());
        if let Awaiting::Question(asked) = &self.awaiting {
            let main = asked.question.clone();
            let Some(local) = plan::localized(&main, self.lang, &self.guard) else {
                // Not sayable in this language: go on with the interview.
                self.awaiting = Awaiting::Nothing;
                return self.advance(now_ms, turn, out);
            };
            if local.reference != main.reference {
                // A bank question outside English: ask the skill question in its place.
                self.awaiting = Awaiting::Nothing;
                let reason = match local.covers.clone() {
                    Some((CoverageKind::Competency, name)) => Reason::UncoveredCompetency { name },
                    Some((_, name)) => Reason::UncoveredSkill { name },
                    None => reason,
                };
                return self.ask(now_ms, turn, local, reason, out);
            }
            let bank_probe = self.lang != Lang::En
                && main
                    .areas
                    .iter()
                    .any(|a| main.bank_areas.contains(&a.id) && a.probes.contains(&prompt));
            if prompt == main.text || bank_probe {
                text = local.text.clone();
            }
            if let Awaiting::Question(asked) = &mut self.awaiting {
                asked.question.text = local.text;
            }
        }
        self.say(
            now_ms,
            out,
            &text,
            UtteranceKind::Repeat,
            decision,
            reason,
            question,
            parent,
            true,
        );
    }
}
