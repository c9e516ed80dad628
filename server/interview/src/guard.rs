//! The topic guard: what the interviewer must never say.
//!
//! Two lists: the job's banned topics (company rules, e.g. compensation) and protected
//! characteristics (the legal notes of seed 002: age, family, religion, disability, national
//! origin, sex and orientation, genetic information, plus salary history). Job validation runs
//! every configured prompt through it, the engine checks every utterance before it is emitted,
//! and LLM phrasings are accepted only when they pass it.

use serde::{Deserialize, Serialize};

use crate::job::JobConfig;
use crate::text::{Cue, Tokens};

/// Cues of questions that touch a protected characteristic or a proxy for one. Phrased as what a
/// question would say, so that technical words ("race condition", "message age") do not trip it.
const PROTECTED: &[(&str, &str)] = &[
    ("age", "your age|how old|date of birth|year of birth|when were you born|what year did you graduate|too old|too young"),
    (
        "family",
        "married|marital|spouse|husband|wife|girlfriend|boyfriend|your children|have children|have kids|your kids|pregnant|pregnancy|family plans|plan to have|childcare|maternity|paternity",
    ),
    ("religion", "religion|religious|church|mosque|synagogue|temple|pray|prayer|your faith"),
    (
        "disability or health",
        "disability|disabled|handicap|health condition|medical condition|medical history|illness|medication|mental health|sick days",
    ),
    (
        "race, ethnicity or national origin",
        "your race|racial|ethnic|ethnicity|nationality|native country|where are you from|where were you born|your accent|native speaker|mother tongue|citizenship|citizen|skin colour|skin color",
    ),
    ("sex, gender or orientation", "your gender|gender identity|sexual orientation|transgender|your sex"),
    ("genetic information", "genetic|family medical"),
    ("political or union affiliation", "political|politics|vote for|union member|trade union"),
    ("salary history", "salary history|current salary|previous salary|last salary|what you earn now|currently earn"),
];

/// The same characteristics in Spanish and German (phrased as a question would put them, like
/// the English ones: "edad de los mensajes" or "Alter der Daten" are technical, "su edad" is not).
const PROTECTED_ES_DE: &[(&str, &str)] = &[
    ("age", "su edad|qué edad tiene|cuántos años tiene usted|cuántos años tienes|fecha de nacimiento|año de nacimiento|cuándo nació|ihr alter|wie alt sind sie|wie alt bist du|geburtsdatum|geburtsjahr|wann sind sie geboren|ihr jahrgang"),
    (
        "family",
        "casado|casada|estado civil|su pareja|su marido|su mujer|su esposo|su esposa|tiene hijos|sus hijos|embarazada|embarazo|planes familiares|baja por maternidad|baja por paternidad|verheiratet|familienstand|ihr partner|ihre partnerin|ihr ehemann|ihre ehefrau|kinder haben|ihre kinder|schwanger|schwangerschaft|familienplanung|mutterschutz|elternzeit",
    ),
    ("religion", "religión|religiosa|religioso|iglesia|mezquita|sinagoga|su fe|religiös|konfession|kirche|moschee|synagoge|ihr glaube"),
    (
        "disability or health",
        "discapacidad|minusvalía|enfermedad|estado de salud|historial médico|medicación|salud mental|bajas por enfermedad|behinderung|schwerbehindert|krankheit|gesundheitszustand|krankengeschichte|medikamente|psychische gesundheit|krankheitstage",
    ),
    (
        "race, ethnicity or national origin",
        "su raza|origen étnico|etnia|nacionalidad|país de origen|de dónde es usted|dónde nació|su acento|hablante nativo|hablante nativa|lengua materna|ciudadanía|color de piel|ihre herkunft|ethnische|ethnie|staatsangehörigkeit|nationalität|woher kommen sie|wo sind sie geboren|ihr akzent|muttersprache|muttersprachler|muttersprachlerin|hautfarbe",
    ),
    ("sex, gender or orientation", "su género|identidad de género|orientación sexual|transgénero|su sexo|ihr geschlecht|geschlechtsidentität|sexuelle orientierung"),
    ("genetic information", "genético|genética|genetisch|genetische"),
    // Not "política" alone: "política de reintentos" is a retry policy.
    ("political or union affiliation", "afiliación política|ideas políticas|partido político|afiliación sindical|sindicato|a quién vota|politische einstellung|parteimitglied|gewerkschaft|wen wählen sie"),
    ("salary history", "salario actual|salario anterior|sueldo actual|sueldo anterior|cuánto gana|aktuelles gehalt|jetziges gehalt|bisheriges gehalt|letztes gehalt|was verdienen sie"),
];

/// Why a text was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    BannedTopic {
        topic: String,
        term: String,
    },
    ProtectedCharacteristic {
        characteristic: String,
        term: String,
    },
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::BannedTopic { topic, term } => {
                write!(f, "mentions \"{term}\", which the job bans ({topic})")
            }
            Violation::ProtectedCharacteristic {
                characteristic,
                term,
            } => {
                write!(f, "mentions \"{term}\", which touches a protected characteristic ({characteristic})")
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct TopicGuard {
    banned: Vec<(String, Cue)>,
    protected: Vec<(&'static str, Cue)>,
}

impl TopicGuard {
    /// Protected characteristics only.
    pub fn protected_only() -> TopicGuard {
        TopicGuard {
            banned: Vec::new(),
            protected: PROTECTED
                .iter()
                .chain(PROTECTED_ES_DE)
                .map(|(c, cues)| (*c, Cue::new(cues)))
                .collect(),
        }
    }

    pub fn for_job(job: &JobConfig) -> TopicGuard {
        let mut guard = TopicGuard::protected_only();
        for topic in &job.banned_topics {
            for term in &topic.terms {
                guard.banned.push((topic.topic.clone(), Cue::new(term)));
            }
        }
        guard
    }

    pub fn violations(&self, text: &str) -> Vec<Violation> {
        let tokens = Tokens::new(text);
        let mut out = Vec::new();
        for (topic, cue) in &self.banned {
            if let Some((a, b)) = cue.find_first(&tokens) {
                out.push(Violation::BannedTopic {
                    topic: topic.clone(),
                    term: tokens.span(a, b).slice(text).to_string(),
                });
            }
        }
        for (characteristic, cue) in &self.protected {
            if let Some((a, b)) = cue.find_first(&tokens) {
                out.push(Violation::ProtectedCharacteristic {
                    characteristic: characteristic.to_string(),
                    term: tokens.span(a, b).slice(text).to_string(),
                });
            }
        }
        out
    }

    pub fn allows(&self, text: &str) -> bool {
        self.violations(text).is_empty()
    }

    /// Whether `text` touches a banned topic (used to deflect a candidate's question neutrally).
    pub fn mentions_banned_topic(&self, text: &str) -> bool {
        let tokens = Tokens::new(text);
        self.banned
            .iter()
            .any(|(_, cue)| cue.find_first(&tokens).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technical_words_are_not_protected_characteristics() {
        let guard = TopicGuard::protected_only();
        assert!(guard.allows("How do you find a race condition between two workers?"));
        assert!(guard.allows("What does the message age metric tell you about consumer lag?"));
        assert!(!guard.allows("How old are you?"));
        assert!(!guard.allows("Do you have children?"));
        assert!(!guard.allows("Are you a native speaker of English?"));
        assert!(!guard.allows("What is your current salary?"));
    }

    #[test]
    fn protected_characteristics_are_caught_in_spanish_and_german() {
        let guard = TopicGuard::protected_only();
        assert!(!guard.allows("¿Cuántos años tiene usted?"));
        assert!(!guard.allows("¿Está casada?"));
        assert!(!guard.allows("¿Cuál es su lengua materna?"));
        assert!(!guard.allows("Wie alt sind Sie?"));
        assert!(!guard.allows("Haben Sie Kinder? Ich meine: Wollen Sie Kinder haben?"));
        assert!(!guard.allows("Was ist Ihre Staatsangehörigkeit?"));
        assert!(guard
            .allows("¿Cuántos años de experiencia profesional en desarrollo backend tiene usted?"));
        assert!(
            guard.allows("¿Qué le dice la edad de los mensajes sobre el retraso del consumidor?")
        );
        assert!(
            guard.allows("Wie viele Jahre Berufserfahrung in der Backend-Entwicklung haben Sie?")
        );
        assert!(guard.allows("Wie alt dürfen die Daten im Cache höchstens sein?"));
    }
}
