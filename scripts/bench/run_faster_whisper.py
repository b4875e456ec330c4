"""faster-whisper, the peer of the speech-to-text benchmark (crates/stt/benches/stt.rs).

Usage: run_faster_whisper.py MODEL_DIR WAV THREADS
Transcribes WAV with the CTranslate2 model in MODEL_DIR (the same weights our importer
converts) with faster-whisper's defaults (beam 5), on THREADS CPU threads, three times,
and prints JSON: the median decode time, the audio duration and the text.
"""
import json
import statistics
import sys
import time

from faster_whisper import WhisperModel

model_dir, wav, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = WhisperModel(model_dir, device="cpu", cpu_threads=threads, compute_type="default")
times, text, duration = [], "", 0.0
for _ in range(3):
    started = time.perf_counter()
    segments, info = model.transcribe(wav, language="en", beam_size=5)
    text = " ".join(s.text.strip() for s in segments)
    times.append(time.perf_counter() - started)
    duration = info.duration
print(json.dumps({"seconds": statistics.median(times), "audio_seconds": duration, "text": text}))
