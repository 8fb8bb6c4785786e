"""A fictional world for an offline multi-hop benchmark: fact chains, their documents and their questions.

Each chain links a director to a film, the film to the town where it premiered, the town's public
library to its architect, and the architect to a birth year. Every chain asks three questions (2, 3
and 4 hops to the year), has a distractor film that is easy to confuse, and two chains are written in
Chinese. The toy model's scenarios come from the same chains, so the tests can run the benchmark end to end.

    python -m benchmarks.offline.build      # writes benchmarks/offline/corpus and questions.jsonl
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Chain:
    """director -> film -> premiere town -> library architect -> birth year (and a distractor film)."""

    director: str
    film: str
    town: str
    architect: str
    year: int
    distractor: str  # a film with a similar title, premiered in another town
    distractor_town: str
    chinese: bool = False


CHAINS = [
    Chain("Tomas Reyle", "Glass Harbor", "Velmora", "Ilse Marrow", 1921, "Harbor Lights", "Castmoor"),
    Chain("Anna Brekke", "Silver Quay", "Dunholt", "Oskar Lind", 1908, "Silver Bay", "Rensby"),
    Chain("Mira Castell", "Amber Road", "Pellmouth", "Jonas Feld", 1933, "Amber Lane", "Hoxley"),
    Chain("Piet Varga", "Iron Lantern", "Saltfleet", "Greta Holm", 1899, "Iron Lamp", "Corrow"),
    Chain("Lena Osk", "Cold Orchard", "Brinmere", "Victor Aal", 1946, "Cold Garden", "Tarnby"),
    Chain("Hugo Sand", "North Ferry", "Kelston", "Ruth Amsel", 1912, "North Pier", "Wexmoor"),
    Chain("Ines Roth", "Paper Tide", "Lowmarsh", "Emil Strand", 1927, "Paper Moon", "Fennick"),
    Chain("Karl Moen", "Quiet Signal", "Oxmere", "Sofia Berg", 1939, "Quiet Station", "Galloway"),
    Chain("林秋雨", "雾港", "青溪镇", "周明远", 1931, "雾海", "白沙镇", chinese=True),
    Chain("陈晓光", "石桥夜话", "临川镇", "王雅琴", 1917, "石桥旧梦", "柳湾镇", chinese=True),
]


# each chain's five documents, by file suffix, in its language (filled from the chain's fields)
TEMPLATES = {
    "zh": {
        "director": "# 导演{director}\n\n{director}执导了电影《{film}》。她以海港题材闻名。\n",
        "film": "# 《{film}》\n\n电影《{film}》于1958年在{town}首映，随后在各地放映。\n",
        "town": "# {town}指南\n\n{town}公共图书馆由建筑师{architect}设计，于1962年开放。\n",
        "architect": "# 建筑师{architect}\n\n{architect}生于{year}年，设计过多座公共建筑。\n",
        "distractor": "# 《{distractor}》\n\n电影《{distractor}》常与《{film}》混淆，"
                      "《{distractor}》在{distractor_town}首映。\n",
    },
    "en": {
        "director": "# {director}\n\n{director} is a film director. {director} directed the film {film} early in a "
                    "long career.\n",
        "film": "# {film} (film)\n\n{film} is a drama. {film} premiered in {town}, a small town, and opened in the "
                "capital a month later.\n",
        "town": "# {town} town guide\n\nThe {town} Public Library was designed by {architect} and opened to "
                "readers in its first year.\n",
        "architect": "# {architect}\n\n{architect} was an architect of civic buildings. {architect} was born in "
                     "{year} and trained abroad.\n",
        "distractor": "# {distractor} (film)\n\n{distractor} is a comedy, often confused with the drama {film}. "
                      "{distractor} premiered in {distractor_town}.\n",
    },
}


def documents() -> dict[str, str]:
    """File name -> Markdown text: a director, a film, a town guide, an architect, and the distractor film."""
    docs: dict[str, str] = {}
    for i, c in enumerate(CHAINS):
        language = "zh" if c.chinese else "en"
        for part, template in TEMPLATES[language].items():
            docs[f"{language}{i:02d}_{part}.md"] = template.format(**asdict(c))
    return docs


def _questions(c: Chain) -> list[tuple[str, int]]:
    if c.chinese:
        return [(f"设计{c.town}公共图书馆的建筑师生于哪一年？", 2),
                (f"电影《{c.film}》首映所在镇的公共图书馆，其设计者生于哪一年？", 3),
                (f"{c.director}执导的电影首映所在镇的公共图书馆，其设计者生于哪一年？", 4)]
    return [(f"In what year was the architect born who designed the {c.town} Public Library?", 2),
            (f"In what year was the architect born who designed the public library of the town where the film "
             f"{c.film} premiered?", 3),
            (f"In what year was the architect born who designed the public library of the town where the film "
             f"directed by {c.director} premiered?", 4)]


def questions() -> list[dict[str, Any]]:
    """The benchmark's question records: question, answer, hops, language."""
    return [{"question": q, "answer": str(c.year), "hops": hops, "language": "zh" if c.chinese else "en"}
            for c in CHAINS for q, hops in _questions(c)]


def scenarios() -> dict[str, Any]:
    """Question -> the toy model's scenario for it (tests only: it imports the toy model)."""
    from tests.fakes.toy_model import Hop, Scenario

    out: dict[str, Any] = {}
    for c in CHAINS:
        if c.chinese:
            film = Hop("film", rf"{c.director}执导了电影《(?P<film>[^》]+)》", f"{c.director} 导演 电影")
            town = Hop("premiere town", r"电影《{film}》[^。]*在(?P<town>[\u4e00-\u9fff]{{2,4}}镇)首映",
                       "《{film}》 首映")
            arch = Hop("library architect", r"{town}公共图书馆由建筑师(?P<architect>[\u4e00-\u9fff]{{2,4}})设计",
                       "{town} 公共图书馆 建筑师")
            year = Hop("birth year", r"{architect}生于(?P<year>\d{{4}})年", "{architect} 建筑师 出生")
        else:
            film = Hop("film", rf"{c.director} directed the film (?P<film>[A-Z][a-z]+ [A-Z][a-z]+)",
                       f"{c.director} film director")
            town = Hop("premiere town", r"{film} premiered in (?P<town>[A-Z][a-z]+)", "{film} film premiere")
            arch = Hop("library architect",
                       r"{town} Public Library was designed by (?P<architect>[A-Z][a-z]+ [A-Z][a-z]+)",
                       "{town} public library architect")
            year = Hop("birth year", r"{architect}[^.]*\bborn (?:in )?(?P<year>\d{{4}})", "{architect} architect born")
        known_film = Hop("premiere town", town.fact.replace("{film}", c.film), town.query.replace("{film}", c.film))
        known_town = Hop("library architect", arch.fact.replace("{town}", c.town), arch.query.replace("{town}", c.town))
        chains = {2: [known_town, year], 3: [known_film, arch, year], 4: [film, town, arch, year]}
        for q, hops in _questions(c):
            out[q] = Scenario(hops=chains[hops], answer="{year}")
    return out
