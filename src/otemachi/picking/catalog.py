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
