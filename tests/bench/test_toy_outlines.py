"""benchmarks/toy_outlines.py: why a toy:shapes model's shapes fail the outline test."""

import pytest

from ganzoo.metrics.toy import SHAPES, VERDICTS
from tests.bench.scripts import benchmark_script


def test_the_table_gives_each_kind_its_counts_with_the_real_ones_after():
    outlines = benchmark_script("toy_outlines")
    generated = {kind: dict.fromkeys(VERDICTS, 0) for kind in SHAPES}
    real = {kind: dict.fromkeys(VERDICTS, 0) for kind in SHAPES}
    generated["square"].update({"another kind": 7, "speck": 2})
    real["square"]["recognised"] = 30
    lines = outlines.census_table(generated, real).splitlines()
    assert lines[0] == "| kind | speck | recognised | another kind | stretched | no outline |"
    assert lines[3] == "| square | 2 (0) | 0 (30) | 7 (0) | 0 (0) | 0 (0) |"
    assert len(lines) == 2 + len(SHAPES)


def test_a_trained_run_gets_its_census_beside_as_many_real_scenes(tiny_run, capsys):
    outlines = benchmark_script("toy_outlines")
    run = tiny_run("dcgan", steps=2)
    generated, real = outlines.census_of(run.model, n=40)
    assert set(generated) == set(real) == set(SHAPES)
    assert sum(real[kind]["recognised"] for kind in SHAPES) >= 40, "every real scene has a shape, each recognised"
    outlines.main([str(run.run_dir), "-n", "40"])
    printed = capsys.readouterr().out
    assert printed.startswith("40 samples of ") and outlines.census_table(generated, real) in printed


def test_a_model_of_other_data_is_refused_in_one_line(tiny_run):
    run = tiny_run("pix2pix", steps=1)
    with pytest.raises(SystemExit, match=r"^error: .* was trained on toy:edges2shapes; the census judges "
                                         r"toy:shapes samples$"):
        benchmark_script("toy_outlines").main([str(run.run_dir), "-n", "4"])
