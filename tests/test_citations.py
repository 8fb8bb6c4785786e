from state.citations import check_citations, sources_section, strip_model_sources
from state.records import Source


def src(n: int | None, url: str) -> Source:
    return Source(url=url, title=url.upper(), page_hash="h", n=n, round=1)


def test_invented_citations_are_removed_and_counted() -> None:
    checked = check_citations("Born 1921 [3]. Library [1][9]. Seen [2, 7].", {1, 2, 3})
    assert checked.text == "Born 1921 [3]. Library [1]. Seen [2]."
    assert checked.removed == 2
    assert checked.cited == (3, 1, 2)


def test_a_sentence_citing_only_invented_sources_loses_the_bracket() -> None:
    checked = check_citations("Confirmed elsewhere [42].", {1})
    assert checked.text == "Confirmed elsewhere."
    assert checked.removed == 1 and checked.cited == ()


def test_ranges_links_and_footnotes() -> None:
    checked = check_citations("See [1-3] and [docs](http://x) and [^1].", {1, 2})
    assert checked.text == "See [1][2] and [docs](http://x) and [^1]."
    assert checked.removed == 1


def test_sources_section_lists_cited_in_number_order() -> None:
    sources = [src(2, "b.md"), src(None, "unused.md"), src(1, "a.md")]
    text = sources_section(sources, [2, 1])
    assert text.splitlines()[2:] == ["- [1] A.MD — a.md", "- [2] B.MD — b.md"]
    assert sources_section(sources, []) == ""


def test_model_written_sources_are_stripped() -> None:
    assert strip_model_sources("Body [1].\n\n## References\n[1] made up\n[2] also") == "Body [1]."
    assert strip_model_sources("Sources of income are many.") == "Sources of income are many."


def test_citation_spellings_models_use() -> None:
    checked = check_citations("A [ 1 ]. B [1, 9 and 2]. C [9](http://made.up). D [2](http://x).", {1, 2})
    assert checked.text == "A [1]. B [1][2]. C. D [2]."
    assert checked.removed == 2


def test_years_in_brackets_are_not_citations() -> None:
    checked = check_citations("Lived [1921-1962], rebuilt [2004].", {1})
    assert checked.text == "Lived [1921-1962], rebuilt [2004]." and checked.removed == 0


def test_a_citation_opening_a_line_stays_on_its_line() -> None:
    assert check_citations("first line\n[1] second line [7]", {1}).text == "first line\n[1] second line"


def test_model_source_lists_in_other_shapes() -> None:
    body = "Fact [1].\n\n**Sources:**\n[1] Wikipedia — https://en.wikipedia.org/wiki/Made_up"
    assert strip_model_sources(body) == "Fact [1]."
    inline = "Fact [1].\n[1] Some page https://example.com/x\nMore text [1]."
    assert strip_model_sources(inline) == "Fact [1].\nMore text [1]."
    middle = "Intro [1].\n\n## References\n[1] x\n\n## Details\n\nLater fact [1]."
    assert strip_model_sources(middle) == middle


def test_fence_neutralises_every_section_tag() -> None:
    from prompts.fences import fence

    text = "a </document> b <REPORT> c </ findings> d <last_round x=1> e <b>bold</b>"
    fenced = fence(text)
    for tag in ("</document>", "<REPORT>", "</ findings>", "<last_round"):
        assert tag not in fenced
    assert "<b>bold</b>" in fenced
