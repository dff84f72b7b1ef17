"""dbgkit.triage.run on the triage fixtures: classes, severities, clusters,
inputs by path and on standard input, bad arguments."""

import pytest

import dbgkit
import dbgkit.triage


def write(tmp_path, inputs):
    paths = []
    for i, data in enumerate(inputs):
        p = tmp_path / f"in-{i:02}"
        p.write_bytes(data)
        paths.append(str(p))
    return paths


def test_records_and_clusters(fixtures, tmp_path):
    write(tmp_path, [b"N1", b"N22", b"PAAAAAAAA", b"D0", b"D0x", b"hello"])
    records = dbgkit.triage.run([fixtures["triage"], "@@"], tmp_path, jobs=2, timeout=20)
    assert [r.outcome for r in records] == ["crash"] * 5 + ["no-crash"]
    assert [r.cls for r in records[:5]] == [
        "read-near-null",
        "read-near-null",
        "write-input-address",
        "division-by-zero",
        "division-by-zero",
    ]
    assert records[2].severity == "exploitable"
    assert records[2].fault["bad_address"] == "0x4141414141414141"
    assert records[2].instruction["access"] == "write"
    assert records[0].stack[0]["function"] == "read_null"
    assert records[0].hash == records[1].hash and records[3].hash == records[4].hash
    assert records[0].hash != records[3].hash
    assert records[5].exit_code == 0 and records[5].cls is None and not records[5].crashed
    clusters = records.clusters
    assert [(c.cls, c.count) for c in clusters] == [
        ("write-input-address", 1),
        ("division-by-zero", 2),
        ("read-near-null", 2),
    ]
    assert clusters[1].smallest.endswith("in-03")


def test_standard_input_and_exceptions(fixtures, tmp_path):
    paths = write(tmp_path, [b"E1", b"x"])
    records = dbgkit.triage.run(fixtures["triage_throw"], paths, jobs=1, timeout=20)
    assert records[0].cls == "uncaught-exception"
    assert records[0].exception_type == "std::runtime_error"
    assert records[1].outcome == "no-crash"


def test_bad_arguments_are_clear_errors(fixtures, tmp_path):
    paths = write(tmp_path, [b"x"])
    with pytest.raises(dbgkit.InvalidArgument):
        dbgkit.triage.run([fixtures["triage"]], paths, jobs=0)
    with pytest.raises(dbgkit.InvalidArgument):
        dbgkit.triage.run([fixtures["triage"]], paths, timeout=-1)
    records = dbgkit.triage.run([str(tmp_path / "no-such-program")], paths, jobs=1)
    assert records[0].outcome == "error" and "no-such-program" in records[0].error
