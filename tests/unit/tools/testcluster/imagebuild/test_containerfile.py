"""What a Containerfile build reads from its context, and how buildah is called."""

from __future__ import annotations

from pathlib import Path

from imagebuild import containerfile

REPO = Path(__file__).resolve().parents[5]


def test_copy_sources_skip_other_stages_and_flags_and_join_continued_lines():
    text = (
        "FROM x AS build\n"
        "# COPY commented out\n"
        "COPY requirements/runtime.txt ./runtime.txt\n"
        "COPY --chown=1:1 meta \\\n"
        "     plugins/ /dest/\n"
        "ADD data.tar /data\n"
        "COPY --from=build /dist/ /tmp/dist/\n"
    )
    assert containerfile.copy_sources(text) == ["requirements/runtime.txt", "meta", "plugins", "data.tar"]


def test_the_drift_containerfile_copies_the_collection_and_its_locked_requirements():
    sources = containerfile.copy_sources((REPO / "images" / "drift" / "Containerfile").read_text())
    warnings_pth = "tools/python/homelab_mlflow_warnings.pth"
    expected = {"requirements/runtime.txt", "galaxy.yml", "plugins", "roles", warnings_pth}
    assert expected <= set(sources)
    # every source exists: the cache key covers each copied file
    assert containerfile.context_files(REPO, REPO / "images" / "drift" / "Containerfile")


def test_the_mlflow_containerfile_copies_nothing():
    assert containerfile.copy_sources((REPO / "images" / "mlflow" / "Containerfile").read_text()) == []


def test_build_argv_mounts_only_host_files_that_exist(monkeypatch, tmp_path):
    present = tmp_path / "ca.crt"
    present.write_text("")
    monkeypatch.setattr(containerfile, "HOST_FILES", [str(present), str(tmp_path / "absent.conf")])
    argv = containerfile.build_argv(Path("C"), Path("ctx"), "r/x:1", {"B": "2", "A": "1"})
    assert f"--volume={present}:{present}:ro" in argv
    assert not any("absent.conf" in word for word in argv)
    assert argv[-1] == "ctx"
    assert [word for word in argv if word.startswith("--build-arg")] == ["--build-arg=A=1", "--build-arg=B=2"]
    assert "--pull=never" in argv


def test_stage_context_copies_exactly_the_given_files(tmp_path):
    repo, target = tmp_path / "repo", tmp_path / "ctx"
    (repo / "a" / "b").mkdir(parents=True)
    (repo / "a" / "b" / "f.txt").write_text("f")
    (repo / "a" / "skip.txt").write_text("s")
    containerfile.stage_context(repo, [repo / "a" / "b" / "f.txt"], target)
    assert sorted(path.relative_to(target).as_posix() for path in target.rglob("*") if path.is_file()) == ["a/b/f.txt"]
