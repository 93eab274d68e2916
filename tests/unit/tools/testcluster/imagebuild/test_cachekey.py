"""The images' cache: where it lives, and a key that changes with every input and file."""

from __future__ import annotations

from pathlib import Path

import pytest
from imagebuild import cachekey


def test_cache_root_follows_the_collections_cache_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("HOMELAB_MLFLOW_CACHE", str(tmp_path / "explicit"))
    assert cachekey.cache_root() == tmp_path / "explicit" / "images"
    monkeypatch.delenv("HOMELAB_MLFLOW_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cachekey.cache_root() == tmp_path / "xdg" / "homelab-mlflow" / "images"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cachekey.cache_root() == tmp_path / "home" / ".cache" / "homelab-mlflow" / "images"


@pytest.fixture
def context(tmp_path) -> Path:
    (tmp_path / "plugins" / "filter").mkdir(parents=True)
    (tmp_path / "plugins" / "filter" / "names.py").write_text("x = 1\n")
    (tmp_path / "plugins" / "__pycache__").mkdir()
    (tmp_path / "plugins" / "__pycache__" / "names.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "plugins" / "stale.pyc").write_bytes(b"\0")
    (tmp_path / "galaxy.yml").write_text("version: 0.1.0\n")
    return tmp_path


def test_context_files_are_the_copied_files_without_byte_code(context):
    files = cachekey.context_files(context, ["galaxy.yml", "plugins"])
    assert [path.relative_to(context).as_posix() for path in files] == ["galaxy.yml", "plugins/filter/names.py"]


def test_a_missing_context_source_is_named(context):
    with pytest.raises(FileNotFoundError, match="meta"):
        cachekey.context_files(context, ["meta"])


def test_the_key_is_stable_for_the_same_inputs(context):
    files = cachekey.context_files(context, ["galaxy.yml", "plugins"])
    assert cachekey.key({"a": 1, "b": [2]}, files, context) == cachekey.key({"b": [2], "a": 1}, files, context)


def test_the_key_changes_with_inputs_file_content_mode_and_set(context):
    def current(inputs=None):
        files = cachekey.context_files(context, ["galaxy.yml", "plugins"])
        return cachekey.key(inputs or {"build_args": {"V": "1"}}, files, context)

    seen = {current()}
    seen.add(current({"build_args": {"V": "2"}}))
    (context / "galaxy.yml").write_text("version: 0.2.0\n")
    seen.add(current())
    (context / "galaxy.yml").chmod(0o600)
    seen.add(current())
    (context / "plugins" / "filter" / "more.py").write_text("")
    seen.add(current())
    assert len(seen) == 5


def test_byte_code_does_not_change_the_key(context):
    before = cachekey.key({}, cachekey.context_files(context, ["plugins"]), context)
    (context / "plugins" / "__pycache__" / "other.cpython-311.pyc").write_bytes(b"\1")
    assert cachekey.key({}, cachekey.context_files(context, ["plugins"]), context) == before
