"""Models whose map cannot be trusted are refused (issue 16): the ONNX checksum covers graph, weights and
metadata, and NaN/inf probabilities fail the run naming the model, with nothing published."""
import json
import os

import numpy as np
import pytest

from floodkd.cli.main import main
from floodkd.core.models.checkpoint import save_checkpoint

BUNDLED_ONNX = os.path.join(os.path.dirname(__file__), "..", "..", "resources", "models",
                            "floodkd_s1_student.onnx")


@pytest.fixture
def exported(exported_onnx):
    return exported_onnx


def segment(capsys, scene, out, model, *more):
    code = main(["segment", str(scene), str(out), "--model", str(model), *more])
    return code, capsys.readouterr().err


def edit_metadata(proto, change):
    for prop in proto.metadata_props:
        if prop.key == "floodkd_checkpoint":
            meta = json.loads(prop.value)
            change(meta)
            prop.value = json.dumps(meta)


def swap_classes(meta):
    meta["classes"] = meta["classes"][::-1]  # an inverted map


def widen_clip(meta):
    meta["bands"][1]["low"], meta["bands"][1]["high"] = -300.0, 300.0  # VH squashed: a different map


def rename_node(proto):
    proto.graph.node[0].name = proto.graph.node[0].name + "_edited"


@pytest.mark.parametrize("edit", ["classes", "clip", "graph"])
def test_an_edited_onnx_model_is_refused(spain_s1, exported, tmp_path, capsys, edit):
    import onnx

    proto = onnx.load(str(exported))
    if edit == "graph":
        rename_node(proto)
    else:
        edit_metadata(proto, swap_classes if edit == "classes" else widen_clip)
    onnx.save(proto, str(tmp_path / "edited.onnx"))
    code, err = segment(capsys, spain_s1, tmp_path / "o.tif", tmp_path / "edited.onnx")
    assert code == 2 and "do not match the checksum recorded at export" in err, err
    assert not (tmp_path / "o.tif").exists()


def test_an_onnx_with_only_the_former_weights_checksum_is_refused_with_advice(spain_s1, exported, tmp_path,
                                                                               capsys):
    import onnx

    from floodkd.core.models.onnx_weights import MODEL_KEY, WEIGHTS_KEY, inspect_weights

    proto = onnx.load(str(exported))
    kept = [(p.key, p.value) for p in proto.metadata_props if p.key != MODEL_KEY]
    del proto.metadata_props[:]
    for key, value in kept + [(WEIGHTS_KEY, inspect_weights(proto.SerializeToString())[0])]:
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(tmp_path / "old.onnx"))
    code, err = segment(capsys, spain_s1, tmp_path / "o.tif", tmp_path / "old.onnx")
    assert code == 2 and "older floodkd whose checksum covers only the weights" in err and "export-onnx" in err


def test_the_bundled_onnx_carries_the_model_checksum():
    pytest.importorskip("onnxruntime")
    from floodkd.core.models.onnx_export import verify_onnx_bytes
    from floodkd.core.models.onnx_weights import MODEL_KEY, model_digest
    from floodkd.core.predict.onnx_predictor import _session

    data = open(BUNDLED_ONNX, "rb").read()
    session, _ = _session(BUNDLED_ONNX, "cpu", 1)
    meta = dict(session.get_modelmeta().custom_metadata_map)
    assert meta[MODEL_KEY] == model_digest(data)
    verify_onnx_bytes(data, meta, BUNDLED_ONNX)


@pytest.fixture(scope="module")
def nan_checkpoint(tiny_s1_checkpoint, tmp_path_factory):
    """Finite weights, NaN output: a BatchNorm with a negative running variance."""
    import torch

    ckpt = torch.load(tiny_s1_checkpoint, weights_only=True)
    name = next(k for k in ckpt["state_dict"] if k.endswith("running_var"))
    ckpt["state_dict"][name] = -torch.ones_like(ckpt["state_dict"][name])
    path = tmp_path_factory.mktemp("nan") / "negative_variance.pt"
    save_checkpoint(ckpt, str(path))
    return path


def test_nan_probabilities_of_a_checkpoint_fail_the_run_naming_the_model(spain_s1, nan_checkpoint, tmp_path,
                                                                          capsys):
    code, err = segment(capsys, spain_s1, tmp_path / "o.tif", nan_checkpoint, "--probability",
                        str(tmp_path / "p.tif"), "--stats", str(tmp_path / "s.json"))
    assert code == 2 and "NaN or infinite water probabilities" in err and str(nan_checkpoint) in err, err
    assert os.listdir(tmp_path) == []


def test_nan_probabilities_of_an_onnx_graph_fail_the_run(spain_s1, exported, tmp_path, capsys):
    import onnx
    from onnx import TensorProto, helper

    from floodkd.core.models.onnx_export import sign_onnx

    proto = onnx.load(str(exported))
    out = proto.graph.output[0].name
    for node in proto.graph.node:
        node.output[:] = [o if o != out else "before_nan" for o in node.output]
    proto.graph.node.extend([
        helper.make_node("Constant", [], ["nan_value"], value=helper.make_tensor("nan", TensorProto.FLOAT, [],
                                                                                 [float("nan")])),
        helper.make_node("Mul", ["before_nan", "nan_value"], [out])])
    sign_onnx(proto)  # a model exported like this, checksum and all
    onnx.save(proto, str(tmp_path / "nan.onnx"))
    code, err = segment(capsys, spain_s1, tmp_path / "o.tif", tmp_path / "nan.onnx")
    assert code == 2 and "NaN or infinite water probabilities" in err and "nan.onnx" in err, err
    assert sorted(os.listdir(tmp_path)) == ["nan.onnx"]


def test_evaluate_refuses_nan_probabilities_instead_of_scoring_zero(nan_checkpoint, shared, capsys):
    root = shared("sen1floods11")
    code = main(["evaluate", "--dataset", "sen1floods11", "--root", str(root), "--split", "bolivia",
                 "--model", str(nan_checkpoint), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "NaN or infinite water probabilities" in err and str(nan_checkpoint) in err, err


def test_unknown_device_is_refused_with_onnx(spain_s1, exported, tmp_path, capsys):
    code, err = segment(capsys, spain_s1, tmp_path / "o.tif", exported, "--device", "banana")
    assert code == 2 and "unknown DEVICE 'banana'" in err and "auto, cpu, cuda" in err
    assert not (tmp_path / "o.tif").exists()


def test_export_onnx_destinations_are_checked_like_segments(tiny_s1_checkpoint, tmp_path, capsys):
    pytest.importorskip("onnx")
    ckpt_copy = tmp_path / "m.onnx"  # a checkpoint that happens to be named .onnx
    ckpt_copy.write_bytes(tiny_s1_checkpoint.read_bytes())
    assert main(["export-onnx", str(ckpt_copy), str(ckpt_copy)]) == 2
    assert "is the same file as CHECKPOINT" in capsys.readouterr().err
    assert ckpt_copy.read_bytes() == tiny_s1_checkpoint.read_bytes()
    assert main(["export-onnx", str(tiny_s1_checkpoint), str(tmp_path / "m.txt")]) == 2
    assert "end in .onnx" in capsys.readouterr().err
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "out.onnx").symlink_to(victim)
    assert main(["export-onnx", str(tiny_s1_checkpoint), str(tmp_path / "out.onnx")]) == 0
    assert victim.read_text() == "precious" and not (tmp_path / "out.onnx").is_symlink()
    (tmp_path / "out.onnx").chmod(0o444)
    assert main(["export-onnx", str(tiny_s1_checkpoint), str(tmp_path / "out.onnx")]) == 2
    assert "write-protected" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["m.onnx", "out.onnx", "victim.txt"]
