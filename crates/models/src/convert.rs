//! CTranslate2 (faster-whisper) Whisper model → whisper.cpp ggml file.
//!
//! The package registries carry whisper weights only as CTranslate2 conversions, so this
//! is how Cuecard gets models without a model hub. The mapping:
//! - self-attention `linear_0` is q|k|v fused row-wise, split into `attn.query/key/value`
//!   (the key has no bias in whisper; CTranslate2 stores zeros there, dropped);
//! - cross-attention `linear_0` is the query and `linear_1` k|v fused;
//! - layer norms `gamma/beta` become `weight/bias`; `ffn/linear_0/1` become `mlp.0/2`;
//! - `decoder/projection` is tied to the token embedding and dropped (whisper.cpp reuses
//!   the embedding for logits);
//! - hyper-parameters come from tensor shapes and the two `num_heads` scalars;
//! - the mel filterbank is computed ([`crate::mel`]); the vocabulary is decoded from
//!   byte-level BPE to raw bytes, up to `<|endoftext|>` (whisper.cpp names the specials).
//!
//! Weights are written as f16 and biases, norms, positional embeddings and conv biases
//! as f32 — what whisper.cpp expects for its f16 model type (its all-f32 type crashes in
//! the convolution). Every tensor of the source must be used, so a model with parts this
//! mapping does not know (a fine-tune with extra layers) is refused rather than
//! converted wrongly.

use crate::ct2::{Ct2Model, read_vocabulary};
use crate::error::{ModelError, Result};
use crate::ggml::{GgmlWriter, HParams, TensorType};
use std::collections::HashSet;
use std::io::BufWriter;
use std::path::Path;

struct Converter<'a, W: std::io::Write> {
    model: &'a Ct2Model,
    out: GgmlWriter<W>,
    used: HashSet<String>,
    d: usize,
}

impl<W: std::io::Write> Converter<'_, W> {
    fn invalid(&self, message: String) -> ModelError {
        ModelError::Invalid {
            path: self.model.path().to_owned(),
            message,
        }
    }

    fn get(&mut self, name: &str, expect: &[usize]) -> Result<Vec<f32>> {
        let (shape, values) = self.model.f32(name)?;
        if shape != expect {
            return Err(self.invalid(format!("{name:?} has shape {shape:?}, expected {expect:?}")));
        }
        self.used.insert(name.to_owned());
        self.used.insert(format!("{name}_scale"));
        Ok(values)
    }

    fn put(&mut self, name: &str, shape: &[usize], ty: TensorType, data: &[f32]) -> Result<()> {
        self.out
            .tensor(name, shape, ty, data)
            .map_err(|source| ModelError::Io {
                path: self.model.path().to_owned(),
                source,
            })
    }

    /// Copies a weight matrix or vector unchanged.
    fn copy(&mut self, from: &str, to: &str, shape: &[usize]) -> Result<()> {
        let data = self.get(from, shape)?;
        let ty = if shape.len() >= 2 {
            TensorType::F16
        } else {
            TensorType::F32
        };
        self.put(to, shape, ty, &data)
    }

    fn norm(&mut self, from: &str, to: &str) -> Result<()> {
        let d = self.d;
        self.copy(&format!("{from}/gamma"), &format!("{to}.weight"), &[d])?;
        self.copy(&format!("{from}/beta"), &format!("{to}.bias"), &[d])
    }

    /// Splits a fused projection (`parts` blocks of `d` rows) into named outputs; `None`
    /// drops a part (the key's bias, zero by construction).
    fn split(&mut self, from: &str, to: &[(&str, bool)]) -> Result<()> {
        let d = self.d;
        let parts = to.len();
        let weight = self.get(&format!("{from}/weight"), &[parts * d, d])?;
        let bias = self.get(&format!("{from}/bias"), &[parts * d])?;
        for (i, (name, has_bias)) in to.iter().enumerate() {
            self.put(
                &format!("{name}.weight"),
                &[d, d],
                TensorType::F16,
                &weight[i * d * d..(i + 1) * d * d],
            )?;
            if *has_bias {
                self.put(
                    &format!("{name}.bias"),
                    &[d],
                    TensorType::F32,
                    &bias[i * d..(i + 1) * d],
                )?;
            } else if bias[i * d..(i + 1) * d].iter().any(|b| *b != 0.0) {
                // A key bias shifts every score of a query equally: softmax ignores it.
                tracing::warn!(
                    tensor = from,
                    "non-zero key bias dropped (it does not change attention)"
                );
            }
        }
        Ok(())
    }

    fn linear(&mut self, from: &str, to: &str, out: usize, input: usize) -> Result<()> {
        self.copy(
            &format!("{from}/weight"),
            &format!("{to}.weight"),
            &[out, input],
        )?;
        self.copy(&format!("{from}/bias"), &format!("{to}.bias"), &[out])
    }

    fn block_common(&mut self, ct2: &str, ggml: &str) -> Result<()> {
        let d = self.d;
        self.split(
            &format!("{ct2}/self_attention/linear_0"),
            &[
                (&format!("{ggml}.attn.query"), true),
                (&format!("{ggml}.attn.key"), false),
                (&format!("{ggml}.attn.value"), true),
            ],
        )?;
        self.linear(
            &format!("{ct2}/self_attention/linear_1"),
            &format!("{ggml}.attn.out"),
            d,
            d,
        )?;
        self.norm(
            &format!("{ct2}/self_attention/layer_norm"),
            &format!("{ggml}.attn_ln"),
        )
    }

    fn block_ffn(&mut self, ct2: &str, ggml: &str) -> Result<()> {
        let d = self.d;
        self.linear(
            &format!("{ct2}/ffn/linear_0"),
            &format!("{ggml}.mlp.0"),
            4 * d,
            d,
        )?;
        self.linear(
            &format!("{ct2}/ffn/linear_1"),
            &format!("{ggml}.mlp.2"),
            d,
            4 * d,
        )?;
        self.norm(&format!("{ct2}/ffn/layer_norm"), &format!("{ggml}.mlp_ln"))
    }
}

fn count_layers(model: &Ct2Model, prefix: &str) -> usize {
    let mut n = 0;
    while model
        .names()
        .any(|name| name.starts_with(&format!("{prefix}/layer_{n}/")))
    {
        n += 1;
    }
    n
}

/// Converts the CTranslate2 Whisper model in `dir` to a ggml file at `out` (written to
/// `out.part`, then renamed, so a failed conversion leaves no half file).
pub fn convert_ct2_dir(dir: &Path, out: &Path) -> Result<HParams> {
    convert_ct2_dir_with_progress(dir, out, &mut |_| {})
}

/// [`convert_ct2_dir`], calling `progress` with the fraction done (0.0–1.0) after each
/// layer.
pub fn convert_ct2_dir_with_progress(
    dir: &Path,
    out: &Path,
    progress: &mut dyn FnMut(f32),
) -> Result<HParams> {
    let model = Ct2Model::open(dir)?;
    let invalid = |message: String| ModelError::Invalid {
        path: model.path().to_owned(),
        message,
    };
    if model.spec != "WhisperSpec" {
        return Err(invalid(format!(
            "a {} model, not Whisper (WhisperSpec)",
            model.spec
        )));
    }
    let shape = |name: &str| -> Result<Vec<usize>> {
        model
            .variable(name)
            .map(|v| v.shape.clone())
            .ok_or_else(|| invalid(format!("variable {name:?} is missing")))
    };
    let conv1 = shape("encoder/conv1/weight")?;
    let embeddings = shape("decoder/embeddings/weight")?;
    let audio_pos = shape("encoder/position_encodings/encodings")?;
    let text_pos = shape("decoder/position_encodings/encodings")?;
    let [d, n_mels, 3] = conv1[..] else {
        return Err(invalid(format!(
            "conv1 has shape {conv1:?}, expected [d, n_mels, 3]"
        )));
    };
    let [n_vocab, text_state] = embeddings[..] else {
        return Err(invalid(format!("embeddings have shape {embeddings:?}")));
    };
    if text_state != d {
        return Err(invalid(format!(
            "encoder width {d} differs from decoder width {text_state}"
        )));
    }
    let heads = |name: &str| -> Result<usize> {
        let h = model.scalar_int(name)?;
        usize::try_from(h)
            .ok()
            .filter(|&h| h > 0 && d % h == 0)
            .ok_or_else(|| invalid(format!("{name} = {h} does not divide the width {d}")))
    };
    let hparams = HParams {
        n_vocab: n_vocab as i32,
        n_audio_ctx: audio_pos.first().copied().unwrap_or(0) as i32,
        n_audio_state: d as i32,
        n_audio_head: heads("encoder/num_heads")? as i32,
        n_audio_layer: count_layers(&model, "encoder") as i32,
        n_text_ctx: text_pos.first().copied().unwrap_or(0) as i32,
        n_text_state: d as i32,
        n_text_head: heads("decoder/num_heads")? as i32,
        n_text_layer: count_layers(&model, "decoder") as i32,
        n_mels: n_mels as i32,
        ftype: 1,
    };
    if !matches!(n_mels, 80 | 128) {
        return Err(invalid(format!(
            "{n_mels} mel bins; whisper uses 80 or 128"
        )));
    }

    let vocabulary = read_vocabulary(dir)?;
    if vocabulary.len() != n_vocab {
        return Err(invalid(format!(
            "the vocabulary has {} tokens but the model {n_vocab}",
            vocabulary.len()
        )));
    }
    let eot = vocabulary
        .iter()
        .position(|t| t == "<|endoftext|>")
        .ok_or_else(|| invalid("the vocabulary has no <|endoftext|> token".into()))?;
    let vocab = crate::vocab::decode_tokens(&vocabulary[..eot]).map_err(|i| {
        invalid(format!(
            "vocabulary token {i} ({:?}) is not byte-level BPE",
            vocabulary[i]
        ))
    })?;

    let part = out.with_extension("part");
    let io = |source| ModelError::Io {
        path: part.clone(),
        source,
    };
    let file = std::fs::File::create(&part).map_err(io)?;
    let filters = crate::mel::filterbank(n_mels);
    let writer = GgmlWriter::new(
        BufWriter::with_capacity(1 << 20, file),
        &hparams,
        &filters,
        crate::mel::N_FFT / 2 + 1,
        &vocab,
    )
    .map_err(io)?;
    let mut c = Converter {
        model: &model,
        out: writer,
        used: HashSet::new(),
        d,
    };
    let result = (|| -> Result<()> {
        let (audio_ctx, text_ctx) = (hparams.n_audio_ctx as usize, hparams.n_text_ctx as usize);
        let pos = c.get("encoder/position_encodings/encodings", &[audio_ctx, d])?;
        c.put(
            "encoder.positional_embedding",
            &[audio_ctx, d],
            TensorType::F32,
            &pos,
        )?;
        for (i, input) in [(1, n_mels), (2, d)] {
            c.copy(
                &format!("encoder/conv{i}/weight"),
                &format!("encoder.conv{i}.weight"),
                &[d, input, 3],
            )?;
            let bias = c.get(&format!("encoder/conv{i}/bias"), &[d])?;
            c.put(
                &format!("encoder.conv{i}.bias"),
                &[d, 1],
                TensorType::F32,
                &bias,
            )?;
        }
        c.norm("encoder/layer_norm", "encoder.ln_post")?;
        let steps = (hparams.n_audio_layer + hparams.n_text_layer + 1) as f32;
        let mut step = 0.0f32;
        let mut advance = |progress: &mut dyn FnMut(f32)| {
            step += 1.0;
            progress((step / steps).min(1.0));
        };
        for layer in 0..hparams.n_audio_layer {
            let (ct2, ggml) = (
                format!("encoder/layer_{layer}"),
                format!("encoder.blocks.{layer}"),
            );
            c.block_common(&ct2, &ggml)?;
            c.block_ffn(&ct2, &ggml)?;
            advance(progress);
        }
        c.copy(
            "decoder/embeddings/weight",
            "decoder.token_embedding.weight",
            &[n_vocab, d],
        )?;
        let pos = c.get("decoder/position_encodings/encodings", &[text_ctx, d])?;
        c.put(
            "decoder.positional_embedding",
            &[text_ctx, d],
            TensorType::F32,
            &pos,
        )?;
        c.norm("decoder/layer_norm", "decoder.ln")?;
        for layer in 0..hparams.n_text_layer {
            let (ct2, ggml) = (
                format!("decoder/layer_{layer}"),
                format!("decoder.blocks.{layer}"),
            );
            c.block_common(&ct2, &ggml)?;
            c.linear(
                &format!("{ct2}/attention/linear_0"),
                &format!("{ggml}.cross_attn.query"),
                d,
                d,
            )?;
            c.split(
                &format!("{ct2}/attention/linear_1"),
                &[
                    (&format!("{ggml}.cross_attn.key"), false),
                    (&format!("{ggml}.cross_attn.value"), true),
                ],
            )?;
            c.linear(
                &format!("{ct2}/attention/linear_2"),
                &format!("{ggml}.cross_attn.out"),
                d,
                d,
            )?;
            c.norm(
                &format!("{ct2}/attention/layer_norm"),
                &format!("{ggml}.cross_attn_ln"),
            )?;
            c.block_ffn(&ct2, &ggml)?;
            advance(progress);
        }
        // The output projection must be the (tied) embedding: whisper.cpp has no other.
        if model.variable("decoder/projection/weight").is_some() {
            let (_, projection) = model.f32("decoder/projection/weight")?;
            let (_, embedding) = model.f32("decoder/embeddings/weight")?;
            if projection != embedding {
                return Err(c.invalid("the output projection is not tied to the embeddings; whisper.cpp cannot run this model".into()));
            }
            c.used.insert("decoder/projection/weight".into());
            c.used.insert("decoder/projection/weight_scale".into());
        }
        // Everything with a shape must have been used.
        let mut leftovers: Vec<&str> = model
            .names()
            .filter(|n| !c.used.contains(*n))
            .filter(|n| model.variable(n).is_some_and(|v| !v.shape.is_empty()))
            .collect();
        leftovers.sort_unstable();
        if !leftovers.is_empty() {
            return Err(c.invalid(format!(
                "parts this converter does not know: {} — not a plain Whisper model",
                leftovers.join(", ")
            )));
        }
        Ok(())
    })();
    match result.and_then(|()| c.out.finish().map_err(io)) {
        Ok(_) => {
            std::fs::rename(&part, out).map_err(|source| ModelError::Io {
                path: out.to_owned(),
                source,
            })?;
            progress(1.0);
            Ok(hparams)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}
