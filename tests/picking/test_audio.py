"""The audio reader: every format and rate becomes 16 kHz mono; every bad file is refused with one
line naming what is wrong."""

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from otemachi.core.errors import InvalidInput, NotFound
from otemachi.picking import audio, speech


def _encode(x: np.ndarray, rate: int, fmt: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, rate, format=fmt)
    return buf.getvalue()


def _tone(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * 440 * t)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


@pytest.mark.parametrize(
    ("fmt", "rate", "channels"), [("WAV", 44_100, 2), ("FLAC", 8_000, 1), ("OGG", 48_000, 2)]
)
def test_any_format_rate_and_channels_become_16k_mono(fmt: str, rate: int, channels: int) -> None:
    x = audio.read(_encode(_tone(1.5, rate, channels), rate, fmt))
    assert x.ndim == 1 and x.dtype == np.float32
    assert abs(len(x) - 24_000) <= 2
    spectrum = np.abs(np.fft.rfft(x))
    assert abs(np.argmax(spectrum) * audio.RATE / len(x) - 440) < 3  # the pitch survives


def test_a_file_path_reads_like_its_bytes(tmp_path: Path) -> None:
    data = _encode(_tone(0.5, 22_050), 22_050, "WAV")
    (tmp_path / "a.wav").write_bytes(data)
    assert np.array_equal(audio.read(tmp_path / "a.wav"), audio.read(data))


def test_bad_files_are_refused_with_the_reason(tmp_path: Path) -> None:
    wav = _encode(_tone(1.0, 16_000), 16_000, "WAV")
    cases = {
        b"": "is empty",
        b"RIFF not really a wave file" * 4: "is not readable audio",
        wav[: len(wav) // 2]: "is truncated",
        wav[:44]: "is truncated",
        _encode(np.zeros(16_000), 16_000, "FLAC"): "is silent",
        _encode(_tone(31, 8_000), 8_000, "OGG"): "lasts 31.0 s; the limit is 30 s",
        _encode(_tone(0.5, 16_000), 16_000, "AIFF"): "give WAV, FLAC or OGG",
        b"\0" * (audio.MAX_BYTES + 1): "larger than 50 MB",
    }
    for data, reason in cases.items():
        with pytest.raises(InvalidInput, match=reason):
            audio.read(data, "clip")
    with pytest.raises(NotFound, match="no such audio file"):
        audio.read(tmp_path / "missing.wav")
    with pytest.raises(InvalidInput, match="is a folder"):
        audio.read(tmp_path)


def test_truncation_is_judged_by_the_data_chunk_not_by_stray_bytes() -> None:
    wav = _encode(_tone(0.5, 16_000), 16_000, "WAV")
    fmt_end = 12 + 8 + int.from_bytes(wav[16:20], "little")
    note = b"INFOICMT\x0c\x00\x00\x00metadata: ok"  # a LIST chunk whose text says "data"
    listed = wav[:fmt_end] + b"LIST" + len(note).to_bytes(4, "little") + note + wav[fmt_end:]
    listed = listed[:4] + (len(listed) - 8).to_bytes(4, "little") + listed[8:]
    assert len(audio.read(listed)) == 8_000
    with pytest.raises(InvalidInput, match="is truncated"):
        audio.read(listed[:-1000])


def test_noise_is_added_at_the_asked_snr() -> None:
    x = _tone(1.0, 16_000).astype(np.float32)
    noisy = audio.with_noise(x, 10.0, np.random.default_rng(0))
    snr = 10 * np.log10(np.mean(x**2) / np.mean((noisy - x) ** 2))
    assert abs(snr - 10.0) < 0.2


def test_espeak_speaks_and_refuses_an_unknown_voice(tmp_path: Path) -> None:
    x = speech.say("move the duck to the top left box", "en-gb-scotland+m3")
    assert 1.0 < len(x) / audio.RATE < 5.0
    path = speech.save("which one?", tmp_path / "q.wav")
    assert len(audio.read(path)) > 0
    with pytest.raises(InvalidInput, match="could not speak with voice 'xx-nope'"):
        speech.say("hello", "xx-nope")
    assert not set(speech.TRAIN_ACCENTS) & set(speech.TEST_ACCENTS)
    assert not set(speech.TRAIN_VARIANTS) & set(speech.TEST_VARIANTS)
    for v in speech.TEST_VOICES:
        accent, variant = v.split("+")
        assert accent in speech.TEST_ACCENTS and variant in speech.TEST_VARIANTS
    assert all(speech.known(v) for v in speech.TEST_VOICES)
    assert not speech.known("en-us+typo") and not speech.known("xx-nope")
    with pytest.raises(InvalidInput, match="no voice 'en-us\\+typo'"):
        speech.voices("test,en-us+typo")


def test_festival_and_flite_speak() -> None:
    for voice in speech.FESTIVAL_VOICES:
        assert 0.5 < len(speech.festival("the blue one", voice)) / audio.RATE < 3.0
    for voice in speech.FLITE_VOICES:
        assert 0.5 < len(speech.flite("the blue one", voice)) / audio.RATE < 3.0
    assert speech.voices("flite:rms,festival:kal_diphone") == ("flite:rms", "festival:kal_diphone")
    assert not speech.known("flite:kal16") and not speech.known("mary:tts")
    assert len(speech.speak("the blue one", "flite:awb")) > audio.RATE // 2
    with pytest.raises(InvalidInput, match="festival voice must be one of"):
        speech.festival("hello", '(system "rm -rf /")')
