"""The per-layer latency table builder: it times real torch layers, so the tests check
structure, positivity, MAC counts and caching, never timing values."""
import numpy as np
import pytest
import torch
from torch import nn

from np_lib import latency
from np_lib.latency import ChainNetwork, LatencyTable, count_macs, load_or_measure, measure


def tiny_network() -> ChainNetwork:
    """Stem 3->4 channels at 8x8; two positions of (no-op, 3x3 conv, 1x1 conv); a linear head."""
    def convs():
        return [None, nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 1)]

    return ChainNetwork("tiny", (3, 8, 8), nn.Conv2d(3, 4, 3, padding=1), [convs(), convs()],
                        [(4, 8, 8), (4, 8, 8)], nn.Sequential(nn.Flatten(), nn.Linear(256, 2)), (4, 8, 8),
                        ("skip", "conv3", "conv1"))


def test_measure_tiny_network():
    before = torch.get_num_threads()
    table = measure(tiny_network(), rounds=2, repeats=3, warmup=1, progress=False)
    assert torch.get_num_threads() == before                       # restored
    assert table.layers.shape == (2, 3) and set(table.fixed) == {"stem", "head"}
    assert (table.layers[:, 0] == 0).all()                          # a no-op costs nothing
    assert (table.layers[:, 1:] > 0).all() and all(v > 0 for v in table.fixed.values())
    assert table.macs[:, 1].tolist() == [4 * 4 * 9 * 64] * 2 and table.macs[:, 2].tolist() == [16 * 64] * 2
    assert table.fixed_macs == {"stem": 3 * 4 * 9 * 64, "head": 256 * 2}
    assert table.meta["num_threads"] == 1 and table.meta["rounds"] == 2
    archs = np.array([[0, 0], [1, 2]])
    assert table.latency(archs)[0] == pytest.approx(table.fixed_cost)
    assert table.latency(archs)[1] == pytest.approx(table.fixed_cost + table.layers[0, 1] + table.layers[1, 2])


def test_measure_rejects_bad_options():
    with pytest.raises(ValueError, match="rounds >= 1"):
        measure(tiny_network(), rounds=0)


def test_table_round_trip_and_cache(tmp_path, tmp_cache_dir):
    table = measure(tiny_network(), rounds=1, repeats=2, warmup=0, progress=False)
    back = LatencyTable.load(table.save(tmp_path / "t.json"))
    assert np.array_equal(back.layers, table.layers) and back.fixed == table.fixed and back.meta == table.meta
    first = load_or_measure(tiny_network(), rounds=1, repeats=2, warmup=0, progress=False)
    assert (tmp_cache_dir / "latency" / "tiny_3x8x8.json").is_file()
    again = load_or_measure(tiny_network(), rounds=1, repeats=2, warmup=0, progress=False)
    assert np.array_equal(again.layers, first.layers)              # read back, not re-timed
    with pytest.raises(ValueError, match="format"):
        LatencyTable.from_dict({"format": 99})


def test_macro_network_shapes_and_reference_table():
    net = latency.macro_network()
    assert len(net.positions) == 8 and [s[0] for s in net.input_shapes] == [32, 64, 64, 128, 128, 128, 256, 256]
    reference = latency.reference_table()
    assert reference.layers.shape == (8, 3)
    stride_two = [0, 2, 5]
    assert (reference.layers[stride_two, 0] > 0).all() and (np.delete(reference.layers[:, 0], stride_two) == 0).all()
    assert (reference.layers[:, 1:] > 0).all()
    for p, ops in enumerate(net.positions):
        for c, module in enumerate(ops):
            expected = 0 if module is None else count_macs(module, net.input_shapes[p])
            assert reference.macs[p, c] == expected
    assert reference.fixed_macs == {"stem": count_macs(net.stem, net.input_shape),
                                    "head": count_macs(net.head, net.head_input_shape)}
