"""benchmarks/toy_outlines.py: why a toy:shapes model's shapes fail the outline test."""

from click.testing import CliRunner

from ganzoo.cli import cli
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


def test_a_trained_run_gets_its_census(tmp_path, capsys):
    tiny = ["--steps", "2", "--batch-size", "2", "--set", "gen.ngf=8", "--set", "disc.ndf=8", "--set",
            "score_samples=8", "--quiet"]
    result = CliRunner().invoke(cli, ["run", "dcgan", *tiny, "--out", str(tmp_path), "--name", "d"],
                                catch_exceptions=False)
    assert result.exit_code == 0
    benchmark_script("toy_outlines").main([str(tmp_path / "dcgan" / "d"), "-n", "40"])
    printed = capsys.readouterr().out
    assert printed.startswith("40 samples of ")
    rows = [line for line in printed.splitlines() if line.startswith("| ") and line.split()[1] in SHAPES]
    assert len(rows) == len(SHAPES)
    real_total = sum(int(cell.split("(")[1].strip().rstrip(")")) for row in rows for cell in row.split("|")[2:-1])
    assert real_total >= 40, "every real scene has a shape, each one counted"
