//! The ggml file format that whisper.cpp loads: writing it, and reading its header and tensor
//! table back for validation (a broken file must be caught before whisper.cpp sees it: some
//! malformed files load and then abort the whole process on the first transcription).

use std::io::{Read, Write};

pub const MAGIC: u32 = 0x6767_6d6c;
/// ggml tensor type ids used in Whisper files.
pub const TYPE_F32: i32 = 0;
pub const TYPE_F16: i32 = 1;
/// ggml's Q8_0: blocks of 32 weights, each an f16 scale and 32 signed bytes.
pub const TYPE_Q8_0: i32 = 8;
pub const Q8_0_BLOCK: usize = 32;
const Q8_0_BLOCK_BYTES: usize = 2 + Q8_0_BLOCK;
/// Header ftypes: mostly f16, mostly q8_0 (whisper.cpp's quantize tool adds 1000 × its
/// quantisation version 2; the loader takes the value modulo 1000).
pub const FTYPE_F16: i32 = 1;
pub const FTYPE_Q8_0: i32 = 2007;

/// Quantises f32 values (a whole number of 32-value blocks) into ggml's Q8_0 layout, as
/// ggml's reference `quantize_row_q8_0` does: scale = max|x| / 127, q = round(x / scale).
pub fn quantize_q8_0(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() / Q8_0_BLOCK * Q8_0_BLOCK_BYTES);
    for block in values.chunks(Q8_0_BLOCK) {
        let amax = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&half::f16::from_f32(d).to_le_bytes());
        for i in 0..Q8_0_BLOCK {
            let x = block.get(i).copied().unwrap_or(0.0) * id;
            out.push((x.round() as i32).clamp(-128, 127) as i8 as u8);
        }
    }
    out
}

/// Whisper hyper-parameters in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hparams {
    pub n_vocab: i32,
    pub n_audio_ctx: i32,
    pub n_audio_state: i32,
    pub n_audio_head: i32,
    pub n_audio_layer: i32,
    pub n_text_ctx: i32,
    pub n_text_state: i32,
    pub n_text_head: i32,
    pub n_text_layer: i32,
    pub n_mels: i32,
    pub ftype: i32,
}

impl Hparams {
    fn to_array(self) -> [i32; 11] {
        [
            self.n_vocab,
            self.n_audio_ctx,
            self.n_audio_state,
            self.n_audio_head,
            self.n_audio_layer,
            self.n_text_ctx,
            self.n_text_state,
            self.n_text_head,
            self.n_text_layer,
            self.n_mels,
            self.ftype,
        ]
    }

    fn from_array(a: [i32; 11]) -> Self {
        Self {
            n_vocab: a[0],
            n_audio_ctx: a[1],
            n_audio_state: a[2],
            n_audio_head: a[3],
            n_audio_layer: a[4],
            n_text_ctx: a[5],
            n_text_state: a[6],
            n_text_head: a[7],
            n_text_layer: a[8],
            n_mels: a[9],
            ftype: a[10],
        }
    }

    /// Tensors whisper.cpp expects for these hparams (it rejects missing and extra ones).
    pub fn expected_tensor_count(&self) -> usize {
        // Encoder: conv1/2 (w,b) + positional + ln_post (w,b) = 7; 15 per block.
        // Decoder: token emb + positional + ln (w,b) = 4; 24 per block.
        7 + 15 * self.n_audio_layer.max(0) as usize + 4 + 24 * self.n_text_layer.max(0) as usize
    }
}

/// One tensor as whisper.cpp names and shapes it. `dims` are in ggml order (innermost first).
pub struct TensorOut<'a> {
    pub name: &'a str,
    pub dims: Vec<usize>,
    pub ty: i32,
    pub data: &'a [u8],
}

pub struct GgmlWriter<W: Write> {
    out: W,
    written: u64,
}

impl<W: Write> GgmlWriter<W> {
    pub fn new(out: W) -> Self {
        Self { out, written: 0 }
    }

    fn bytes(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.out.write_all(b)?;
        self.written += b.len() as u64;
        Ok(())
    }

    fn i32(&mut self, v: i32) -> std::io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }

    pub fn header(
        &mut self,
        hp: &Hparams,
        mel_filters: &[f32],
        n_mel: usize,
        n_fft: usize,
        vocab: &[Vec<u8>],
    ) -> std::io::Result<()> {
        self.bytes(&MAGIC.to_le_bytes())?;
        for v in hp.to_array() {
            self.i32(v)?;
        }
        self.i32(n_mel as i32)?;
        self.i32(n_fft as i32)?;
        let mut buf = Vec::with_capacity(mel_filters.len() * 4);
        for f in mel_filters {
            buf.extend_from_slice(&f.to_le_bytes());
        }
        self.bytes(&buf)?;
        self.i32(vocab.len() as i32)?;
        for token in vocab {
            self.i32(token.len() as i32)?;
            self.bytes(token)?;
        }
        Ok(())
    }

    pub fn tensor(&mut self, t: &TensorOut<'_>) -> std::io::Result<()> {
        self.i32(t.dims.len() as i32)?;
        self.i32(t.name.len() as i32)?;
        self.i32(t.ty)?;
        for &d in &t.dims {
            self.i32(d as i32)?;
        }
        self.bytes(t.name.as_bytes())?;
        self.bytes(t.data)
    }

    pub fn finish(mut self) -> std::io::Result<(W, u64)> {
        self.out.flush()?;
        Ok((self.out, self.written))
    }
}

/// What a ggml Whisper file says about itself.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GgmlSummary {
    pub hparams: Hparams,
    pub n_mel_filters: (i32, i32),
    pub vocab_len: usize,
    pub tensors: Vec<TensorInfo>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TensorInfo {
    pub name: String,
    pub dims: Vec<usize>,
    pub ty: i32,
}

#[derive(Debug, thiserror::Error)]
pub enum GgmlError {
    #[error("I/O error reading the model: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a ggml Whisper model (magic {0:#x})")]
    Magic(u32),
    #[error("implausible value in model header: {0}")]
    Header(String),
    #[error("model file is truncated inside tensor {0}")]
    Truncated(String),
    #[error("model has {found} tensors, whisper.cpp expects {expected} for these hparams")]
    TensorCount { found: usize, expected: usize },
    #[error("tensor {name} has type {ty}; expected {expected} (f32 = 0, f16 = 1, q8_0 = 8)")]
    TensorType {
        name: String,
        ty: i32,
        expected: i32,
    },
    #[error(
        "model header ftype is {0}; only 1 (f16) and 7 (q8_0) are supported (ftype 0 files crash whisper.cpp)"
    )]
    Ftype(i32),
}

fn read_i32(r: &mut impl Read) -> std::io::Result<i32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(i32::from_le_bytes(b))
}

fn checked_len(v: i32, max: i32, what: &str) -> Result<usize, GgmlError> {
    if (0..=max).contains(&v) {
        Ok(v as usize)
    } else {
        Err(GgmlError::Header(format!("{what} = {v}")))
    }
}

/// Reads and checks a whole ggml Whisper file without loading it into whisper.cpp: header,
/// vocabulary, every tensor's name, shape and type, and that the data is all there.
pub fn inspect(mut r: impl Read) -> Result<GgmlSummary, GgmlError> {
    let mut magic = [0u8; 4];
    r.read_exact(&mut magic)?;
    let magic = u32::from_le_bytes(magic);
    if magic != MAGIC {
        return Err(GgmlError::Magic(magic));
    }
    let mut hp = [0i32; 11];
    for v in &mut hp {
        *v = read_i32(&mut r)?;
    }
    let hparams = Hparams::from_array(hp);
    let quantized = match hparams.ftype {
        FTYPE_F16 => false,
        f if f % 1000 == 7 => true,
        other => return Err(GgmlError::Ftype(other)),
    };
    let n_mel = checked_len(read_i32(&mut r)?, 512, "n_mel")?;
    let n_fft = checked_len(read_i32(&mut r)?, 4096, "n_fft")?;
    std::io::copy(
        &mut (&mut r).take((n_mel * n_fft * 4) as u64),
        &mut std::io::sink(),
    )?;
    let vocab_len = checked_len(read_i32(&mut r)?, 1_000_000, "vocab size")?;
    for _ in 0..vocab_len {
        let len = checked_len(read_i32(&mut r)?, 4096, "token length")?;
        let mut tok = vec![0u8; len];
        r.read_exact(&mut tok)?;
    }
    let mut tensors = Vec::new();
    loop {
        let mut first = [0u8; 4];
        match r.read(&mut first)? {
            0 => break,
            4 => {}
            n => {
                r.read_exact(&mut first[n..])?;
            }
        }
        let n_dims = checked_len(i32::from_le_bytes(first), 4, "tensor rank")?;
        let name_len = checked_len(read_i32(&mut r)?, 256, "tensor name length")?;
        let ty = read_i32(&mut r)?;
        let mut dims = Vec::with_capacity(n_dims);
        for _ in 0..n_dims {
            dims.push(checked_len(read_i32(&mut r)?, 1 << 24, "tensor dim")?);
        }
        let mut name = vec![0u8; name_len];
        r.read_exact(&mut name)?;
        let name = String::from_utf8_lossy(&name).into_owned();
        let elements = dims.iter().product::<usize>();
        let bytes = match ty {
            TYPE_F32 => elements * 4,
            TYPE_F16 => elements * 2,
            TYPE_Q8_0 if dims.first().is_some_and(|d| d % Q8_0_BLOCK == 0) => {
                elements / Q8_0_BLOCK * Q8_0_BLOCK_BYTES
            }
            other => {
                return Err(GgmlError::TensorType {
                    name,
                    ty: other,
                    expected: TYPE_F16,
                })
            }
        };
        let copied = std::io::copy(&mut (&mut r).take(bytes as u64), &mut std::io::sink())?;
        if copied != bytes as u64 {
            return Err(GgmlError::Truncated(name));
        }
        tensors.push(TensorInfo { name, dims, ty });
    }
    let expected = hparams.expected_tensor_count();
    if tensors.len() != expected {
        return Err(GgmlError::TensorCount {
            found: tensors.len(),
            expected,
        });
    }
    // whisper.cpp asserts on these types at inference time, so check them here.
    for t in &tensors {
        let must_be_f32 = t.dims.len() == 1
            || t.name.ends_with("positional_embedding")
            || t.name == "encoder.conv1.bias"
            || t.name == "encoder.conv2.bias";
        let expected = if must_be_f32 {
            TYPE_F32
        } else if quantized && t.dims.len() == 2 {
            TYPE_Q8_0
        } else {
            TYPE_F16
        };
        if t.ty != expected {
            return Err(GgmlError::TensorType {
                name: t.name.clone(),
                ty: t.ty,
                expected,
            });
        }
    }
    Ok(GgmlSummary {
        hparams,
        n_mel_filters: (n_mel as i32, n_fft as i32),
        vocab_len,
        tensors,
    })
}
