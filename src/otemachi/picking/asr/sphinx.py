"""The pocketsphinx backend: the US-English acoustic model the wheel ships, with the domain
language model and pronunciations (not a fixed grammar: any word sequence of the vocabulary
decodes, likelier ones first)."""

import threading
import time
from pathlib import Path

import numpy as np
from pocketsphinx import Decoder, get_model_path

from otemachi.picking.asr import Transcript, Word

FRAME = 0.01  # seconds per pocketsphinx frame
LANGUAGE_WEIGHT = 10.0  # chosen on training voices (6.5 is pocketsphinx's default)


class PocketSphinx:
    name = "pocketsphinx"

    def __init__(self, arpa: Path, dictionary: Path):
        self.decoder = Decoder(
            hmm=get_model_path("en-us/en-us"),
            lm=str(arpa),
            dict=str(dictionary),
            lw=LANGUAGE_WEIGHT,
            loglevel="FATAL",
        )
        self.lock = threading.Lock()  # one utterance at a time per decoder

    def transcribe(self, samples: np.ndarray, hints: frozenset[str] = frozenset()) -> Transcript:
        """The transcript of 16 kHz mono ``samples``. ``hints`` are not used: pocketsphinx's
        language model is fixed once loaded."""
        t0 = time.perf_counter()
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes()
        d = self.decoder
        with self.lock:
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
            words = tuple(
                Word(s.word.split("(")[0], s.start_frame * FRAME, (s.end_frame + 1) * FRAME, s.prob)
                for s in d.seg()
                if not s.word.startswith(("<", "["))  # <s>, </s>, <sil>, [NOISE]
            )
        text = " ".join(w.text for w in words)
        conf = float(np.mean([w.confidence for w in words])) if words else 0.0
        return Transcript(text, words, conf, self.name, (time.perf_counter() - t0) * 1000)
