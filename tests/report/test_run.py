"""`lstmexp report` end to end (report/run.py) on stored studies: formats, --out files, compare, escaping."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import optuna

from lstmexp.spec import load_spec
from tests.report_studies import grid_trials, make_study, make_trial

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def stored(workdir, name="known", trials=None, url=None):
    url = url or f"sqlite:///{workdir}/r.db"
    spec = load_spec(None, ["train.epochs=4", 'train.device="cpu"']).to_dict()
    make_study(trials or grid_trials(lambda b, t, h: 100 * b**0.5 / t), name=name, storage=url, spec=spec)
    return url


def test_table_fits_120_columns_and_names_the_verdicts(cli, workdir):
    url = stored(workdir)
    result = cli("report", "--storage", url)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    too_wide = [line for line in lines if len(line) > 120 and not line.lstrip().startswith("lstmexp run")]
    assert not too_wide, too_wide
    assert "lstmexp report: known" in result.out
    assert re.search(r"C5\s+holds", result.out)
    assert re.search(r"C10\s+holds", result.out)
    assert "lstmexp run --batch-size 128 --time-step 8" in result.out  # fastest within 10%: all losses equal
    assert "-o train.epochs=4" in result.out


def test_markdown_json_csv_carry_every_section(cli, workdir):
    url = stored(workdir)
    markdown = cli("report", "--storage", url, "--format", "markdown").out
    for title in ("## Best trials", "## Recommended configurations", "## Answer", "## Claims part by part",
                  "## Trade-offs by batch_size", "batch_size × time_step",
                  "## Pareto front", "## Parameter importance", "## Claims of the source documents",
                  "## C5: samples/s rises with batch_size", "## All trials"):
        assert title in markdown, title
    document = json.loads(cli("report", "--storage", url, "--format", "json").out)
    claims = {c["code"]: c for c in document["claims"]}
    assert claims["C5"]["verdict"] == "holds"
    assert claims["C5"]["parts"][0]["effect"]["low"] > 1
    assert len(claims["C5"]["parts"][0]["rows"]) == 16  # 4 batch sizes in 4 strata
    assert document["recommendations"][0]["command"].startswith("lstmexp run")
    assert len(document["pareto"]) >= 1 and document["importance"]
    assert set(document["matrices"]) == {"val_loss_best", "samples_per_s", "peak_mem_bytes"}
    csv = cli("report", "--storage", url, "--format", "csv").out.strip().splitlines()
    assert csv[0].startswith("number,state,batch_size,time_step,hidden_size") and len(csv) == 33


def test_out_writes_html_with_embedded_plots_markdown_and_pngs(cli, workdir):
    url = stored(workdir)
    result = cli("report", "--storage", url, "--format", "markdown", "--out", str(workdir / "out"))
    assert result.code == 0, result.err
    out = workdir / "out"
    assert result.out == f"report written to {out}/report.html (and report.md, report.json, *.csv, plots/)\n"
    pngs = sorted(p.name for p in (out / "plots").iterdir())
    assert pngs == ["by_batch_size.png", "by_time_step.png", "grad_norm_by_time_step.png", "learning_curves.png",
                    "pareto.png", "val_loss_heatmap.png"]  # the same charts as the HTML page
    assert all((out / "plots" / p).read_bytes().startswith(PNG_MAGIC) for p in pngs)
    page = (out / "report.html").read_text()
    assert page.count("Plotly.newPlot") == len(pngs)  # 3 trade-off charts, heatmap, curves, gradient norm
    assert not re.findall(r"<script[^>]+src=", page) and "<link" not in page  # self-contained, works offline
    assert "![pareto](plots/pareto.png)" in (out / "report.md").read_text()
    assert json.loads((out / "report.json").read_text())["study"] == "known"
    assert (out / "claims.csv").read_text().startswith("claim,verdict")
    assert "grad_norm_max" in (out / "trials_all.csv").read_text().splitlines()[0]
    assert not [p for p in out.iterdir() if p.name.startswith(".report-")]  # staging folder removed


def test_html_escapes_study_names_and_column_names(cli, workdir):
    url = f"sqlite:///{workdir}/x.db"
    evil = "<script>alert(1)</script>&"
    stored(workdir, name=evil, url=url)
    stored(workdir, name="plain", url=url)
    page = cli("report", "--storage", url, "--study", evil, "--study", "plain", "--format", "html").out
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)" in page
    assert page.count("Plotly.newPlot") == 12  # the six charts of each study
    assert page.count("plotly.js v") == 1  # the library inline once
    assert "<title>lstmexp comparison: &lt;script&gt;alert(1)&lt;/script&gt;&amp; vs plain</title>" in page
    assert "<th>[&lt;script&gt;alert(1)&lt;/script&gt;&amp;] samples/s</th>" in page  # a column name


def test_compare_two_studies_side_by_side(cli, workdir):
    url = f"sqlite:///{workdir}/c.db"
    stored(workdir, name="cpu", url=url, trials=grid_trials(lambda b, t, h: 100 * b**0.5 / t))
    stored(workdir, name="gpu", url=url, trials=grid_trials(lambda b, t, h: 1e4 / b**0.2))
    result = cli("report", "--storage", url, "--study", "cpu", "--study", "gpu", "--format", "markdown")
    assert result.code == 0, result.err
    assert "# lstmexp comparison: cpu vs gpu" in result.out
    header = next(line for line in result.out.splitlines() if "[cpu] samples/s" in line)
    assert "[gpu] samples/s" in header
    row = next(line for line in result.out.splitlines() if line.startswith("| C5"))
    assert "holds" in row and "does not hold" in row  # cpu: holds; gpu: does not hold
    document = json.loads(cli("report", "--storage", url, "--study", "cpu", "--study", "gpu", "--format", "json").out)
    assert [s["study"] for s in document["studies"]] == ["cpu", "gpu"]


def test_report_errors_are_one_line(cli, workdir):
    url = stored(workdir)
    bad_size = cli("report", "--storage", url, "--max-memory", "lots")
    assert bad_size.code == 2 and bad_size.err.startswith("error: --max-memory 'lots' is not a size")
    pairing = cli("report", "--storage", url, "--storage", url, "--study", "a", "--study", "b", "--study", "c")
    assert pairing.code == 2 and "once per --study" in pairing.err
    missing = cli("report", "--storage", url, "--study", "nope")
    assert missing.code == 2 and "no study 'nope'" in missing.err
    assert len(bad_size.err.strip().splitlines()) == 1


def test_max_memory_recommendation_and_failure_counts(cli, workdir):
    trials = [make_trial(16, 8, val_loss_best=0.1, peak_mem_bytes=900 * 2**20),
              make_trial(32, 8, val_loss_best=0.2, peak_mem_bytes=100 * 2**20),
              make_trial(512, 8, state="fail", failure_reason="oom", failure_detail="out of memory")]
    url = stored(workdir, trials=trials)
    result = cli("report", "--storage", url, "--max-memory", "200MiB", "--format", "markdown")
    assert "most accurate under 200 MiB peak memory" in result.out
    assert "lstmexp run --batch-size 32 --time-step 8" in result.out
    assert "failures: 1 oom" in result.out
    assert "C5: out of memory at batch_size 512 (1 trials)" in result.out
    assert optuna.load_study(study_name="known", storage=url).trials[2].state.name == "FAIL"


def test_report_never_imports_torch(workdir):
    """Reading a study needs no training stack: importing torch alone costs about a second."""
    url = stored(workdir)
    code = (
        "import sys\n"
        "from lstmexp.cli.main import main\n"
        f"try:\n    main(['report', '--storage', {url!r}, '--format', 'json'])\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"study": "known"' in done.stdout


def test_compare_shows_two_studies_side_by_side_and_a_typo_gets_a_suggestion(cli, workdir):
    url = stored(workdir)
    stored(workdir, name="other", url=url)
    both = cli("compare", "known", "other", "--storage", url)
    assert both.code == 0, both.err
    assert both.out.startswith("lstmexp comparison: known vs other")
    assert both.out == cli("report", "--study", "known", "--study", "other", "--storage", url).out
    one = cli("compare", "known", "--storage", url)
    assert one.code == 2 and "lstmexp report --study known" in one.err
    typo = cli("comapre", "known", "other")
    assert typo.code == 2 and "Did you mean 'compare'?" in typo.err
