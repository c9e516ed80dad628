//! An answer to a question being explored, decided in named steps: each step either settles
//! the answer (ask something about the same question, or move on) or passes it to the next.

use super::*;

/// What a step decided.
enum Flow {
    /// Something about the same question was said: the question stays open.
    Ask,
    /// The question is done.
    MoveOn(Reason),
    /// Not this step's case.
    Next,
}

/// What every step reads.
struct Heard<'a> {
    now_ms: u64,
    text: &'a str,
    turn: Option<usize>,
    signals: AnswerSignals,
    question_ref: QuestionRef,
    main: usize,
    max_follow_ups: u8,
}

type Step = fn(&mut Interview, &Heard, &mut Asked, &mut Vec<Action>) -> Flow;

/// The steps, in the order a good interviewer weighs them.
const STEPS: [Step; 9] = [
    Interview::step_request,
    Interview::step_question_back,
    Interview::step_non_answer,
    Interview::step_off_topic,
    Interview::step_budgets,
    Interview::step_probe_example,
    Interview::step_prewritten_follow_up,
    Interview::step_missing_area,
    Interview::step_probe_depth,
];

impl Interview {
    pub(super) fn on_question_answer(
        &mut self,
        now_ms: u64,
        mut asked: Asked,
        text: &str,
        turn: Option<usize>,
        out: &mut Vec<Action>,
    ) {
        let signals = self.listen_to_answer(&mut asked, text, turn);
        let heard = Heard {
            now_ms,
            text,
            turn,
            signals,
            question_ref: asked.question.reference.clone(),
            main: asked.main_turn,
            max_follow_ups: self.job.template.max_follow_ups(),
        };
        for step in STEPS {
            match step(self, &heard, &mut asked, out) {
                Flow::Ask => {
                    self.awaiting = Awaiting::Question(Box::new(asked));
                    return;
                }
                Flow::MoveOn(reason) => return self.move_on(now_ms, turn, reason, out),
                Flow::Next => {}
            }
        }
        let all_heard = asked.question.areas.iter().all(|a| {
            asked
                .best_depth
                .get(&a.id)
                .is_some_and(|d| *d >= Depth::Working)
        });
        let reason = if all_heard {
            Reason::AreasCovered
        } else {
            Reason::NoProbesLeft
        };
        self.move_on(now_ms, turn, reason, out);
    }

    /// Analyses the answer, keeps the deepest level heard per knowledge area, files the
    /// signals with the turn and updates coverage.
    fn listen_to_answer(
        &mut self,
        asked: &mut Asked,
        text: &str,
        turn: Option<usize>,
    ) -> AnswerSignals {
        let references = asked.question.references();
        let ctx = QuestionContext {
            text: &asked.question.text,
            areas: &asked.question.areas,
            expects: asked.question.expects,
            references: &references,
        };
        let signals = self.analyze(text, &ctx);
        for hit in &signals.areas {
            let best = asked
                .best_depth
                .entry(hit.area_id.clone())
                .or_insert(hit.depth);
            *best = (*best).max(hit.depth);
        }
        if let Some(t) = turn.and_then(|t| self.transcript.turns.get_mut(t)) {
            t.signals.push(signals.clone());
        }
        self.update_coverage(turn, text, &signals, &asked.question);
        signals
    }

    /// Whether the area's probes may be said now: the bank's are English.
    fn may_probe(&self, question: &PlannedQuestion, area: &KnowledgeArea) -> bool {
        self.lang == Lang::En || !question.bank_areas.contains(&area.id)
    }

    /// The prompt of the turn being answered (a follow-up's, or the main question's).
    fn prompt_of(&self, h: &Heard) -> String {
        self.transcript
            .turns
            .get(h.turn.unwrap_or(h.main))
            .map(|t| t.prompt.clone())
            .unwrap_or_default()
    }

    /// Says `text` about the question being explored; it awaits an answer.
    fn say_about_question(
        &mut self,
        h: &Heard,
        out: &mut Vec<Action>,
        text: &str,
        kind: UtteranceKind,
        decision: Decision,
        reason: Reason,
    ) {
        self.say(
            h.now_ms,
            out,
            text,
            kind,
            decision,
            reason,
            h.question_ref.clone(),
            Some(h.main),
            true,
        );
    }

    /// Asks a follow-up about the same question: it counts against the follow-up budget and
    /// is logged with its decision and reason.
    fn follow_up(
        &mut self,
        h: &Heard,
        asked: &mut Asked,
        out: &mut Vec<Action>,
        text: &str,
        (kind, decision): (UtteranceKind, Decision),
        reason: Reason,
    ) -> Flow {
        asked.follow_ups_used += 1;
        self.log(h.now_ms, h.turn, decision, reason.clone());
        self.say_about_question(h, out, text, kind, decision, reason);
        Flow::Ask
    }

    /// Step 1: The candidate asked for the question again: repeat it, or rephrase it.
    fn step_request(&mut self, h: &Heard, asked: &mut Asked, out: &mut Vec<Action>) -> Flow {
        let Some((kind, _)) = h.signals.request else {
            return Flow::Next;
        };
        if asked.repeats >= self.config.max_repeats {
            return Flow::MoveOn(Reason::RepeatLimitReached);
        }
        asked.repeats += 1;
        let (decision, reason) = match kind {
            RequestKind::Repeat => (Decision::Repeat, Reason::RepeatRequested),
            RequestKind::Rephrase => (Decision::Rephrase, Reason::RephraseRequested),
        };
        self.log(h.now_ms, h.turn, decision, reason.clone());
        let prompt = self.prompt_of(h);
        match kind {
            RequestKind::Repeat => {
                self.say_about_question(h, out, &prompt, UtteranceKind::Repeat, decision, reason)
            }
            RequestKind::Rephrase => {
                // Rephrase the main question, also when it was just repeated.
                let on_main_question = prompt == asked.question.text;
                let rephrased = asked
                    .question
                    .rephrased
                    .clone()
                    .filter(|_| on_main_question);
                let text = match rephrased {
                    Some(r) => r,
                    None => {
                        self.remark(
                            h.now_ms,
                            out,
                            self.phrases.rephrase_intro.clone(),
                            UtteranceKind::Transition,
                            decision,
                            reason.clone(),
                        );
                        prompt
                    }
                };
                self.say_about_question(h, out, &text, UtteranceKind::Rephrase, decision, reason)
            }
        }
        Flow::Ask
    }

    /// Step 2: A question back: clarify the question, or defer questions about the role.
    fn step_question_back(&mut self, h: &Heard, asked: &mut Asked, out: &mut Vec<Action>) -> Flow {
        let Some((kind, _)) = h.signals.question_back else {
            return Flow::Next;
        };
        if asked.repeats >= self.config.max_repeats {
            return Flow::Next;
        }
        asked.repeats += 1;
        let (intro, decision, reason) = match kind {
            QuestionBackKind::Clarifying => (
                self.phrases.clarify.clone(),
                Decision::Clarify,
                Reason::ClarificationRequested,
            ),
            QuestionBackKind::AboutRole => {
                self.transcript
                    .candidate_questions
                    .push(h.text.trim().to_string());
                (
                    self.phrases.defer_role_question.clone(),
                    Decision::DeferCandidateQuestion,
                    Reason::CandidateAskedAboutRole,
                )
            }
        };
        self.log(h.now_ms, h.turn, decision, reason.clone());
        self.remark(
            h.now_ms,
            out,
            intro,
            UtteranceKind::Clarification,
            decision,
            reason.clone(),
        );
        let prompt = self.prompt_of(h);
        self.say_about_question(h, out, &prompt, UtteranceKind::Repeat, decision, reason);
        Flow::Ask
    }

    /// Step 3: "I don't know": no pressing; note the ceiling and move on. A blueprint's remaining
    /// pre-written follow-ups are still asked: every candidate gets the same ones.
    fn step_non_answer(&mut self, h: &Heard, asked: &mut Asked, out: &mut Vec<Action>) -> Flow {
        let Some((kind, _)) = h.signals.non_answer else {
            return Flow::Next;
        };
        let prewritten_left = asked.prewritten_next < asked.question.follow_ups.len()
            && asked.follow_ups_used < h.max_follow_ups;
        if !prewritten_left {
            return Flow::MoveOn(Reason::CandidateCouldNotAnswer { kind });
        }
        self.remark(
            h.now_ms,
            out,
            self.phrases.move_on_after_non_answer.clone(),
            UtteranceKind::Acknowledgement,
            Decision::MoveOn,
            Reason::CandidateCouldNotAnswer { kind },
        );
        Flow::Next
    }

    /// Step 4: Off topic: bring the candidate back once.
    fn step_off_topic(&mut self, h: &Heard, asked: &mut Asked, out: &mut Vec<Action>) -> Flow {
        if !h.signals.off_topic || h.signals.non_answer.is_some() {
            return Flow::Next;
        }
        if asked.redirect_used {
            return Flow::MoveOn(Reason::OffTopicAgain);
        }
        asked.redirect_used = true;
        let reason = Reason::OffTopic {
            topical_overlap: h.signals.topical_overlap,
        };
        self.log(h.now_ms, h.turn, Decision::Redirect, reason.clone());
        self.remark(
            h.now_ms,
            out,
            self.phrases.redirect.clone(),
            UtteranceKind::Redirect,
            Decision::Redirect,
            reason.clone(),
        );
        let main_prompt = asked.question.text.clone();
        self.say_about_question(
            h,
            out,
            &main_prompt,
            UtteranceKind::Repeat,
            Decision::Redirect,
            reason,
        );
        Flow::Ask
    }

    /// Step 5: Budgets: follow-ups, the question's time, the interview's main deadline.
    fn step_budgets(&mut self, h: &Heard, asked: &mut Asked, _out: &mut Vec<Action>) -> Flow {
        if asked.follow_ups_used >= h.max_follow_ups {
            return Flow::MoveOn(Reason::FollowUpBudgetSpent {
                used: asked.follow_ups_used,
                max: h.max_follow_ups,
            });
        }
        let elapsed = h.now_ms.saturating_sub(asked.started_ms);
        let budget = self.question_budget_ms();
        if elapsed >= budget {
            return Flow::MoveOn(Reason::QuestionTimeBudgetSpent {
                elapsed_ms: elapsed,
                budget_ms: budget,
            });
        }
        if self.past_main_deadline(h.now_ms) {
            return Flow::MoveOn(Reason::InterviewTimeBudgetSpent);
        }
        Flow::Next
    }

    /// Step 6: Vague, or no real example where one was asked for: probe for something concrete.
    /// A vague story in the past tense is not yet a real example.
    fn step_probe_example(&mut self, h: &Heard, asked: &mut Asked, out: &mut Vec<Action>) -> Flow {
        let s = &h.signals;
        if matches!(s.experience, ExperienceMode::Past | ExperienceMode::Mixed) && !s.is_vague() {
            asked.heard_past_example = true;
        }
        if asked.example_probe_used || s.non_answer.is_some() {
            return Flow::Next;
        }
        let wants_past = asked.question.expects == AnswerExpectation::Experience;
        let probe = if s.is_vague() {
            let text = match (wants_past, asked.heard_past_example) {
                // A story was already told: ask for the detail this answer lacked.
                (true, true) => self.phrases.probe_detail.clone(),
                (true, false) => self.phrases.probe_example.clone(),
                (false, _) => self.phrases.probe_specifics.clone(),
            };
            let reason = Reason::VagueAnswer {
                vagueness: s.vagueness,
            };
            (text, reason)
        } else if wants_past && !asked.heard_past_example {
            let reason = Reason::NoPastExample { mode: s.experience };
            (self.phrases.probe_past_example.clone(), reason)
        } else {
            return Flow::Next;
        };
        let (Some(text), reason) = probe else {
            return Flow::Next;
        };
        asked.example_probe_used = true;
        let how = (UtteranceKind::Probe, Decision::ProbeForExample);
        self.follow_up(h, asked, out, &text, how, reason)
    }

    /// Step 7: Blueprints: the pre-written follow-ups, the same for every candidate.
    fn step_prewritten_follow_up(
        &mut self,
        h: &Heard,
        asked: &mut Asked,
        out: &mut Vec<Action>,
    ) -> Flow {
        let Some(text) = asked
            .question
            .follow_ups
            .get(asked.prewritten_next)
            .cloned()
        else {
            return Flow::Next;
        };
        let reason = Reason::PrewrittenFollowUp {
            index: asked.prewritten_next,
        };
        asked.prewritten_next += 1;
        let how = (UtteranceKind::FollowUp, Decision::PrewrittenFollowUp);
        self.follow_up(h, asked, out, &text, how, reason)
    }

    /// Step 8: The most important knowledge area not yet heard at working depth.
    fn step_missing_area(&mut self, h: &Heard, asked: &mut Asked, out: &mut Vec<Action>) -> Flow {
        let may_probe = |a: &KnowledgeArea| self.may_probe(&asked.question, a);
        let mut missing: Vec<(usize, &KnowledgeArea)> = asked
            .question
            .areas
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                asked
                    .best_depth
                    .get(&a.id)
                    .is_none_or(|d| *d < Depth::Working)
            })
            .filter(|(_, a)| {
                !asked.probes_asked.contains(&a.id) && !a.probes.is_empty() && may_probe(a)
            })
            .collect();
        // Importance first, then areas not heard at all before those heard at surface level,
        // then the question's own order.
        missing.sort_by_key(|(i, a)| {
            (
                std::cmp::Reverse(a.importance),
                asked.best_depth.contains_key(&a.id),
                *i,
            )
        });
        let Some(area) = missing.first().map(|(_, a)| (*a).clone()) else {
            return Flow::Next;
        };
        let heard = asked.best_depth.get(&area.id).copied();
        let text = area.probes.first().cloned().unwrap_or_default();
        let reason = Reason::MissingKnowledgeArea {
            area: area.id.clone(),
            importance: area.importance,
            heard,
        };
        asked.probes_asked.push(area.id.clone());
        let how = (UtteranceKind::FollowUp, Decision::TargetedFollowUp);
        self.follow_up(h, asked, out, &text, how, reason)
    }

    /// Step 9: Everything heard at working depth: probe one must-hear area for depth (seed 004's
    /// ladder: find the ceiling), using its second, deeper probe when it has one.
    fn step_probe_depth(&mut self, h: &Heard, asked: &mut Asked, out: &mut Vec<Action>) -> Flow {
        if asked.depth_probe_used {
            return Flow::Next;
        }
        let shallow = asked.question.areas.iter().find(|a| {
            a.importance >= 3
                && asked.best_depth.get(&a.id) == Some(&Depth::Working)
                && !asked.probes_asked.contains(&a.id)
                && !a.probes.is_empty()
                && self.may_probe(&asked.question, a)
        });
        let Some(area) = shallow.cloned() else {
            return Flow::Next;
        };
        let text = area
            .probes
            .get(1)
            .or(area.probes.first())
            .cloned()
            .unwrap_or_default();
        let reason = Reason::ProbeForDepth {
            area: area.id.clone(),
            heard: Depth::Working,
        };
        asked.depth_probe_used = true;
        asked.probes_asked.push(area.id.clone());
        let how = (UtteranceKind::FollowUp, Decision::TargetedFollowUp);
        self.follow_up(h, asked, out, &text, how, reason)
    }
}
