//! CTranslate2 Whisper (float16) → ggml, the format whisper.cpp loads.
//!
//! CT2 weights are `[out, in]` row-major like PyTorch, so they copy byte for byte; what changes
//! is naming, the split of CT2's fused q/k/v (self-attention) and k/v (cross-attention)
//! projections, and the f32 promotion of 1-D tensors, conv biases and positional embeddings.
//! A transposed or mis-split matrix loads silently and transcribes garbage, which is why the
//! converter also has a golden-transcript test on real speech.

use std::collections::BTreeMap;
use std::io::Write;

use crate::ct2::{Ct2Model, DType, Variable};
use crate::ggml::{GgmlWriter, Hparams, TensorOut, TYPE_F16, TYPE_F32, TYPE_Q8_0};

/// How the converter stores the big matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum Quantization {
    /// Byte for byte from CTranslate2 (float16).
    #[default]
    F16,
    /// ggml Q8_0 for every 2-D weight (as whisper.cpp's `quantize q8_0` does); conv weights stay
    /// f16, biases, norms and positional embeddings f32. About half the bytes, and integer
    /// dot products instead of f16 conversions: faster passes on CPU.
    Q8_0,
}

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error(transparent)]
    Ct2(#[from] crate::ct2::Ct2Error),
    #[error("CTranslate2 model lacks variable {0}: not a complete Whisper model")]
    Missing(String),
    #[error("variable {name} has shape {shape:?}, expected {expected}")]
    Shape {
        name: String,
        shape: Vec<usize>,
        expected: String,
    },
    #[error("variable {0} is not float16; only float16 CTranslate2 models are supported")]
    NotF16(String),
    #[error("unexpected CTranslate2 variable {0}; refusing to guess where it belongs")]
    Unexpected(String),
    #[error("the key-projection bias slot of {0} is not zero: q/k/v layout differs from what this converter knows")]
    KeyBias(String),
    #[error("vocabulary.txt: {0}")]
    Vocab(String),
    #[error("writing the ggml file: {0}")]
    Io(#[from] std::io::Error),
}

/// What a conversion produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConvertReport {
    pub hparams: Hparams,
    pub tensors: usize,
    pub vocab_tokens: usize,
    pub bytes: u64,
}

/// Converts a CT2 `model.bin` + `vocabulary.txt` into a ggml file written to `out`.
pub fn convert(
    model_bin: &[u8],
    vocabulary_txt: &str,
    out: impl Write,
) -> Result<ConvertReport, ConvertError> {
    convert_with(model_bin, vocabulary_txt, out, Quantization::F16)
}

/// [`convert`], storing the weights as `quantization` says.
pub fn convert_with(
    model_bin: &[u8],
    vocabulary_txt: &str,
    out: impl Write,
    quantization: Quantization,
) -> Result<ConvertReport, ConvertError> {
    let model = Ct2Model::parse(model_bin)?;
    let mut hparams = derive_hparams(&model)?;
    let vocab = byte_level_vocab(vocabulary_txt)?;
    let mut tensors = map_tensors(&model, &hparams)?;
    if quantization == Quantization::Q8_0 {
        hparams.ftype = crate::ggml::FTYPE_Q8_0;
        for t in &mut tensors {
            let rows_fit = t
                .dims
                .first()
                .is_some_and(|d| d % crate::ggml::Q8_0_BLOCK == 0);
            if t.ty == TYPE_F16 && t.dims.len() == 2 && rows_fit {
                let values: Vec<f32> = t
                    .data
                    .chunks_exact(2)
                    .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                    .collect();
                t.data = crate::ggml::quantize_q8_0(&values);
                t.ty = TYPE_Q8_0;
            }
        }
    }

    let n_fft = 201;
    let filters = crate::mel::mel_filters(16_000.0, 400, hparams.n_mels as usize);
    let mut writer = GgmlWriter::new(out);
    writer.header(&hparams, &filters, hparams.n_mels as usize, n_fft, &vocab)?;
    for t in &tensors {
        writer.tensor(&TensorOut {
            name: &t.name,
            dims: t.dims.clone(),
            ty: t.ty,
            data: &t.data,
        })?;
    }
    let (_, bytes) = writer.finish()?;
    Ok(ConvertReport {
        hparams,
        tensors: tensors.len(),
        vocab_tokens: vocab.len(),
        bytes,
    })
}

fn var<'m>(model: &'m Ct2Model, name: &str) -> Result<&'m Variable, ConvertError> {
    model
        .variables
        .get(name)
        .ok_or_else(|| ConvertError::Missing(name.to_string()))
}

fn count_layers(model: &Ct2Model, prefix: &str) -> i32 {
    (0..)
        .take_while(|i| {
            model
                .variables
                .keys()
                .any(|k| k.starts_with(&format!("{prefix}/layer_{i}/")))
        })
        .count() as i32
}

fn dims2(v: &Variable, name: &str) -> Result<(usize, usize), ConvertError> {
    match v.shape[..] {
        [a, b] => Ok((a, b)),
        _ => Err(ConvertError::Shape {
            name: name.to_string(),
            shape: v.shape.clone(),
            expected: "2 dimensions".into(),
        }),
    }
}

fn derive_hparams(model: &Ct2Model) -> Result<Hparams, ConvertError> {
    let (n_vocab, n_text_state) = dims2(
        var(model, "decoder/embeddings/weight")?,
        "decoder/embeddings/weight",
    )?;
    let (n_audio_ctx, n_audio_state) = dims2(
        var(model, "encoder/position_encodings/encodings")?,
        "encoder/position_encodings/encodings",
    )?;
    let (n_text_ctx, _) = dims2(
        var(model, "decoder/position_encodings/encodings")?,
        "decoder/position_encodings/encodings",
    )?;
    let conv1 = var(model, "encoder/conv1/weight")?;
    let n_mels = match conv1.shape[..] {
        [_, mels, 3] => mels,
        _ => {
            return Err(ConvertError::Shape {
                name: "encoder/conv1/weight".into(),
                shape: conv1.shape.clone(),
                expected: "[state, n_mels, 3]".into(),
            })
        }
    };
    // Whisper uses 64-dimensional heads; CT2 also stores the count as a scalar.
    let heads = |prefix: &str, state: usize| {
        model
            .variables
            .get(&format!("{prefix}/num_heads"))
            .and_then(Variable::as_scalar_int)
            .map(|h| h as i32)
            .unwrap_or((state / 64) as i32)
    };
    Ok(Hparams {
        n_vocab: n_vocab as i32,
        n_audio_ctx: n_audio_ctx as i32,
        n_audio_state: n_audio_state as i32,
        n_audio_head: heads("encoder", n_audio_state),
        n_audio_layer: count_layers(model, "encoder"),
        n_text_ctx: n_text_ctx as i32,
        n_text_state: n_text_state as i32,
        n_text_head: heads("decoder", n_text_state),
        n_text_layer: count_layers(model, "decoder"),
        n_mels: n_mels as i32,
        ftype: 1,
    })
}

/// GPT-2's byte → printable-unicode table, inverted: vocabulary.txt stores byte-level BPE tokens
/// as printable characters, ggml stores the raw bytes.
fn unicode_to_byte() -> BTreeMap<char, u8> {
    let mut printable: Vec<u32> = (u32::from('!')..=u32::from('~')).collect();
    printable.extend(u32::from('¡')..=u32::from('¬'));
    printable.extend(u32::from('®')..=u32::from('ÿ'));
    let mut map = BTreeMap::new();
    let mut extra = 0;
    for b in 0u32..256 {
        let c = if printable.contains(&b) {
            b
        } else {
            extra += 1;
            255 + extra
        };
        if let Some(ch) = char::from_u32(c) {
            map.insert(ch, b as u8);
        }
    }
    map
}

/// The byte-level tokens that precede `<|endoftext|>`; whisper.cpp adds the special ones itself.
pub fn byte_level_vocab(vocabulary_txt: &str) -> Result<Vec<Vec<u8>>, ConvertError> {
    let table = unicode_to_byte();
    let mut tokens = Vec::new();
    for (line_no, line) in vocabulary_txt.lines().enumerate() {
        if line == "<|endoftext|>" {
            return Ok(tokens);
        }
        let bytes = line
            .chars()
            .map(|c| table.get(&c).copied())
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| {
                ConvertError::Vocab(format!(
                    "line {} ({line:?}) is not a byte-level token",
                    line_no + 1
                ))
            })?;
        tokens.push(bytes);
    }
    Err(ConvertError::Vocab(
        "no <|endoftext|> line: the file is truncated or not Whisper's".into(),
    ))
}

struct Tensor {
    name: String,
    dims: Vec<usize>,
    ty: i32,
    data: Vec<u8>,
}

fn f16_to_f32_bytes(data: &[u8]) -> Vec<u8> {
    data.chunks_exact(2)
        .flat_map(|c| {
            half::f16::from_le_bytes([c[0], c[1]])
                .to_f32()
                .to_le_bytes()
        })
        .collect()
}

/// Builds a ggml tensor from CT2 shape (row-major, outermost first) and raw f16 bytes.
fn tensor(name: String, ct2_shape: &[usize], f16_bytes: &[u8], force_f32: bool) -> Tensor {
    let dims: Vec<usize> = ct2_shape.iter().rev().copied().collect();
    let as_f32 = force_f32 || dims.len() == 1;
    Tensor {
        name,
        dims,
        ty: if as_f32 { TYPE_F32 } else { TYPE_F16 },
        data: if as_f32 {
            f16_to_f32_bytes(f16_bytes)
        } else {
            f16_bytes.to_vec()
        },
    }
}

/// Splits a row-stacked [parts × rows, cols] matrix (or a [parts × rows] bias) into parts.
fn split_rows(v: &Variable, parts: usize) -> Vec<(Vec<usize>, &[u8])> {
    let rows = v.shape[0] / parts;
    let row_elems: usize = v.shape[1..].iter().product();
    let chunk = rows * row_elems * 2;
    let mut shape = v.shape.clone();
    shape[0] = rows;
    v.data
        .chunks_exact(chunk)
        .map(|c| (shape.clone(), c))
        .collect()
}

fn map_tensors(model: &Ct2Model, hp: &Hparams) -> Result<Vec<Tensor>, ConvertError> {
    let mut out = Vec::new();
    for (name, v) in &model.variables {
        let is_scalar_meta = v.numel() <= 1
            || name == "alignment_heads"
            || name.ends_with("/num_heads")
            || matches!(v.dtype, DType::I8 | DType::I16 | DType::I32);
        if is_scalar_meta {
            continue;
        }
        if v.dtype != DType::F16 {
            return Err(ConvertError::NotF16(name.clone()));
        }
        out.extend(map_one(name, v, hp)?);
    }
    let expected = hp.expected_tensor_count();
    if out.len() != expected {
        return Err(ConvertError::Missing(format!(
            "{} tensors after mapping, expected {expected}: some layers are incomplete",
            out.len()
        )));
    }
    Ok(out)
}

fn check_rows(name: &str, v: &Variable, rows: usize) -> Result<(), ConvertError> {
    if v.shape.first() != Some(&rows) {
        return Err(ConvertError::Shape {
            name: name.to_string(),
            shape: v.shape.clone(),
            expected: format!("{rows} rows"),
        });
    }
    Ok(())
}

fn map_one(name: &str, v: &Variable, hp: &Hparams) -> Result<Vec<Tensor>, ConvertError> {
    let parts: Vec<&str> = name.split('/').collect();
    let simple = |ggml: &str, force_f32: bool| {
        Ok(vec![tensor(ggml.to_string(), &v.shape, &v.data, force_f32)])
    };
    match parts[..] {
        ["encoder", conv @ ("conv1" | "conv2"), kind @ ("weight" | "bias")] => {
            if kind == "bias" {
                // whisper.cpp wants conv biases as (state, 1): ggml dims [1, state].
                let shape = [v.shape[0], 1];
                Ok(vec![tensor(
                    format!("encoder.{conv}.bias"),
                    &shape,
                    &v.data,
                    true,
                )])
            } else {
                simple(&format!("encoder.{conv}.weight"), false)
            }
        }
        [side @ ("encoder" | "decoder"), "position_encodings", "encodings"] => {
            simple(&format!("{side}.positional_embedding"), true)
        }
        ["decoder", "embeddings", "weight"] => simple("decoder.token_embedding.weight", false),
        ["encoder", "layer_norm", p] => {
            simple(&format!("encoder.ln_post.{}", ln_param(name, p)?), false)
        }
        ["decoder", "layer_norm", p] => {
            simple(&format!("decoder.ln.{}", ln_param(name, p)?), false)
        }
        [side @ ("encoder" | "decoder"), layer, block, ref rest @ ..]
            if layer.starts_with("layer_") =>
        {
            let n = &layer["layer_".len()..];
            let base = format!("{side}.blocks.{n}");
            let state = if side == "encoder" {
                hp.n_audio_state
            } else {
                hp.n_text_state
            } as usize;
            match (block, rest) {
                ("self_attention", ["layer_norm", p]) => {
                    simple(&format!("{base}.attn_ln.{}", ln_param(name, p)?), false)
                }
                ("attention", ["layer_norm", p]) if side == "decoder" => simple(
                    &format!("{base}.cross_attn_ln.{}", ln_param(name, p)?),
                    false,
                ),
                ("ffn", ["layer_norm", p]) => {
                    simple(&format!("{base}.mlp_ln.{}", ln_param(name, p)?), false)
                }
                ("ffn", ["linear_0", p]) => simple(&format!("{base}.mlp.0.{p}"), false),
                ("ffn", ["linear_1", p]) => simple(&format!("{base}.mlp.2.{p}"), false),
                ("self_attention", ["linear_0", p]) => {
                    check_rows(name, v, 3 * state)?;
                    split_qkv(
                        name,
                        v,
                        &format!("{base}.attn"),
                        &["query", "key", "value"],
                        p,
                    )
                }
                ("self_attention", ["linear_1", p]) => {
                    simple(&format!("{base}.attn.out.{p}"), false)
                }
                ("attention", ["linear_0", p]) if side == "decoder" => {
                    simple(&format!("{base}.cross_attn.query.{p}"), false)
                }
                ("attention", ["linear_1", p]) if side == "decoder" => {
                    check_rows(name, v, 2 * state)?;
                    split_qkv(name, v, &format!("{base}.cross_attn"), &["key", "value"], p)
                }
                ("attention", ["linear_2", p]) if side == "decoder" => {
                    simple(&format!("{base}.cross_attn.out.{p}"), false)
                }
                _ => Err(ConvertError::Unexpected(name.to_string())),
            }
        }
        _ => Err(ConvertError::Unexpected(name.to_string())),
    }
}

fn ln_param(name: &str, p: &str) -> Result<&'static str, ConvertError> {
    match p {
        "gamma" => Ok("weight"),
        "beta" => Ok("bias"),
        _ => Err(ConvertError::Unexpected(name.to_string())),
    }
}

/// Splits a fused projection into its parts; Whisper's key projection has no bias, so the key
/// slot of a fused bias must be zero and is dropped.
fn split_qkv(
    name: &str,
    v: &Variable,
    base: &str,
    roles: &[&str],
    param: &str,
) -> Result<Vec<Tensor>, ConvertError> {
    let mut out = Vec::new();
    for ((shape, bytes), role) in split_rows(v, roles.len()).into_iter().zip(roles) {
        if param == "bias" && *role == "key" {
            if bytes
                .chunks_exact(2)
                .any(|c| half::f16::from_le_bytes([c[0], c[1]]) != half::f16::ZERO)
            {
                return Err(ConvertError::KeyBias(name.to_string()));
            }
            continue;
        }
        if param != "weight" && param != "bias" {
            return Err(ConvertError::Unexpected(name.to_string()));
        }
        out.push(tensor(
            format!("{base}.{role}.{param}"),
            &shape,
            bytes,
            false,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_byte_table_is_a_bijection() {
        let t = unicode_to_byte();
        assert_eq!(t.len(), 256);
        assert_eq!(t[&'Ġ'], b' ');
        assert_eq!(t[&'Ċ'], b'\n');
        assert_eq!(t[&'!'], b'!');
        let mut bytes: Vec<u8> = t.values().copied().collect();
        bytes.sort_unstable();
        bytes.dedup();
        assert_eq!(bytes.len(), 256);
    }

    #[test]
    fn vocab_stops_at_endoftext_and_decodes_bytes() {
        let v = byte_level_vocab("!\nĠthe\nhello\n<|endoftext|>\n<|startoftranscript|>\n")
            .expect("vocab");
        assert_eq!(v, vec![b"!".to_vec(), b" the".to_vec(), b"hello".to_vec()]);
        assert!(
            byte_level_vocab("a\nb\n").is_err(),
            "truncated vocabulary must be an error"
        );
        assert!(
            byte_level_vocab("a b\n<|endoftext|>").is_err(),
            "a raw space is not a byte-level token"
        );
    }
}
