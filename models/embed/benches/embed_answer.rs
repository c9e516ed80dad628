//! Prints how long the semantic knowledge-area matcher takes per answer (all-MiniLM-L6-v2 on
//! the CPU), and the one-off cost of embedding the bank's anchors.
//! `cargo bench -p viva-embed --bench embed_answer` (needs `viva models fetch`).

use std::sync::Arc;
use std::time::Instant;

use viva_interview::analysis::AreaMatcher;
use viva_interview::QuestionBank;

fn main() {
    let dir = viva_embed::default_models_dir();
    let t = Instant::now();
    let model = match viva_embed::MiniLm::load(&dir) {
        Ok(m) => Arc::new(m),
        Err(e) => {
            eprintln!("embed_answer: {e}");
            std::process::exit(
                if std::env::var("VIVA_REQUIRE_MODELS").is_ok_and(|v| v == "1") {
                    1
                } else {
                    0
                },
            );
        }
    };
    let load_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let matcher = viva_embed::semantic_matcher(Arc::clone(&model), []).expect("anchors");
    let anchors_ms = t.elapsed().as_secs_f64() * 1000.0;
    // The same from the on-disk anchor cache (written on first use).
    let cache = std::env::temp_dir().join(format!("viva-anchors-{}.cache", std::process::id()));
    let _ = viva_embed::semantic_matcher_cached(Arc::clone(&model), Some(&cache), []);
    let t = Instant::now();
    let _ = viva_embed::semantic_matcher_cached(model, Some(&cache), []).expect("anchors");
    let cached_ms = t.elapsed().as_secs_f64() * 1000.0;
    let _ = std::fs::remove_file(&cache);
    let bank = QuestionBank::embedded();
    let areas: Vec<_> = bank.concepts[0].areas.clone();
    let answers = [
        "When a client sends the same payment twice because its connection dropped, the server remembers the unique token attached to the first attempt and hands back the earlier outcome.",
        "We version the API in the URL and only make additive changes; before removing anything we look at who still calls the old endpoint and give them a deprecation window of six months.",
        "Honestly I don't know.",
        "I think it depends. You would probably want to look at the requirements first and then decide, maybe with the team, what makes sense in that case and go from there, I guess.",
    ];
    // Warm-up.
    for a in &answers {
        matcher.match_areas(a, &areas);
    }
    let rounds = 10;
    let t = Instant::now();
    for _ in 0..rounds {
        for a in &answers {
            std::hint::black_box(matcher.match_areas(a, &areas));
        }
    }
    let per = t.elapsed().as_secs_f64() * 1000.0 / (rounds * answers.len()) as f64;
    println!(
        "semantic area matching: {per:.1} ms per answer ({} areas, {} answers × {rounds}); model load {load_ms:.0} ms; {} anchors embedded in {anchors_ms:.0} ms ({cached_ms:.0} ms from the anchor cache)",
        areas.len(),
        answers.len(),
        matcher.cached()
    );
}
