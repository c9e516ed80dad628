//! What comes next: moving on, coverage, the plan's next question, the candidate's questions,
//! silence.

use super::*;

impl Interview {
    pub(super) fn move_on(
        &mut self,
        now_ms: u64,
        turn: Option<usize>,
        reason: Reason,
        out: &mut Vec<Action>,
    ) {
        self.log(now_ms, turn, Decision::MoveOn, reason.clone());
        let ack = match reason {
            Reason::CandidateCouldNotAnswer { .. }
            | Reason::OffTopicAgain
            | Reason::RepeatLimitReached
            | Reason::SilenceTimeout { .. } => self.phrases.move_on_after_non_answer.clone(),
            Reason::QuestionTimeBudgetSpent { .. } | Reason::InterviewTimeBudgetSpent => {
                self.phrases.move_on_for_time.clone()
            }
            _ => self.phrases.thanks.clone(),
        };
        self.remark(
            now_ms,
            out,
            ack,
            UtteranceKind::Acknowledgement,
            Decision::MoveOn,
            reason,
        );
        self.advance(now_ms, turn, out);
    }

    pub(super) fn update_coverage(
        &mut self,
        turn: Option<usize>,
        text: &str,
        signals: &AnswerSignals,
        question: &PlannedQuestion,
    ) {
        let Some(turn) = turn else { return };
        if signals.non_answer.is_some() {
            return;
        }
        let tokens = Tokens::new(text);
        let concept_evidence = signals.covered_areas() >= 1;
        let skills = self
            .job
            .skills
            .required
            .iter()
            .chain(&self.job.skills.preferred)
            .map(|s| (&s.name, &s.terms, &s.concept));
        let comps = self
            .job
            .competencies
            .iter()
            .map(|c| (&c.name, &c.terms, &c.concept));
        let mut found: Vec<(String, Vec<CoverageEvidence>)> = Vec::new();
        for (name, terms, concept) in skills.chain(comps) {
            let mut evidence = Vec::new();
            let cues: Vec<Cue> = if terms.is_empty() {
                vec![Cue::new(name)]
            } else {
                terms.iter().map(|t| Cue::new(t)).collect()
            };
            for cue in cues {
                for (a, b) in cue.find_all(&tokens) {
                    let lex = self.lexicon();
                    let negated = (a.saturating_sub(3)..a)
                        .any(|i| lex.is(tokens.norm(i), lex.coverage_negators));
                    if !negated {
                        evidence.push(CoverageEvidence {
                            turn,
                            span: tokens.span(a, b),
                        });
                    }
                }
            }
            let by_concept = concept_evidence
                && concept
                    .as_ref()
                    .is_some_and(|c| question.concepts.contains(c));
            if by_concept && evidence.is_empty() {
                if let Some(hit) = signals.areas.iter().find(|h| h.depth >= Depth::Working) {
                    if let Some(e) = hit.evidence.first() {
                        evidence.push(CoverageEvidence { turn, span: e.span });
                    }
                }
            }
            if !evidence.is_empty() {
                found.push((name.clone(), evidence));
            }
        }
        for (name, evidence) in found {
            for item in self
                .transcript
                .coverage
                .iter_mut()
                .filter(|i| i.name == name)
            {
                item.covered = true;
                item.evidence.extend(evidence.iter().cloned());
            }
        }
    }

    pub(super) fn is_covered(&self, kind: CoverageKind, name: &str) -> bool {
        self.transcript
            .coverage
            .iter()
            .any(|i| i.kind == kind && i.name == name && i.covered)
    }

    // -- what next ---------------------------------------------------------------------------

    /// Asks the next thing in the interview's order.
    pub(super) fn advance(
        &mut self,
        now_ms: u64,
        after_turn: Option<usize>,
        out: &mut Vec<Action>,
    ) {
        if self.past_hard_limit(now_ms) {
            return self.close(now_ms, after_turn, Reason::TimeLimitReached, out);
        }
        // Knockouts.
        while let Some(ko) = self.job.knockouts.get(self.next_knockout).cloned() {
            let index = self.next_knockout;
            self.next_knockout += 1;
            self.phase = Phase::Knockouts;
            let reason = Reason::KnockoutCriterion {
                name: ko.name.clone(),
            };
            self.log(now_ms, after_turn, Decision::AskKnockout, reason.clone());
            let asked = self.say(
                now_ms,
                out,
                &ko.question,
                UtteranceKind::Question,
                Decision::AskKnockout,
                reason,
                QuestionRef::Knockout {
                    index,
                    name: ko.name.clone(),
                },
                None,
                true,
            );
            if asked.is_some() {
                self.awaiting = Awaiting::Knockout {
                    index,
                    clarified: false,
                };
                return;
            }
        }
        // Custom questions are mandatory: asked even when time is short (without follow-ups).
        if let Some(q) = self.plan.custom.get(self.next_custom).cloned() {
            let index = self.next_custom;
            self.next_custom += 1;
            self.phase = Phase::CustomQuestions;
            return self.ask(now_ms, after_turn, q, Reason::ScriptedOrder { index }, out);
        }
        let out_of_time = self.past_main_deadline(now_ms);
        if out_of_time
            && (self.next_blueprint < self.plan.blueprints.len()
                || self.next_coverage < self.plan.coverage.len())
        {
            self.log(
                now_ms,
                after_turn,
                Decision::MoveOn,
                Reason::InterviewTimeBudgetSpent,
            );
            self.next_blueprint = self.plan.blueprints.len();
            self.next_coverage = self.plan.coverage.len();
        }
        if let Some(q) = self.plan.blueprints.get(self.next_blueprint).cloned() {
            self.next_blueprint += 1;
            self.phase = Phase::Blueprints;
            let id = match &q.reference {
                QuestionRef::Blueprint { id } => id.clone(),
                _ => String::new(),
            };
            return self.ask(now_ms, after_turn, q, Reason::BlueprintOrder { id }, out);
        }
        while let Some(q) = self.plan.coverage.get(self.next_coverage).cloned() {
            self.next_coverage += 1;
            let Some((kind, name)) = q.covers.clone() else {
                continue;
            };
            if self.is_covered(kind, &name) {
                continue;
            }
            let Some(q) = plan::localized(&q, self.lang, &self.guard) else {
                continue;
            };
            self.phase = Phase::Coverage;
            let reason = match kind {
                CoverageKind::Competency => Reason::UncoveredCompetency { name },
                _ => Reason::UncoveredSkill { name },
            };
            return self.ask(now_ms, after_turn, q, reason, out);
        }
        // Language check.
        let language_next = match (&self.awaiting, self.phase) {
            (_, Phase::Language) => self
                .transcript
                .turns
                .iter()
                .filter(|t| {
                    matches!(t.question, QuestionRef::Language { .. }) && t.parent.is_none()
                })
                .count(),
            (_, p) if p < Phase::Language => 0,
            _ => usize::MAX,
        };
        if let Some(prompt) = self.plan.language_prompts.get(language_next).cloned() {
            if self.phase != Phase::Language {
                self.phase = Phase::Language;
                self.remark(
                    now_ms,
                    out,
                    self.phrases.language_intro.clone(),
                    UtteranceKind::Transition,
                    Decision::AskLanguagePrompt,
                    Reason::LanguageCheck { index: 0 },
                );
            }
            let reason = Reason::LanguageCheck {
                index: language_next,
            };
            self.log(
                now_ms,
                after_turn,
                Decision::AskLanguagePrompt,
                reason.clone(),
            );
            self.say(
                now_ms,
                out,
                &prompt,
                UtteranceKind::Question,
                Decision::AskLanguagePrompt,
                reason,
                QuestionRef::Language {
                    index: language_next,
                },
                None,
                true,
            );
            self.awaiting = Awaiting::Language {
                index: language_next,
            };
            return;
        }
        if self.phase < Phase::CandidateQuestions {
            self.phase = Phase::CandidateQuestions;
            if let Some(invite) = self.phrases.invite_questions.clone() {
                self.log(
                    now_ms,
                    after_turn,
                    Decision::InviteCandidateQuestions,
                    Reason::CandidateQuestionsInvited,
                );
                self.say(
                    now_ms,
                    out,
                    &invite,
                    UtteranceKind::Question,
                    Decision::InviteCandidateQuestions,
                    Reason::CandidateQuestionsInvited,
                    QuestionRef::CandidateQuestions,
                    None,
                    true,
                );
                self.awaiting = Awaiting::CandidateQuestions { asked: 0 };
                return;
            }
        }
        self.close(now_ms, after_turn, Reason::Completed, out);
    }

    pub(super) fn ask(
        &mut self,
        now_ms: u64,
        after_turn: Option<usize>,
        q: PlannedQuestion,
        reason: Reason,
        out: &mut Vec<Action>,
    ) {
        self.log(now_ms, after_turn, Decision::AskQuestion, reason.clone());
        let text = q.text.clone();
        let Some(turn) = self.say(
            now_ms,
            out,
            &text,
            UtteranceKind::Question,
            Decision::AskQuestion,
            reason,
            q.reference.clone(),
            None,
            true,
        ) else {
            return self.advance(now_ms, after_turn, out);
        };
        if let Some(t) = self.transcript.turns.get_mut(turn) {
            t.reference = Some(q.reference_record());
        }
        self.awaiting = Awaiting::Question(Box::new(Asked {
            question: q,
            main_turn: turn,
            started_ms: now_ms,
            follow_ups_used: 0,
            prewritten_next: 0,
            probes_asked: Vec::new(),
            example_probe_used: false,
            heard_past_example: false,
            depth_probe_used: false,
            redirect_used: false,
            repeats: 0,
            best_depth: BTreeMap::new(),
        }));
    }

    pub(super) fn on_candidate_question(
        &mut self,
        now_ms: u64,
        asked: u8,
        text: &str,
        turn: Option<usize>,
        out: &mut Vec<Action>,
    ) {
        let tokens = Tokens::new(text);
        let signals = self.analyze(text, &self.empty_context(""));
        let is_question =
            signals.question_back.is_some() || text.contains('?') || text.contains('¿');
        let declines = Cue::new(self.lexicon().declines)
            .find_first(&tokens)
            .is_some();
        if (!is_question && declines) || tokens.is_empty() {
            return self.close(now_ms, turn, Reason::NoMoreCandidateQuestions, out);
        }
        let about_result = Cue::new(self.lexicon().about_result)
            .find_first(&tokens)
            .is_some();
        let (reply, reason) = if self.guard.mentions_banned_topic(text) {
            (
                self.phrases.banned_deferred.clone(),
                Reason::BannedTopicDeferred,
            )
        } else if about_result {
            (
                self.phrases.score_declined.clone(),
                Reason::ScoreRequestDeclined,
            )
        } else {
            (
                self.phrases.question_noted.clone(),
                Reason::CandidateQuestionNoted,
            )
        };
        self.transcript
            .candidate_questions
            .push(text.trim().to_string());
        self.log(
            now_ms,
            turn,
            Decision::AnswerCandidateQuestion,
            reason.clone(),
        );
        self.remark(
            now_ms,
            out,
            reply,
            UtteranceKind::Deflection,
            Decision::AnswerCandidateQuestion,
            reason,
        );
        let asked = asked.saturating_add(1);
        if asked >= self.config.max_candidate_questions {
            return self.close(now_ms, turn, Reason::NoMoreCandidateQuestions, out);
        }
        match self.phrases.more_questions.clone() {
            Some(more) => {
                self.say(
                    now_ms,
                    out,
                    &more,
                    UtteranceKind::Question,
                    Decision::InviteCandidateQuestions,
                    Reason::CandidateQuestionsInvited,
                    QuestionRef::CandidateQuestions,
                    None,
                    true,
                );
                self.awaiting = Awaiting::CandidateQuestions { asked };
            }
            None => self.close(now_ms, turn, Reason::NoMoreCandidateQuestions, out),
        }
    }

    pub(super) fn on_silence(&mut self, now_ms: u64, ms: u64, out: &mut Vec<Action>) {
        if matches!(self.awaiting, Awaiting::Nothing) {
            return;
        }
        let turn = self.answer_turn;
        // Extra time stretches the waits as well as the budget.
        let reprompt_ms = self
            .job
            .accommodations
            .stretch_ms(self.config.silence_reprompt_ms);
        let give_up_ms = self
            .job
            .accommodations
            .stretch_ms(self.config.silence_give_up_ms);
        if !self.silence_reprompted && ms >= reprompt_ms {
            if let Some(text) = self.phrases.reprompt_silence.clone() {
                self.silence_reprompted = true;
                let reason = Reason::Silence { ms };
                self.log(now_ms, turn, Decision::Reprompt, reason.clone());
                // The reprompt is a remark: the answer still belongs to the question's turn.
                let question = self.current_question_ref();
                self.say(
                    now_ms,
                    out,
                    &text,
                    UtteranceKind::Reprompt,
                    Decision::Reprompt,
                    reason,
                    question,
                    None,
                    false,
                );
                return;
            }
        }
        if self.silence_reprompted && ms >= give_up_ms {
            self.silence_reprompted = false;
            let reason = Reason::SilenceTimeout { ms };
            self.silent_give_ups = self.silent_give_ups.saturating_add(1);
            if self.config.silence_end_after > 0
                && self.silent_give_ups >= self.config.silence_end_after
            {
                // Nobody answers: end politely rather than read every question to silence.
                self.awaiting = Awaiting::Nothing;
                let text = self.phrases.end_for_silence.clone();
                self.close_saying(now_ms, turn, reason, text, out);
                return;
            }
            match std::mem::replace(&mut self.awaiting, Awaiting::Nothing) {
                Awaiting::Question(_) => self.move_on(now_ms, turn, reason, out),
                Awaiting::Knockout { index, .. } => {
                    if let Some(ko) = self.job.knockouts.get(index) {
                        let main = self.parent_of(turn).unwrap_or(0);
                        self.transcript.knockouts.push(KnockoutResult {
                            name: ko.name.clone(),
                            fail_if: ko.fail_if.clone(),
                            verdict: KnockoutVerdict::Unclear,
                            value: None,
                            turn: main,
                        });
                    }
                    self.move_on(now_ms, turn, reason, out)
                }
                Awaiting::CandidateQuestions { .. } => {
                    self.close(now_ms, turn, Reason::NoMoreCandidateQuestions, out)
                }
                Awaiting::Greeting { .. } => {
                    self.log(now_ms, turn, Decision::Begin, reason);
                    self.phase = Phase::Knockouts;
                    self.advance(now_ms, turn, out);
                }
                Awaiting::Language { .. } => self.move_on(now_ms, turn, reason, out),
                Awaiting::Nothing => {}
            }
        }
    }
}
