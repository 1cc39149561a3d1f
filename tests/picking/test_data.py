import json
from pathlib import Path

import pytest
from PIL import Image

from otemachi.core.errors import InvalidInput, NotFound
from otemachi.picking import data as dataset

REAL = {"image_file": "1.png", "pcd_file": "1.pcd", "objects": [
    {"dest_box": "tl", "bbox": {"x": 649.73, "y": 654.03, "width": 171.18, "height": 235.91},
     "instructions": ["Put the green package next to the mustard in the first box on the left.",
                      "pick up the green sachet and put it in the upper left box"]},
]}  # fmt: skip


def test_reads_pfn_pic_layout(tmp_path: Path) -> None:
    (tmp_path / "image_file").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "image_file" / "1.png")
    (tmp_path / "en.train.jsonl").write_text(json.dumps(REAL) + "\n")
    [img] = dataset.read(tmp_path)
    assert img.image == tmp_path / "image_file" / "1.png" and img.image.exists()
    assert img.objects[0].bbox == (649.73, 654.03, 171.18, 235.91)
    assert img.objects[0].dest_box == "tl" and len(img.objects[0].instructions) == 2


def test_generate_then_read(tmp_path: Path) -> None:
    counts = dataset.generate(tmp_path, scenes=3, seed=5)
    assert counts["train"] == 2 and counts["validation"] == 1
    train, val = dataset.read(tmp_path, "train"), dataset.read(tmp_path, "validation")
    assert len(train) == 2 and len(val) == 1
    for img in train + val:
        assert img.image.exists()
        w, h = Image.open(img.image).size
        for o in img.objects:
            x, y, bw, bh = o.bbox
            assert 0 <= x < w and 0 <= y < h and bw > 0 and bh > 0
            assert o.dest_box != o.extra["box"] and o.instructions
    assert sum(len(i.objects) for i in train + val) == counts["objects"]


def test_malformed_lines_name_the_line(tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").write_text(json.dumps(REAL) + "\n{oops\n")
    with pytest.raises(InvalidInput, match=r"train\.jsonl line 2"):
        dataset.read(tmp_path)
    bad = {**REAL, "objects": [{**REAL["objects"][0], "dest_box": "middle"}]}
    (tmp_path / "train.jsonl").write_text(json.dumps(bad) + "\n")
    with pytest.raises(InvalidInput, match=r"line 1 objects\[0\]: dest_box"):
        dataset.read(tmp_path)
    (tmp_path / "train.jsonl").write_text('["a list, not a record"]\n')
    with pytest.raises(InvalidInput, match="line 1: expected an object"):
        dataset.read(tmp_path)
    with pytest.raises(NotFound):
        dataset.read(tmp_path / "nowhere")
