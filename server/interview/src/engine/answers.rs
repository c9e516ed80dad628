//! Answers: recorded, then routed to the knockout or the question being explored.

use super::*;

impl Interview {
    // -- answers -----------------------------------------------------------------------------

    pub(super) fn record_answer(
        &mut self,
        now_ms: u64,
        text: &str,
        words: Option<Vec<Word>>,
    ) -> Option<usize> {
        let turn = self.answer_turn?;
        let audio_start_ms = words.as_ref().and_then(|w| w.first()).map(|w| w.start_ms);
        let audio_end_ms = words.as_ref().and_then(|w| w.last()).map(|w| w.end_ms);
        let t = self.transcript.turns.get_mut(turn)?;
        t.answers.push(Answer {
            text: text.to_string(),
            words,
            received_at_ms: now_ms,
            audio_start_ms,
            audio_end_ms,
        });
        Some(turn)
    }

    pub(super) fn on_answer(
        &mut self,
        now_ms: u64,
        text: &str,
        turn: Option<usize>,
        out: &mut Vec<Action>,
    ) {
        if self.on_language_request(now_ms, text, turn, out) {
            return;
        }
        match std::mem::replace(&mut self.awaiting, Awaiting::Nothing) {
            Awaiting::Greeting { not_ready_said } => {
                let tokens = Tokens::new(text);
                let not_ready = Cue::new(self.lexicon().not_ready)
                    .find_first(&tokens)
                    .is_some();
                let signals_request = self.analyze(text, &self.empty_context("")).request;
                if matches!(
                    signals_request,
                    Some((RequestKind::Repeat | RequestKind::Rephrase, _))
                ) && !not_ready_said
                {
                    self.log(now_ms, turn, Decision::Repeat, Reason::RepeatRequested);
                    if let Some(g) = self.phrases.greeting.clone() {
                        self.say(
                            now_ms,
                            out,
                            &g,
                            UtteranceKind::Repeat,
                            Decision::Repeat,
                            Reason::RepeatRequested,
                            QuestionRef::Greeting,
                            None,
                            true,
                        );
                    }
                    self.awaiting = Awaiting::Greeting {
                        not_ready_said: true,
                    };
                } else if not_ready && !not_ready_said && self.phrases.not_ready.is_some() {
                    self.log(now_ms, turn, Decision::Greet, Reason::CandidateNotReady);
                    let t = self.phrases.not_ready.clone().unwrap_or_default();
                    self.say(
                        now_ms,
                        out,
                        &t,
                        UtteranceKind::Transition,
                        Decision::Greet,
                        Reason::CandidateNotReady,
                        QuestionRef::Greeting,
                        None,
                        true,
                    );
                    self.awaiting = Awaiting::Greeting {
                        not_ready_said: true,
                    };
                } else {
                    self.log(now_ms, turn, Decision::Begin, Reason::CandidateReady);
                    self.remark(
                        now_ms,
                        out,
                        self.phrases.begin.clone(),
                        UtteranceKind::Transition,
                        Decision::Begin,
                        Reason::CandidateReady,
                    );
                    self.phase = Phase::Knockouts;
                    self.advance(now_ms, turn, out);
                }
            }
            Awaiting::Knockout { index, clarified } => {
                self.on_knockout_answer(now_ms, index, clarified, text, turn, out)
            }
            Awaiting::Question(asked) => self.on_question_answer(now_ms, *asked, text, turn, out),
            Awaiting::Language { index } => {
                let request = self.analyze(text, &self.empty_context("")).request;
                let prompt = self
                    .plan
                    .language_prompts
                    .get(index)
                    .cloned()
                    .unwrap_or_default();
                let repeats = self.repeats_of(turn);
                if request.is_some() && repeats < self.config.max_repeats {
                    self.log(now_ms, turn, Decision::Repeat, Reason::RepeatRequested);
                    let parent = self.parent_of(turn);
                    self.say(
                        now_ms,
                        out,
                        &prompt,
                        UtteranceKind::Repeat,
                        Decision::Repeat,
                        Reason::RepeatRequested,
                        QuestionRef::Language { index },
                        parent,
                        true,
                    );
                    self.awaiting = Awaiting::Language { index };
                } else {
                    self.advance(now_ms, turn, out);
                }
            }
            Awaiting::CandidateQuestions { asked } => {
                self.on_candidate_question(now_ms, asked, text, turn, out)
            }
            Awaiting::Nothing => {}
        }
    }

    /// Analyses an answer in the interview's current language.
    pub(super) fn analyze(&self, text: &str, ctx: &QuestionContext<'_>) -> AnswerSignals {
        analyze_in(self.lang, text, ctx, self.matcher.as_ref())
    }

    pub(super) fn empty_context<'a>(&self, text: &'a str) -> QuestionContext<'a> {
        QuestionContext {
            text,
            areas: &[],
            expects: AnswerExpectation::Approach,
            references: &[],
        }
    }

    /// The main turn of `turn` (itself when it has no parent).
    pub(super) fn parent_of(&self, turn: Option<usize>) -> Option<usize> {
        let t = self.transcript.turns.get(turn?)?;
        Some(t.parent.unwrap_or(t.index))
    }

    /// Number of repeats already said for the main turn of `turn`.
    pub(super) fn repeats_of(&self, turn: Option<usize>) -> u8 {
        let Some(parent) = self.parent_of(turn) else {
            return 0;
        };
        let n = self
            .transcript
            .turns
            .iter()
            .filter(|t| {
                t.parent == Some(parent)
                    && matches!(t.kind, UtteranceKind::Repeat | UtteranceKind::Rephrase)
            })
            .count();
        u8::try_from(n).unwrap_or(u8::MAX)
    }

    pub(super) fn on_knockout_answer(
        &mut self,
        now_ms: u64,
        index: usize,
        clarified: bool,
        text: &str,
        turn: Option<usize>,
        out: &mut Vec<Action>,
    ) {
        let Some(ko) = self.job.knockouts.get(index).cloned() else {
            self.advance(now_ms, turn, out);
            return;
        };
        let name = ko.name.clone();
        let request = self
            .analyze(text, &self.empty_context(&ko.question))
            .request;
        if request.is_some() && self.repeats_of(turn) < self.config.max_repeats {
            self.log(now_ms, turn, Decision::Repeat, Reason::RepeatRequested);
            let parent = self.parent_of(turn);
            self.say(
                now_ms,
                out,
                &ko.question,
                UtteranceKind::Repeat,
                Decision::Repeat,
                Reason::RepeatRequested,
                QuestionRef::Knockout { index, name },
                parent,
                true,
            );
            self.awaiting = Awaiting::Knockout { index, clarified };
            return;
        }
        // A clarification answer ("about five") is read together with the first answer.
        let combined = match (clarified, self.parent_of(turn)) {
            (true, Some(p)) => {
                let first = self
                    .transcript
                    .turns
                    .get(p)
                    .and_then(|t| t.answers.last())
                    .map(|a| a.text.clone())
                    .unwrap_or_default();
                format!("{first}. {text}")
            }
            _ => text.to_string(),
        };
        let reading = evaluate_in(self.lang, ko.rule, ko.threshold, &combined);
        let main_turn = self.parent_of(turn).unwrap_or(0);
        let (verdict, value) = match reading {
            KnockoutReading::Pass(v) => (KnockoutVerdict::Passed, v),
            KnockoutReading::Fail(v) => (KnockoutVerdict::Failed, v),
            KnockoutReading::Unclear if ko.rule == crate::job::KnockoutRule::Manual => {
                (KnockoutVerdict::Recorded, None)
            }
            KnockoutReading::Unclear => {
                if !clarified {
                    if let Some(q) = self.phrases.knockout_clarification(ko.rule).cloned() {
                        let reason = Reason::KnockoutAnswerUnclear { name: name.clone() };
                        self.log(now_ms, turn, Decision::ClarifyKnockout, reason.clone());
                        self.say(
                            now_ms,
                            out,
                            &q,
                            UtteranceKind::FollowUp,
                            Decision::ClarifyKnockout,
                            reason,
                            QuestionRef::Knockout { index, name },
                            Some(main_turn),
                            true,
                        );
                        self.awaiting = Awaiting::Knockout {
                            index,
                            clarified: true,
                        };
                        return;
                    }
                }
                (KnockoutVerdict::Unclear, None)
            }
        };
        self.transcript.knockouts.push(KnockoutResult {
            name: name.clone(),
            fail_if: ko.fail_if.clone(),
            verdict,
            value,
            turn: main_turn,
        });
        if verdict == KnockoutVerdict::Failed && ko.on_fail == KnockoutOutcome::EndInterview {
            // The candidate is not told the result; the interview closes as any other would.
            self.close(
                now_ms,
                turn,
                Reason::KnockoutFailed {
                    name,
                    outcome: ko.on_fail,
                },
                out,
            );
            return;
        }
        if verdict == KnockoutVerdict::Failed {
            self.log(
                now_ms,
                turn,
                Decision::MoveOn,
                Reason::KnockoutFailed {
                    name,
                    outcome: ko.on_fail,
                },
            );
        }
        self.remark(
            now_ms,
            out,
            self.phrases.thanks.clone(),
            UtteranceKind::Acknowledgement,
            Decision::MoveOn,
            Reason::KnockoutAnswered {
                name: ko.name.clone(),
                verdict,
            },
        );
        self.advance(now_ms, turn, out);
    }
}
