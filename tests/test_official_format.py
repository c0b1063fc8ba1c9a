"""The official NAS-Bench-101 file format: TFRecord framing, record content, writer and converter."""
import base64
import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from np_lib.nasbench101 import official, tfrecord
from np_lib.nasbench101.cell import CellArray
from np_lib.nasbench101.space import random_cell

FULL = (4, 12, 36, 108)


def real_cells(n: int, seed: int = 0) -> CellArray:
    cells = {}
    for k in range(1000):
        cell = random_cell(seed * 1000 + k)
        cells.setdefault(cell.hash, cell)
        if len(cells) == n:
            return CellArray.from_cells(cells.values())
    raise AssertionError("too few distinct cells")


@pytest.fixture(scope="module")
def cells():
    return real_cells(6)


def write(path, cells, epochs=FULL, seed=0, **kwargs):
    metrics = official.synthetic_metrics(len(cells), epochs=epochs, seed=seed)
    official.write_official_file(path, cells, metrics, **kwargs)
    return metrics


def records(path):
    return list(tfrecord.iter_records(path))


# --- TFRecord framing -----------------------------------------------------------

def test_masked_crc_matches_tensorflow():
    # CRC32C check value of "123456789" is 0xE3069283; TensorFlow masks it as documented.
    crc = 0xE3069283
    assert tfrecord.masked_crc(b"123456789") == ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) % 2**32


def test_tfrecord_round_trip_with_offsets(tmp_path):
    payloads = [b"", b"a", bytes(range(256)) * 3, b"last"]
    path = tmp_path / "x.tfrecord"
    assert tfrecord.write_records(path, payloads) == 4
    got = records(path)
    assert [d for _, d in got] == payloads
    sizes = [tfrecord.HEADER_SIZE + len(p) + tfrecord.FOOTER_SIZE for p in payloads]
    assert [o for o, _ in got] == np.concatenate([[0], np.cumsum(sizes)[:-1]]).tolist()
    assert path.stat().st_size == sum(sizes)
    empty = tmp_path / "empty.tfrecord"
    assert tfrecord.write_records(empty, []) == 0
    assert empty.stat().st_size == 0 and records(empty) == []


def test_write_records_is_atomic(tmp_path):
    path = tmp_path / "x.tfrecord"

    def failing():
        yield b"one"
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        tfrecord.write_records(path, failing())
    assert list(tmp_path.iterdir()) == []


# --- record content -----------------------------------------------------------------

def test_records_are_in_the_official_layout(tmp_path, cells):
    path = tmp_path / "nasbench_full.tfrecord"
    metrics = write(path, cells)
    got = records(path)
    assert len(got) == len(cells) * 4 * 3
    data = got[0][1]
    row = json.loads(data)
    assert data == json.dumps(row).encode()  # json.dumps defaults: ", " separators
    module_hash, epochs, adjacency, operations, raw = row
    assert (module_hash, epochs) == (cells.hashes[0], 4)
    k = int(cells.num_vertices[0])
    assert adjacency == "".join(map(str, cells.matrices[0, :k, :k].ravel()))
    assert operations == ",".join(cells[0].op_names)
    assert raw == base64.encodebytes(base64.b64decode(raw)).decode()  # 76-char lines, trailing newline
    assert "\n" in raw and raw.endswith("\n")
    message = official.model_metrics_class().FromString(base64.b64decode(raw))
    assert [e.current_epoch for e in message.evaluation_data] == [0, 2, 4]
    assert message.trainable_parameters == metrics.trainable_parameters[0]
    final = message.evaluation_data[2]
    assert final.validation_accuracy == metrics.validation_accuracy[0, 0, 0, 2]
    assert final.test_accuracy == metrics.test_accuracy[0, 0, 0, 2]
    assert final.training_time == metrics.training_time[0, 0, 0, 2]
    # proto2 serialises set fields even when zero: 3 x (tag, length, 5 doubles), params, total_time
    serialized = base64.b64decode(raw)
    assert serialized[:3] == bytes([0x0A, 0x2D, 0x09]) and serialized[-9] == 0x19
    record = official.decode_record(data)
    assert record.module_hash == module_hash and record.epochs == 4


def test_hand_decoder_agrees_with_protobuf_and_falls_back(tmp_path, cells):
    metrics_class = official.model_metrics_class()
    messages = []
    for params in (0, 1, 127, 128, 2**21, 2**31 - 1, -5):
        m = metrics_class(trainable_parameters=params, total_time=12.5)
        for epoch in (0, 54, 108):
            m.evaluation_data.add(current_epoch=epoch, training_time=epoch * 10.0, train_accuracy=0.5,
                                  validation_accuracy=0.25 + epoch / 1000, test_accuracy=0.125)
        messages.append(m)
    with_path = metrics_class()
    with_path.CopyFrom(messages[4])
    with_path.evaluation_data[2].checkpoint_path = "/tmp/model.ckpt-1234"
    missing = metrics_class()
    missing.CopyFrom(messages[4])
    missing.evaluation_data[2].ClearField("test_accuracy")
    messages += [with_path, missing]
    raw = [m.SerializeToString() for m in messages]
    params, final, canonical = official._decode_metrics(raw)
    assert canonical.tolist() == [True] * 6 + [False] * 3  # negative int32, checkpoint path, missing field
    for i in np.flatnonzero(canonical):
        assert (params[i], final[i].tolist()) == official._final_from_message(messages[i])

    # The converter takes the protobuf path for the odd ones and gets the same numbers.
    path = tmp_path / "odd.tfrecord"
    hashes, adjacency, operations = official.cell_strings(cells)
    tfrecord.write_records(path, [official.encode_record(hashes[0], 108, adjacency[0], operations[0], m)
                                  for m in (with_path, missing, messages[6])])
    official.convert(path, tmp_path / "odd.parquet", progress=False)
    table = pq.read_table(tmp_path / "odd.parquet").to_pandas()
    assert table.loc[0, "trainable_parameters"] == 2**21
    assert table.loc[0, ["test_accuracy_108_r0", "test_accuracy_108_r1", "test_accuracy_108_r2"]].tolist() \
        == [0.125, 0.0, 0.125]
    assert table.loc[0, "validation_accuracy_108_r2"] == 0.25 + 108 / 1000


# --- the converter ----------------------------------------------------------------

def expected_columns(path):
    """Per (hash, column) values from decoding each record with protobuf, runs numbered in file order."""
    out, seen = {}, {}
    for _, data in records(path):
        rec = official.decode_record(data)
        run = seen.get((rec.module_hash, rec.epochs), 0)
        seen[(rec.module_hash, rec.epochs)] = run + 1
        final = rec.metrics.evaluation_data[2]
        for metric in official.METRICS:
            out[rec.module_hash, official.column_name(metric, rec.epochs, run)] = getattr(final, metric)
        out[rec.module_hash, "trainable_parameters"] = rec.metrics.trainable_parameters
    return out


@pytest.mark.parametrize("epochs", [FULL, (108,)])
def test_convert_round_trip_is_exact(tmp_path, cells, epochs):
    path = tmp_path / "in.tfrecord"
    metrics = write(path, cells, epochs=epochs)
    meta = official.convert(path, tmp_path / "out.parquet", progress=False)
    assert meta["epochs"] == list(epochs) and meta["num_runs"] == 3
    assert meta["num_records"] == len(cells) * len(epochs) * 3
    assert (meta["format_version"], meta["source_name"], meta["source_size"]) == \
        (official.FORMAT_VERSION, "in.tfrecord", path.stat().st_size)
    assert official.read_metadata(tmp_path / "out.parquet") == meta
    table = pq.read_table(tmp_path / "out.parquet").to_pandas()
    assert table["module_hash"].tolist() == cells.hashes.tolist()  # order of first appearance
    back = CellArray.from_strings(table["module_adjacency"], table["module_operations"], table["module_hash"])
    np.testing.assert_array_equal(back.matrices, cells.matrices)
    np.testing.assert_array_equal(back.ops, cells.ops)
    assert table["trainable_parameters"].dtype == np.int64
    np.testing.assert_array_equal(table["trainable_parameters"], metrics.trainable_parameters)
    for b, e in enumerate(epochs):
        for r in range(3):
            for metric in official.METRICS:
                np.testing.assert_array_equal(table[official.column_name(metric, e, r)],
                                              getattr(metrics, metric)[:, b, r, 2])
    expected_names = ["module_hash", "module_adjacency", "module_operations", "trainable_parameters"] + [
        official.column_name(m, e, r) for e in epochs for m in official.METRICS for r in range(3)]
    assert table.columns.tolist() == expected_names


def test_convert_any_record_order_and_in_parallel(tmp_path, cells):
    path = tmp_path / "shuffled.tfrecord"
    write(path, cells, shuffle_seed=7)
    official.convert(path, tmp_path / "serial.parquet", progress=False, workers=1)
    serial = pq.read_table(tmp_path / "serial.parquet").to_pandas()
    expected = expected_columns(path)
    assert len(expected) == len(cells) * (1 + 4 * 3 * 4)
    for (h, column), value in expected.items():
        assert serial.loc[serial["module_hash"] == h, column].item() == value
    # Several processes over small slices give the identical table.
    official.convert(path, tmp_path / "parallel.parquet", progress=False, workers=2, chunk_bytes=4096)
    assert pq.read_table(tmp_path / "parallel.parquet").equals(pq.read_table(tmp_path / "serial.parquet"))


def test_missing_run_is_reported(tmp_path, cells):
    path = tmp_path / "in.tfrecord"
    write(path, cells, epochs=(108,))
    kept = [d for _, d in records(path)]
    del kept[4]  # cell 1, run 1
    tfrecord.write_records(path, kept)
    with pytest.raises(official.RecordFormatError, match=f"cell {cells.hashes[1]} has 2 runs at 108 epochs"):
        official.convert(path, tmp_path / "out.parquet", progress=False)
    assert not (tmp_path / "out.parquet").exists()


def test_bad_json_record_names_its_offset(tmp_path, cells):
    path = tmp_path / "in.tfrecord"
    write(path, cells, epochs=(108,))
    kept = [d for _, d in records(path)]
    kept[2] = kept[2].replace(b", 108,", b', "108",')
    tfrecord.write_records(path, kept)
    offset = records(path)[2][0]
    with pytest.raises(official.RecordFormatError, match=f"byte offset {offset} .*epochs"):
        official.convert(path, tmp_path / "out.parquet", progress=False)


# --- corruption ----------------------------------------------------------------

def flip(path, position):
    data = bytearray(path.read_bytes())
    data[position] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("where", ["data", "length"])
def test_corrupt_byte_names_the_record_offset(tmp_path, cells, where):
    path = tmp_path / "in.tfrecord"
    write(path, cells, epochs=(108,))
    offset = records(path)[5][0]
    flip(path, offset + (tfrecord.HEADER_SIZE + 40 if where == "data" else 1))
    message = f"{where} CRC mismatch in the record at byte offset {offset}"
    with pytest.raises(tfrecord.CorruptRecordError, match=message) as error:
        records(path)
    assert error.value.offset == offset and not isinstance(error.value, tfrecord.TruncatedFileError)
    with pytest.raises(tfrecord.CorruptRecordError, match=message):
        official.convert(path, tmp_path / "out.parquet", progress=False)
    assert not (tmp_path / "out.parquet").exists()


def test_corrupt_byte_in_parallel_conversion(tmp_path, cells):
    path = tmp_path / "in.tfrecord"
    write(path, cells)
    offset = records(path)[40][0]
    flip(path, offset + 30)
    with pytest.raises(tfrecord.CorruptRecordError, match=f"byte offset {offset}") as error:
        official.convert(path, tmp_path / "out.parquet", progress=False, workers=2, chunk_bytes=2048)
    assert error.value.offset == offset  # survives the trip back from the worker process


@pytest.mark.parametrize("cut", [3, 200, 14])  # inside the data crc, the data, the header
def test_truncated_file(tmp_path, cells, cut):
    path = tmp_path / "in.tfrecord"
    write(path, cells, epochs=(108,))
    last = records(path)[-1][0]
    size = path.stat().st_size
    keep = size - cut if cut != 14 else last + 6
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(tfrecord.TruncatedFileError, match=f"byte offset {last}.*truncated") as error:
        records(path)
    assert error.value.offset == last
    with pytest.raises(tfrecord.TruncatedFileError, match=f"byte offset {last}"):
        official.convert(path, tmp_path / "out.parquet", progress=False)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.tfrecord"
    path.write_bytes(b"")
    with pytest.raises(official.RecordFormatError, match="empty"):
        official.convert(path, tmp_path / "out.parquet", progress=False)


def test_synthetic_metrics_are_deterministic_and_plausible():
    a = official.synthetic_metrics(2000, epochs=FULL, seed=3)
    b = official.synthetic_metrics(2000, epochs=FULL, seed=3)
    c = official.synthetic_metrics(2000, epochs=FULL, seed=4)
    np.testing.assert_array_equal(a.validation_accuracy, b.validation_accuracy)
    assert not np.array_equal(a.validation_accuracy, c.validation_accuracy)
    final = a.validation_accuracy[:, 3, :, 2]
    assert 0.85 < np.median(final) < 0.95
    assert a.validation_accuracy[:, 0, :, 2].mean() < final.mean() - 0.2  # 4 epochs train less far
    minutes = a.training_time[:, 3, :, 2] / 60
    assert 20 < np.median(minutes) < 32
    assert np.array_equal(a.validation_accuracy, a.validation_accuracy.astype(np.float32))  # float32 values
