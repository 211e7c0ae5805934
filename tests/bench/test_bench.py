"""`ganzoo bench`: the smoke benchmark runs end to end on the CPU, puts the baseline beside every case,
counts the same FLOPs for the plain reference and ganzoo's plain step, and the page is made from the JSON.

No timing is asserted: the figures depend on the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from ganzoo.bench import report
from ganzoo.bench.cases import CONFIGS, cases_for
from ganzoo.cli import cli

SMOKE_CASES = [case.name for case in cases_for("smoke")]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One smoke run (every case; plain and the fast-path configurations), its JSON and its page."""
    folder = tmp_path_factory.mktemp("bench")
    out, page = folder / "cpu-smoke.json", folder / "benchmarks.md"
    result = CliRunner().invoke(cli, ["bench", "--smoke", "--device", "cpu", "--threads", "1",
                                      "--configs", "plain,fast,bf16", "--json", str(out), "--markdown", str(page)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text()), page.read_text(), result.output


def rows(case):
    return {row["config"]: row for row in case["results"]}


def test_every_case_is_measured_with_the_baseline_beside_it(smoke):
    document, _, _ = smoke
    assert [case["name"] for case in document["cases"]] == SMOKE_CASES
    assert {case["kind"] for case in document["cases"]} == {"train", "infer"}
    for case in document["cases"]:
        by_config = rows(case)
        assert list(by_config) == ["baseline", "plain", "fast", "bf16"], case["name"]
        for name in ("baseline", "plain"):
            row = by_config[name]
            assert row["status"] == "ok", (case["name"], row)
            assert row["images_per_s"] > 0 and row["step_ms"] > 0
            assert row["peak_memory_mb"] is None, "the CPU's peak memory is not measured"
            assert row["mfu"] is None, "no MFU without a known peak"
        assert by_config["baseline"]["speed_ratio"] == 1.0
        for name in ("fast", "bf16"):  # measured where this ganzoo has the fast path, else said why not
            row = by_config[name]
            assert row["status"] in ("ok", "unavailable"), (case["name"], row)
            assert row["settings"] == CONFIGS[name]
            assert row["status"] == "ok" or row["reason"]


def test_compiling_again_while_timed_is_counted_and_shown():
    """A compiled step that dynamo compiles again after the warm-up (a new input shape each step here;
    on a GPU, a guard the warm-up did not cover) is counted, and the page and the log say the figure is
    not the compiled speed; a steady one counts 0, its warm-up's compilation included in neither."""
    from ganzoo.bench import measure
    from ganzoo.bench.suite import _line

    calls = []

    def growing_step():
        calls.append(len(calls))
        return doubled(torch.ones(len(calls)))

    doubled = torch.compile(lambda x: x * 2, backend="eager", dynamic=False)
    growing = measure.measure(growing_step, device=torch.device("cpu"), batch=1, warmup=2, steps=3, repeats=1,
                              flops=None, precision="fp32")
    assert len(calls) == 2 + 3, "warm-up steps, then the timed ones"
    assert growing["recompiles_while_timed"] == 3
    fixed, halved = torch.ones(3), torch.compile(lambda x: x / 2, backend="eager", dynamic=False)
    steady = measure.measure(lambda: halved(fixed), device=torch.device("cpu"), batch=1,
                             warmup=1, steps=3, repeats=1, flops=None, precision="fp32")
    assert steady["recompiles_while_timed"] == 0
    case = {"name": "x-b1", "image_size": 32, "batch": 1}
    row = {"config": "compile", "status": "ok", "speed_ratio": 1.0, "flops": None, **growing}
    assert "more times while timed: not the compiled speed" in report._row_cells(case, row, "train")[3]
    assert "compiled 3 more times while timed" in _line(row)
    assert report._row_cells(case, {**row, **steady}, "train")[3] == "compile"
    assert "more times" not in _line({**row, **steady})


def test_a_step_past_dynamo_s_recompile_limit_is_not_timed():
    """Past the limit dynamo would run the function eager and stop counting: the figure would be neither
    speed, so measuring fails in one line (the case's row says it) instead."""
    from ganzoo.bench import measure

    tripled = torch.compile(lambda x: x * 3, backend="eager", dynamic=False)
    sizes = iter(range(1, 100))
    with pytest.raises(RuntimeError, match="recompile limit"):
        measure.measure(lambda: tripled(torch.ones(next(sizes))), device=torch.device("cpu"), batch=1,
                        warmup=20, steps=2, repeats=1, flops=None, precision="fp32")


def test_each_runner_has_its_own_recompile_budget():
    """The limit counts a function's compilations across the process: a second runner of the same code
    (the next case's network of the same class) must not be refused for the first one's."""
    from ganzoo.bench import measure

    quadrupled = torch.compile(lambda x: x * 4, backend="eager", dynamic=False)
    for start in (1, 7):  # six shapes each: under the limit alone, over it together
        sizes = iter(range(start, start + 6))
        figures = measure.measure(lambda: quadrupled(torch.ones(next(sizes))), device=torch.device("cpu"),
                                  batch=1, warmup=4, steps=2, repeats=1, flops=None, precision="fp32")
        assert figures["recompiles_while_timed"] == 2


def test_the_document_names_device_versions_options_and_startup(smoke):
    document, _, _ = smoke
    assert document["format"] == "ganzoo-bench"
    assert document["device"]["type"] == "cpu" and document["device"]["name"]
    assert document["versions"]["torch"] == torch.__version__
    assert set(document["versions"]) >= {"ganzoo", "torch", "python"}
    assert document["options"]["profile"] == "smoke"
    assert document["options"]["configs"] == ["plain", "fast", "bf16"]
    assert document["options"]["threads"] == 1 and "--threads 1" in smoke[1]
    startup = document["startup"]
    assert startup["ganzoo_help_s"] > 0 and startup["python_c_pass_s"] > 0


def test_flops_are_counted_and_the_baseline_does_the_same_work(smoke):
    """Same algorithm, same FLOPs: ganzoo's plain step within 2% of the reference written plainly,
    except DCGAN's training, where the example does not freeze D for the generator's update and so
    also computes D's weight gradients there (more FLOPs, never fewer)."""
    document, _, _ = smoke
    for case in document["cases"]:
        by_config = rows(case)
        base, plain = by_config["baseline"]["flops"], by_config["plain"]["flops"]
        assert base > 0 and plain > 0, case["name"]
        assert case["flops_per_step"] == base
        if case["recipe"] == "dcgan" and case["kind"] == "train":
            assert plain <= base <= 1.5 * plain, case["name"]
        else:
            assert abs(base - plain) <= 0.02 * base, (case["name"], base, plain)


def test_ganzoo_s_configurations_take_the_plain_step_s_flop_count(monkeypatch):
    """MFU of a fast configuration is over ganzoo's own step's FLOPs, not the reference's (DCGAN's
    reference does more work); without plain in the call, the baseline's count is all there is."""
    from ganzoo.bench import suite

    calls = []

    def fake(make, *, case, device, options, precision, count, flops):
        calls.append((count, flops))
        counted = (300 if len(calls) == 1 else 200) if count else None
        return {"status": "ok", "precision": precision, "flops": counted, "step_ms": 1.0, "images_per_s": 1.0,
                "peak_memory_mb": None, "peak_tflops": None, "mfu": None}

    monkeypatch.setattr(suite, "_measure_runner", fake)
    case = next(c for c in cases_for("smoke") if c.name == "dcgan-b128")
    options = {"warmup": 0, "steps": 1, "repeats": 1}
    suite.run_case(case, device=torch.device("cpu"), configs=("plain", "bf16"), options=options, log=lambda _: None)
    assert calls == [(True, None), (True, 300), (False, 200)]
    calls.clear()
    suite.run_case(case, device=torch.device("cpu"), configs=("bf16",), options=options, log=lambda _: None)
    assert calls == [(True, None), (False, 300)]


def test_the_page_is_made_from_the_json(smoke, tmp_path):
    document, page, _ = smoke
    assert page == report.render([document])
    assert "No GPU was lent to this task" in page and report.GPU_COMMAND in page
    assert document["device"]["name"] in page and f"torch {torch.__version__}" in page
    for case in document["cases"]:
        for row in case["results"]:
            assert f"| {case['name']} | {case['image_size']} | {case['batch']} | {row['config']} |" in page


def test_the_committed_page_is_made_from_the_committed_json():
    """docs/benchmarks.md says no more and no less than benchmarks/results/ holds (regenerate it with
    `ganzoo bench ... --json benchmarks/results/NAME.json --markdown docs/benchmarks.md`)."""
    root = Path(__file__).resolve().parents[2]
    documents = report.load((root / "benchmarks" / "results").glob("*.json"))
    assert any(d["device"]["type"] == "cuda" for d in documents)
    assert report.render(documents) == (root / "docs" / "benchmarks.md").read_text()


def test_every_table_row_has_the_header_s_columns(smoke):
    _, page, _ = smoke
    tables = [line for line in page.splitlines() if line.startswith("|")]
    assert tables
    header = None
    for line in tables:
        if line.startswith("| case"):
            header = line.count("|")
        assert line.count("|") == header, line


def test_the_summary_says_how_each_configuration_compares():
    document = {"options": {"configs": ["plain", "fast"]}, "cases": [
        {"kind": "train", "results": [{"config": "baseline", "status": "ok", "speed_ratio": 1.0},
                                      {"config": "plain", "status": "ok", "speed_ratio": 0.8},
                                      {"config": "fast", "status": "unavailable", "reason": "no"}]},
        {"kind": "train", "results": [{"config": "plain", "status": "ok", "speed_ratio": 1.25}]},
    ]}
    lines = report.summary(document).splitlines()
    assert lines[0].startswith("- `plain`: slower in 1 of 2 cases than the baseline") and "x0.80 to x1.25" in lines[0]
    assert "geometric mean x1.00" in lines[0]
    assert lines[1].startswith("- `fast`: not measured")


def test_a_document_of_inference_alone_is_summarised_as_inference(smoke):
    """A GPU's figures may come in several calls (training eager, inference, training compiled): each
    document's summary and heading say what it holds, and inference follows training on the page."""
    document, _, _ = smoke
    infer, train = (json.loads(json.dumps(document)) for _ in range(2))
    infer["cases"] = [case for case in infer["cases"] if case["kind"] == "infer"]
    train["cases"] = [case for case in train["cases"] if case["kind"] == "train"]
    lines = report.summary(infer).splitlines()
    assert lines and all(" in inference" in line for line in lines), lines
    assert not any("not measured" in line for line in lines if line.startswith("- `plain`")), lines
    assert all(" in training" in line for line in report.summary(train).splitlines())
    page = report.render([infer, train])
    assert page.index(": profile `smoke`, training (") < page.index(": profile `smoke`, inference (")
    assert ": profile `smoke`, training and inference (plain, fast, bf16)" in report.render([document])


def test_a_gpu_document_replaces_the_empty_gpu_section(smoke):
    document, _, _ = smoke
    gpu = json.loads(json.dumps(document))
    gpu["device"] = {"type": "cuda", "name": "NVIDIA H100 80GB HBM3", "threads": 1}
    page = report.render([document, gpu])
    assert "No GPU was lent" not in page
    assert page.index("NVIDIA H100") < page.index(document["device"]["name"])


def test_unknown_cases_and_configurations_are_refused():
    for args in (["--cases", "cyclegan-b3"], ["--configs", "turbo"]):
        result = CliRunner().invoke(cli, ["bench", "--smoke", "--device", "cpu", *args])
        assert result.exit_code != 0 and "choose from" in result.output, result.output


def test_bench_help_imports_no_torch():
    code = ("import sys\nfrom ganzoo.cli import cli\n"
            "cli.main(['bench', '--help'], prog_name='ganzoo', standalone_mode=False)\n"
            "print('TORCH', 'torch' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "GANZOO_PLUGINS": ""})
    assert result.returncode == 0, result.stderr
    assert "--smoke" in result.stdout and "--markdown" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "TORCH False"


def _example_dcgan(nz: int = 100, ngf: int = 64, ndf: int = 64, nc: int = 3) -> tuple[nn.Module, nn.Module]:
    """The networks of PyTorch's examples/dcgan/main.py, as written there."""
    generator = nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())
    discriminator = nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())
    return generator, discriminator


def _layers(net: nn.Module) -> list[tuple[str, tuple]]:
    """Each layer with weights or a non-trivial configuration, in order: its type and its shapes."""
    return [(type(m).__name__, tuple(p.shape for p in m.parameters(recurse=False)),
             getattr(m, "stride", None), getattr(m, "padding", None))
            for m in net.modules() if not list(m.children()) and not isinstance(m, nn.Sigmoid)]


def test_the_dcgan_networks_are_the_example_s_at_64x64():
    """The baseline builds ganzoo's DCGAN pair: it must be the example's layout (the example's final
    Sigmoid is inside its BCELoss here, BCEWithLogitsLoss)."""
    import ganzoo

    generator, discriminator = _example_dcgan()
    assert _layers(ganzoo.create_generator("dcgan", nz=100, ngf=64, image_size=64, norm="batch")) == _layers(generator)
    assert _layers(ganzoo.create_discriminator("dc", ndf=64, image_size=64, norm="batch")) == _layers(discriminator)


@pytest.mark.parametrize(("gpu", "precision", "peak"), [
    ("NVIDIA H100 80GB HBM3", "bf16", 989.4),
    ("NVIDIA H100 PCIe", "bf16", 756.0),  # the longer name wins over plain H100
    ("NVIDIA H200", "fp32", 494.7),  # fp32 convolutions run in TF32 by default
    ("NVIDIA A100-SXM4-80GB", "fp16", 312.0),
    ("Tesla T4", "bf16", None),  # unknown: no MFU
])
def test_peak_flops_are_looked_up_by_gpu_name(monkeypatch, gpu, precision, peak):
    from ganzoo.bench import measure

    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: gpu)
    assert measure.peak_tflops(torch.device("cuda"), precision) == peak
    assert measure.peak_tflops(torch.device("cpu"), precision) is None


def test_mfu_is_flops_per_second_over_the_peak(monkeypatch):
    from ganzoo.bench import measure

    monkeypatch.setattr(measure, "peak_tflops", lambda device, precision: 100.0)
    monkeypatch.setattr(measure, "time_steps", lambda step, **kwargs: 0.5)
    figures = measure.measure(lambda: None, device=torch.device("cpu"), batch=8, warmup=0, steps=1, repeats=1,
                              flops=10 * 10**12, precision="bf16")
    assert figures["images_per_s"] == 16.0 and figures["step_ms"] == 500.0
    assert figures["mfu"] == 0.2  # 10 TFLOP in 0.5 s = 20 TFLOP/s of 100
