//! Reading CTranslate2 model directories (what faster-whisper loads): `model.bin`, a
//! flat list of named tensors, and the vocabulary (`vocabulary.json` or
//! `vocabulary.txt`).
//!
//! `model.bin` (binary versions 4–6, little-endian): version u32; spec name; spec revision
//! u32; variable count u32; per variable: name, rank u8, dims u32×rank, dtype u8, byte
//! count u32, data; then alias count u32 and (alias, target) name pairs. Strings are a
//! u16 length that counts a trailing NUL, then the bytes and the NUL. Quantized weights
//! carry a `<name>_scale` variable (int8: one f32 per output row; int16: one f32).

use crate::error::{ModelError, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Element types in `model.bin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

    fn size(self) -> usize {
        match self {
            Self::I8 => 1,
            Self::I16 | Self::F16 | Self::BF16 => 2,
            Self::F32 | Self::I32 => 4,
        }
    }
}

/// One variable: its shape, type and where its bytes are in the file.
#[derive(Clone, Debug)]
pub struct Variable {
    pub shape: Vec<usize>,
    pub dtype: DType,
    range: std::ops::Range<usize>,
}

impl Variable {
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A CTranslate2 model loaded into memory.
pub struct Ct2Model {
    path: PathBuf,
    pub spec: String,
    pub version: u32,
    pub revision: u32,
    bytes: Vec<u8>,
    variables: HashMap<String, Variable>,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let slice = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(slice)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Option<String> {
        let len = usize::from(self.u16()?);
        if len == 0 {
            return None;
        }
        let raw = self.take(len)?;
        String::from_utf8(raw[..len - 1].to_vec()).ok()
    }
}

impl Ct2Model {
    /// Reads `<dir>/model.bin`.
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join("model.bin");
        let bytes = std::fs::read(&path).map_err(|source| ModelError::Io {
            path: path.clone(),
            source,
        })?;
        Self::parse(path, bytes)
    }

    fn parse(path: PathBuf, bytes: Vec<u8>) -> Result<Self> {
        let bad = |message: String| ModelError::Invalid {
            path: path.clone(),
            message,
        };
        let mut c = Cursor {
            bytes: &bytes,
            pos: 0,
        };
        let cut = |what: &str, at: usize| bad(format!("the file ends inside {what} (byte {at})"));
        let version = c.u32().ok_or_else(|| cut("the header", 0))?;
        if !(4..=6).contains(&version) {
            return Err(bad(format!(
                "CTranslate2 binary version {version} is not supported (expected 4 to 6)"
            )));
        }
        let spec = c.string().ok_or_else(|| cut("the spec name", c.pos))?;
        let revision = c.u32().ok_or_else(|| cut("the header", c.pos))?;
        let count = c.u32().ok_or_else(|| cut("the header", c.pos))?;
        let mut variables = HashMap::new();
        for index in 0..count {
            let at = c.pos;
            let name = c
                .string()
                .ok_or_else(|| cut(&format!("variable {index}'s name"), at))?;
            let rank = c
                .u8()
                .ok_or_else(|| cut(&format!("variable {name:?}"), at))?;
            let mut shape = Vec::with_capacity(usize::from(rank));
            for _ in 0..rank {
                shape.push(
                    c.u32()
                        .ok_or_else(|| cut(&format!("variable {name:?}"), at))?
                        as usize,
                );
            }
            let dtype_id = c
                .u8()
                .ok_or_else(|| cut(&format!("variable {name:?}"), at))?;
            let dtype = DType::from_id(dtype_id)
                .ok_or_else(|| bad(format!("variable {name:?} has unknown type {dtype_id}")))?;
            let size = c
                .u32()
                .ok_or_else(|| cut(&format!("variable {name:?}"), at))?
                as usize;
            let elements = shape
                .iter()
                .try_fold(1usize, |acc, &d| acc.checked_mul(d))
                .ok_or_else(|| bad(format!("variable {name:?} is impossibly large")))?;
            if elements.checked_mul(dtype.size()) != Some(size) {
                return Err(bad(format!(
                    "variable {name:?}: {size} bytes for shape {shape:?} of {dtype:?}"
                )));
            }
            let start = c.pos;
            c.take(size)
                .ok_or_else(|| cut(&format!("variable {name:?}'s data"), at))?;
            variables.insert(
                name,
                Variable {
                    shape,
                    dtype,
                    range: start..start + size,
                },
            );
        }
        let aliases = c.u32().ok_or_else(|| cut("the alias table", c.pos))?;
        for _ in 0..aliases {
            let at = c.pos;
            let alias = c.string().ok_or_else(|| cut("the alias table", at))?;
            let target = c.string().ok_or_else(|| cut("the alias table", at))?;
            let var = variables
                .get(&target)
                .cloned()
                .ok_or_else(|| bad(format!("alias {alias:?} points at missing {target:?}")))?;
            // A quantized target's scale serves the alias too.
            if let Some(scale) = variables.get(&format!("{target}_scale")).cloned() {
                variables.insert(format!("{alias}_scale"), scale);
            }
            variables.insert(alias, var);
        }
        Ok(Self {
            path,
            spec,
            version,
            revision,
            bytes,
            variables,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.variables.keys().map(String::as_str)
    }

    fn missing(&self, name: &str) -> ModelError {
        ModelError::Invalid {
            path: self.path.clone(),
            message: format!(
                "variable {name:?} is missing: not a Whisper model this converter knows"
            ),
        }
    }

    /// A scalar integer attribute (`encoder/num_heads`).
    pub fn scalar_int(&self, name: &str) -> Result<i64> {
        let var = self.variable(name).ok_or_else(|| self.missing(name))?;
        let raw = &self.bytes[var.range.clone()];
        Ok(match (var.dtype, raw.len()) {
            (DType::I8, 1) => i64::from(raw[0] as i8),
            (DType::I16, 2) => i64::from(i16::from_le_bytes([raw[0], raw[1]])),
            (DType::I32, 4) => i64::from(i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]])),
            _ => {
                return Err(ModelError::Invalid {
                    path: self.path.clone(),
                    message: format!("{name:?} is not an integer scalar"),
                });
            }
        })
    }

    /// A tensor as f32 values (row-major), dequantizing int8/int16 with their scales.
    pub fn f32(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
        let var = self.variable(name).ok_or_else(|| self.missing(name))?;
        let raw = &self.bytes[var.range.clone()];
        let values: Vec<f32> = match var.dtype {
            DType::F32 => raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            DType::F16 => raw
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            DType::BF16 => raw
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            DType::I8 | DType::I16 => {
                let (_, scale) =
                    self.f32(&format!("{name}_scale"))
                        .map_err(|_| ModelError::Invalid {
                            path: self.path.clone(),
                            message: format!("quantized {name:?} has no scale"),
                        })?;
                let rows = var.shape.first().copied().unwrap_or(1).max(1);
                let per_row = var.elements() / rows;
                let q: Vec<f32> = if var.dtype == DType::I8 {
                    raw.iter().map(|&b| f32::from(b as i8)).collect()
                } else {
                    raw.chunks_exact(2)
                        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])))
                        .collect()
                };
                match scale.len() {
                    1 => q.iter().map(|v| v / scale[0]).collect(),
                    n if n == rows => q
                        .iter()
                        .enumerate()
                        .map(|(i, v)| v / scale[i / per_row.max(1)])
                        .collect(),
                    n => {
                        return Err(ModelError::Invalid {
                            path: self.path.clone(),
                            message: format!("{name:?} has {n} scales for {rows} rows"),
                        });
                    }
                }
            }
            DType::I32 => raw
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32)
                .collect(),
        };
        Ok((var.shape.clone(), values))
    }
}

/// The vocabulary of a CTranslate2 model directory, in id order.
pub fn read_vocabulary(dir: &Path) -> Result<Vec<String>> {
    let json = dir.join("vocabulary.json");
    if json.exists() {
        let text = std::fs::read_to_string(&json).map_err(|source| ModelError::Io {
            path: json.clone(),
            source,
        })?;
        return serde_json::from_str(&text).map_err(|e| ModelError::Invalid {
            path: json,
            message: format!("not a JSON list of tokens: {e}"),
        });
    }
    let txt = dir.join("vocabulary.txt");
    let text = std::fs::read_to_string(&txt).map_err(|source| ModelError::Io {
        path: txt.clone(),
        source,
    })?;
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    // CTranslate2's rule: strip '\r' only when every line has one.
    let crlf = !lines.is_empty() && lines.iter().all(|l| l.ends_with('\r'));
    Ok(lines
        .into_iter()
        .map(|l| if crlf { l.trim_end_matches('\r') } else { l }.to_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }

    fn var(out: &mut Vec<u8>, name: &str, shape: &[u32], dtype: u8, data: &[u8]) {
        string(out, name);
        out.push(shape.len() as u8);
        for d in shape {
            out.extend_from_slice(&d.to_le_bytes());
        }
        out.push(dtype);
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
    }

    fn model(vars: impl FnOnce(&mut Vec<u8>) -> u32, aliases: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&6u32.to_le_bytes());
        string(&mut out, "WhisperSpec");
        out.extend_from_slice(&3u32.to_le_bytes());
        let mut body = Vec::new();
        let n = vars(&mut body);
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&(aliases.len() as u32).to_le_bytes());
        for (a, t) in aliases {
            string(&mut out, a);
            string(&mut out, t);
        }
        out
    }

    #[test]
    fn types_scales_and_aliases() {
        let bytes = model(
            |b| {
                let f16: Vec<u8> = [1.5f32, -2.0]
                    .iter()
                    .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                    .collect();
                var(b, "a/weight", &[2], 4, &f16);
                // int8 [2, 2] with per-row scales 10 and 4.
                var(b, "q/weight", &[2, 2], 1, &[10u8, 246, 4, 8]);
                let scales: Vec<u8> = [10f32, 4.0].iter().flat_map(|v| v.to_le_bytes()).collect();
                var(b, "q/weight_scale", &[2], 0, &scales);
                var(b, "heads", &[], 2, &6i16.to_le_bytes());
                4
            },
            &[("p/weight", "q/weight")],
        );
        let m = Ct2Model::parse(PathBuf::from("model.bin"), bytes).expect("parse");
        assert_eq!(m.spec, "WhisperSpec");
        assert_eq!(m.f32("a/weight").expect("f16").1, [1.5, -2.0]);
        assert_eq!(m.f32("q/weight").expect("int8").1, [1.0, -1.0, 1.0, 2.0]);
        assert_eq!(m.f32("p/weight").expect("alias").1, [1.0, -1.0, 1.0, 2.0]);
        assert_eq!(m.scalar_int("heads").expect("heads"), 6);
        assert!(m.f32("missing").is_err());
    }

    #[test]
    fn damaged_files_are_named_errors() {
        let good = model(
            |b| {
                var(b, "x", &[4], 0, &[0; 16]);
                1
            },
            &[],
        );
        for cut in [0, 3, 10, 25, good.len() - 5] {
            let err = Ct2Model::parse(PathBuf::from("m.bin"), good[..cut].to_vec())
                .err()
                .expect("cut");
            assert!(err.to_string().contains("m.bin"), "{err}");
        }
        let mut wrong_size = model(
            |b| {
                var(b, "x", &[4], 0, &[0; 12]);
                1
            },
            &[],
        );
        wrong_size.truncate(wrong_size.len());
        assert!(Ct2Model::parse(PathBuf::from("m.bin"), wrong_size).is_err());
        let mut v9 = good.clone();
        v9[0] = 9;
        let err = Ct2Model::parse(PathBuf::from("m.bin"), v9)
            .err()
            .expect("version");
        assert!(err.to_string().contains("version 9"), "{err}");
    }
}
