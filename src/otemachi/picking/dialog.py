"""The picking pipeline: see the scene, read the instruction, decide, ask when unsure, take the
answer, and run the robot. ``Picker(scene).instruct(text)`` returns a Decision; ``answer(text)``
refines it; ``clarify(reply)`` asks while a question is open; ``execute()`` moves the object."""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torchvision.ops import box_iou

from otemachi.core.errors import InvalidInput
from otemachi.picking import detect
from otemachi.picking.asr import Transcript
from otemachi.picking.catalog import CATALOG, CATEGORIES, LOOKS, SIZES
from otemachi.picking.ground import EPS, Candidates, Slots, answer_score
from otemachi.picking.language import BOX_WORDS
from otemachi.picking.model import Grounder
from otemachi.picking.model import load as load_grounder
from otemachi.picking.robot import Outcome
from otemachi.picking.scenes import Scene
from otemachi.picking.world import BOXES

ASK_BELOW = 0.75  # ask when the best candidate's probability is below this
MIN_SCORE = 0.15  # detections kept as candidates (duplicates are dropped after)
MAX_QUESTIONS = 2
FLATTEN = 0.5  # a reading of spoken words weighs its share of the recogniser's belief ** this
HINT_P = 0.3  # a category or look this likely for some candidate is a hint to the ears
OTHER = re.compile(r"^\W*(no\b\W*)?(not that one\W*)?(the |a )?(other|another|different)\b")


@dataclass(frozen=True)
class Decision:
    target: str | None  # the scene object under the chosen box (None: nothing there)
    box: tuple[float, ...]  # chosen candidate, xyxy pixels
    destination: str
    scores: list[float]  # P(target) per candidate, in candidate order
    destination_scores: dict[str, float]
    question: str | None = None
    asked: int = 0

    @property
    def confidence(self) -> float:
        return max(self.scores) if self.scores else 0.0


@dataclass
class Picker:
    """One scene, the grounding model and the detector (both the stored ones unless given;
    ``oracle`` uses the simulator's true boxes instead of the detector's). The object under a
    chosen box (which body the arm grasps) is read from the simulator's segmentation, standing
    in for a grasp point from the depth image."""

    scene: Scene
    model: Grounder | None = None
    detector: detect.SSD | None = None
    oracle: bool = False
    ask_below: float = ASK_BELOW
    _cands: Candidates | None = None
    _ids: list[str | None] = field(default_factory=list)
    _logp: torch.Tensor | None = None
    _decision: Decision | None = None
    _asked_about: list[int] = field(default_factory=list)  # the options the last question named
    _settled: frozenset[str] = frozenset()  # what the instruction already said (look, size, box)

    def __post_init__(self) -> None:
        if self.model is None:
            self.model = load_grounder()
        if self.detector is None and not self.oracle:
            self.detector = detect.load()[0]

    @property
    def grounder(self) -> Grounder:
        assert self.model is not None
        return self.model

    def look(self) -> Candidates:
        """Take the camera image and find and look at the candidates (once per scene)."""
        if self._cands is None:
            frame = self.scene.render()
            truth = self.scene.bboxes(frame)
            gt_ids = list(truth)
            gt = np.array([(x, y, x + w, y + h) for x, y, w, h in truth.values()], np.float32)
            if self.oracle or self.detector is None:
                boxes = gt.reshape(-1, 4)
            else:
                boxes, scores = detect.detect(self.detector, frame.rgb, MIN_SCORE)
                boxes = boxes[detect.distinct(boxes, scores)]
            self._cands = self.grounder.candidates(frame, boxes)
            self._ids = _owners(boxes, gt, gt_ids)
        return self._cands

    def hints(self) -> frozenset[str]:
        """The words that name what the robot sees (categories and looks some candidate
        probably has): speech recognition favours them."""
        c = self.look()
        if len(c) == 0:
            return frozenset()
        names = [
            n
            for i in np.flatnonzero(c.cat.max(0).values.numpy() > HINT_P)
            for n in (CATEGORIES[i], *CATALOG[CATEGORIES[i]].synonyms)
        ]
        names += [LOOKS[i] for i in np.flatnonzero(c.look.max(0).values.numpy() > HINT_P)]
        return frozenset(w for n in names for w in n.split() if w != "and")

    def instruct(
        self, text: str, *, doubtful: bool = False, readings: Sequence[tuple[str, float]] = ()
    ) -> Decision:
        """Read an instruction and decide; the decision carries a question when unsure, and
        also when the words themselves are ``doubtful`` (a transcript the recogniser doubts).
        ``readings`` are the recogniser's readings of spoken words with their shares of its
        belief: the decision weighs what each one means, so readings that disagree on the
        object leave the robot unsure."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("the instruction is empty; say what to move and where")
        c = self.look()
        if len(c) == 0:
            raise InvalidInput("no object is visible in the scene")
        said = weighed(readings)
        slots, *read = self.grounder.read_all([text, *(t for t, _ in said)])
        self._settled, self._asked_about = settled(slots), []
        if read:
            self._logp, dests = self._together([w for _, w in said], read, c)
        else:
            self._logp, dests = self.grounder.score(slots, c), slots["dest"]
        dest = {b: float(p) for b, p in zip(BOXES, dests, strict=True)}
        self._decision = self._decide(dest, asked=0, doubtful=doubtful)
        return self._decision

    def _together(
        self, weights: list[float], read: list[Slots], c: Candidates
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """log P(target) and P(destination) of readings read: each one's, by its weight."""
        w = torch.tensor(weights)[:, None]
        p = (w * torch.stack([self.grounder.score(r, c).exp() for r in read])).sum(0)
        return p.clamp_min(EPS).log(), (w * torch.stack([r["dest"] for r in read])).sum(0)

    def answer(self, text: str, *, readings: Sequence[tuple[str, float]] = ()) -> Decision:
        """Take a free-form answer to the last question (or a correction of the last decision:
        "no, the other one") and decide again; a spoken answer's ``readings`` count as for
        ``instruct``."""
        if self._decision is None or self._logp is None:
            raise InvalidInput("give an instruction before an answer")
        if not text.strip():
            return self._decision
        c = self.look()
        p = self._logp.exp()
        plausible = p / p.max()
        plausible[self._asked_about] = 1.0  # "the left one" is among the options named
        said = weighed(readings) or [(text, 1.0)]
        fits = []
        read = self.grounder.read_all([t for t, _ in said])
        for (words, w), slots in zip(said, read, strict=True):
            with torch.no_grad():
                fit = answer_score(slots, c, plausible)
            if OTHER.search(words.lower()):  # not the one chosen so far
                fit[int(p.argmax())] = float(np.log(EPS))
            fits.append(fit + float(np.log(w)))
        self._logp = (self._logp + torch.stack(fits).logsumexp(0)).log_softmax(0)
        self._decision = self._decide(self._decision.destination_scores, self._decision.asked)
        return self._decision

    def clarify(self, reply: Callable[[str], str | Transcript]) -> Decision:
        """While the last decision holds a question, put it to ``reply`` and take the answer
        (typed text, or a transcript whose readings count); an empty reply lets the decision
        stand. Returns the final decision."""
        if self._decision is None:
            raise InvalidInput("give an instruction before asking for answers")
        d = self._decision
        while d.question:
            said = reply(d.question)
            heard = said if isinstance(said, Transcript) else Transcript.typed(said)
            if not heard.text.strip():
                break
            d = self.answer(heard.text, readings=heard.readings)
        return d

    def named(self) -> list[str]:
        """The scene objects under the candidates the open question names (none without one)."""
        return [i for i in (self._ids[j] for j in self._asked_about) if i is not None]

    def _decide(self, dest: dict[str, float], asked: int, doubtful: bool = False) -> Decision:
        assert self._logp is not None and self._cands is not None
        p = self._logp.exp()
        best = int(p.argmax())
        question = None
        # a doubtful transcript is asked about too, unless asking is off (ask_below 0)
        unsure = float(p[best]) < self.ask_below or (doubtful and self.ask_below > 0)
        if unsure and asked < MAX_QUESTIONS and len(p) > 1:
            self._asked_about = options(p)
            question = ask(self._cands, self._asked_about, self._settled)
            asked += 1
        else:
            self._asked_about = []
        return Decision(
            self._ids[best],
            tuple(float(v) for v in self._cands.boxes[best]),
            max(dest, key=lambda b: dest[b]),
            [float(v) for v in p],
            dest,
            question,
            asked,
        )

    def execute(self) -> Outcome:
        """Pick the decided object and place it in the decided box."""
        d = self._decision
        if d is None:
            raise InvalidInput("nothing to do yet: give an instruction first")
        if self.scene.robot is None:
            raise InvalidInput("this scene was built without the robot")
        if d.target is None:
            return Outcome(False, "no_contact", "the chosen box holds no object")
        done = self.scene.robot.pick_and_place(self.scene.bodies[d.target], d.destination)
        self._cands = self._logp = None  # the table changed: look again, and take a new instruction
        return done


def replies(answers: Iterable[str | Transcript]) -> Callable[[str], str | Transcript]:
    """A ``reply`` for ``Picker.clarify`` that gives ``answers`` in turn, then nothing."""
    it = iter(answers)
    return lambda question: next(it, "")


def weighed(readings: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """Readings the recogniser believes at all, each weighed by its share ** FLATTEN; the
    weights sum to 1. None unless there are two: one reading says what the text says."""
    kept = [(t, share**FLATTEN) for t, share in readings if t.strip() and share > 0]
    if len(kept) < 2:
        return []
    total = sum(w for _, w in kept)
    return [(t, w / total) for t, w in kept]


def _owners(boxes: np.ndarray, gt: np.ndarray, ids: list[str]) -> list[str | None]:
    """Which scene object each candidate box shows (IoU >= 0.5 with its true box), if any."""
    if not len(boxes) or not len(gt):
        return [None] * len(boxes)
    iou = box_iou(torch.as_tensor(boxes).float(), torch.as_tensor(gt).float())
    best = iou.max(1)
    return [ids[int(j)] if float(v) >= 0.5 else None for v, j in zip(*best, strict=True)]


def describe(c: Candidates, i: int, parts: set[str]) -> str:
    """ "the red block in the top left box": the parts that tell the candidates apart."""
    words = []
    if "size" in parts:
        words.append(SIZES[int(c.size[i].argmax())])
    if "look" in parts:
        words.append(LOOKS[int(c.look[i].argmax())])
    words.append(CATALOG[CATEGORIES[int(c.cat[i].argmax())]].name)
    text = "the " + " ".join(words)
    if "box" in parts:
        text += f" in the {BOX_WORDS[BOXES[int(c.box[i].argmax())]][0]} box"
    return text


def options(p: torch.Tensor, k: int = 3) -> list[int]:
    """The candidates worth naming in a question: the likeliest two, and up to ``k`` in all
    while they are at least a tenth as likely as the best."""
    top = [int(i) for i in p.argsort(descending=True)[:k]]
    order = [i for i in top if float(p[i]) >= 0.1 * float(p[top[0]])]
    return order if len(order) > 1 else top[:2]


def settled(slots: dict[str, torch.Tensor]) -> frozenset[str]:
    """What the words already said about the target: its look, size or box."""
    return frozenset(k for k in ("look", "size", "box") if float(slots[k][0]) < 0.5)


def ask(c: Candidates, order: list[int], said: frozenset[str] = frozenset()) -> str:
    """A question naming what tells the candidates ``order`` apart, never what the instruction
    already ``said`` (asking "the red mug or the orange mug?" after "the red mug" is no help)."""
    parts = {
        name
        for name, probs in (("look", c.look), ("size", c.size), ("box", c.box))
        if name not in said and len({int(probs[i].argmax()) for i in order}) > 1
    }
    if parts or len({int(c.cat[i].argmax()) for i in order}) > 1:  # each with its own noun
        options = [describe(c, i, parts) for i in order]
    else:  # same kind, same looks, same box: only where they lie tells them apart
        noun = describe(c, order[0], set())
        where = ("on the left", "in the middle", "on the right")
        options = [f"{noun} {w}" for w in (where[::2] if len(order) == 2 else where)]
    return "Do you mean " + ", ".join(options[:-1]) + " or " + options[-1] + "?"
