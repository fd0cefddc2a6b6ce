"""Corrupted or foreign models are refused with a clear message, never run into a NaN map (issue 9)."""
import os
import struct
import zipfile

import numpy as np
import pytest

from floodkd.core.models.checkpoint import load_checkpoint, save_checkpoint
from floodkd.core.errors import CheckpointError
from floodkd.cli.main import main


def data_offset(path, member):
    """Where ``member``'s bytes start in the zip (torch stores tensors uncompressed)."""
    info = zipfile.ZipFile(path).getinfo(member)
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        header = fh.read(30)
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len, info.file_size


def overwrite(path, offset, data):
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def corrupted_copy(src, dst):
    """``src`` with 64 bytes of its largest tensor overwritten by 0xff (NaN as float32), as a bad disk does."""
    dst.write_bytes(src.read_bytes())
    members = [i for i in zipfile.ZipFile(dst).infolist() if "/data/" in i.filename]
    largest = max(members, key=lambda i: i.file_size).filename
    offset, size = data_offset(dst, largest)
    overwrite(dst, offset + size // 2, b"\xff" * 64)
    return dst


def segment(capsys, *args):
    code = main(["segment", *args])
    return code, capsys.readouterr().err


def test_checkpoint_with_corrupted_bytes_is_refused(spain_s1, tiny_s1_checkpoint, tmp_path, capsys):
    bad = corrupted_copy(tiny_s1_checkpoint, tmp_path / "bad.pt")
    code, err = segment(capsys, str(spain_s1), str(tmp_path / "o.tif"), "--model", str(bad))
    assert code == 2 and "is corrupted" in err and "NaN or infinite" in err
    assert not (tmp_path / "o.tif").exists()
    code, err = main(["export-onnx", str(bad), str(tmp_path / "m.onnx")]), capsys.readouterr().err
    assert code == 2 and "NaN or infinite" in err and not (tmp_path / "m.onnx").exists()


def edited_checkpoint(src, dst, **changes):
    import torch

    ckpt = torch.load(src, weights_only=True)
    ckpt.update(changes)
    save_checkpoint(ckpt, str(dst))
    return str(dst)


@pytest.mark.parametrize("changes,message", [
    ({"arch": "segformer"}, "names architecture 'segformer', which floodkd cannot build"),
    ({"encoder": "resnet999"}, "cannot be built by this floodkd"),
])
def test_unknown_architecture_or_encoder_is_a_checkpoint_error(spain_s1, tiny_s1_checkpoint, tmp_path, capsys,
                                                               changes, message):
    odd = edited_checkpoint(tiny_s1_checkpoint, tmp_path / "odd.pt", **changes)
    code, err = segment(capsys, str(spain_s1), str(tmp_path / "o.tif"), "--model", odd)
    assert code == 2 and message in err and "Traceback" not in err
    assert main(["export-onnx", odd, str(tmp_path / "m.onnx")]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("transform,message", [
    ("db_to_ombria_byte", "Read it with floodkd 0.1.0"),
    ("log_ratio", "does not know"),
])
def test_a_retired_or_unknown_input_transform_is_refused_before_any_work(spain_s1, tiny_s1_checkpoint, tmp_path,
                                                                         capsys, transform, message):
    old = edited_checkpoint(tiny_s1_checkpoint, tmp_path / "old.pt", input_transform=transform, in_channels=1)
    code, err = segment(capsys, str(spain_s1), str(tmp_path / "o.tif"), "--model", old)
    assert code == 2 and message in err and f"'{transform}'" in err and "Traceback" not in err
    assert not (tmp_path / "o.tif").exists()
    assert main(["export-onnx", old, str(tmp_path / "m.onnx")]) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "m.onnx").exists()


def test_pickled_objects_are_refused_without_torchs_unsafe_advice(tmp_path):
    import torch

    torch.save({"format": "floodkd-checkpoint", "payload": zipfile.ZipInfo("x")}, tmp_path / "obj.pt")
    with pytest.raises(CheckpointError) as refused:
        load_checkpoint(str(tmp_path / "obj.pt"))
    text = str(refused.value)
    assert "never unpickles" in text and "weights_only" not in text and "trust" not in text


@pytest.mark.parametrize("role,hint,not_hint", [
    ("teacher", "--teacher", "bundled default"),
    ("evaluate", "--method otsu", "bundled default"),
    ("model", "bundled default", "--teacher"),
])
def test_not_found_advice_depends_on_the_role(tmp_path, role, hint, not_hint):
    with pytest.raises(CheckpointError) as missing:
        load_checkpoint(str(tmp_path / "nope.pt"), role=role)
    assert hint in str(missing.value) and not_hint not in str(missing.value)


def test_distill_with_a_missing_teacher_does_not_suggest_the_bundled_default(tmp_path, capsys):
    root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "sen1floods11")
    if not os.path.isdir(root):
        pytest.skip("real data not available: ../shared/data/sen1floods11")
    code = main(["distill", "--dataset", "sen1floods11", "--root", root, "--split", "all", "--val-split", "none",
                 "--teacher", str(tmp_path / "missing_teacher.pt"), "--out", str(tmp_path / "student"),
                 "--epochs", "1", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "missing_teacher.pt" in err and "--teacher" in err and "bundled default" not in err


@pytest.fixture
def exported(exported_onnx):
    return exported_onnx


def largest_initializer(path):
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(path))
    init = max(proto.graph.initializer, key=lambda t: len(t.raw_data))
    return proto, init, numpy_helper


def test_export_records_the_model_checksum_and_a_good_copy_runs(spain_s1, exported, tmp_path, capsys):
    import onnx

    from floodkd.core.models.onnx_weights import MODEL_KEY, inspect_weights, model_digest

    meta = {p.key: p.value for p in onnx.load(str(exported)).metadata_props}
    digest, count, bad, external = inspect_weights(exported.read_bytes())
    assert meta[MODEL_KEY] == model_digest(exported.read_bytes()) != digest
    assert count > 10 and bad == [] and external == []
    code, err = segment(capsys, str(spain_s1), str(tmp_path / "o.tif"), "--model", str(exported))
    assert code == 0, err


def test_onnx_with_changed_weight_bytes_fails_the_checksum(spain_s1, exported, tmp_path, capsys):
    _, init, _ = largest_initializer(exported)
    data = exported.read_bytes()
    at = data.find(init.raw_data[:256])
    assert at > 0
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(data)
    overwrite(bad, at + 1024, np.full(16, 0.5, "<f4").tobytes())  # finite, but not the exported weights
    code, err = segment(capsys, str(spain_s1), str(tmp_path / "o.tif"), "--model", str(bad))
    assert code == 2 and "do not match the checksum recorded at export" in err
    assert not (tmp_path / "o.tif").exists()


def test_onnx_with_non_finite_weights_is_refused(spain_s1, exported, tmp_path, capsys):
    import onnx

    from floodkd.core.models.onnx_export import sign_onnx

    proto, init, numpy_helper = largest_initializer(exported)
    values = numpy_helper.to_array(init).copy()
    values.flat[0] = np.inf
    init.CopyFrom(numpy_helper.from_array(values, init.name))
    sign_onnx(proto)  # even with a matching checksum
    onnx.save(proto, str(tmp_path / "inf.onnx"))
    code, err = segment(capsys, str(spain_s1), str(tmp_path / "o.tif"), "--model", str(tmp_path / "inf.onnx"))
    assert code == 2 and "NaN or infinite" in err and init.name in err


@pytest.mark.parametrize("key,value,message", [
    ("floodkd_checkpoint", "{not json", "is not JSON"),
    ("floodkd_sha256", None, "carries no checksum"),
])
def test_onnx_metadata_problems_are_clear(spain_s1, exported, tmp_path, capsys, key, value, message):
    import onnx

    from floodkd.core.models.onnx_export import sign_onnx

    proto = onnx.load(str(exported))
    kept = [(p.key, p.value) for p in proto.metadata_props if p.key != key]
    del proto.metadata_props[:]
    for k, v in kept + ([(key, value)] if value is not None else []):
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    if key != "floodkd_sha256":
        sign_onnx(proto)  # the metadata itself is what is wrong, not the checksum
    onnx.save(proto, str(tmp_path / "odd.onnx"))
    code, err = segment(capsys, str(spain_s1), str(tmp_path / "o.tif"), "--model", str(tmp_path / "odd.onnx"))
    assert code == 2 and message in err and "Traceback" not in err
