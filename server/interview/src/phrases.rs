//! The interviewer's fixed phrases, resolved per job against its topic guard.
//!
//! Each phrase has a plainer fallback; a phrase whose every wording touches a banned term is
//! left out (the engine then skips that utterance), so nothing the engine says can break the
//! job's rules. Acknowledgements are neutral on purpose: they never hint at a score.

use crate::guard::TopicGuard;
use crate::job::{JobConfig, KnockoutRule};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrases {
    pub greeting: Option<String>,
    pub begin: Option<String>,
    pub not_ready: Option<String>,
    pub thanks: Option<String>,
    pub move_on_after_non_answer: Option<String>,
    pub move_on_for_time: Option<String>,
    pub redirect: Option<String>,
    pub rephrase_intro: Option<String>,
    pub clarify: Option<String>,
    pub defer_role_question: Option<String>,
    pub probe_example: Option<String>,
    pub probe_past_example: Option<String>,
    pub probe_specifics: Option<String>,
    pub probe_detail: Option<String>,
    pub reprompt_silence: Option<String>,
    pub clarify_years: Option<String>,
    pub clarify_start: Option<String>,
    pub clarify_confirm: Option<String>,
    pub language_intro: Option<String>,
    pub invite_questions: Option<String>,
    pub more_questions: Option<String>,
    pub question_noted: Option<String>,
    pub score_declined: Option<String>,
    pub banned_deferred: Option<String>,
    pub closing: Option<String>,
    pub end_for_silence: Option<String>,
}

fn pick(guard: &TopicGuard, options: &[String]) -> Option<String> {
    options.iter().find(|o| guard.allows(o)).cloned()
}

fn opts(options: &[&str]) -> Vec<String> {
    options.iter().map(|s| s.to_string()).collect()
}

impl Phrases {
    pub fn for_job(job: &JobConfig, guard: &TopicGuard) -> Phrases {
        let p = |options: &[&str]| pick(guard, &opts(options));
        let minutes = job.duration_minutes;
        let greeting = pick(
            guard,
            &[
                format!(
                    "Hello, and thank you for joining. I'm viva, an AI interviewer, and I'll run this interview for the {} role. \
                     Before we begin: this conversation is recorded and transcribed, and your answers are assessed with the help of AI. \
                     A person on the hiring team reviews every interview, and you can ask for an adjustment at any time. \
                     It takes about {minutes} minutes. Are you ready to begin?",
                    job.title.trim()
                ),
                format!(
                    "Hello, and thank you for joining. I'm viva, an AI interviewer. \
                     Before we begin: this conversation is recorded and transcribed, and your answers are assessed with the help of AI. \
                     A person reviews every interview, and you can ask for an adjustment at any time. \
                     It takes about {minutes} minutes. Are you ready to begin?"
                ),
                "Hello. I'm viva, an AI interviewer. This conversation is recorded and transcribed, and AI helps assess it; a person reviews it. Are you ready?".to_string(),
            ],
        );
        Phrases {
            greeting,
            begin: p(&["Great, let's begin.", "Let's begin."]),
            not_ready: p(&["No problem. Tell me when you're ready.", "Tell me when you're ready."]),
            thanks: p(&["Thank you.", "Thanks."]),
            move_on_after_non_answer: p(&["That's fine. Let's move on.", "That's fine.", "Let's move on."]),
            move_on_for_time: p(&["Thank you. In the interest of time, let's move on.", "Thank you. Let's move on.", "Thank you."]),
            redirect: p(&["Let me bring us back to the question.", "Back to the question."]),
            rephrase_intro: p(&["Let me put it another way.", "In other words:"]),
            clarify: p(&[
                "Answer from the angle you know best; there is no single expected answer.",
                "Any angle you know well is fine.",
            ]),
            defer_role_question: p(&[
                "Good question. There will be time for your questions at the end.",
                "I'll come back to that at the end.",
            ]),
            probe_example: p(&[
                "Can you walk me through a specific time you did this? What was the situation, what did you do yourself, and what was the result?",
                "Can you give me one concrete example, with what you did and what came of it?",
            ]),
            probe_past_example: p(&[
                "That's the general approach. Can you tell me about a real situation where you did this? What did you do, and how did it turn out?",
                "Can you tell me about a real situation where you did this, and how it turned out?",
            ]),
            probe_specifics: p(&[
                "Can you make that more concrete? Which components or tools would you use, and what numbers would you design for?",
                "Can you make that more concrete, with the components and numbers you have in mind?",
            ]),
            probe_detail: p(&[
                "Can you be more specific about that? What exactly did you do, and how did it work out?",
                "Can you be more specific about what you did there?",
            ]),
            reprompt_silence: p(&["Take your time. Would you like me to repeat the question?", "Take your time."]),
            clarify_years: p(&["Roughly how many years would that be?", "About how many years?"]),
            clarify_start: p(&["Roughly how many weeks after an offer could you start?", "About how many weeks from an offer?"]),
            clarify_confirm: p(&["Just to confirm, is that a yes or a no?", "Is that a yes or a no?"]),
            language_intro: p(&[
                "Now a few questions about how you communicate. There are no right or wrong answers; just answer in your own words.",
                "Now a few questions in your own words.",
            ]),
            invite_questions: p(&[
                "That's all the questions I have. Do you have any questions about the role or the team?",
                "That's all from me. Do you have any questions for us?",
                "Do you have any questions?",
            ]),
            more_questions: p(&["Is there anything else you'd like to ask?", "Anything else?"]),
            question_noted: p(&[
                "Thank you. I've noted your question for the hiring team, so they can answer it properly.",
                "Thank you, I've noted that for the hiring team.",
            ]),
            score_declined: p(&[
                "I can't share any assessment during the interview. The hiring team reviews every interview and will be in touch about next steps.",
                "I can't share an assessment here; the hiring team will be in touch.",
            ]),
            banned_deferred: p(&[
                "That's something the hiring team will discuss with you directly, so I'll pass your question on to them.",
                "I'll pass that on to the hiring team.",
            ]),
            closing: p(&[
                "Thank you for your time today. That's the end of the interview. The hiring team will review it and get back to you about next steps. Goodbye.",
                "Thank you for your time today. That's the end of the interview. Goodbye.",
                "Thank you. Goodbye.",
            ]),
            end_for_silence: p(&[
                "I haven't heard from you for a while, so I'll end the interview here. If something went wrong on your side, please contact the person who invited you. Goodbye.",
                "I haven't heard from you for a while, so I'll end the interview here. Goodbye.",
                "Goodbye.",
            ]),
        }
    }

    pub fn knockout_clarification(&self, rule: KnockoutRule) -> Option<&String> {
        match rule {
            KnockoutRule::MinYears => self.clarify_years.as_ref(),
            KnockoutRule::MaxWeeksToStart => self.clarify_start.as_ref(),
            KnockoutRule::MustConfirm => self.clarify_confirm.as_ref(),
            KnockoutRule::Manual => None,
        }
    }

    /// Every phrase, for the TTS cache.
    pub fn all(&self) -> Vec<&String> {
        [
            &self.greeting,
            &self.begin,
            &self.not_ready,
            &self.thanks,
            &self.move_on_after_non_answer,
            &self.move_on_for_time,
            &self.redirect,
            &self.rephrase_intro,
            &self.clarify,
            &self.defer_role_question,
            &self.probe_example,
            &self.probe_past_example,
            &self.probe_specifics,
            &self.probe_detail,
            &self.reprompt_silence,
            &self.clarify_years,
            &self.clarify_start,
            &self.clarify_confirm,
            &self.language_intro,
            &self.invite_questions,
            &self.more_questions,
            &self.question_noted,
            &self.score_declined,
            &self.banned_deferred,
            &self.closing,
            &self.end_for_silence,
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// A question about a skill that has no bank concept.
pub fn skill_question(skill: &str) -> String {
    format!("Tell me about your hands-on experience with {}. What did you build with it, and what was hard about it?", skill.trim())
}
