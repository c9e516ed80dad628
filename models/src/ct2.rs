//! Reader for CTranslate2 `model.bin` files (binary version 6), as shipped by faster-whisper.
//!
//! Layout (all little-endian): u32 version, string spec name, u32 spec revision, u32 variable
//! count, then per variable: name, u8 rank, rank × u32 dims, u8 dtype, u32 byte count, raw bytes;
//! then u32 alias count and (alias, target) string pairs. A string is a u16 length that includes
//! the trailing NUL, then the bytes.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    BF16,
}

impl DType {
    fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::F32,
            1 => Self::I8,
            2 => Self::I16,
            3 => Self::I32,
            4 => Self::F16,
            5 => Self::BF16,
            _ => return None,
        })
    }

    pub fn size(self) -> usize {
        match self {
            Self::I8 => 1,
            Self::I16 | Self::F16 | Self::BF16 => 2,
            Self::F32 | Self::I32 => 4,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Variable {
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub data: Vec<u8>,
}

impl Variable {
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The value of a scalar integer variable (e.g. `encoder/num_heads`).
    pub fn as_scalar_int(&self) -> Option<i64> {
        if self.numel() != 1 {
            return None;
        }
        let d = &self.data;
        Some(match self.dtype {
            DType::I8 => i64::from(*d.first()? as i8),
            DType::I16 => i64::from(i16::from_le_bytes([*d.first()?, *d.get(1)?])),
            DType::I32 => i64::from(i32::from_le_bytes(d.get(..4)?.try_into().ok()?)),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Ct2Model {
    pub spec_name: String,
    pub spec_revision: u32,
    pub variables: BTreeMap<String, Variable>,
    pub aliases: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Ct2Error {
    #[error("model.bin ends early at byte {0}: the file is truncated; delete it and fetch again")]
    Truncated(usize),
    #[error("model.bin has binary version {0}; only version 6 is supported")]
    Version(u32),
    #[error("model.bin spec is {0:?}; only WhisperSpec is supported")]
    Spec(String),
    #[error("variable {name} has unknown dtype id {id}")]
    DType { name: String, id: u8 },
    #[error("variable {name}: byte count {bytes} does not match shape {shape:?} of {dtype:?}")]
    Size {
        name: String,
        bytes: usize,
        shape: Vec<usize>,
        dtype: DType,
    },
    #[error("quantized CTranslate2 models (int8, `{0}`) are not supported; use the float16 model")]
    Quantized(String),
    #[error("a string in model.bin is not UTF-8 at byte {0}")]
    Utf8(usize),
    #[error("{0} trailing bytes after the alias table: the file is corrupt")]
    Trailing(usize),
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Ct2Error> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(Ct2Error::Truncated(self.pos))?;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or(Ct2Error::Truncated(self.pos))?;
        self.pos = end;
        Ok(slice)
    }
    fn u8(&mut self) -> Result<u8, Ct2Error> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, Ct2Error> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, Ct2Error> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Result<String, Ct2Error> {
        let at = self.pos;
        let len = usize::from(self.u16()?);
        let raw = self.take(len)?;
        let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
        String::from_utf8(raw.to_vec()).map_err(|_| Ct2Error::Utf8(at))
    }
}

impl Ct2Model {
    pub fn parse(bytes: &[u8]) -> Result<Self, Ct2Error> {
        let mut c = Cursor { bytes, pos: 0 };
        let version = c.u32()?;
        if version != 6 {
            return Err(Ct2Error::Version(version));
        }
        let spec_name = c.string()?;
        if spec_name != "WhisperSpec" {
            return Err(Ct2Error::Spec(spec_name));
        }
        let spec_revision = c.u32()?;
        let count = c.u32()?;
        let mut variables = BTreeMap::new();
        for _ in 0..count {
            let name = c.string()?;
            let rank = usize::from(c.u8()?);
            let mut shape = Vec::with_capacity(rank);
            for _ in 0..rank {
                shape.push(c.u32()? as usize);
            }
            let id = c.u8()?;
            let dtype = DType::from_id(id).ok_or_else(|| Ct2Error::DType {
                name: name.clone(),
                id,
            })?;
            let bytes = c.u32()? as usize;
            let numel: usize = shape.iter().product();
            if numel.checked_mul(dtype.size()) != Some(bytes) {
                return Err(Ct2Error::Size {
                    name,
                    bytes,
                    shape,
                    dtype,
                });
            }
            if name.ends_with("weight_scale") {
                return Err(Ct2Error::Quantized(name));
            }
            let data = c.take(bytes)?.to_vec();
            variables.insert(name, Variable { shape, dtype, data });
        }
        let alias_count = c.u32()?;
        let mut aliases = BTreeMap::new();
        for _ in 0..alias_count {
            let alias = c.string()?;
            let target = c.string()?;
            aliases.insert(alias, target);
        }
        if c.pos != bytes.len() {
            return Err(Ct2Error::Trailing(bytes.len() - c.pos));
        }
        Ok(Self {
            spec_name,
            spec_revision,
            variables,
            aliases,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }

    fn tiny_file() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&6u32.to_le_bytes());
        string(&mut b, "WhisperSpec");
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&2u32.to_le_bytes());
        string(&mut b, "encoder/num_heads");
        b.push(0);
        b.push(1);
        b.extend_from_slice(&1u32.to_le_bytes());
        b.push(6);
        string(&mut b, "w");
        b.push(2);
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.push(4);
        b.extend_from_slice(&4u32.to_le_bytes());
        b.extend_from_slice(&[0, 60, 0, 188]);
        b.extend_from_slice(&1u32.to_le_bytes());
        string(&mut b, "a");
        string(&mut b, "w");
        b
    }

    #[test]
    fn parses_variables_scalars_and_aliases() {
        let m = Ct2Model::parse(&tiny_file()).expect("parse");
        assert_eq!(m.spec_revision, 3);
        assert_eq!(m.variables["encoder/num_heads"].as_scalar_int(), Some(6));
        assert_eq!(m.variables["w"].shape, vec![2, 1]);
        assert_eq!(m.aliases["a"], "w");
    }

    #[test]
    fn every_truncation_is_an_error() {
        let full = tiny_file();
        for cut in 0..full.len() {
            assert!(
                Ct2Model::parse(&full[..cut]).is_err(),
                "cut at {cut} parsed"
            );
        }
        let mut extra = full.clone();
        extra.push(0);
        assert!(matches!(
            Ct2Model::parse(&extra),
            Err(Ct2Error::Trailing(1))
        ));
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let _ = Ct2Model::parse(&bytes);
            let mut f = tiny_file();
            let n = f.len();
            for (i, b) in bytes.iter().enumerate() { f[i % n] ^= b; }
            let _ = Ct2Model::parse(&f);
        }
    }
}
