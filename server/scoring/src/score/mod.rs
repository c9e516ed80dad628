//! The scorer: (job, transcript) → report. Pure and deterministic: no clock, no randomness, no
//! hash-map iteration; every float in the report is rounded before it is stored.

mod common;
mod narrative;
mod profile;
mod thread;
mod verdict;

pub use common::THRESHOLDS;
use common::*;
use thread::{all_content, score_thread, threads, Scored};

/// Scores one interview. Fails only on a transcript of another format version.
pub fn score(job: &JobConfig, transcript: &Transcript) -> Result<Report, ScoreError> {
    if transcript.format_version != Transcript::FORMAT_VERSION {
        return Err(ScoreError::FormatVersion {
            found: transcript.format_version,
            supported: Transcript::FORMAT_VERSION,
        });
    }
    let scored: Vec<Scored<'_>> = threads(transcript).into_iter().map(score_thread).collect();
    let content = all_content(&scored);
    let (knockouts, failed_knockout) = profile::knockouts(job, transcript);
    let concepts = profile::concepts(&scored);
    let (mut competencies, mut failed_competency) =
        profile::competencies(job, &content, &concepts.depth);
    let skill = |s| profile::skill(s, &content, &concepts.depth, &scored);
    let required_skills: Vec<SkillScore> = job.skills.required.iter().map(skill).collect();
    let preferred_skills: Vec<SkillScore> = job.skills.preferred.iter().map(skill).collect();
    let (cefr, language) = profile::language(job, transcript, &content);
    // `language.min_cefr` is a must-have: below it the competency fails, with the evidence.
    if let Some(l) = language
        .as_ref()
        .filter(|l| l.meets_requirement == Some(false))
    {
        let name = format!(
            "{} at {} or above",
            l.language,
            l.required.as_deref().unwrap_or("the required level")
        );
        competencies.push(CompetencyScore {
            name: name.clone(),
            description: "the job's minimum language level (language.min_cefr)".into(),
            passed: false,
            reason: format!(
                "assessed {} (range {}), below the required level",
                l.assessed, l.range
            ),
            evidence: l.evidence.clone(),
        });
        failed_competency.get_or_insert(format!("must-have \"{name}\" not met"));
    }
    let (dimensions, composite) = verdict::dimensions(job, &scored, &content, cefr.as_ref());
    let coverage = verdict::coverage(job, transcript, &scored);
    let (confidence, ended) = verdict::confidence(transcript, &coverage);
    let (decision, dims_sorted) = narrative::decide(
        &thresholds_of(job),
        composite,
        &failed_knockout,
        &failed_competency,
        &dimensions,
    );
    let words = narrative::narrative(
        &narrative::Findings {
            composite,
            recommendation: decision.recommendation,
            failed_knockout: &failed_knockout,
            dims_sorted: &dims_sorted,
            concepts: &concepts.list,
            required_skills: &required_skills,
            preferred_skills: &preferred_skills,
            knockouts: &knockouts,
            competencies: &competencies,
            coverage: &coverage,
        },
        &scored,
    );
    Ok(Report {
        scorer_version: SCORER_VERSION.to_string(),
        grader_version: viva_grading::GRADER_VERSION.to_string(),
        transcript_format_version: transcript.format_version,
        job_title: job.title.clone(),
        interview_languages: interview_languages(job, transcript),
        accommodations: job.accommodations.describe(),
        ended,
        composite,
        decision,
        confidence,
        summary: words.summary,
        knockouts,
        competencies,
        required_skills,
        preferred_skills,
        dimensions,
        questions: scored.iter().map(|s| s.score.clone()).collect(),
        concepts: concepts.list,
        language,
        strengths: words.strengths,
        risks: words.risks,
        notable_quotes: words.notable_quotes,
        weakest_quotes: words.weakest_quotes,
        next_step: words.next_step,
        coverage,
        candidate_questions: transcript.candidate_questions.clone(),
        integrity_signals: if job.integrity_signals {
            crate::integrity::signals(transcript)
        } else {
            Vec::new()
        },
    })
}

/// The languages the interview was held in, when any is not English.
fn interview_languages(job: &JobConfig, transcript: &Transcript) -> Vec<String> {
    let mut langs = vec![job.interview_lang()];
    for (_, _, to) in transcript.language_switches() {
        if !langs.contains(&to) {
            langs.push(to);
        }
    }
    if langs.iter().all(|l| *l == viva_interview::Lang::En) {
        return Vec::new();
    }
    langs.iter().map(|l| l.tag().to_string()).collect()
}
