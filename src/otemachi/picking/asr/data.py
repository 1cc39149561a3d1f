"""Speech to train and test recognisers on: texts spoken by espeak-ng voices at random rates and
pitches or by Festival's voices (Flite's for tests), then changed as a room and a microphone
change real speech (speed, reverberation, gain, background noise)."""

from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

from otemachi.core.progress import track
from otemachi.core.seeding import rng
from otemachi.picking import audio, speech
from otemachi.picking.asr.lexicon import FILLERS


@dataclass(frozen=True)
class Utterance:
    text: str  # normalised
    voice: str
    samples: np.ndarray  # 16 kHz mono


def reverb(x: np.ndarray, rt60: float, g: np.random.Generator) -> np.ndarray:
    """``x`` in a room whose echoes fade by 60 dB in ``rt60`` seconds (a synthetic impulse
    response: decaying noise after the direct sound)."""
    n = int(rt60 * audio.RATE)
    t = np.arange(n) / audio.RATE
    ir = g.standard_normal(n) * 10 ** (-3 * t / rt60) * 0.3
    ir[0] = 1.0
    y = fftconvolve(x, ir)[: len(x)]
    return (y / (np.abs(y).max() + 1e-9) * np.abs(x).max()).astype(np.float32)


def augment(x: np.ndarray, g: np.random.Generator) -> np.ndarray:
    """Speed 0.9-1.1x, reverberation (half the time), gain -12..+3 dB, and white or brown
    noise at 5-30 dB SNR (most of the time)."""
    speed = round(g.uniform(0.9, 1.1) * 50) / 50  # steps of 2%: a short resampling filter
    x = audio.resample(x, round(audio.RATE * speed))
    if g.random() < 0.5:
        x = reverb(x, g.uniform(0.1, 0.5), g)
    x = x * 10 ** (g.uniform(-12, 3) / 20)
    if g.random() < 0.8:
        noisy = audio.with_noise(x, g.uniform(5, 30), g)
        if g.random() < 0.5:  # brown noise: integrated white, mostly low frequencies
            n = np.cumsum(noisy - x)
            n -= np.linspace(n[0], n[-1], len(n))
            noisy = x + n / (np.abs(n).max() + 1e-9) * np.abs(noisy - x).max()
        x = noisy
    return np.clip(x, -1, 1).astype(np.float32)


def by_flite(texts: list[str]) -> list[Utterance]:
    """Each text spoken by CMU Flite, its voices in turn: a synthesiser never trained on."""
    voices = speech.FLITE_VOICES
    return [
        Utterance(t, f"flite:{voices[i % len(voices)]}", speech.flite(t, voices[i % len(voices)]))
        for i, t in enumerate(track(texts, "speaking with flite"))
    ]


def noisy(utts: list[Utterance], snr: float, g: np.random.Generator) -> list[Utterance]:
    """The utterances with white noise at ``snr`` dB."""
    return [Utterance(u.text, u.voice, audio.with_noise(u.samples, snr, g)) for u in utts]


def random_voice(split: str, g: np.random.Generator) -> speech.Voice:
    """A voice of ``split`` ('train' or 'test') at a random rate (130-210 wpm) and pitch."""
    accents = speech.TRAIN_ACCENTS if split == "train" else speech.TEST_ACCENTS
    variants = speech.TRAIN_VARIANTS if split == "train" else speech.TEST_VARIANTS
    name = f"{g.choice(accents)}+{g.choice(variants)}"
    return speech.Voice(name, int(g.integers(130, 211)), int(g.integers(25, 76)))


def spoken(
    texts: list[str],
    split: str,
    seed: int,
    augmented: bool = True,
    fillers: float = 0.15,
    festival: float = 0.0,
) -> list[Utterance]:
    """Each text spoken once by a random espeak-ng voice of ``split``, or with probability
    ``festival`` by a Festival voice; ``fillers`` of them opened by a filler ("um", ...)."""
    out = []
    for i, text in enumerate(track(texts, f"speaking {split} utterances")):
        g = rng(seed, "picking", "asr-speech", split, str(i))
        if g.random() < fillers:
            text = f"{g.choice(FILLERS)} {text}"
        if g.random() < festival:
            name = str(g.choice(speech.FESTIVAL_VOICES))
            x = speech.festival(text, name)
        else:
            voice = random_voice(split, g)
            name, x = voice.name, speech.say(text, voice)
        out.append(Utterance(text, name, augment(x, g) if augmented else x))
    return out
