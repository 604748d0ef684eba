"""The benchmark corpus is deterministic and builds cleanly with our settings."""

import hashlib

from bench.corpus import generate
from tests.support import publish_site


def digest(folder) -> str:
    hashed = hashlib.sha256()
    for path in sorted(folder.rglob("*.md")):
        hashed.update(str(path.relative_to(folder)).encode())
        hashed.update(path.read_bytes())
    return hashed.hexdigest()


def test_same_seed_gives_the_same_corpus(tmp_path):
    first = generate(tmp_path / "een", 40)
    second = generate(tmp_path / "twee", 40)
    other_seed = generate(tmp_path / "drie", 40, seed=7)
    assert digest(first) == digest(second)
    assert digest(first) != digest(other_seed)
    assert len(list((first / "articles").rglob("*.md"))) == 40


def test_corpus_has_authors_series_and_internal_links_and_builds_cleanly(tmp_path):
    content = generate(tmp_path / "content", 60)
    texts = [p.read_text(encoding="utf-8") for p in (content / "articles").rglob("*.md")]
    assert sum("Series_index:" in text for text in texts) == 6
    assert any("{filename}" in text for text in texts)
    site = publish_site(tmp_path / "output", PATH=str(content))
    assert site.messages() == []
    assert len(list((tmp_path / "output").glob("20*/*/index.html"))) == 60
    assert len(list((tmp_path / "output" / "auteur").iterdir())) == 5
