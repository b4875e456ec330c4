//! Cuecard's whisper model manager.
//!
//! Speech-to-text runs whisper models in whisper.cpp's ggml format. This crate knows the
//! published models ([`catalog`]), reads and writes ggml files ([`ggml`]), and converts
//! CTranslate2 (faster-whisper) model directories to ggml ([`ct2`], [`convert`]) — the
//! form in which the package registries carry whisper weights — and keeps the installed
//! models in one directory ([`store`]).

pub mod catalog;
pub mod convert;
pub mod ct2;
pub mod download;
pub mod error;
pub mod ggml;
pub mod mel;
pub mod store;
pub mod vocab;

pub use error::{ModelError, Result};
