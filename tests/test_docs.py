"""Every "seed NNN §x" a docstring cites resolves in docs/seeds.md (issue 6, item 12)."""
from __future__ import annotations

import pytest

# the table's parser and the citation scan are the textbook map's (fukaku/lab/textbook_map.py)
from fukaku.lab.textbook_map import CITATION, scan_citations, section_labels


def _sections() -> dict[str, set[str]]:
    """Seed number -> the section / chapter labels its table in docs/seeds.md lists (rows and the
    sub-sections named in a row, e.g. "(3.6.1)")."""
    return section_labels()


def _citations() -> list[tuple[str, str, str, str | None]]:
    return [(c.where, c.text, c.seed, c.label) for c in scan_citations()]


def _problem(text: str, seed: str, label: str | None, sections: dict[str, set[str]]) -> str | None:
    """Why a citation does not resolve, or None when it does."""
    if seed not in sections:
        return "names no seed of docs/seeds.md"
    if "-" in text.split()[1]:
        return "names a spec file, not a seed; cite one seed"
    if label is not None and label not in sections[seed] and label.split(".")[0] not in sections[seed] \
            and not any(s.startswith(label + ".") for s in sections[seed]):
        return f"seed {seed} has no section {label} in docs/seeds.md"
    return None


def test_the_table_lists_every_seed_with_its_sections() -> None:
    sections = _sections()
    assert sorted(sections) == ["000", "001", "002", "003", "004"]
    assert {"6.1.1", "6.1.9", "6.5"} <= sections["000"] and {"3.2", "3.6", "3.6.1"} <= sections["004"]
    assert {str(n) for n in range(1, 6)} <= sections["002"]


def test_every_citation_in_the_code_resolves() -> None:
    sections = _sections()
    citations = _citations()
    assert len(citations) > 50, "the scan found too few citations: is the pattern still right?"
    unresolved = [f"{where}: {text!r} {problem}" for where, text, seed, label in citations
                  if (problem := _problem(text, seed, label, sections))]
    assert not unresolved, "\n".join(unresolved)


@pytest.mark.parametrize("bad", ["seed 009 §1", "seed 000 §7.2", "seeds 001-002 ch. 5"])
def test_the_checker_refuses_a_bad_citation(bad: str) -> None:
    """The scan is not vacuous: a wrong seed, a section the table lacks, or a spec-file name is caught."""
    match = CITATION.search(bad)
    assert _problem(match.group(0), match.group(1), match.group(3), _sections()) is not None
