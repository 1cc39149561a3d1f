"""Object catalog: categories built from pybullet_data meshes and primitives, with the names and
synonyms language uses, colours, and sizes."""

from dataclasses import dataclass

COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.1, 0.1),
    "green": (0.1, 0.65, 0.2),
    "blue": (0.1, 0.3, 0.9),
    "yellow": (0.95, 0.85, 0.1),
    "orange": (1.0, 0.5, 0.05),
    "purple": (0.55, 0.2, 0.75),
    "pink": (1.0, 0.5, 0.7),
    "white": (0.95, 0.95, 0.95),
    "black": (0.08, 0.08, 0.08),
    "brown": (0.5, 0.3, 0.12),
    "gray": (0.5, 0.5, 0.5),
}
SIZE_SCALES = {"small": 1.0, "large": 1.45}  # scale on the category's base footprint


@dataclass(frozen=True)
class Category:
    """A kind of object. ``source`` is a pybullet_data file or a primitive name."""

    name: str  # display name
    synonyms: tuple[str, ...]
    source: str  # "urdf:<path>", "mesh:<path>", or "box" / "sphere" / "cylinder"
    extent: float  # largest horizontal side of a small one, metres
    natural: str | None = None  # colour name of a textured model's own look (None: must colour it)
    height: float = 0.0  # primitives: height as a fraction of extent (0 = same as extent)
    describe: str = ""  # what people also say about its look, e.g. "black and white"
    squash: float = 1.0  # meshes: vertical scale relative to horizontal (keeps tall ones upright)

    def description(self) -> tuple[str, ...]:
        """Every phrase of its description (see DESCRIPTIONS)."""
        return tuple(p for part in DESCRIPTIONS[self.name].values() for p in part)


CATALOG: dict[str, Category] = {
    c.name: c
    for c in (
        Category("duck", ("rubber duck", "duckie"), "urdf:duck_vhacd.urdf", 0.05, "yellow"),
        Category(
            "teddy bear",
            ("teddy", "bear", "stuffed animal", "plush toy"),
            "urdf:teddy_vhacd.urdf",
            0.06,
            "brown",
        ),
        Category("mug", ("cup", "coffee mug"), "urdf:objects/mug.urdf", 0.05, "white"),
        Category(
            "soccer ball",
            ("football", "black and white ball"),
            "urdf:soccerball.urdf",
            0.05,
            "white",
            describe="black and white",
        ),
        Category("ball", ("sphere", "plain ball"), "sphere", 0.04, "white"),
        Category("block", ("cube", "box"), "box", 0.035, "white"),
        Category("can", ("cylinder", "tin"), "cylinder", 0.035, "white", height=1.3),
        Category(
            "prism",
            ("triangular block", "wedge"),
            "mesh:toys/prism.obj",
            0.045,
            "white",
            squash=0.45,
        ),
        Category(
            "ring", ("torus", "donut"), "mesh:torus/torus_textured.obj", 0.05, describe="colorful"
        ),
        Category("lego brick", ("lego", "brick"), "urdf:lego/lego.urdf", 0.035),
        Category("rabbit", ("bunny",), "mesh:bunny.obj", 0.05, "white"),
        Category(
            "jenga block",
            ("long wooden block", "wooden block"),
            "urdf:jenga/jenga.urdf",
            0.07,
            "brown",
        ),
    )
}

# The words for what an object is and looks like, shared by the reader, the looks model, the
# scorer and the questions.
CATEGORIES = tuple(sorted(CATALOG))
LOOKS = (*COLORS, "black and white", "colorful")
SIZES = tuple(SIZE_SCALES)  # small, large


# What each kind of object is like, for people who describe it instead of naming it: its shape
# and material (said before a vague noun: "the triangular thing"), its parts ("the thing with a
# handle"), its use ("the thing that holds coffee or tea") and other everyday names of its kind
# ("the bath toy"), said alone.
DESCRIPTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "duck": {
        "shape": ("bird-shaped", "beaked", "bird-like"),
        "material": ("rubber", "squeaky", "rubbery"),
        "parts": ("a beak", "a flat bill", "a little tail", "an orange beak", "little wings"),
        "use": ("that floats in a bathtub", "that children play with at bath time",
                "for the bath", "that quacks", "that swims in a pond"),
        "kind": ("bath toy", "squeaky toy", "little bird", "waterfowl toy"),
    },
    "teddy bear": {
        "shape": ("fluffy", "fuzzy", "cuddly"),
        "material": ("plush", "furry", "soft", "woolly"),
        "parts": ("little ears and paws", "stitched eyes", "fuzzy paws", "round ears",
                  "a button nose"),
        "use": ("that a child cuddles in bed", "that kids hug", "that sleeps with a child",
                "to cuddle"),
        "kind": ("soft toy", "cuddly toy", "toy animal", "plushie", "cuddle toy"),
    },
    "mug": {
        "shape": ("hollow", "handled", "cup-shaped"),
        "material": ("ceramic", "porcelain", "china"),
        "parts": ("a handle", "a handle on one side", "a loop handle", "an open top"),
        "use": ("that holds coffee or tea", "for hot drinks", "for drinking",
                "you drink out of", "you could pour water into", "for your morning coffee"),
        "kind": ("drinking vessel", "teacup", "beaker"),
    },
    "soccer ball": {
        "shape": ("round", "spherical", "patterned"),
        "material": ("leather", "stitched", "patchwork"),
        "parts": ("black pentagons", "black and white patches", "a hexagon pattern"),
        "use": ("for playing football", "that players kick around a pitch",
                "that you kick", "for scoring goals"),
        "kind": ("footy", "kickball"),
    },
    "ball": {
        "shape": ("round", "spherical", "globe-shaped"),
        "material": ("smooth", "bouncy", "plain"),
        "parts": ("no corners", "no edges", "a smooth surface"),
        "use": ("that rolls away", "for throwing and catching", "that bounces", "that rolls"),
        "kind": ("marble", "orb", "bouncy toy"),
    },
    "block": {
        "shape": ("cube-shaped", "square", "boxy", "cubic", "dice-shaped"),
        "material": ("solid", "wooden", "painted"),
        "parts": ("six flat faces", "sharp corners", "square sides", "equal sides"),
        "use": ("for building towers", "that kids stack up", "for stacking"),
        "kind": ("building block", "toy cube", "dice"),
    },
    "can": {
        "shape": ("cylindrical", "round-topped", "tube-shaped", "tubular"),
        "material": ("metal", "aluminium", "tin-plated", "steel"),
        "parts": ("a flat lid", "a rim around the top", "a round top", "a round base"),
        "use": ("that holds beans", "for canned food", "for storing food", "for soup",
                "that holds soda"),
        "kind": ("canister", "soda tin", "food tin", "pot"),
    },
    "prism": {
        "shape": ("triangular", "three-sided", "ramp-shaped", "triangle-shaped", "slanted"),
        "material": ("wooden", "plastic", "foam"),
        "parts": ("a sloped side", "three rectangular faces", "a slanted top",
                  "triangular ends", "a pointy top"),
        "use": ("for building ramps", "that props a door open", "for holding a door open"),
        "kind": ("triangle", "doorstop", "ramp", "roof piece"),
    },
    "ring": {
        "shape": ("hoop-shaped", "circular", "tyre-shaped", "doughnut-shaped", "round"),
        "material": ("inflatable", "rubber", "striped"),
        "parts": ("a hole through it", "a hollow centre", "a hole in the middle",
                  "a hole in its middle"),
        "use": ("that keeps a swimmer afloat", "that you toss onto a peg", "for swimming",
                "for the pool"),
        "kind": ("life buoy", "swim ring", "hoop", "rubber tyre", "bagel", "float"),
    },
    "lego brick": {
        "shape": ("rectangular", "studded", "bumpy"),
        "material": ("plastic", "hard plastic", "shiny plastic"),
        "parts": ("studs on top", "bumps on top", "little knobs on top", "dots on top"),
        "use": ("that snaps onto others", "for building models", "that clicks together",
                "that hurts when you step on it"),
        "kind": ("toy brick", "building piece", "construction toy"),
    },
    "rabbit": {
        "shape": ("hare-shaped", "whiskered", "long-eared", "big-eared"),
        "material": ("porcelain", "ceramic", "stone"),
        "parts": ("long floppy ears", "a fluffy tail", "a twitchy nose", "big ears",
                  "long ears", "a cotton tail"),
        "use": ("that hops around", "that eats carrots", "that lives in a burrow",
                "that hops"),
        "kind": ("hare", "easter animal", "figurine", "little statue"),
    },
    "jenga block": {
        "shape": ("long", "stick-shaped", "bar-shaped", "plank-shaped", "oblong"),
        "material": ("wooden", "pine", "timber"),
        "parts": ("flat long sides", "grain lines", "a wood grain", "rounded edges"),
        "use": ("from a tower game", "that you pull out of a wobbly tower",
                "from a stacking game"),
        "kind": ("wooden stick", "plank", "wooden bar", "stick of wood"),
    },
}  # fmt: skip
assert set(DESCRIPTIONS) == set(CATALOG)
