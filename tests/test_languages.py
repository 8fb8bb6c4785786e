"""Research in Chinese, Japanese and Korean over the local corpus: CJK text is searched by character
bigrams beside the word index, so a question finds documents that share words with it, not whole clauses."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from checkpoints.threads import thread_id_for
from core.settings import load_settings
from deepresearch import runner
from tests.conftest import run_context
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import Hop, Scenario, ToyModel
from tests.test_iterresearch import Recorder, kinds
from tools.corpus.schema import SCHEMA_VERSION
from tools.corpus.store import Corpus

QUESTION_ZH = "电影《玻璃港》首映所在城镇的公共图书馆是由哪位建筑师设计的？这位建筑师出生于哪一年？"
DOCS_ZH = {
    "玻璃港.md": "# 玻璃港（电影）\n\n《玻璃港》是一部1958年的剧情片，由托马斯·雷尔执导。\n\n"
                 "《玻璃港》于1958年3月14日在韦尔莫拉的灯笼影院首映。影评人称赞了港口场景的摄影。",
    "港湾之光.md": "# 港湾之光（电影）\n\n《港湾之光》是一部1961年的喜剧，常与剧情片《玻璃港》混淆。"
                  "《港湾之光》在卡斯特莫尔首映。",
    "韦尔莫拉.md": "# 韦尔莫拉城镇指南\n\n韦尔莫拉位于北部海岸，夏天港口很繁忙。\n\n"
                  "韦尔莫拉公共图书馆由伊尔莎·马罗设计，于1962年开放。星期六有集市。",
    "建筑学会.md": "# 韦尔莫拉建筑学会\n\n学会收藏建筑师的图纸，每位建筑师都把设计图借给韦尔莫拉的图书馆。",
    "伊尔莎.md": "# 伊尔莎·马罗\n\n伊尔莎·马罗是一位以海岸公共建筑闻名的建筑师。"
                 "伊尔莎·马罗出生于1921年，在哥本哈根学习。",
    "灯笼影院.md": "# 灯笼影院\n\n灯笼影院是一座老电影院，放映过许多电影的首映。",
}


def chinese_chain() -> Scenario:
    """Three hops in Chinese: film -> town -> library architect -> birth year (answer 1921)."""
    hops = [
        Hop("premiere town", r"《玻璃港》于[^。]*?在(?P<town>[\u4e00-\u9fff]+?)的[^。]*首映", "玻璃港 电影 首映"),
        Hop("library architect", r"{town}公共图书馆由(?P<architect>[\u4e00-\u9fff·]+?)设计", "{town} 图书馆 建筑师",
            alt_query="{town}公共图书馆 设计"),
        Hop("birth year", r"{architect}出生于(?P<year>\d{{4}})年", "{architect} 出生"),
    ]
    return Scenario(hops=hops, answer="{year}")


@pytest.fixture
def corpus_zh(home: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "zh"
    folder.mkdir()
    for name, text in DOCS_ZH.items():
        (folder / name).write_text(text, encoding="utf-8")
    home.mkdir(parents=True, exist_ok=True)
    Corpus(home / "corpus.db").ingest([folder])
    return folder


def test_cjk_queries_find_documents_by_their_words(tmp_path: Path, corpus_dir: Path) -> None:
    corpus = Corpus(tmp_path / "c.db")
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS_ZH.items():
        (docs / name).write_text(text, encoding="utf-8")
    (docs / "tokyo.md").write_text("# 東京タワー\n\n東京タワーは1958年に完成した電波塔です。", encoding="utf-8")
    (docs / "seoul.md").write_text("# 서울 도서관\n\n서울도서관은 2012년에 문을 열었습니다.", encoding="utf-8")
    corpus.ingest([docs, corpus_dir])  # a mixed-language corpus
    assert Path(corpus.search("韦尔莫拉公共图书馆 设计", 1)[0]["url"]).name == "韦尔莫拉.md"
    assert Path(corpus.search("伊尔莎·马罗 出生", 1)[0]["url"]).name == "伊尔莎.md"
    assert Path(corpus.search("東京タワー 完成", 1)[0]["url"]).name == "tokyo.md"
    assert Path(corpus.search("서울도서관 문", 1)[0]["url"]).name == "seoul.md"
    # English ranking is what it was: the same top document for the same question
    assert Path(corpus.search("Velmora public library designed by", 1)[0]["url"]).name == "velmora_town_guide.pdf"


async def test_a_chinese_multi_hop_question(home: Path, corpus_zh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ModelServer(ToyModel(chinese_chain())) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        recorder = Recorder()
        result = await runner.start(load_settings(), thread_id_for("zh"), QUESTION_ZH, "iterresearch",
                                    run_context(pages_per_round=2), recorder)
    assert result.answer == "1921"
    assert sorted(Path(s["url"]).name for s in result.sources) == sorted(["玻璃港.md", "韦尔莫拉.md", "伊尔莎.md"])
    assert "[1]" in result.report and "[3]" in result.report
    queries = [e["query"] for e in kinds(recorder, "search")]
    assert queries[:2] == ["玻璃港 电影 首映", "韦尔莫拉 图书馆 建筑师"] and "韦尔莫拉公共图书馆 设计" in queries


def test_a_corpus_indexed_before_bigrams_is_migrated(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:  # the schema of the previous version, words only
        conn.executescript("""
            CREATE TABLE documents (id INTEGER PRIMARY KEY, path TEXT NOT NULL, title TEXT, kind TEXT,
                                    hash TEXT NOT NULL, chars INTEGER, ingested_at FLOAT);
            CREATE TABLE passages (id INTEGER PRIMARY KEY, doc_id INTEGER REFERENCES documents(id), seq INTEGER,
                                   path TEXT, title TEXT, text TEXT);
            CREATE VIRTUAL TABLE passages_fts USING FTS5 (title, text, content=[passages],
                                                          tokenize='porter unicode61');
            INSERT INTO documents VALUES (1, '/d/town.md', '韦尔莫拉', 'markdown', 'h', 30, 0);
            INSERT INTO passages VALUES (1, 1, 0, '/d/town.md', '韦尔莫拉', '韦尔莫拉公共图书馆由伊尔莎·马罗设计。');
            INSERT INTO passages_fts (rowid, title, text) SELECT id, title, text FROM passages;
        """)
    corpus = Corpus(db)
    assert [h["url"] for h in corpus.search("图书馆 设计", 3)] == ["/d/town.md"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
