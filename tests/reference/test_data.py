"""Finding, verifying and reading the documents."""

import io
import urllib.request

import pytest
from microgpt import data
from microgpt.data import DataError, default_names_path, ensure_names, load_docs, read_docs


def test_names_file_is_the_verified_32033_names(names):
    assert len(names) == 32033
    assert names[:3] == ["emma", "olivia", "ava"]


def test_a_file_with_the_wrong_checksum_is_refused_with_its_path(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("not\nthe\nnames\n")
    with pytest.raises(DataError, match=f"{path}.*Delete it"):
        ensure_names(path)


def test_a_missing_file_without_network_says_what_to_do(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    path = tmp_path / "names.txt"
    with pytest.raises(DataError, match="Copy names.txt there by hand"):
        ensure_names(path)
    assert not path.exists()


def serve(monkeypatch, payload):
    """Make urlopen answer every request with payload."""
    monkeypatch.setattr(urllib.request, "urlopen", lambda *args, **kwargs: io.BytesIO(payload))


def test_a_download_with_the_wrong_checksum_is_not_kept(tmp_path, monkeypatch):
    serve(monkeypatch, b"mallory\n")
    with pytest.raises(DataError, match="wrong SHA-256"):
        ensure_names(tmp_path / "names.txt")
    assert list(tmp_path.iterdir()) == []


def test_a_download_with_the_right_checksum_is_kept(tmp_path, monkeypatch):
    payload = ensure_names(default_names_path()).read_bytes()
    serve(monkeypatch, payload)
    path = tmp_path / "sub" / "names.txt"
    assert ensure_names(path) == path and path.read_bytes() == payload


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "no documents"),
        (b"\n  \n", "no documents"),
        (b"\x00\x01\x02", "binary"),
        (b"\xff\xfe\xfa", "not UTF-8"),
    ],
)
def test_unusable_files_are_refused(tmp_path, content, message):
    path = tmp_path / "docs.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_docs(path)


def test_any_text_file_gives_one_document_per_line(tmp_path, monkeypatch):
    path = tmp_path / "words.txt"
    path.write_text(" hello \n\nworld\r\n")
    assert load_docs(path) == ["hello", "world"]
    monkeypatch.setenv(data.DATA_ENV, str(path))
    assert load_docs() == ["hello", "world"]
