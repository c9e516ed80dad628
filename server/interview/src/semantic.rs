//! Knowledge-area matching by meaning: sentence embeddings (all-MiniLM-L6-v2 in the server)
//! behind the [`AreaMatcher`] seam, backed by the lexical cue matcher.
//!
//! # How it matches
//! Each knowledge area has *anchors*: its name, its probe follow-ups, and one description per
//! depth ("Idempotency and retries: idempotency key, exactly once or at least once, …").
//! Their embeddings are computed once (see [`SemanticAreaMatcher::precompute`]) and cached.
//! An answer is cut into segments (sentences, and the whole of a short answer); each segment
//! of at least [`MIN_SEGMENT_WORDS`] words is embedded in one batch, and an area is covered
//! when some segment is closer than [`SemanticConfig::threshold`] to one of its anchors, or
//! closer than [`SemanticConfig::relative`] and clearly closer than to any other area. The
//! depth is that of the closest depth description (name and probe anchors count as working);
//! a semantic hit never claims more than the lexical cues could at [`SemanticConfig::deep`].
//!
//! Lexical hits are always kept (cue matching is exact and explains itself); semantic hits add
//! areas the candidate described in their own words. Segments that deny experience ("I've
//! never set up tracing") are not matched by meaning, so a denial never counts as coverage.
//!
//! # IO
//! None here: the embedder is passed in ([`SentenceEmbedder`]); the server implements it with
//! `viva-embed`. When the embedder fails, the lexical result stands.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::analysis::{AreaHit, AreaMatcher, Depth, Evidence, LexicalAreaMatcher};
use crate::job::KnowledgeArea;
use crate::lang::Lang;
use crate::text::{Cue, Span, Tokens};

/// Turns sentences into unit-length vectors (cosine = dot product).
pub trait SentenceEmbedder: Send + Sync {
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, String>;
}

/// Segments shorter than this (in words) are not matched by meaning: too little to go on.
pub const MIN_SEGMENT_WORDS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SemanticConfig {
    /// Cosine at or above which a segment covers an area.
    pub threshold: f32,
    /// A lower cosine that also covers an area when it is the answer's clearly closest one:
    /// at least `margin` above every other area of the question.
    pub relative: f32,
    pub margin: f32,
    /// Cosine at or above which the closest depth description's depth is taken as is; below
    /// it a semantic hit counts as working at most.
    pub deep: f32,
}

impl Default for SemanticConfig {
    /// Calibrated on all-MiniLM-L6-v2 with the paraphrase tests in `tests/semantic_minilm.rs`.
    fn default() -> Self {
        SemanticConfig {
            threshold: 0.45,
            relative: 0.33,
            margin: 0.08,
            deep: 0.60,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnchorKind {
    Name,
    Probe,
    Depth(Depth),
}

#[derive(Debug, Clone)]
struct Anchor {
    kind: AnchorKind,
    text: String,
}

/// The anchor texts of one area.
fn anchors(area: &KnowledgeArea) -> Vec<Anchor> {
    let mut out = vec![Anchor {
        kind: AnchorKind::Name,
        text: area.name.clone(),
    }];
    out.extend(area.probes.iter().map(|p| Anchor {
        kind: AnchorKind::Probe,
        text: p.clone(),
    }));
    for (depth, cues) in [
        (Depth::Surface, &area.surface),
        (Depth::Working, &area.working),
        (Depth::Deep, &area.deep),
    ] {
        if cues.is_empty() {
            continue;
        }
        let listed: Vec<String> = cues
            .iter()
            .map(|c| {
                c.split('|')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" or ")
            })
            .collect();
        out.push(Anchor {
            kind: AnchorKind::Depth(depth),
            text: format!("{}: {}", area.name, listed.join(", ")),
        });
    }
    out
}

/// Embeddings of anchor texts, shared by every interview that uses the same embedder.
#[derive(Default)]
struct AnchorCache {
    vectors: Mutex<HashMap<String, Arc<[f32]>>>,
}

/// Knowledge-area matching by meaning, plus the lexical cues. Cheap to clone (shared cache).
#[derive(Clone)]
pub struct SemanticAreaMatcher {
    embedder: Arc<dyn SentenceEmbedder>,
    cache: Arc<AnchorCache>,
    config: SemanticConfig,
}

impl std::fmt::Debug for SemanticAreaMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SemanticAreaMatcher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// One segment of an answer: its char span and text.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub span: Span,
    pub text: String,
}

/// Sentences (split at `.`, `!`, `?`, `;` and line breaks) and the whole answer when it has
/// several sentences and at most 80 words, each with its char span; segments under
/// [`MIN_SEGMENT_WORDS`] words dropped.
pub fn segments(answer: &str) -> Vec<Segment> {
    let chars: Vec<char> = answer.chars().collect();
    let mut sentences: Vec<(usize, usize)> = Vec::new(); // [start, end) in chars
    let mut start = 0;
    for (i, c) in chars.iter().enumerate() {
        let boundary = matches!(c, '.' | '!' | '?' | ';' | '\n')
            && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if boundary {
            sentences.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < chars.len() {
        sentences.push((start, chars.len()));
    }
    let trimmed: Vec<(usize, usize)> = sentences
        .into_iter()
        .filter_map(|(a, b)| {
            let mut a = a;
            let mut b = b;
            while a < b && chars[a].is_whitespace() {
                a += 1;
            }
            while b > a && chars[b - 1].is_whitespace() {
                b -= 1;
            }
            (a < b).then_some((a, b))
        })
        .collect();
    let text_of = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    let words = |s: &str| s.split_whitespace().count();
    let mut out = Vec::new();
    for &(a, b) in &trimmed {
        let t = text_of(a, b);
        if words(&t) >= MIN_SEGMENT_WORDS {
            out.push(Segment {
                span: Span { start: a, end: b },
                text: t,
            });
        }
    }
    // The whole answer as well, when it has several sentences and is not long: a point can be
    // spread over sentences.
    if trimmed.len() > 1 {
        if let (Some(&(a, _)), Some(&(_, b))) = (trimmed.first(), trimmed.last()) {
            let t = text_of(a, b);
            if words(&t) <= 80 {
                out.push(Segment {
                    span: Span { start: a, end: b },
                    text: t,
                });
            }
        }
    }
    // Keep the first few dozen: long monologues are covered lexically as well.
    out.truncate(48);
    out
}

/// A segment that denies experience or knowledge is not matched by meaning.
fn denies(text: &str) -> bool {
    const DENIAL: &str = "never used|never worked|never done|never set|never had|haven't|have not|no experience|not familiar|don't know|do not know|no idea|not sure|didn't use|did not use|don't use|do not use|wouldn't know|would not know";
    !Cue::new(DENIAL).find_all(&Tokens::new(text)).is_empty()
}

impl SemanticAreaMatcher {
    pub fn new(embedder: Arc<dyn SentenceEmbedder>) -> Self {
        Self::with_config(embedder, SemanticConfig::default())
    }

    pub fn with_config(embedder: Arc<dyn SentenceEmbedder>, config: SemanticConfig) -> Self {
        SemanticAreaMatcher {
            embedder,
            cache: Arc::new(AnchorCache::default()),
            config,
        }
    }

    pub fn config(&self) -> SemanticConfig {
        self.config
    }

    /// Embeds the anchors of `areas` that are not cached yet (at start-up: the bank's and the
    /// job's areas), in batches. Returns how many were computed.
    pub fn precompute<'a>(
        &self,
        areas: impl IntoIterator<Item = &'a KnowledgeArea>,
    ) -> Result<usize, String> {
        let texts: Vec<String> = areas
            .into_iter()
            .flat_map(anchors)
            .map(|a| a.text)
            .collect();
        self.ensure(&texts)
    }

    /// The cached anchor embeddings, sorted by text (to persist them).
    pub fn export(&self) -> Vec<(String, Vec<f32>)> {
        let mut v: Vec<(String, Vec<f32>)> = self
            .cache
            .vectors
            .lock()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.to_vec())).collect())
            .unwrap_or_default();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Adds embeddings computed earlier by the same model (from [`Self::export`]).
    pub fn import(&self, entries: impl IntoIterator<Item = (String, Vec<f32>)>) {
        if let Ok(mut m) = self.cache.vectors.lock() {
            for (k, v) in entries {
                m.insert(k, v.into());
            }
        }
    }

    /// Number of cached anchor embeddings.
    pub fn cached(&self) -> usize {
        self.cache.vectors.lock().map(|m| m.len()).unwrap_or(0)
    }

    fn ensure(&self, texts: &[String]) -> Result<usize, String> {
        let missing: Vec<&str> = {
            let map = self.cache.vectors.lock().map_err(|e| e.to_string())?;
            let mut seen = std::collections::HashSet::new();
            texts
                .iter()
                .map(String::as_str)
                .filter(|t| !map.contains_key(*t) && seen.insert(*t))
                .collect()
        };
        let mut done = 0;
        for chunk in missing.chunks(32) {
            let vectors = self.embedder.embed(chunk)?;
            if vectors.len() != chunk.len() {
                return Err(format!(
                    "the embedder returned {} vectors for {} texts",
                    vectors.len(),
                    chunk.len()
                ));
            }
            let mut map = self.cache.vectors.lock().map_err(|e| e.to_string())?;
            for (t, v) in chunk.iter().zip(vectors) {
                map.insert((*t).to_string(), v.into());
            }
            done += chunk.len();
        }
        Ok(done)
    }

    fn vector(&self, text: &str) -> Option<Arc<[f32]>> {
        self.cache.vectors.lock().ok()?.get(text).cloned()
    }

    /// The embedder this matcher uses.
    pub fn embedder(&self) -> Arc<dyn SentenceEmbedder> {
        Arc::clone(&self.embedder)
    }

    /// Each area's closest segment and anchor, before any threshold.
    fn score_areas(&self, answer: &str, areas: &[KnowledgeArea]) -> Result<Vec<Scored>, String> {
        let segs: Vec<Segment> = segments(answer)
            .into_iter()
            .filter(|s| !denies(&s.text))
            .collect();
        if segs.is_empty() || areas.is_empty() {
            return Ok(Vec::new());
        }
        let area_anchors: Vec<Vec<Anchor>> = areas.iter().map(anchors).collect();
        let all: Vec<String> = area_anchors
            .iter()
            .flatten()
            .map(|a| a.text.clone())
            .collect();
        self.ensure(&all)?;
        let seg_texts: Vec<&str> = segs.iter().map(|s| s.text.as_str()).collect();
        let seg_vecs = self.embedder.embed(&seg_texts)?;
        if seg_vecs.len() != segs.len() {
            return Err("the embedder returned the wrong number of vectors".into());
        }
        let mut out = Vec::new();
        for (area, anchors) in areas.iter().zip(&area_anchors) {
            // Best (similarity, segment, anchor) for this area.
            let mut best: Option<(f32, usize, usize)> = None;
            // Best depth description and its similarity.
            let mut best_depth: Option<(f32, Depth)> = None;
            for (ai, anchor) in anchors.iter().enumerate() {
                let Some(av) = self.vector(&anchor.text) else {
                    continue;
                };
                for (si, sv) in seg_vecs.iter().enumerate() {
                    let s = dot(&av, sv);
                    if best.is_none_or(|(b, _, _)| s > b) {
                        best = Some((s, si, ai));
                    }
                    if let AnchorKind::Depth(d) = anchor.kind {
                        if best_depth.is_none_or(|(b, _)| s > b) {
                            best_depth = Some((s, d));
                        }
                    }
                }
            }
            if let Some((similarity, si, ai)) = best {
                out.push(Scored {
                    area_id: area.id.clone(),
                    similarity,
                    span: segs[si].span,
                    anchor: anchors[ai].text.clone(),
                    best_depth,
                });
            }
        }
        Ok(out)
    }

    /// Each area's highest cosine against the answer (diagnostics and calibration).
    pub fn similarities(
        &self,
        answer: &str,
        areas: &[KnowledgeArea],
    ) -> Result<Vec<(String, f32)>, String> {
        Ok(self
            .score_areas(answer, areas)?
            .into_iter()
            .map(|s| (s.area_id, s.similarity))
            .collect())
    }

    /// The semantic hits alone (no lexical cues), or an error from the embedder.
    pub fn semantic_hits(
        &self,
        answer: &str,
        areas: &[KnowledgeArea],
    ) -> Result<Vec<AreaHit>, String> {
        let scored = self.score_areas(answer, areas)?;
        let mut hits = Vec::new();
        for (i, s) in scored.iter().enumerate() {
            let runner_up = scored
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, o)| o.similarity)
                .fold(0.0f32, f32::max);
            let clear_winner = s.similarity >= self.config.relative
                && s.similarity - runner_up >= self.config.margin;
            if s.similarity < self.config.threshold && !clear_winner {
                continue;
            }
            let s = s.clone();
            let depth = match s.best_depth {
                Some((sim, d)) if sim >= self.config.deep => d,
                Some((sim, d)) if sim >= self.config.relative => d.min(Depth::Working),
                _ => Depth::Working,
            };
            hits.push(AreaHit {
                area_id: s.area_id,
                depth,
                evidence: vec![Evidence {
                    span: s.span,
                    cue: format!(
                        "meaning ≈ \"{}\" (cosine {:.2})",
                        s.anchor,
                        round2(s.similarity)
                    ),
                    depth,
                }],
            });
        }
        Ok(hits)
    }
}

#[derive(Clone)]
struct Scored {
    area_id: String,
    similarity: f32,
    span: Span,
    anchor: String,
    best_depth: Option<(f32, Depth)>,
}

fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Lexical hits and semantic hits merged per area (deepest depth, all evidence, in the order of
/// `areas`).
fn merge(areas: &[KnowledgeArea], lexical: Vec<AreaHit>, semantic: Vec<AreaHit>) -> Vec<AreaHit> {
    let mut by_id: HashMap<String, AreaHit> = HashMap::new();
    for h in lexical.into_iter().chain(semantic) {
        match by_id.get_mut(&h.area_id) {
            Some(e) => {
                e.depth = e.depth.max(h.depth);
                e.evidence.extend(h.evidence);
            }
            None => {
                by_id.insert(h.area_id.clone(), h);
            }
        }
    }
    areas
        .iter()
        .filter_map(|a| by_id.remove(&a.id))
        .map(|mut h| {
            h.evidence.sort_by_key(|e| e.span);
            h
        })
        .collect()
}

impl AreaMatcher for SemanticAreaMatcher {
    fn match_areas(&self, answer: &str, areas: &[KnowledgeArea]) -> Vec<AreaHit> {
        let lexical = LexicalAreaMatcher.match_areas(answer, areas);
        match self.semantic_hits(answer, areas) {
            Ok(semantic) => merge(areas, lexical, semantic),
            Err(_) => lexical,
        }
    }

    /// all-MiniLM-L6-v2 is an English model: its similarities on Spanish or German text mean
    /// nothing, so other languages are matched by the job's cue words only.
    fn match_areas_in(&self, lang: Lang, answer: &str, areas: &[KnowledgeArea]) -> Vec<AreaHit> {
        match lang {
            Lang::En => self.match_areas(answer, areas),
            _ => LexicalAreaMatcher.match_areas_in(lang, answer, areas),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy embedder: bag of the words of a fixed vocabulary, normalised. Enough to test the
    /// plumbing (segments, thresholds, merging, denial, caching) without a model.
    struct Toy;
    const VOCAB: &[&str] = &[
        "token", "twice", "repeat", "request", "page", "cursor", "hike",
    ];
    impl SentenceEmbedder for Toy {
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, String> {
            Ok(texts
                .iter()
                .map(|t| {
                    let t = t.to_lowercase();
                    let mut v: Vec<f32> =
                        VOCAB.iter().map(|w| t.matches(w).count() as f32).collect();
                    v.push(0.1);
                    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                    v.iter().map(|x| x / n).collect()
                })
                .collect())
        }
    }

    fn area(id: &str, name: &str, probe: &str, working: &str) -> KnowledgeArea {
        KnowledgeArea {
            id: id.into(),
            name: name.into(),
            importance: 2,
            surface: vec![],
            working: vec![working.into()],
            deep: vec![],
            probes: vec![probe.into()],
        }
    }

    fn areas() -> Vec<KnowledgeArea> {
        vec![
            area(
                "idem",
                "Repeat safety",
                "What if the same request token arrives twice?",
                "idempotent",
            ),
            area(
                "pages",
                "Paging",
                "How does the cursor move by page?",
                "keyset",
            ),
        ]
    }

    #[test]
    fn segments_have_spans_that_slice_back() {
        let a = "First we did one thing here. Then — ünïcode — another thing happened!  Ok.";
        let segs = segments(a);
        assert!(!segs.is_empty());
        for s in &segs {
            assert_eq!(s.span.slice(a), s.text);
        }
        // "Ok." is too short alone.
        assert!(segs.iter().all(|s| s.text != "Ok."));
    }

    #[test]
    fn meaning_adds_an_area_the_cues_miss_and_denial_does_not_count() {
        let m = SemanticAreaMatcher::new(Arc::new(Toy));
        let ans = "Every request carries a token, so a repeat sent twice is spotted.";
        let lexical = LexicalAreaMatcher.match_areas(ans, &areas());
        assert!(lexical.is_empty());
        let hits = m.match_areas(ans, &areas());
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].area_id, "idem");
        assert!(hits[0].evidence[0].cue.starts_with("meaning"));
        assert!(m
            .match_areas("I have never used a request token twice, no.", &areas())
            .is_empty());
        assert!(m
            .match_areas("On weekends I like to hike with my dog.", &areas())
            .is_empty());
    }

    #[test]
    fn lexical_hits_are_kept_and_anchors_cached_once() {
        let m = SemanticAreaMatcher::new(Arc::new(Toy));
        let n = m.precompute(&areas()).unwrap();
        assert_eq!(n, m.cached());
        assert_eq!(m.precompute(&areas()).unwrap(), 0);
        // Three words: too short to match by meaning; the cue still counts.
        let hits = m.match_areas("Made it idempotent.", &areas());
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].area_id, "idem");
        assert_eq!(hits[0].depth, Depth::Working);
    }

    struct Broken;
    impl SentenceEmbedder for Broken {
        fn embed(&self, _: &[&str]) -> Result<Vec<Vec<f32>>, String> {
            Err("no model".into())
        }
    }

    #[test]
    fn a_failing_embedder_falls_back_to_the_cues() {
        let m = SemanticAreaMatcher::new(Arc::new(Broken));
        let hits = m.match_areas("We made the endpoint idempotent.", &areas());
        assert_eq!(hits.len(), 1);
        assert!(m
            .match_areas("Every request token repeat twice sent", &areas())
            .is_empty());
    }
}
