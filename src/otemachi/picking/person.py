"""A simulated person at the table who knows which object they meant: asked "Do you mean the red
block or the blue block?", they pick their object out of the ones the question named, the way
the instruction generator's answers do ("the red one", "the one in the top left box", "the one on
the left"), and name it when the question missed it ("the green lego"). Evaluation lets them
answer the questions an episode carries no answer to."""

from dataclasses import dataclass

from otemachi.core.seeding import rng
from otemachi.picking.answers import clarify
from otemachi.picking.language import Ctx
from otemachi.picking.scenes import SceneSpec, layout


@dataclass
class Person:
    """The person who gave the instruction about ``target`` in ``spec``."""

    spec: SceneSpec
    target: str
    seed: int = 0

    def __post_init__(self) -> None:
        self._ctx = Ctx(self.spec, rng(self.seed, "picking", "person", self.target),
                        layout(self.spec))  # fmt: skip

    def answer(self, named: list[str]) -> str:
        """What they say to a question naming the objects ``named`` (scene ids): the words that
        tell their own object from those, with its noun when it is not among them ("the green
        lego" to "the red block or the blue block?")."""
        pool = [o for o in self.spec.objects if o.id in {*named, self.target}]
        naming = self.target not in named
        return clarify(self._ctx, self.spec.by_id(self.target), pool, naming)[0]
