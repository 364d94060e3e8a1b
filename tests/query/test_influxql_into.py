from __future__ import annotations

from edge_query.influxql.into import result_of, to_line_protocol


def test_series_become_line_protocol() -> None:
    series = [
        {
            "name": "cpu load",
            "tags": {"host": "a b", "dc": "x,y", "empty": ""},
            "columns": ["time", "mean", "n", "ok", "note", "gone"],
            "values": [
                [1_000, 1.0, 3, True, 'say "hi"\\', None],
                [2_000, None, None, None, None, None],  # nothing to write
            ],
        },
        {"name": "mem", "columns": ["time", "free"], "values": [[5, 7]]},
    ]
    body, points = to_line_protocol(series, None)
    assert points == 2
    assert body.decode().splitlines() == [
        'cpu\\ load,dc=x\\,y,host=a\\ b mean=1.0,n=3i,ok=true,note="say \\"hi\\"\\\\" 1000',
        "mem free=7i 5",
    ]
    body, _ = to_line_protocol(series[1:], "copy")
    assert body == b"copy free=7i 5"


def test_result_shape() -> None:
    assert result_of(4) == [{"name": "result", "columns": ["time", "written"], "values": [[0, 4]]}]
