"""Audio in: WAV, FLAC or OGG at any sample rate and channel count, read with soundfile and
converted to 16 kHz mono float32 in [-1, 1]. Files the recognisers cannot use are refused with one
line saying why: unreadable or truncated, empty or silent, longer than 30 s, larger than 50 MB."""

import io
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from otemachi.core.errors import InvalidInput
from otemachi.core.files import input_file

RATE = 16_000
MAX_SECONDS = 30.0
MAX_BYTES = 50 * 1024 * 1024
SILENT_PEAK = 10 ** (-50 / 20)  # -50 dBFS: no sample louder than this is silence
FORMATS = ("WAV", "FLAC", "OGG")


def read(source: Path | bytes, name: str | None = None) -> np.ndarray:
    """16 kHz mono float32 samples of an audio file (a path, or the bytes of an upload)."""
    if isinstance(source, bytes):
        name, size = name or "the upload", len(source)
    else:
        path = input_file(Path(source), "audio file")
        name, size = name or str(path), path.stat().st_size
    if size > MAX_BYTES:
        raise InvalidInput(f"{name} is larger than 50 MB")
    if size == 0:
        raise InvalidInput(f"{name} is empty")
    data = source if isinstance(source, bytes) else path.read_bytes()
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            kind, rate, frames = f.format, f.samplerate, f.frames
            if kind not in FORMATS:
                raise InvalidInput(f"{name} is {kind} audio; give WAV, FLAC or OGG")
            if frames / rate > MAX_SECONDS:
                raise InvalidInput(
                    f"{name} lasts {frames / rate:.1f} s; the limit is {MAX_SECONDS:.0f} s"
                )
            samples = f.read(dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise InvalidInput(f"{name} is not readable audio ({_why(exc)})") from None
    if kind == "WAV" and _truncated(data):
        raise InvalidInput(f"{name} is truncated: its header promises more audio than it holds")
    if len(samples) == 0:
        raise InvalidInput(f"{name} holds no audio")
    mono = samples.mean(axis=1)
    if not np.isfinite(mono).all():
        raise InvalidInput(f"{name} holds samples that are not numbers")
    if float(np.abs(mono).max()) < SILENT_PEAK:
        raise InvalidInput(f"{name} is silent: no sound louder than -50 dBFS")
    return resample(mono, rate)


def resample(x: np.ndarray, rate: int) -> np.ndarray:
    """``x`` at ``rate`` Hz resampled to 16 kHz (polyphase, anti-aliased)."""
    if rate == RATE:
        return x.astype(np.float32)
    g = gcd(RATE, rate)
    return resample_poly(x, RATE // g, rate // g).astype(np.float32)


def _why(exc: Exception) -> str:
    text = str(exc).split(":")[-1].strip() or type(exc).__name__
    return text[:120]


def _truncated(data: bytes) -> bool:
    """A WAV whose data chunk declares more bytes than the file holds (libsndfile quietly reads
    what is there). Streaming writers that cannot seek back (espeak-ng --stdout) declare 0 or a
    size near 2 GiB: that means "unknown", not truncated."""
    at = 12  # after "RIFF", its size and "WAVE": walk the chunks (id, size, body padded to even)
    while at + 8 <= len(data):
        size = int.from_bytes(data[at + 4 : at + 8], "little")
        if data[at : at + 4] == b"data":
            return 0 < size < 0x7F000000 and at + 8 + size > len(data)
        at += 8 + size + size % 2
    return True  # no data chunk before the end


def to_wav(samples: np.ndarray, rate: int = RATE) -> bytes:
    """16-bit PCM WAV bytes of float samples."""
    buf = io.BytesIO()
    sf.write(buf, np.clip(samples, -1, 1), rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def with_noise(x: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """``x`` plus white noise at ``snr_db`` below the speech's mean power."""
    power = float(np.mean(x**2)) or 1e-12
    noise = rng.standard_normal(len(x)).astype(np.float32) * np.sqrt(power / 10 ** (snr_db / 10))
    return (x + noise).astype(np.float32)
