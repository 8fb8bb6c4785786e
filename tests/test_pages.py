import time
from pathlib import Path

from tools.web.pages import PageStore, page_hash


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


def test_a_fresh_store_takes_many_writers_at_once(tmp_path: Path) -> None:
    """Parallel readers open a new pages.db together: setting it up must not fail with 'database is locked'."""
    from concurrent.futures import ThreadPoolExecutor

    for attempt in range(5):
        store = PageStore(tmp_path / f"pages-{attempt}.db")
        with ThreadPoolExecutor(16) as pool:
            keys = list(pool.map(lambda i, s=store: s.put(f"https://x.example/{i}", "t", f"text {i}"), range(32)))
        assert len(set(keys)) == 32 and store.stats()["urls"] == 32
