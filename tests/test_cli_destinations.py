"""evaluate and quicklook outputs go through segment's destination checks (issue 16): never an input, a
dataset file or a model, never through a link, published all or none, protected files refused."""
import os
import stat

import pytest

from floodkd.cli.main import main


@pytest.fixture
def dataset(writable_sen1floods11):
    return writable_sen1floods11


def run(capsys, *args):
    code = main(list(map(str, args)))
    return code, capsys.readouterr().err


def evaluate(capsys, root, *more):
    return run(capsys, "evaluate", "--dataset", "sen1floods11", "--root", root, "--split", "bolivia",
               "--method", "otsu", *more)


def label_of(root):
    return root / "LabelHand" / "Bolivia_312675_LabelHand.tif"


@pytest.mark.parametrize("option", ["--csv", "--panel"])
def test_evaluate_never_writes_over_a_dataset_file(capsys, dataset, option):
    label = label_of(dataset)
    before = label.read_bytes()
    code, err = evaluate(capsys, dataset, option, label.with_suffix(".csv" if option == "--csv" else ".png"))
    assert code == 0, err  # a new file beside the data is fine
    for target in (label, dataset / "S1Hand" / "Bolivia_312675_S1Hand.tif"):
        code, err = evaluate(capsys, dataset, option, target)
        assert code == 2 and ("is a file of the dataset" in err or "must end in" in err), err
    assert label.read_bytes() == before


def test_evaluate_never_writes_over_its_model(capsys, dataset, tiny_s1_checkpoint, tmp_path):
    model = tmp_path / "model.csv"  # a model file named like the CSV
    model.write_bytes(tiny_s1_checkpoint.read_bytes())
    code, err = run(capsys, "evaluate", "--dataset", "sen1floods11", "--root", dataset, "--split", "bolivia",
                    "--model", model, "--device", "cpu", "--csv", model)
    assert code == 2 and "is the same file as MODEL" in err, err
    assert model.read_bytes() == tiny_s1_checkpoint.read_bytes()


def test_evaluate_outputs_are_published_together_and_never_through_a_link(capsys, dataset, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / "m.csv").symlink_to(victim)
    code, err = evaluate(capsys, dataset, "--csv", out / "m.csv", "--panel", out / "p.png")
    assert code == 0, err
    assert victim.read_text() == "precious"  # the link was replaced, not written through
    assert not (out / "m.csv").is_symlink() and "water_iou" in (out / "m.csv").read_text()
    assert sorted(os.listdir(out)) == ["m.csv", "p.png"]
    code, err = evaluate(capsys, dataset, "--csv", out / "new.csv", "--panel", out / "p.png", "--panel-ids", "nope")
    assert code == 2 and not (out / "new.csv").exists()


def test_a_write_protected_earlier_output_is_refused_and_stays_protected(capsys, dataset, tmp_path):
    csv = tmp_path / "m.csv"
    csv.write_text("earlier")
    csv.chmod(0o444)
    code, err = evaluate(capsys, dataset, "--csv", csv)
    assert code == 2 and "write-protected" in err
    assert csv.read_text() == "earlier" and stat.S_IMODE(csv.stat().st_mode) == 0o444


def test_evaluate_on_labels_that_are_only_nodata_is_refused(capsys, dataset):
    import numpy as np
    import rasterio

    for label in (dataset / "LabelHand").iterdir():
        with rasterio.open(label, "r+") as ds:
            ds.write(np.full((ds.height, ds.width), -1, ds.dtypes[0]), 1)
    code, err = evaluate(capsys, dataset)
    assert code == 2 and "no labelled pixel" in err, err


@pytest.fixture
def classes(spain_s1, tmp_path, capsys):
    out = tmp_path / "classes.tif"
    code, err = run(capsys, "segment", spain_s1, out, "--method", "otsu")
    assert code == 0, err
    return out


@pytest.mark.parametrize("which", ["scene", "classes"])
def test_quicklook_never_overwrites_its_inputs(capsys, scene_copy, classes, which):
    # the class raster made from the chip also matches the copy's grid
    target = scene_copy if which == "scene" else classes
    before = target.read_bytes()
    code, err = run(capsys, "quicklook", scene_copy, classes, target)
    assert code == 2 and ("is the same file as" in err or "must end in .png" in err), err
    png_named = target.with_suffix(".png")
    os.link(target, png_named)  # the same file under a .png name
    code, err = run(capsys, "quicklook", scene_copy, classes, png_named)
    assert code == 2 and "is the same file as" in err, err
    assert target.read_bytes() == before


def test_quicklook_into_a_missing_folder_and_bad_max_side(capsys, spain_s1, classes, tmp_path):
    code, err = run(capsys, "quicklook", spain_s1, classes, tmp_path / "new" / "q.png", "--max-side", "0")
    assert code == 2 and "--max-side must be a positive" in err and "Traceback" not in err
    assert not (tmp_path / "new").exists()
    code, err = run(capsys, "quicklook", spain_s1, classes, tmp_path / "new" / "q.png")
    assert code == 0, err
    assert (tmp_path / "new" / "q.png").read_bytes()[:4] == b"\x89PNG"


def test_quicklook_refuses_a_class_raster_of_another_scene(capsys, india_s1, classes, tmp_path):
    code, err = run(capsys, "quicklook", india_s1, classes, tmp_path / "q.png")
    assert code == 2 and "is not on the grid of the scene" in err, err
    assert not (tmp_path / "q.png").exists()
