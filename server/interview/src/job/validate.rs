//! The rules of a job file that serde cannot express: each problem with where it is and how
//! to fix it.

use super::*;
use crate::bank::QuestionBank;
use crate::guard::TopicGuard;
use crate::lang::Lang;

impl JobConfig {
    /// Rules serde cannot express. Empty when the job is valid.
    pub fn validate(&self) -> Vec<Problem> {
        let bank = QuestionBank::embedded();
        let guard = TopicGuard::for_job(self);
        let mut v = Validator {
            problems: Vec::new(),
            guard: &guard,
        };

        v.text(&[key("title")], &self.title, "give the job a title");
        v.text(
            &[key("description")],
            &self.description,
            "paste the job description",
        );
        v.text(
            &[key("role_brief")],
            &self.role_brief,
            "summarise the role in two or three sentences",
        );
        if !(10..=180).contains(&self.duration_minutes) {
            v.problem(
                &[key("duration_minutes")],
                format!("{} minutes is outside 10–180", self.duration_minutes),
                "set a duration between 10 and 180 minutes (45 is typical)",
            );
        }
        if self
            .template
            .max_follow_ups_per_question
            .is_some_and(|n| n > 10)
        {
            v.problem(
                &[key("template"), key("max_follow_ups_per_question")],
                "more than 10 follow-ups per question",
                "use at most 10 (the deep technical preset uses 5)",
            );
        }
        self.validate_language(&mut v);
        if let Some(p) = self.accommodations.problem() {
            v.problem(
                &[key("accommodations"), key("extra_time")],
                p,
                "set extra_time = 1.5 or 2 (or leave it out)",
            );
        }

        // Banned topics first: every other text is checked against them.
        let own_words = crate::lexicon::Lexicon::of(self.interview_lang());
        for (i, topic) in self.banned_topics.iter().enumerate() {
            let at = [key("banned_topics"), Seg::Index(i)];
            v.text(
                &[at[0].clone(), at[1].clone(), key("topic")],
                &topic.topic,
                "describe the banned topic",
            );
            if topic.terms.is_empty() {
                v.problem(&[at[0].clone(), at[1].clone(), key("terms")], "no terms", "list the words the interviewer must never say, e.g. terms = [\"salary|salaries\", \"equity\"]");
            }
            for (k, term) in topic.terms.iter().enumerate() {
                let too_generic = term.split('|').any(|alt| {
                    let tokens = Tokens::new(alt);
                    tokens.is_empty()
                        || tokens.tokens.iter().all(|t| {
                            is_stopword(&t.norm)
                                || own_words.is_stopword(&t.norm)
                                || t.norm.chars().count() < 3
                        })
                });
                if too_generic {
                    v.problem(&[at[0].clone(), at[1].clone(), key("terms"), Seg::Index(k)], format!("\"{term}\" is empty or too common to ban"), "use specific words of the topic (\"salary\"), not common words or single letters");
                }
            }
        }

        let skill_sets = [
            ("required", &self.skills.required),
            ("preferred", &self.skills.preferred),
        ];
        for (group, skills) in skill_sets {
            for (i, skill) in skills.iter().enumerate() {
                let at = vec![key("skills"), key(group), Seg::Index(i)];
                v.text(&with(&at, "name"), &skill.name, "name the skill");
                v.concept(&with(&at, "concept"), skill.concept.as_deref(), bank);
            }
        }
        if self.skills.required.len() > 12 {
            v.problem(
                &[key("skills"), key("required")],
                format!("{} required skills", self.skills.required.len()),
                "keep 3–7 required skills; move the rest to preferred",
            );
        }
        for (i, c) in self.competencies.iter().enumerate() {
            let at = vec![key("competencies"), Seg::Index(i)];
            v.text(&with(&at, "name"), &c.name, "name the competency");
            v.concept(&with(&at, "concept"), c.concept.as_deref(), bank);
        }
        for (i, k) in self.knockouts.iter().enumerate() {
            let at = vec![key("knockouts"), Seg::Index(i)];
            v.text(&with(&at, "name"), &k.name, "name the criterion");
            v.prompt(
                &with(&at, "question"),
                &k.question,
                "write the question the interviewer asks",
            );
            v.text(
                &with(&at, "fail_if"),
                &k.fail_if,
                "state the fail rule in words",
            );
            let needs_threshold = matches!(
                k.rule,
                KnockoutRule::MinYears | KnockoutRule::MaxWeeksToStart
            );
            match (needs_threshold, k.threshold) {
                (true, None) => v.problem(
                    &with(&at, "threshold"),
                    format!("rule {:?} needs a threshold", k.rule),
                    "add threshold = 3 (years for min-years, weeks for max-weeks-to-start)",
                ),
                (true, Some(t)) if !(t.is_finite() && t > 0.0 && t < 100.0) => v.problem(
                    &with(&at, "threshold"),
                    format!("{t} is not a usable threshold"),
                    "use a positive number below 100",
                ),
                (false, Some(_)) => v.problem(
                    &with(&at, "threshold"),
                    "this rule takes no threshold",
                    "remove threshold, or use rule = \"min-years\" / \"max-weeks-to-start\"",
                ),
                _ => {}
            }
        }
        if self.custom_questions.is_empty() && self.blueprints.is_empty() {
            v.problem(
                &[key("custom_questions")],
                "the job has no questions",
                "add at least one [[custom_questions]] or [[blueprints]] entry",
            );
        }
        for (group, list) in [
            ("custom_questions", &self.custom_questions),
            ("blueprints", &self.blueprints),
        ] {
            let mut ids = Vec::new();
            for (i, q) in list.iter().enumerate() {
                let at = vec![key(group), Seg::Index(i)];
                if group == "blueprints" {
                    match &q.id {
                        None => v.problem(
                            &with(&at, "text"),
                            "blueprint without id",
                            "add id = \"B1\" (ids appear in the report)",
                        ),
                        Some(id) if id.trim().is_empty() => v.problem(
                            &with(&at, "id"),
                            "empty id",
                            "use a short id such as \"B1\"",
                        ),
                        Some(id) if ids.contains(id) => v.problem(
                            &with(&at, "id"),
                            format!("duplicate id \"{id}\""),
                            "give each blueprint its own id",
                        ),
                        Some(id) => ids.push(id.clone()),
                    }
                }
                self.validate_question(&mut v, &at, q, bank);
            }
        }

        let dims = &self.rubric.dimensions;
        if dims.is_empty() {
            v.problem(
                &[key("rubric"), key("dimensions")],
                "no rubric dimensions",
                "add [[rubric.dimensions]] entries with name, weight and description",
            );
        } else {
            let sum: u64 = dims.iter().map(|d| u64::from(d.weight)).sum();
            if sum != 100 {
                let detail = dims
                    .iter()
                    .map(|d| format!("{} {}", d.name, d.weight))
                    .collect::<Vec<_>>()
                    .join(" + ");
                let fix = if sum > 100 {
                    format!("lower the weights by {} in total", sum - 100)
                } else {
                    format!("raise the weights by {} in total", 100 - sum)
                };
                v.problem(
                    &[key("rubric"), key("dimensions")],
                    format!("weights sum to {sum}, not 100 ({detail})"),
                    &fix,
                );
            }
        }
        let t = self.rubric.thresholds;
        if !(t.maybe < t.yes && t.yes < t.strong_yes && t.strong_yes <= 100) {
            v.problem(
                &[key("rubric"), key("thresholds")],
                format!(
                    "thresholds strong_yes {} / yes {} / maybe {} are not in falling order within 0–100",
                    t.strong_yes, t.yes, t.maybe
                ),
                "set strong_yes > yes > maybe, each at most 100 (defaults 80 / 65 / 45)",
            );
        }
        let mut names: Vec<&str> = Vec::new();
        for (i, d) in dims.iter().enumerate() {
            let at = vec![key("rubric"), key("dimensions"), Seg::Index(i)];
            v.text(&with(&at, "name"), &d.name, "name the dimension");
            v.text(
                &with(&at, "description"),
                &d.description,
                "say what the dimension measures",
            );
            if d.weight == 0 {
                v.problem(
                    &with(&at, "weight"),
                    "weight 0",
                    "give the dimension a weight of at least 1, or remove it",
                );
            }
            if names.iter().any(|n| n.eq_ignore_ascii_case(&d.name)) {
                v.problem(
                    &with(&at, "name"),
                    format!("duplicate dimension \"{}\"", d.name),
                    "merge the two dimensions",
                );
            }
            names.push(&d.name);
        }
        v.problems
    }

    fn validate_language(&self, v: &mut Validator<'_>) {
        let lang = &self.language;
        let tag_ok = |t: &str| {
            !t.is_empty()
                && t.len() <= 12
                && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let supported = Lang::supported_list();
        if !tag_ok(&lang.interview) {
            v.problem(
                &[key("language"), key("interview")],
                format!("\"{}\" is not a language tag", lang.interview),
                &format!("use a BCP 47 tag of a supported language: {supported}"),
            );
        } else if Lang::from_tag(&lang.interview).is_none() {
            v.problem(
                &[key("language"), key("interview")],
                format!(
                    "\"{}\" is not a language viva can interview in (supported: {supported})",
                    lang.interview
                ),
                &format!("use one of: {supported}"),
            );
        }
        for (i, tag) in lang.allowed.iter().enumerate() {
            if Lang::from_tag(tag).is_none() || !tag_ok(tag) {
                v.problem(
                    &[key("language"), key("allowed"), Seg::Index(i)],
                    format!("\"{tag}\" is not a supported language (supported: {supported})"),
                    &format!("use one of: {supported}, or remove the entry"),
                );
            }
        }
        if let Some(a) = &lang.assessment {
            if !tag_ok(a) {
                v.problem(
                    &[key("language"), key("assessment")],
                    format!("\"{a}\" is not a language tag"),
                    "use a BCP 47 tag such as \"en\"",
                );
            }
        }
        if lang.min_cefr.is_some() {
            if lang.questions == 0 || lang.questions > 6 {
                v.problem(
                    &[key("language"), key("questions")],
                    format!("{} proficiency questions", lang.questions),
                    "ask between 1 and 6 (3 is typical)",
                );
            }
            // viva brings prompts of its own for English, Spanish and German only.
            let assessed = lang.assessment.as_deref().unwrap_or(&lang.interview);
            if self.assessed_lang().is_none() && lang.prompts.len() < usize::from(lang.questions) {
                v.problem(&[key("language"), key("prompts")], format!("viva has proficiency prompts in {supported} only, and {} needs {} prompts in \"{assessed}\"", if lang.prompts.is_empty() { "none are given".to_string() } else { format!("{} are given", lang.prompts.len()) }, lang.questions), "write the prompts in the assessed language");
            }
        }
        for (i, p) in lang.prompts.iter().enumerate() {
            v.prompt(
                &[key("language"), key("prompts"), Seg::Index(i)],
                p,
                "write the prompt or remove the entry",
            );
        }
    }

    fn validate_question(
        &self,
        v: &mut Validator<'_>,
        at: &[Seg],
        q: &QuestionSpec,
        bank: &QuestionBank,
    ) {
        v.prompt(&with(at, "text"), &q.text, "write the question");
        if let Some(r) = &q.rephrased {
            v.prompt(
                &with(at, "rephrased"),
                r,
                "write a plainer wording or remove rephrased",
            );
        }
        for (i, c) in q.concepts.iter().enumerate() {
            let mut p = with(at, "concepts");
            p.push(Seg::Index(i));
            v.concept(&p, Some(c), bank);
        }
        for (i, a) in q.bank_areas.iter().enumerate() {
            if bank.area(a).is_none() {
                let mut p = with(at, "bank_areas");
                p.push(Seg::Index(i));
                v.problem(
                    &p,
                    format!("no bank area \"{a}\""),
                    "use \"concept.area\" from the question bank, e.g. \"api-design.versioning\"",
                );
            }
        }
        let mut area_ids: Vec<&str> = Vec::new();
        for (i, area) in q.knowledge_areas.iter().enumerate() {
            let mut ap = with(at, "knowledge_areas");
            ap.push(Seg::Index(i));
            v.text(&with(&ap, "id"), &area.id, "give the area a short id");
            v.text(&with(&ap, "name"), &area.name, "name the area");
            if area_ids.contains(&area.id.as_str()) {
                v.problem(
                    &with(&ap, "id"),
                    format!("duplicate area id \"{}\"", area.id),
                    "give each area its own id",
                );
            }
            area_ids.push(&area.id);
            if !(1..=3).contains(&area.importance) {
                v.problem(
                    &with(&ap, "importance"),
                    format!("importance {}", area.importance),
                    "use 1 (nice to hear), 2 or 3 (must hear)",
                );
            }
            if area.surface.is_empty() && area.working.is_empty() && area.deep.is_empty() {
                v.problem(&with(&ap, "working"), "the area has no cues", "list phrases a working answer would contain, e.g. working = [\"index\", \"query plan|explain\"]");
            }
            for (k, probe) in area.probes.iter().enumerate() {
                let mut pp = with(&ap, "probes");
                pp.push(Seg::Index(k));
                v.prompt(&pp, probe, "write the follow-up or remove the entry");
            }
        }
        for (i, f) in q.follow_ups.iter().enumerate() {
            let mut p = with(at, "follow_ups");
            p.push(Seg::Index(i));
            v.prompt(&p, f, "write the follow-up or remove the entry");
        }
        for (field, list) in [
            ("expected_answers", &q.expected_answers),
            ("key_concepts", &q.key_concepts),
            ("red_flags", &q.red_flags),
        ] {
            for (i, item) in list.iter().enumerate() {
                let mut p = with(at, field);
                p.push(Seg::Index(i));
                v.text(&p, item, "write the entry or remove it");
            }
        }
    }
}

fn with(at: &[Seg], k: &str) -> Vec<Seg> {
    let mut p = at.to_vec();
    p.push(key(k));
    p
}

struct Validator<'a> {
    problems: Vec<Problem>,
    guard: &'a TopicGuard,
}

impl Validator<'_> {
    fn problem(&mut self, path: &[Seg], message: impl Into<String>, fix: &str) {
        self.problems.push(Problem {
            path: path.to_vec(),
            message: message.into(),
            fix: fix.to_string(),
        });
    }

    fn text(&mut self, path: &[Seg], value: &str, fix: &str) {
        if value.trim().is_empty() {
            self.problem(path, "empty", fix);
        }
    }

    /// A text the interviewer will say: non-empty, and clear of banned and protected topics.
    fn prompt(&mut self, path: &[Seg], value: &str, fix: &str) {
        if value.trim().is_empty() {
            self.problem(path, "empty", fix);
            return;
        }
        if value.chars().count() > 600 {
            self.problem(
                path,
                "longer than 600 characters",
                "keep spoken prompts short; split the question",
            );
        }
        for violation in self.guard.violations(value) {
            self.problem(
                path,
                violation.to_string(),
                "reword the question so it does not touch the topic",
            );
        }
    }

    fn concept(&mut self, path: &[Seg], concept: Option<&str>, bank: &QuestionBank) {
        if let Some(c) = concept {
            if bank.concept(c).is_none() {
                let known = bank
                    .concepts
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                self.problem(
                    path,
                    format!("no bank concept \"{c}\""),
                    &format!("use one of: {known}"),
                );
            }
        }
    }
}
