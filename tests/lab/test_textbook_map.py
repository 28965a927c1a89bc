"""The textbook map (fukaku/lab/textbook_map.py): every section of docs/seeds.md, generated, not typed."""
from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from types import SimpleNamespace

import markdown
import pytest

from fukaku.lab import textbook_map as tm
from fukaku.lab.registry import discover

SEEDS_DOC = Path(__file__).resolve().parents[2] / "docs" / "seeds.md"
ANCHOR = re.compile(r"\{#([\w-]+)\}$", re.M)
EXPERIMENT_LINK = re.compile(r"\]\(lab/report\.html#exp-([\w-]+)\) `([\w-]+)` \| (.+) \|$", re.M)


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("map")
    paths = tm.write_pages(None, out)
    assert [p.name for p in paths] == ["textbook-map.md", "textbook-map.ja.md"]
    return {"en": paths[0].read_text(encoding="utf-8"), "ja": paths[1].read_text(encoding="utf-8")}


def _results(tmp_path: Path, statuses: dict[str, str]) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"created": "2026-01-02T03:04:05+0000", "quick": True,
                                "experiments": [{"id": i, "status": s} for i, s in statuses.items()]}),
                    encoding="utf-8")
    return path


def _numbered_rows() -> list[str]:
    """The anchors of the numbered rows of docs/seeds.md, read with a parser of the test's own."""
    text = SEEDS_DOC.read_text(encoding="utf-8")
    expected = []
    for block in re.split(r"^\*\*Seed ", text, flags=re.M)[1:]:
        seed = block[:3]
        for label in re.findall(r"^\| (\d+(?:\.\d+)*) \|", block, re.M):
            expected.append(f"seed-{seed}-{'ch-' if seed == '002' else ''}{label.replace('.', '-')}")
    return expected


def test_every_section_of_the_table_has_a_row(pages) -> None:
    """Each numbered row of docs/seeds.md, and each of seed 003's six topics, is a heading of both pages."""
    expected = _numbered_rows()
    assert len(expected) >= 30 and {"seed-000-6-1-1", "seed-002-ch-5", "seed-004-3-4-2"} <= set(expected)
    for lang, page in pages.items():
        anchors = ANCHOR.findall(page)
        assert set(expected) <= set(anchors), (lang, set(expected) - set(anchors))
        assert sum(a.startswith("seed-003-") for a in anchors) == 6, lang
        assert {f"seed-{n:03d}" for n in range(5)} <= set(anchors)


def test_anchors_are_unique_and_render_as_ids(pages) -> None:
    for lang, page in pages.items():
        anchors = ANCHOR.findall(page)
        assert len(anchors) == len(set(anchors)) == 5 + len(_numbered_rows()) + 6, lang
        html = markdown.markdown(page, extensions=["attr_list", "tables"])
        assert set(re.findall(r' id="([\w-]+)"', html)) == set(anchors), lang


def test_english_and_japanese_have_the_same_rows(pages) -> None:
    assert ANCHOR.findall(pages["en"]) == ANCHOR.findall(pages["ja"])
    en = [(a, b) for a, b, _ in EXPERIMENT_LINK.findall(pages["en"])]
    ja = [(a, b) for a, b, _ in EXPERIMENT_LINK.findall(pages["ja"])]
    assert en == ja and len(en) >= len(discover())
    assert re.search(r"[\u3040-\u30ff]", pages["ja"]) and "§6.1.3 活性化関数と勾配消失・爆発問題" in pages["ja"]


def test_every_experiment_is_listed_and_its_source_resolves_to_a_row(pages) -> None:
    rows = {s.anchor for seed in tm.parse_seeds().values() for s in seed.sections}
    listed = {exp_id for exp_id, _, _ in EXPERIMENT_LINK.findall(pages["en"])}
    for exp in discover().values():
        assert exp.id in listed, exp.id
        assert tm.anchor_for(exp.source) in rows, (exp.id, exp.source)


def test_without_results_every_verdict_is_not_run(pages) -> None:
    verdicts = {v for _, _, v in EXPERIMENT_LINK.findall(pages["en"])}
    assert verdicts == {"— not run"}
    assert {v for _, _, v in EXPERIMENT_LINK.findall(pages["ja"])} == {"— 未実行"}


def test_the_verdicts_come_from_the_results_file(tmp_path) -> None:
    results = _results(tmp_path, {"perceptron-xor": "does not hold", "perceptron-convergence": "holds",
                                  "softmax-demo": "error"})
    tm.write_pages(results, tmp_path)
    for lang, name in (("en", "textbook-map.md"), ("ja", "textbook-map.ja.md")):
        page = (tmp_path / name).read_text(encoding="utf-8")
        shown = {exp_id: verdict for exp_id, _, verdict in EXPERIMENT_LINK.findall(page)}
        assert shown["perceptron-xor"] == tm.VERDICTS[lang]["does not hold"]
        assert shown["perceptron-convergence"] == tm.VERDICTS[lang]["holds"]
        assert shown["softmax-demo"] == tm.VERDICTS[lang]["error"]
        assert shown["mae-vs-mse"] == tm.VERDICTS[lang]["not run"]
        assert "2026-01-02T03:04:05+0000" in page
    assert "1 of" in (tmp_path / "textbook-map.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("content, error", [
    ("not json", ValueError), ('{"experiments": [{"id": "x"}]}', ValueError),
    ('{"experiments": [{"id": "x", "status": "maybe"}]}', ValueError), ("[]", ValueError)])
def test_a_file_that_is_not_lab_results_is_refused(tmp_path, content, error) -> None:
    path = tmp_path / "results.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(error, match="textbook map"):
        tm.build_map(path, seeds=tm.parse_seeds(), citations=[], experiments=[])
    with pytest.raises(FileNotFoundError, match="fukaku lab run"):
        tm.build_map(tmp_path / "missing.json", seeds=tm.parse_seeds(), citations=[], experiments=[])


def test_bad_results_write_no_page(tmp_path) -> None:
    (tmp_path / "textbook-map.md").write_text("old", encoding="utf-8")
    with pytest.raises(ValueError):
        tm.write_pages(_results(tmp_path, {"x": "maybe"}), tmp_path)
    assert (tmp_path / "textbook-map.md").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json", "textbook-map.md"]


def test_a_failed_write_of_the_second_page_keeps_both_old_pages(tmp_path, monkeypatch) -> None:
    """The English page is complete when writing the Japanese one fails (a full disk): neither replaces its
    old page, so the two never disagree."""
    for name in ("textbook-map.md", "textbook-map.ja.md"):
        (tmp_path / name).write_text(f"old {name}", encoding="utf-8")
    real_atomic_write = tm.atomic_write

    def no_space(text: str) -> int:
        raise OSError(28, "No space left on device")

    @contextlib.contextmanager
    def disk_full_for_japanese(path, *args, **kwargs):
        with real_atomic_write(path, *args, **kwargs) as fh:
            if Path(path).name == "textbook-map.ja.md":
                fh.write = no_space
            yield fh

    monkeypatch.setattr(tm, "atomic_write", disk_full_for_japanese)
    with pytest.raises(OSError, match="No space left"):
        tm.write_pages(None, tmp_path)
    assert {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()} == {
        "textbook-map.md": "old textbook-map.md", "textbook-map.ja.md": "old textbook-map.ja.md"}  # no temporaries


@pytest.mark.parametrize("seed, label, context, anchor", [
    ("000", "6.1.3", "", "seed-000-6-1-3"),
    ("000", "6.1.3.2", "", "seed-000-6-1-3"),          # deeper than the table: its row
    ("004", "3.6.1", "", "seed-004-3-6"),              # a sub-section named inside row 3.6
    ("004", "3.4.2", "", "seed-004-3-4-2"),            # its own row, not also the parent 3.4
    ("002", "3.2", "", "seed-002-ch-3"),
    ("003", None, "seed 003 (demo \"MAE vs MSE\")", "seed-003-linear-regression-loss-functions"),
    ("003", None, "seed 003: the learning-rate schedule", "seed-003-gradient-descent-sgd"),
    ("003", None, "seed 003 (computational graph)", "seed-003-neural-networks"),
    ("003", None, "seed 003 (residual networks)", "seed-003-subwords-relu-layer-normalisation-residual-networks"),
])
def test_a_citation_counts_at_the_deepest_row_that_contains_it(seed, label, context, anchor) -> None:
    assert [s.anchor for s in tm.rows_cited(seed, label, context, tm.parse_seeds())] == [anchor]


@pytest.mark.parametrize("seed, label, context", [("000", "6.1", ""), ("004", "3", ""), ("004", None, ""),
                                                  ("003", None, "seed 003, replayed with fukaku"),
                                                  ("009", "1", "")])
def test_a_citation_broader_than_a_row_counts_for_no_row(seed, label, context) -> None:
    assert tm.rows_cited(seed, label, context, tm.parse_seeds()) == []


@pytest.mark.parametrize("source, anchor", [
    ("seed 000 §6.1.3", "seed-000-6-1-3"), ("seed 002 ch. 3", "seed-002-ch-3"),
    ("seed 003 (softmax demo)", "seed-003-neural-networks"), ("seed 004 §3", "seed-004"),
    ("seed 000 §6.1, seed 001 §9.4", "seed-001-9-4"), ("Mikolov et al. 2013", None)])
def test_anchor_for_a_source_label(source, anchor) -> None:
    assert tm.anchor_for(source) == anchor


def test_modules_and_experiments_land_in_their_rows_and_broad_ones_under_the_seed() -> None:
    seeds = tm.parse_seeds()
    citations = [tm.Citation("fukaku/ops/conv.py:3", "seed 000 §6.2", "000", "6.2", "seed 000 §6.2"),
                 tm.Citation("fukaku/nn/__init__.py:1", "seed 004 §3", "004", "3", "seed 004 §3"),
                 tm.Citation("fukaku/models/_private.py:1", "seed 000 §6.2", "000", "6.2", "seed 000 §6.2"),
                 tm.Citation("fukaku/lab/registry.py:9", "seed 000 §6.2", "000", "6.2", "seed 000 §6.2")]
    experiments = [SimpleNamespace(id="fake-a", title="A", source="seed 000 §6.2, seed 004 §3.6.2"),
                   SimpleNamespace(id="fake-b", title="Softmax sums to one", source="seed 003")]
    tmap = tm.build_map(None, seeds=seeds, citations=citations, experiments=experiments)
    row = {s.anchor: entry for s, entry in tmap.by_section.items()}
    assert row["seed-000-6-2"].modules == {"fukaku.ops.conv"}          # private and lab modules left out
    assert tmap.by_seed["004"].modules == {"fukaku.nn"}
    assert list(row["seed-000-6-2"].experiments) == list(row["seed-004-3-6"].experiments) == ["fake-a"]
    assert list(row["seed-003-neural-networks"].experiments) == ["fake-b"]   # matched by its title
    page = tm.render_page(tmap, "en")
    assert "`fukaku.nn`" in page.split("{#seed-004}")[1].split("{#seed-004-3-1}")[0]


def test_every_section_has_a_japanese_title_and_none_is_stale() -> None:
    seeds = tm.parse_seeds()
    keys = {(s.seed, s.label) for seed in seeds.values() for s in seed.sections}
    assert set(tm.SECTION_TITLES_JA) <= keys
    for seed in seeds.values():
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", seed.title_ja), seed.number
        for s in seed.sections:
            assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", s.title_ja), (s.seed, s.label)


def test_a_table_without_a_japanese_title_is_refused(tmp_path) -> None:
    doc = SEEDS_DOC.read_text(encoding="utf-8").replace("| 6.1.9 | double descent |", "| 6.1.10 | new |")
    path = tmp_path / "seeds.md"
    path.write_text(doc, encoding="utf-8")
    with pytest.raises(ValueError, match="SECTION_TITLES_JA"):
        tm.parse_seeds(path)
    with pytest.raises(FileNotFoundError, match="docs/seeds.md"):
        tm.parse_seeds(tmp_path / "missing.md")


def test_the_site_map_links_the_sites_report_and_table_of_seeds(pages) -> None:
    for page in pages.values():
        assert "](seeds.md)" in page
        assert len(EXPERIMENT_LINK.findall(page)) == page.count("](lab/report.html#exp-")


def test_fukaku_lab_map_writes_both_pages_with_the_results_beside_them(tmp_path, capsys) -> None:
    """Beside a lab report: the experiments link to report.html in the same folder, and the table of seeds
    (only in the site) is named, not linked."""
    from fukaku.lab.cli import cli_main

    _results(tmp_path, {"perceptron-xor": "does not hold"})
    assert cli_main(["map", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "textbook-map.md"), str(tmp_path / "textbook-map.ja.md")]
    for name in ("textbook-map.md", "textbook-map.ja.md"):
        page = (tmp_path / name).read_text(encoding="utf-8")
        assert "](report.html#exp-perceptron-xor) `perceptron-xor` |" in page
        assert "lab/report.html" not in page and "](seeds.md)" not in page and "docs/seeds.md" in page
    assert "`perceptron-xor` | ✗ does not hold |" in (tmp_path / "textbook-map.md").read_text(encoding="utf-8")
    assert cli_main(["map", "--results", str(tmp_path / "missing.json"), "--out", str(tmp_path)]) == 2
    assert "missing" in capsys.readouterr().err
