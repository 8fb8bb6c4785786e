import time
from pathlib import Path

from checkpoints.pages import PageStore, page_hash


def test_content_addressed_store(tmp_path: Path) -> None:
    store = PageStore(tmp_path / "pages.db")
    key = store.put("https://a.example/x", "X", "same text")
    assert key == page_hash("same text") == store.put("https://b.example/y", "Y", "same text")
    assert store.get(key) == "same text"
    assert store.stats() == {"pages": 1, "urls": 2, "chars": 9}
    newer = store.put("https://a.example/x", "X v2", "changed text")
    page = store.lookup("https://a.example/x")
    assert page is not None and page.page_hash == newer and page.text == "changed text" and page.title == "X v2"
    assert store.get(key) == "same text"  # old content stays addressable
    time.sleep(0.05)
    assert store.lookup("https://a.example/x", max_age=0.01) is None
    assert store.lookup("https://nowhere.example") is None
