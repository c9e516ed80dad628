//! The silence budget: how long a pause must last before the candidate's turn is over, from
//! every signal at hand. Pure: signals in, milliseconds out, with the reason for the log.
//!
//! No one signal is enough. Whisper closes half sentences with a period; Smart Turn calls many
//! mid-sentence thinking pauses "complete"; a question's kind says nothing about where this
//! answer stands. So each signal can only *lengthen* the wait that the others would allow, except
//! where two independent ones agree that the answer is complete:
//!
//! | text ending \ acoustic | finished (p ≥ 0.8) | unsure (0.5 ≤ p < 0.8) | unknown | not finished (p < 0.5) |
//! |---|---|---|---|---|
//! | complete sentence | `agreed_complete_ms` (350) | `unsure_silence_ms` (1500) | `complete_silence_ms` (400) | `incomplete_silence_ms` (1600) |
//! | no hint | `complete_silence_ms` + 150 (550) | 1500 | `silence_ms` (600) | 1600 |
//! | unfinished clause, filler, opened list | `unfinished_silence_ms` (2000) | 2000 | 2000 | 2000 |
//!
//! The unsure zone exists because, on the development recordings, Smart Turn scored several
//! mid-sentence thinking pauses between 0.5 and 0.8, and most real ends above 0.9.
//!
//! A sentence that has no verb yet or is a subordinate clause without its main clause waits at
//! least `incomplete_silence_ms` whatever the acoustic model says (the model hears a falling
//! pitch at the end of a noun phrase as an ending).
//!
//! Then: after a closed question (yes/no, a number, a name) a short answer that the transcript
//! closes as a sentence ("Yes.", "Five years.") has its acoustic "incomplete" wait capped at
//! `silence_ms` + 400 (short answers often lack final prosody; a longer one is an elaboration
//! and gets the full rules; an unclosed one — "10001 90210", a number read in groups — may
//! be pausing between groups, so the acoustic doubt stands); after an open
//! question ("tell me about a time…") a very short start ("Sure.", "Okay, so") gets the
//! incomplete wait, since it usually opens a story; the job's [`Patience`] scales everything; nothing exceeds
//! `max_silence_ms`.

use super::text::{QuestionKind, TextEnding};
use super::TurnConfig;

/// What the acoustic end-of-turn model said about the end of the latest speech.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Acoustic {
    /// No result for the latest speech (model off, not asked yet, or still running).
    #[default]
    Unknown,
    /// The probability that the speaker has finished.
    Said(f32),
}

/// The acoustic answer in three zones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heard {
    Finished,
    /// Above the threshold but not confidently: mid-sentence pauses often land here.
    Unsure,
    NotFinished,
}

impl Acoustic {
    fn heard(self, cfg: &TurnConfig) -> Option<Heard> {
        match self {
            Acoustic::Unknown => None,
            Acoustic::Said(p) if p < cfg.acoustic_threshold => Some(Heard::NotFinished),
            Acoustic::Said(p) if p < cfg.acoustic_confident => Some(Heard::Unsure),
            Acoustic::Said(_) => Some(Heard::Finished),
        }
    }
}

/// A job's patience with pauses: a scale on every silence budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Patience {
    /// ×0.75: brisk (a screening of short factual answers).
    Low,
    #[default]
    Normal,
    /// ×1.5: candidates who think aloud, or an extra-time accommodation.
    High,
}

impl Patience {
    pub fn scale(self) -> f32 {
        match self {
            Patience::Low => 0.75,
            Patience::Normal => 1.0,
            Patience::High => 1.5,
        }
    }

    /// `low`, `normal` or `high`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Some(Patience::Low),
            "normal" | "" => Some(Patience::Normal),
            "high" => Some(Patience::High),
            _ => None,
        }
    }
}

/// Everything the budget is decided from.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Signals {
    /// How the transcript ends (already downgraded to `Neutral` when it is stale).
    pub text: TextEnding,
    /// The turn opened an enumeration it has not continued ("first, …").
    pub open_list: bool,
    /// The last sentence has no verb yet, or is a subordinate clause with no main clause
    /// ([`super::text::lacks_verb`], [`super::text::dangling_clause`]).
    pub open_syntax: bool,
    /// Words in the turn so far.
    pub words: usize,
    /// The transcript does not cover the latest speech yet, though transcripts flow.
    pub awaiting_text: bool,
    pub acoustic: Acoustic,
    pub question: QuestionKind,
    pub patience: Patience,
}

/// The silence the turn needs, and the rule that set it (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub needed_ms: u64,
    pub basis: &'static str,
}

/// The silence that ends the turn, given the signals.
pub fn silence_budget(s: &Signals, cfg: &TurnConfig) -> Budget {
    let heard = s.acoustic.heard(cfg);
    let unfinished = s.text == TextEnding::Unfinished || s.open_list;
    let (mut needed, mut basis) = if unfinished {
        (cfg.unfinished_silence_ms, "unfinished text")
    } else {
        match (s.text, heard) {
            (_, Some(Heard::NotFinished)) => (cfg.incomplete_silence_ms, "acoustic: not finished"),
            (_, Some(Heard::Unsure)) => (cfg.unsure_silence_ms, "acoustic: unsure"),
            (TextEnding::Complete, Some(Heard::Finished)) => {
                (cfg.agreed_complete_ms, "text and acoustic agree: complete")
            }
            (TextEnding::Complete, None) => (cfg.complete_silence_ms, "complete sentence"),
            (_, Some(Heard::Finished)) => (
                cfg.complete_silence_ms + 150,
                "acoustic: finished; no text hint",
            ),
            (_, None) => (cfg.silence_ms, "no hint"),
        }
    };
    if s.open_syntax && !unfinished && needed < cfg.incomplete_silence_ms {
        needed = cfg.incomplete_silence_ms;
        basis = "sentence without a verb or a main clause";
    }
    if s.awaiting_text && !unfinished {
        // The words of the latest speech are still being transcribed: wait a little for them
        // (a trailing "and…" arrives ≈ 0.3 s after the audio), but not as long as a thinking
        // pause.
        let wait = (cfg.silence_ms + cfg.stale_text_grace_ms).min(cfg.unfinished_silence_ms);
        if wait > needed {
            needed = wait;
            basis = "awaiting the latest words";
        }
    }
    let cap = cfg.silence_ms + 400;
    match s.question {
        QuestionKind::Closed
            if matches!(heard, Some(Heard::NotFinished | Heard::Unsure))
                && s.text == TextEnding::Complete
                && s.words <= 4
                && needed > cap =>
        {
            needed = cap;
            basis = "closed question: acoustic doubt capped";
        }
        QuestionKind::Open if s.words <= 3 && !unfinished && needed < cfg.incomplete_silence_ms => {
            needed = cfg.incomplete_silence_ms;
            basis = "open question: a story's first words";
        }
        _ => {}
    }
    let scaled = (needed as f32 * s.patience.scale()) as u64;
    Budget {
        needed_ms: scaled.min(cfg.max_silence_ms),
        basis,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(s: Signals) -> Budget {
        silence_budget(&s, &TurnConfig::default())
    }

    fn sig(text: TextEnding, p: Option<f32>) -> Signals {
        Signals {
            text,
            words: 12,
            acoustic: p.map_or(Acoustic::Unknown, Acoustic::Said),
            ..Signals::default()
        }
    }

    #[test]
    fn agreement_is_fastest_and_doubt_waits() {
        let agreed = budget(sig(TextEnding::Complete, Some(0.9))).needed_ms;
        let text_only = budget(sig(TextEnding::Complete, None)).needed_ms;
        let doubt = budget(sig(TextEnding::Complete, Some(0.1))).needed_ms;
        let neutral = budget(sig(TextEnding::Neutral, None)).needed_ms;
        assert!(agreed < text_only && text_only < neutral && neutral < doubt);
        assert!(
            doubt >= 1_500,
            "a mid-sentence pause of 1.2 s must fit: {doubt}"
        );
        assert!(agreed <= 400, "{agreed}");
    }

    #[test]
    fn the_acoustic_model_never_shortens_an_unfinished_clause() {
        for p in [None, Some(0.0), Some(1.0)] {
            let b = budget(sig(TextEnding::Unfinished, p));
            assert_eq!(b.needed_ms, TurnConfig::default().unfinished_silence_ms);
            let list = Signals {
                open_list: true,
                ..sig(TextEnding::Complete, p)
            };
            assert_eq!(budget(list).needed_ms, b.needed_ms);
        }
    }

    #[test]
    fn a_sentence_without_a_verb_waits_like_acoustic_doubt() {
        let open = Signals {
            open_syntax: true,
            ..sig(TextEnding::Complete, Some(0.99))
        };
        assert_eq!(
            budget(open).needed_ms,
            TurnConfig::default().incomplete_silence_ms
        );
    }

    #[test]
    fn the_question_asked_shapes_the_wait() {
        let closed = Signals {
            question: QuestionKind::Closed,
            words: 2,
            ..sig(TextEnding::Complete, Some(0.2))
        };
        assert!(budget(closed).needed_ms <= 1_000);
        // Digits read in groups, not closed as a sentence: maybe a pause between groups.
        let unclosed = Signals {
            question: QuestionKind::Closed,
            words: 2,
            ..sig(TextEnding::Neutral, Some(0.2))
        };
        assert!(budget(unclosed).needed_ms >= 1_500);
        // A long answer to a closed question is an elaboration: the doubt stands.
        let elaborated = Signals {
            question: QuestionKind::Closed,
            ..sig(TextEnding::Complete, Some(0.2))
        };
        assert!(budget(elaborated).needed_ms >= 1_500);
        let open_start = Signals {
            question: QuestionKind::Open,
            words: 1,
            ..sig(TextEnding::Complete, Some(0.9))
        };
        assert!(budget(open_start).needed_ms >= 1_500);
        let open_long = Signals {
            question: QuestionKind::Open,
            ..sig(TextEnding::Complete, Some(0.9))
        };
        assert!(budget(open_long).needed_ms <= 400);
    }

    #[test]
    fn patience_scales_and_the_cap_holds() {
        let normal = budget(sig(TextEnding::Neutral, None)).needed_ms;
        let high = budget(Signals {
            patience: Patience::High,
            ..sig(TextEnding::Neutral, None)
        })
        .needed_ms;
        let low = budget(Signals {
            patience: Patience::Low,
            ..sig(TextEnding::Neutral, None)
        })
        .needed_ms;
        assert!(low < normal && normal < high);
        let capped = budget(Signals {
            patience: Patience::High,
            ..sig(TextEnding::Unfinished, None)
        });
        assert_eq!(capped.needed_ms, TurnConfig::default().max_silence_ms);
        assert_eq!(Patience::parse("HIGH"), Some(Patience::High));
        assert_eq!(Patience::parse("sometimes"), None);
    }
}
