"""The committed reference pages are what `make docs` writes from today's argument_specs and documentation."""

from __future__ import annotations

from pathlib import Path

import generate_reference
import pytest
from reference_files import Change, plan, stale
from reference_source import dump_metadata, read_reference

REPO = Path(__file__).resolve().parents[4]


def test_the_reference_pages_are_up_to_date():
    outdated = stale(plan(read_reference(dump_metadata(REPO), REPO), REPO), REPO)

    assert not outdated, (
        "the reference pages differ from the roles' argument_specs and the plugins' documentation: run `make docs` "
        f"and commit what it writes ({', '.join(str(path) for path in outdated)})"
    )


def test_check_names_each_stale_page_and_says_to_run_make_docs(monkeypatch, capsys, tmp_path):
    (tmp_path / "docs").mkdir()
    monkeypatch.setattr(generate_reference, "dump_metadata", lambda repo: {})
    monkeypatch.setattr(generate_reference, "plan", lambda reference, repo: [Change(Path("docs/x.md"), "new\n")])

    assert generate_reference.main(["--check", "--repo", str(tmp_path)]) == 1
    assert "docs/x.md is not up to date: run `make docs`" in capsys.readouterr().err
    assert not (tmp_path / "docs/x.md").exists()


def test_without_check_it_writes_the_pages(monkeypatch, capsys, tmp_path):
    (tmp_path / "docs").mkdir()
    monkeypatch.setattr(generate_reference, "dump_metadata", lambda repo: {})
    monkeypatch.setattr(generate_reference, "plan", lambda reference, repo: [Change(Path("docs/x.md"), "new\n")])

    assert generate_reference.main(["--repo", str(tmp_path)]) == 0
    assert (tmp_path / "docs/x.md").read_text() == "new\n"
    assert "wrote docs/x.md" in capsys.readouterr().out


@pytest.mark.parametrize("check", [[], ["--check"]])
def test_a_source_that_cannot_be_read_fails_with_its_reason(monkeypatch, capsys, tmp_path, check):
    def broken(repo):
        raise generate_reference.DocsError("module homelab.mlflow.x: Unable to parse DOCUMENTATION")

    monkeypatch.setattr(generate_reference, "dump_metadata", broken)

    assert generate_reference.main([*check, "--repo", str(tmp_path)]) == 2
    assert "make docs: module homelab.mlflow.x: Unable to parse DOCUMENTATION" in capsys.readouterr().err
