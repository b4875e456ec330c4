//! Ogg Opus (RFC 7845) writing and reading for call recordings.

use super::{Recording, StereoSink};
use crate::error::{AudioError, Result};
use ogg::{PacketReader, PacketWriteEndInfo, PacketWriter};
use opus::{Application, Bitrate, Channels, Decoder, Encoder};
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

/// Packets per Ogg page: one page a second bounds what a crash can lose.
const PACKETS_PER_PAGE: u64 = 50;
/// Ogg Opus granule positions always count 48 kHz samples.
const GRANULE_RATE: u64 = 48_000;
const SERIAL: u32 = 0x0C0E_CA7D;

pub struct OggOpusWriter<W: Write> {
    path: PathBuf,
    writer: PacketWriter<'static, W>,
    encoder: Encoder,
    sample_rate: u32,
    /// Frames per 20 ms packet at `sample_rate`.
    packet_frames: usize,
    /// Interleaved samples waiting for a whole packet.
    pending: Vec<f32>,
    packet: Vec<u8>,
    pre_skip: u64,
    packets: u64,
    frames: u64,
}

impl<W: Write> OggOpusWriter<W> {
    pub fn new(out: W, sample_rate: u32, path: &Path) -> Result<Self> {
        if !matches!(sample_rate, 8_000 | 12_000 | 16_000 | 24_000 | 48_000) {
            return Err(AudioError::Recording {
                path: path.to_owned(),
                message: format!("Opus cannot record at {sample_rate} Hz"),
            });
        }
        let mut encoder = Encoder::new(sample_rate, Channels::Stereo, Application::Voip)?;
        encoder.set_bitrate(Bitrate::Bits(32_000))?;
        // The channels are two different people: never merge them into mid/side.
        encoder.set_phase_inversion_disabled(true)?;
        let lookahead = encoder.get_lookahead()? as u64;
        let pre_skip = lookahead * GRANULE_RATE / u64::from(sample_rate);
        let mut writer = PacketWriter::new(out);
        let io = |source| AudioError::RecordingIo {
            path: path.to_owned(),
            source,
        };
        writer
            .write_packet(
                opus_head(pre_skip as u16, sample_rate),
                SERIAL,
                PacketWriteEndInfo::EndPage,
                0,
            )
            .map_err(io)?;
        writer
            .write_packet(opus_tags(), SERIAL, PacketWriteEndInfo::EndPage, 0)
            .map_err(io)?;
        writer.inner_mut().flush().map_err(io)?;
        let packet_frames = sample_rate as usize / 50;
        Ok(Self {
            path: path.to_owned(),
            writer,
            encoder,
            sample_rate,
            packet_frames,
            pending: Vec::with_capacity(packet_frames * 4),
            packet: vec![0; 4000],
            pre_skip,
            packets: 0,
            frames: 0,
        })
    }

    /// The underlying writer (after an error, what reached it is a valid prefix).
    pub fn into_inner(self) -> W {
        self.writer.into_inner()
    }

    fn io(&self, source: std::io::Error) -> AudioError {
        AudioError::RecordingIo {
            path: self.path.clone(),
            source,
        }
    }

    fn granule(&self, frames: u64) -> u64 {
        self.pre_skip + frames * GRANULE_RATE / u64::from(self.sample_rate)
    }

    fn encode_pending(&mut self, last: bool) -> Result<()> {
        let whole = self.packet_frames * 2;
        let mut offset = 0;
        while self.pending.len() - offset >= whole {
            let n = self
                .encoder
                .encode_float(&self.pending[offset..offset + whole], &mut self.packet)?;
            offset += whole;
            self.packets += 1;
            let is_last = last && self.pending.len() - offset < whole;
            let end = if is_last {
                PacketWriteEndInfo::EndStream
            } else if self.packets.is_multiple_of(PACKETS_PER_PAGE) {
                PacketWriteEndInfo::EndPage
            } else {
                PacketWriteEndInfo::NormalPacket
            };
            // The last page's granule marks the true end, trimming the padding.
            let granule = if is_last {
                self.granule(self.frames)
            } else {
                self.granule(self.packets * self.packet_frames as u64)
            };
            self.writer
                .write_packet(self.packet[..n].to_vec(), SERIAL, end, granule)
                .map_err(|e| self.io(e))?;
            if end != PacketWriteEndInfo::NormalPacket {
                self.writer.inner_mut().flush().map_err(|e| self.io(e))?;
            }
        }
        self.pending.drain(..offset);
        Ok(())
    }
}

impl<W: Write + Send> StereoSink for OggOpusWriter<W> {
    fn write(&mut self, rep: &[f32], far: &[f32]) -> Result<()> {
        for (&l, &r) in rep.iter().zip(far) {
            self.pending.push(l);
            self.pending.push(r);
        }
        self.frames += rep.len() as u64;
        self.encode_pending(false)
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        // Pad to a whole packet (plus the encoder's lookahead) and end the stream.
        let lookahead = (self.pre_skip * u64::from(self.sample_rate) / GRANULE_RATE) as usize;
        let pad = self.packet_frames * 2 - self.pending.len() % (self.packet_frames * 2)
            + lookahead.div_ceil(self.packet_frames) * self.packet_frames * 2;
        self.pending.extend(std::iter::repeat_n(0.0, pad));
        self.encode_pending(true)?;
        self.writer.inner_mut().flush().map_err(|e| self.io(e))
    }

    fn frames(&self) -> u64 {
        self.frames
    }
}

/// The identification header (RFC 7845 §5.1).
fn opus_head(pre_skip: u16, input_rate: u32) -> Vec<u8> {
    let mut head = Vec::with_capacity(19);
    head.extend_from_slice(b"OpusHead");
    head.push(1); // version
    head.push(2); // channels
    head.extend_from_slice(&pre_skip.to_le_bytes());
    head.extend_from_slice(&input_rate.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes()); // output gain
    head.push(0); // mapping family 0: mono or stereo (left, right)
    head
}

/// The comment header (RFC 7845 §5.2), naming the channel layout.
fn opus_tags() -> Vec<u8> {
    let vendor = concat!("cuecard ", env!("CARGO_PKG_VERSION"));
    let comments = ["CUECARD_CHANNELS=left:rep,right:far_end"];
    let mut tags = Vec::new();
    tags.extend_from_slice(b"OpusTags");
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor.as_bytes());
    tags.extend_from_slice(&(comments.len() as u32).to_le_bytes());
    for c in comments {
        tags.extend_from_slice(&(c.len() as u32).to_le_bytes());
        tags.extend_from_slice(c.as_bytes());
    }
    tags
}

pub(super) fn read(bytes: &[u8], path: &Path) -> Result<Recording> {
    let bad = |message: String| AudioError::Recording {
        path: path.to_owned(),
        message,
    };
    let mut reader = PacketReader::new(Cursor::new(bytes));
    let head = match reader.read_packet() {
        Ok(Some(p)) if p.data.starts_with(b"OpusHead") && p.data.len() >= 19 => p.data,
        _ => return Err(bad("no Opus identification header".into())),
    };
    if head[9] != 2 {
        return Err(bad(format!("{} channels; a call recording has 2", head[9])));
    }
    let pre_skip = u64::from(u16::from_le_bytes([head[10], head[11]]));
    let input_rate = u32::from_le_bytes([head[12], head[13], head[14], head[15]]);
    let sample_rate = match input_rate {
        8_000 | 12_000 | 16_000 | 24_000 | 48_000 => input_rate,
        _ => 48_000,
    };
    match reader.read_packet() {
        Ok(Some(p)) if p.data.starts_with(b"OpusTags") => {}
        _ => return Err(bad("no Opus comment header".into())),
    }
    let mut decoder = Decoder::new(sample_rate, Channels::Stereo)?;
    let mut interleaved = Vec::new();
    let mut buf = vec![0.0f32; sample_rate as usize / 50 * 2 * 6];
    let mut end_granule = None;
    let mut truncated = false;
    loop {
        match reader.read_packet() {
            Ok(Some(packet)) => {
                let n = decoder
                    .decode_float(&packet.data, &mut buf, false)
                    .map_err(|e| bad(format!("undecodable packet: {e}")))?;
                interleaved.extend_from_slice(&buf[..n * 2]);
                if packet.last_in_stream() {
                    end_granule = Some(packet.absgp_page());
                    break;
                }
            }
            Ok(None) => {
                truncated = true;
                break;
            }
            Err(_) => {
                // A page cut short by a crash: what came before is intact.
                truncated = true;
                break;
            }
        }
    }
    let to_rate = |granule: u64| (granule * u64::from(sample_rate) / GRANULE_RATE) as usize;
    let skip = to_rate(pre_skip).min(interleaved.len() / 2);
    let end = end_granule
        .map(|g| to_rate(g.saturating_sub(pre_skip)) + skip)
        .unwrap_or(interleaved.len() / 2)
        .min(interleaved.len() / 2);
    let frames = &interleaved[skip * 2..end.max(skip) * 2];
    Ok(Recording {
        sample_rate,
        rep: frames.iter().step_by(2).copied().collect(),
        far: frames.iter().skip(1).step_by(2).copied().collect(),
        truncated,
    })
}
