//! Reading and writing the ggml model files whisper.cpp loads.
//!
//! Layout (little-endian): magic `ggml` (0x67676d6c); eleven i32 hyper-parameters; the
//! mel filterbank (n_mel, n_fft, then n_mel × n_fft f32); the vocabulary (count, then
//! each token as a length-prefixed byte string); then tensors, each: n_dims, name length,
//! type (0 f32, 1 f16), dims innermost first, name, data.

use crate::error::{ModelError, Result};
use serde::Serialize;
use std::io::{Read, Write};
use std::path::Path;

pub const MAGIC: u32 = 0x6767_6d6c;

/// The hyper-parameters at the head of a whisper ggml file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
pub struct HParams {
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
    /// 0: all f32; 1: f16 weights (the usual).
    pub ftype: i32,
}

impl HParams {
    /// The model size these dimensions belong to (`tiny`, `base`, …), with `.en` for
    /// English-only vocabularies.
    pub fn size_name(&self) -> String {
        let size = match (self.n_audio_layer, self.n_audio_state) {
            (4, 384) => "tiny",
            (6, 512) => "base",
            (12, 768) => "small",
            (24, 1024) => "medium",
            (32, 1280) if self.n_text_layer == 4 => "large-v3-turbo",
            (32, 1280) => "large",
            _ => "custom",
        };
        // English-only models have 51864 tokens; multilingual 51865 (51866 for v3).
        if self.n_vocab == 51864 {
            format!("{size}.en")
        } else {
            size.to_owned()
        }
    }

    fn sane(&self) -> bool {
        let positive = [
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
        ];
        positive.iter().all(|&v| v > 0 && v < 1_000_000)
            && (self.ftype % 1000) >= 0
            && self.n_audio_state % self.n_audio_head == 0
            && self.n_text_state % self.n_text_head == 0
            && matches!(self.n_mels, 80 | 128)
    }
}

fn read_i32(r: &mut impl Read) -> std::io::Result<i32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(i32::from_le_bytes(b))
}

/// Reads and checks the header of a ggml whisper file: the magic and sane
/// hyper-parameters. (The tensors are checked by whisper.cpp when it loads the file.)
pub fn read_header(path: &Path) -> Result<HParams> {
    let bad = |message: String| ModelError::Invalid {
        path: path.to_owned(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|source| ModelError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut r = std::io::BufReader::new(file);
    let short = |_| bad("the file ends inside the header".into());
    let magic = read_i32(&mut r).map_err(short)? as u32;
    if magic != MAGIC {
        return Err(bad(format!(
            "not a ggml whisper model (magic {magic:#010x}, expected {MAGIC:#010x})"
        )));
    }
    let mut v = [0i32; 11];
    for slot in &mut v {
        *slot = read_i32(&mut r).map_err(short)?;
    }
    let h = HParams {
        n_vocab: v[0],
        n_audio_ctx: v[1],
        n_audio_state: v[2],
        n_audio_head: v[3],
        n_audio_layer: v[4],
        n_text_ctx: v[5],
        n_text_state: v[6],
        n_text_head: v[7],
        n_text_layer: v[8],
        n_mels: v[9],
        ftype: v[10],
    };
    if !h.sane() {
        return Err(bad(format!("implausible hyper-parameters {h:?}")));
    }
    Ok(h)
}

/// Bytes of `elements` values of ggml tensor type `ty`, for the types whisper files use:
/// f32, f16 and the block-quantised q4_0, q4_1, q5_0, q5_1 and q8_0 (32 values a block).
fn tensor_bytes(ty: i32, elements: u64) -> Option<u64> {
    let per_block = |block_bytes: u64| {
        elements
            .is_multiple_of(32)
            .then_some(elements / 32 * block_bytes)
    };
    match ty {
        0 => Some(elements * 4),
        1 => Some(elements * 2),
        2 => per_block(18),
        3 => per_block(20),
        6 => per_block(22),
        7 => per_block(24),
        8 => per_block(34),
        _ => None,
    }
}

/// Checks a whole ggml whisper file before it is handed to whisper.cpp: the header, the
/// mel filterbank, the vocabulary and every tensor's header and data, ending exactly at
/// the end of the file. A truncated download or a corrupt file gets an error naming what
/// is wrong instead of a failure (or worse) inside the C++ loader.
pub fn validate(path: &Path) -> Result<HParams> {
    use std::io::{Seek, SeekFrom};
    let h = read_header(path)?;
    let bad = |message: String| ModelError::Invalid {
        path: path.to_owned(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|source| ModelError::Io {
        path: path.to_owned(),
        source,
    })?;
    let len = file
        .metadata()
        .map_err(|source| ModelError::Io {
            path: path.to_owned(),
            source,
        })?
        .len();
    let mut r = std::io::BufReader::new(file);
    let at = |r: &mut std::io::BufReader<std::fs::File>| r.stream_position().unwrap_or(0);
    let skip = |r: &mut std::io::BufReader<std::fs::File>, n: u64, what: &str| {
        let pos = at(r);
        if pos + n > len {
            return Err(bad(format!(
                "the file ends inside {what} (needs {n} bytes at offset {pos}, file is {len} bytes)"
            )));
        }
        r.seek(SeekFrom::Current(n as i64))
            .map(|_| ())
            .map_err(|e| bad(e.to_string()))
    };
    let short = |what: &'static str| move |_| bad(format!("the file ends inside {what}"));
    r.seek(SeekFrom::Start(48))
        .map_err(|e| bad(e.to_string()))?;
    let n_mel = read_i32(&mut r).map_err(short("the mel filterbank"))?;
    let n_fft = read_i32(&mut r).map_err(short("the mel filterbank"))?;
    if n_mel != h.n_mels || !(1..=4096).contains(&n_fft) {
        return Err(bad(format!(
            "implausible mel filterbank shape {n_mel}×{n_fft}"
        )));
    }
    skip(
        &mut r,
        n_mel as u64 * n_fft as u64 * 4,
        "the mel filterbank",
    )?;
    let n_vocab = read_i32(&mut r).map_err(short("the vocabulary"))?;
    if !(0..=h.n_vocab).contains(&n_vocab) {
        return Err(bad(format!(
            "the vocabulary has {n_vocab} tokens, the header says {}",
            h.n_vocab
        )));
    }
    for i in 0..n_vocab {
        let n = read_i32(&mut r).map_err(short("the vocabulary"))?;
        if !(0..=1024).contains(&n) {
            return Err(bad(format!("token {i} has an implausible length {n}")));
        }
        skip(&mut r, n as u64, "the vocabulary")?;
    }
    let mut tensors = 0usize;
    while at(&mut r) < len {
        let n_dims = read_i32(&mut r).map_err(short("a tensor header"))?;
        let name_len = read_i32(&mut r).map_err(short("a tensor header"))?;
        let ty = read_i32(&mut r).map_err(short("a tensor header"))?;
        if !(1..=4).contains(&n_dims) || !(1..=256).contains(&name_len) {
            return Err(bad(format!(
                "tensor {tensors}: implausible header (dims {n_dims}, name length {name_len})"
            )));
        }
        let mut elements = 1u64;
        for _ in 0..n_dims {
            let d = read_i32(&mut r).map_err(short("a tensor header"))?;
            if d <= 0 {
                return Err(bad(format!("tensor {tensors}: dimension {d}")));
            }
            elements = elements.saturating_mul(d as u64);
        }
        let mut name = vec![0u8; name_len as usize];
        r.read_exact(&mut name).map_err(short("a tensor name"))?;
        let name = String::from_utf8_lossy(&name).into_owned();
        let bytes = tensor_bytes(ty, elements)
            .ok_or_else(|| bad(format!("tensor {name}: unknown or misaligned type {ty}")))?;
        skip(&mut r, bytes, &format!("the data of tensor {name}"))?;
        tensors += 1;
    }
    if tensors == 0 {
        return Err(bad("the file holds no tensors".into()));
    }
    Ok(h)
}

/// Element type of a tensor in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorType {
    F32 = 0,
    F16 = 1,
}

/// Streams a ggml whisper file out.
pub struct GgmlWriter<W: Write> {
    out: W,
}

impl<W: Write> GgmlWriter<W> {
    /// Writes the magic, hyper-parameters, mel filters and vocabulary.
    pub fn new(
        mut out: W,
        hparams: &HParams,
        mel_filters: &[f32],
        n_fft_bins: usize,
        vocab: &[Vec<u8>],
    ) -> std::io::Result<Self> {
        out.write_all(&MAGIC.to_le_bytes())?;
        for v in [
            hparams.n_vocab,
            hparams.n_audio_ctx,
            hparams.n_audio_state,
            hparams.n_audio_head,
            hparams.n_audio_layer,
            hparams.n_text_ctx,
            hparams.n_text_state,
            hparams.n_text_head,
            hparams.n_text_layer,
            hparams.n_mels,
            hparams.ftype,
        ] {
            out.write_all(&v.to_le_bytes())?;
        }
        out.write_all(&hparams.n_mels.to_le_bytes())?;
        out.write_all(&(n_fft_bins as i32).to_le_bytes())?;
        for w in mel_filters {
            out.write_all(&w.to_le_bytes())?;
        }
        out.write_all(&(vocab.len() as i32).to_le_bytes())?;
        for token in vocab {
            out.write_all(&(token.len() as i32).to_le_bytes())?;
            out.write_all(token)?;
        }
        Ok(Self { out })
    }

    /// Writes one tensor. `shape` is outermost-first (as in PyTorch); the file stores it
    /// innermost-first. `data` is f32, converted to f16 when `ty` asks for it.
    pub fn tensor(
        &mut self,
        name: &str,
        shape: &[usize],
        ty: TensorType,
        data: &[f32],
    ) -> std::io::Result<()> {
        self.out.write_all(&(shape.len() as i32).to_le_bytes())?;
        self.out.write_all(&(name.len() as i32).to_le_bytes())?;
        self.out.write_all(&(ty as i32).to_le_bytes())?;
        for &d in shape.iter().rev() {
            self.out.write_all(&(d as i32).to_le_bytes())?;
        }
        self.out.write_all(name.as_bytes())?;
        match ty {
            TensorType::F32 => {
                for v in data {
                    self.out.write_all(&v.to_le_bytes())?;
                }
            }
            TensorType::F16 => {
                for v in data {
                    self.out.write_all(&half::f16::from_f32(*v).to_le_bytes())?;
                }
            }
        }
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
