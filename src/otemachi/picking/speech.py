"""Speech out, and the voices speech recognition is trained and tested on: espeak-ng (Debian's
``espeak-ng``, installed by ``scripts/sysdeps.sh``) speaks a text with a voice (an accent plus a
variant, e.g. ``en-gb-scotland+m3``) at a rate and pitch. Training and test voices share neither
accent nor variant, so a test voice is one the recogniser never heard."""

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from otemachi.core.errors import InvalidInput, SetupError
from otemachi.picking import audio

TRAIN_ACCENTS = ("en-us", "en", "en-gb-scotland", "en-gb-x-gbclan", "en-029")
TEST_ACCENTS = ("en-us-nyc", "en-gb-x-rp", "en-gb-x-gbcwmd")
TRAIN_VARIANTS = (
    "m1", "m2", "m3", "m4", "m5", "f1", "f2", "f3", "klatt", "klatt2", "klatt4",
    "adam", "Alex", "Andy", "Annie", "benjamin", "boris", "david", "ed", "edward", "Gene",
    "iven", "john", "linda", "max", "Michael", "paul", "robert", "steph", "travis", "zac",
)  # fmt: skip
TEST_VARIANTS = ("m6", "m7", "f4", "f5", "klatt3", "anika", "belinda", "caleb", "quincy", "shelby")
TEST_VOICES = tuple(f"{a}+{v}" for a, v in zip(TEST_ACCENTS * 4, TEST_VARIANTS, strict=False))


@dataclass(frozen=True)
class Voice:
    name: str = "en-us"  # accent[+variant]
    rate: int = 165  # words per minute
    pitch: int = 50  # 0..99


@cache
def _installed() -> tuple[frozenset[str], frozenset[str]]:
    """(accents, variants) espeak-ng knows: language codes, voice names and file names."""

    def listing(flag: str) -> list[list[str]]:
        out = subprocess.run(
            [program("espeak-ng"), flag], capture_output=True, check=False, timeout=30
        )
        return [line.split() for line in out.stdout.decode().splitlines()[1:] if line.split()]

    accents = {n for r in listing("--voices") for n in (r[1], r[3], r[4].split("/")[-1])}
    variants = {r[4].split("/")[-1] for r in listing("--voices=variant") if len(r) > 4}
    return frozenset(accents), frozenset(variants)


def known(voice: str) -> bool:
    """Whether the voice exists: ``flite:NAME``, ``festival:NAME``, or an espeak-ng accent (and
    variant; espeak-ng would quietly ignore an unknown variant)."""
    engine, _, name = voice.rpartition(":")
    if engine:
        return name in {"flite": FLITE_VOICES, "festival": FESTIVAL_VOICES}.get(engine, ())
    accent, _, variant = voice.partition("+")
    accents, variants = _installed()
    return accent in accents and (not variant or variant in variants)


def program(name: str) -> str:
    """The path of a Debian program the speech code runs; SetupError when it is missing."""
    exe = shutil.which(name)
    if exe is None:
        raise SetupError(f"{name} is not installed; run scripts/sysdeps.sh")
    return exe


def say(text: str, voice: Voice | str = Voice()) -> np.ndarray:
    """16 kHz mono samples of ``text`` spoken by the espeak-ng ``voice``."""
    v = Voice(voice) if isinstance(voice, str) else voice
    args = ["-v", v.name, "-s", str(v.rate), "-p", str(v.pitch)]
    return _synthesise("espeak-ng", args, text, v.name, out="-w")


# Festival (Debian's festival with two voices) also speaks training utterances: a second engine
# and two recorded speakers. CMU Flite speaks only in tests, with the two speakers neither
# engine has (Flite's kal16 and slt are Festival's kal and slt speakers).
FESTIVAL_VOICES = ("kal_diphone", "cmu_us_slt_arctic_hts")
FLITE_VOICES = ("awb", "rms")
HELD_OUT_VOICES = (*TEST_VOICES, *(f"flite:{v}" for v in FLITE_VOICES))  # what `test` names


def festival(text: str, voice: str = "kal_diphone") -> np.ndarray:
    """16 kHz mono samples of ``text`` spoken by Festival's ``voice``."""
    return _synthesise("text2wave", ["-eval", f"({_festival_voice(voice)})"], text, voice)


def flite(text: str, voice: str = "awb") -> np.ndarray:
    """16 kHz mono samples of ``text`` spoken by CMU Flite, a synthesiser no recogniser here
    trains on."""
    return _synthesise("flite", ["-voice", voice], text, voice)


def _festival_voice(voice: str) -> str:
    if voice not in FESTIVAL_VOICES:
        raise InvalidInput(f"festival voice must be one of {list(FESTIVAL_VOICES)}, got {voice!r}")
    return f"voice_{voice}"


def _synthesise(name: str, args: list[str], text: str, voice: str, out: str = "-o") -> np.ndarray:
    """Run a synthesiser that reads the text on stdin and writes a WAV file (``out`` names the
    option that says where); its audio at 16 kHz mono."""
    if not text.strip():
        raise InvalidInput("nothing to say: the text is empty")
    exe = program(name)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "said.wav"
        try:
            subprocess.run(
                [exe, *args, out, str(wav)], input=text.encode(), capture_output=True,
                check=True, timeout=60,
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            why = exc.stderr.decode(errors="replace").strip() or f"exit status {exc.returncode}"
            raise InvalidInput(f"{name} could not speak with voice {voice!r}: {why}") from None
        except subprocess.TimeoutExpired:
            raise InvalidInput(f"{name} took over 60 s to speak {len(text)} characters") from None
        return audio.read(wav, f"{name}'s audio for voice {voice}")


def speak(text: str, voice: str) -> np.ndarray:
    """``text`` spoken by a voice named as ``known`` takes it."""
    engine, _, name = voice.rpartition(":")
    if engine == "flite":
        return flite(text, name)
    if engine == "festival":
        return festival(text, name)
    return say(text, voice)


def voices(spec: str) -> tuple[str, ...]:
    """Voices from a comma list of espeak-ng voices, ``flite:NAME`` and ``festival:NAME`` ('test':
    every held-out voice); an unknown name is refused before any work."""
    names = [v.strip() for v in spec.split(",") if v.strip()]
    out = tuple(n for v in names for n in (HELD_OUT_VOICES if v == "test" else (v,)))
    unknown = [v for v in out if not known(v)]
    if unknown:
        raise InvalidInput(
            f"espeak-ng has no voice {unknown[0]!r}; `espeak-ng --voices` lists them"
        )
    return out


def save(text: str, path: Path, voice: Voice | str = Voice()) -> Path:
    """Speak ``text`` into a 16 kHz WAV file at ``path``."""
    path.write_bytes(audio.to_wav(say(text, voice)))
    return path


def play(path: Path) -> bool:
    """Play a WAV on the sound device, if there is one (ALSA's aplay); False when none."""
    player = shutil.which("aplay")
    if player is None or not Path("/dev/snd").is_dir():
        return False
    done = subprocess.run([player, "-q", str(path)], capture_output=True, check=False)
    return done.returncode == 0
