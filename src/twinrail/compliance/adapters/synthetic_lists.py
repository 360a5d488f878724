"""Synthetic watch lists and a labelled set of name variants, for tests and the benchmark.

Entities are people (Russian, Greek, Arabic and Western names, listed in Latin script the way
the published lists romanise them, with alternative romanisations as aliases) and companies.
The labelled queries are variants of listed names a screening must find (original script,
reordered parts, one typo, an initial, a missing middle name, an alias) and look-alikes it must
not: a listed name with one part replaced by the same part of another entity of the same culture,
more than one edit away (one edit is what the typo variants test), with another birth date.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import OSA

from twinrail.compliance.domain.entities import EntityKind, ListEntity
from twinrail.compliance.domain.names import analyse_name

__all__ = [
    "SyntheticPerson",
    "LabelledQuery",
    "generate_people",
    "labelled_queries",
    "to_list",
    "evaluate",
    "romanise_ru",
    "romanise_gr",
]

_RU_GIVEN = (
    "Владимир Сергей Алексей Дмитрий Николай Андрей Михаил Иван Евгений Юрий Олег Игорь Виктор "
    "Павел Роман Максим Константин Григорий Борис Анатолий Геннадий Василий Степан Фёдор Ирина "
    "Ольга Наталья Елена Татьяна Светлана Людмила Юлия Мария Анна Екатерина Ксения Дарья Галина"
).split()
_RU_PATRONYMIC = (
    "Владимирович Сергеевич Алексеевич Дмитриевич Николаевич Андреевич Михайлович Иванович "
    "Петрович Борисович Викторович Юрьевич Олегович Игоревич Павлович"
).split()
_RU_C = "бвгджзклмнпрстфхцчшщ"
_RU_V = "аеиоуя"
_RU_END = ("ов", "ев", "ин", "ский", "енко", "ук", "ович")
_GR_GIVEN = (
    "Γεώργιος Δημήτριος Κωνσταντίνος Ιωάννης Νικόλαος Παναγιώτης Βασίλειος Χρήστος Αθανάσιος "
    "Μιχαήλ Ευάγγελος Σπυρίδων Αντώνιος Μαρία Ελένη Αικατερίνη Βασιλική Σοφία Αγγελική Δέσποινα"
).split()
_GR_C = "βγδζθκλμνξπρστφχ"
_GR_V = ("α", "ε", "ι", "ο", "ου", "η")
_GR_END = ("ος", "ης", "άκης", "όπουλος", "ίδης", "ίου", "άτος")
_AR_GIVEN = (
    ("محمد", "Mohammed"), ("أحمد", "Ahmed"), ("علي", "Ali"), ("حسن", "Hassan"),
    ("حسين", "Hussein"), ("خالد", "Khaled"), ("عمر", "Omar"), ("يوسف", "Youssef"),
    ("إبراهيم", "Ibrahim"), ("مصطفى", "Mustafa"), ("سعيد", "Saeed"), ("كريم", "Karim"),
    ("جمال", "Jamal"), ("طارق", "Tariq"), ("فيصل", "Faisal"), ("ناصر", "Nasser"),
    ("سليمان", "Suleiman"), ("رشيد", "Rashid"), ("منصور", "Mansour"), ("عادل", "Adel"),
    ("وليد", "Walid"), ("ماجد", "Majid"), ("صالح", "Saleh"), ("حمزة", "Hamza"),
    ("بلال", "Bilal"), ("زياد", "Ziad"), ("فارس", "Fares"), ("هشام", "Hisham"),
    ("نبيل", "Nabil"), ("جابر", "Jaber"), ("مراد", "Murad"), ("قاسم", "Qasim"),
    ("عثمان", "Othman"), ("باسم", "Basim"), ("غسان", "Ghassan"), ("شريف", "Sharif"),
)  # fmt: skip
_AR_FAMILY = (
    ("الزهراني", "Al-Zahrani"), ("العتيبي", "Al-Otaibi"), ("الشمري", "Al-Shammari"),
    ("القحطاني", "Al-Qahtani"), ("الحربي", "Al-Harbi"), ("المطيري", "Al-Mutairi"),
    ("الدوسري", "Al-Dosari"), ("الغامدي", "Al-Ghamdi"), ("التميمي", "Al-Tamimi"),
    ("الكعبي", "Al-Kaabi"), ("البلوشي", "Al-Balushi"), ("الجبوري", "Al-Juburi"),
    ("العبيدي", "Al-Obaidi"), ("الدليمي", "Al-Dulaimi"), ("النجار", "Al-Najjar"),
    ("الخطيب", "Al-Khatib"), ("الحداد", "Al-Haddad"), ("الساعدي", "Al-Saadi"),
    ("الرفاعي", "Al-Rifai"), ("الهاشمي", "Al-Hashimi"), ("البغدادي", "Al-Baghdadi"),
    ("المصري", "Al-Masri"), ("الأنصاري", "Al-Ansari"), ("الشامي", "Al-Shami"),
)  # fmt: skip
_WEST_GIVEN = (
    "John James Robert Michael William David Richard Thomas Charles Daniel Carlos Jose Luis "
    "Juan Pedro Miguel Hans Klaus Stefan Jurgen Pierre Jean Michel Francois Giovanni Marco "
    "Luca Paolo Mary Patricia Jennifer Linda Elizabeth Susan Maria Carmen Ana Isabel Sophie "
    "Claire Giulia Francesca Anke Petra"
).split()
_LAT_C = "bcdfgklmnprstvz"
_LAT_V = "aeiou"
_WEST_END = ("son", "ez", "er", "mann", "ini", "ard", "ton", "ley", "berg", "elli")
_ORG_WORDS = (
    "Trading Shipping Logistics Petroleum Energy Capital Holdings Industrial Maritime".split()
)
_ORG_FORMS = ("LLC", "Ltd", "JSC", "GmbH", "SA", "")
_COUNTRIES = {"ru": ("RU", "BY", "KZ"), "gr": ("GR", "CY"), "ar": ("SY", "IQ", "LB", "AE")}
_COUNTRIES["west"] = ("US", "GB", "ES", "DE", "FR", "IT", "VE")

_RU_LATIN = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e yo zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya".split(),
        strict=True,
    )
)
_RU_ALT = {"kh": "ch", "v": "w", "y": "j", "ts": "z", "shch": "sch", "zh": "sh", "yu": "ju"}
_GR_LATIN = dict(
    zip(
        "αβγδεζηθικλμνξοπρσςτυφχψω",
        "a v g d e z i th i k l m n x o p r s s t y f ch ps o".split(),
        strict=True,
    )
)


@dataclass(frozen=True, slots=True)
class SyntheticPerson:
    """A generated entity and the name in its original script (None for Western names)."""

    entity: ListEntity
    original: str | None
    culture: str


@dataclass(frozen=True, slots=True)
class LabelledQuery:
    """A query and the entity it must find (None: it must find nothing)."""

    name: str
    birth_date: dt.date | None
    country: str | None
    expected: str | None
    variant: str


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def romanise_ru(text: str, alternative: bool = False) -> str:
    """BGN/PCGN-style romanisation (or a German-style alternative for aliases)."""
    out = []
    for word in text.split():
        letters = [_RU_LATIN.get(ch, ch) for ch in word.lower()]
        if alternative:
            letters = [_RU_ALT.get(p, p) for p in letters]
        out.append("".join(p for p in letters if p != "_").capitalize())
    return " ".join(out)


def romanise_gr(text: str) -> str:
    """ELOT 743-style romanisation."""
    words = []
    for word in _strip_accents(text).lower().replace("ου", "ou").split():
        words.append("".join(_GR_LATIN.get(ch, ch) for ch in word).capitalize())
    return " ".join(words)


def _syllables(rng: random.Random, consonants: str, vowels: str | tuple[str, ...], n: int) -> str:
    return "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(n))


def _person(rng: random.Random, i: int) -> SyntheticPerson:
    culture = rng.choices(("ru", "gr", "ar", "west", "org"), (30, 15, 20, 20, 15))[0]
    aliases: list[str] = []
    original: str | None = None
    if culture == "ru":
        surname = _syllables(rng, _RU_C, _RU_V, rng.choice((1, 2))) + rng.choice(_RU_END)
        parts = [rng.choice(_RU_GIVEN)] + (
            [rng.choice(_RU_PATRONYMIC)] if rng.random() < 0.5 else []
        )
        original = " ".join([*parts, surname.capitalize()])
        name = romanise_ru(original)
        if rng.random() < 0.4:
            aliases.append(romanise_ru(original, alternative=True))
    elif culture == "gr":
        surname = _syllables(rng, _GR_C, _GR_V, 2) + rng.choice(_GR_END)
        original = f"{rng.choice(_GR_GIVEN)} {surname.capitalize()}"
        name = romanise_gr(original)
    elif culture == "ar":
        given, father, family = rng.choice(_AR_GIVEN), rng.choice(_AR_GIVEN), rng.choice(_AR_FAMILY)
        with_father = rng.random() < 0.6
        pairs = [given, father, family] if with_father else [given, family]
        original = " ".join(p[0] for p in pairs)
        name = " ".join(p[1] for p in pairs)
        if rng.random() < 0.4:
            aliases.append(f"{given[1]} {family[1].removeprefix('Al-')}")
    elif culture == "west":
        surname = _syllables(rng, _LAT_C, _LAT_V, rng.choice((1, 2))) + rng.choice(_WEST_END)
        middle = [rng.choice(_WEST_GIVEN)] if rng.random() < 0.3 else []
        name = " ".join([rng.choice(_WEST_GIVEN), *middle, surname.capitalize()])
    else:
        word = _syllables(rng, _LAT_C, _LAT_V, rng.choice((2, 3))).capitalize()
        name = f"{word} {rng.choice(_ORG_WORDS)} {rng.choice(_ORG_FORMS)}".strip()
        country = rng.choice(_COUNTRIES[rng.choice(tuple(_COUNTRIES))])
        entity = ListEntity(f"syn-{i}", EntityKind.ORGANIZATION, (name,), countries=(country,))
        return SyntheticPerson(entity, None, "org")
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(60 * 365))
    entity = ListEntity(
        entity_id=f"syn-{i}",
        kind=EntityKind.PERSON,
        names=(name, *(a for a in aliases if a != name)),
        birth_dates=(birth.isoformat(),),
        countries=(rng.choice(_COUNTRIES[culture]),),
        programs=("SYNTHETIC",),
    )
    return SyntheticPerson(entity, original, culture)


def generate_people(count: int, seed: int = 7) -> Iterator[SyntheticPerson]:
    """`count` synthetic entities, the same for the same seed."""
    rng = random.Random(seed)
    for i in range(count):
        yield _person(rng, i)


def to_list(people: list[SyntheticPerson]) -> list[ListEntity]:
    return [p.entity for p in people]


def _typo(rng: random.Random, token: str) -> str:
    letters = [k for k in range(1, len(token) - 1) if token[k - 1 : k + 1].isalpha()]
    pos = rng.choice(letters)
    kind = rng.choice(("sub", "del", "ins", "swap"))
    letter = rng.choice("abcdefghiklmnoprstuvz")
    if kind == "sub":
        return token[:pos] + letter + token[pos + 1 :]
    if kind == "del":
        return token[:pos] + token[pos + 1 :]
    if kind == "ins":
        return token[:pos] + letter + token[pos:]
    return token[: pos - 1] + token[pos] + token[pos - 1] + token[pos + 1 :]


def _variants(rng: random.Random, person: SyntheticPerson) -> Iterator[tuple[str, str]]:
    entity = person.entity
    parts = entity.names[0].split()
    yield "exact", entity.names[0]
    if person.original:
        yield "original_script", person.original
    if len(parts) >= 2:
        yield "reordered", " ".join([parts[-1], *parts[:-1]])
    longest = max(range(len(parts)), key=lambda k: len(parts[k]))
    if len(parts[longest]) >= 5:
        typo = list(parts)
        typo[longest] = _typo(rng, parts[longest])
        yield "typo", " ".join(typo)
    if entity.kind is EntityKind.PERSON and len(parts) >= 2:
        yield "initial", " ".join([parts[0][0] + ".", *parts[1:]])
    if entity.kind is EntityKind.PERSON and len(parts) == 3:
        yield "missing_middle", f"{parts[0]} {parts[2]}"
    if entity.kind is EntityKind.ORGANIZATION and len(parts) == 3:
        yield "no_legal_form", " ".join(parts[:2])
    for alias in entity.names[1:]:
        yield "alias", alias


def _look_alike(rng: random.Random, person: SyntheticPerson, other: SyntheticPerson) -> str | None:
    """The listed name with one part taken from another entity's name; None when that part is
    within one edit of the replaced one (one edit is a typo, which screening must match)."""
    parts = person.entity.names[0].split()
    theirs = other.entity.names[0].split()
    at = -1 if person.culture != "org" and (rng.random() < 0.5 or len(parts) < 2) else 0
    if OSA.distance(parts[at].lower(), theirs[at].lower()) <= 1:
        return None
    changed = list(parts)
    changed[at] = theirs[at]
    return " ".join(changed)


def _ends(name: str) -> tuple[str, str]:
    """First and last part: a look-alike equal on both would be a true match (middle missing)."""
    parts = analyse_name(name).tokens
    return (parts[0], parts[-1])


def evaluate(
    screen: Callable[[LabelledQuery], Sequence[str]], queries: Sequence[LabelledQuery]
) -> dict[str, Any]:
    """Recall over the variants and false-positive rate over the look-alikes, per variant too.

    `screen` returns the entity ids hit; a variant counts as found when its entity is among them,
    a look-alike as a false positive when anything is hit.
    """
    found: dict[str, list[int]] = {}
    for query in queries:
        hits = screen(query)
        ok = (query.expected in hits) if query.expected else not hits
        tally = found.setdefault(query.variant, [0, 0])
        tally[0] += ok
        tally[1] += 1
    positives = [v for k, v in found.items() if k != "look_alike"]
    hit = sum(v[0] for v in positives)
    total = sum(v[1] for v in positives)
    negatives = found.get("look_alike", [0, 0])
    return {
        "recall": hit / total if total else 0.0,
        "fp_rate": (negatives[1] - negatives[0]) / negatives[1] if negatives[1] else 0.0,
        "positives": total,
        "negatives": negatives[1],
        "by_variant": {k: round(v[0] / v[1], 4) for k, v in sorted(found.items())},
    }


def labelled_queries(
    people: list[SyntheticPerson], sample: int, seed: int = 11, look_alikes: int = 4
) -> list[LabelledQuery]:
    """Variants of `sample` listed entities (with birth date and country for most) and as many
    look-alikes (a part swapped with another entity's, a different birth date)."""
    rng = random.Random(seed)
    chosen = rng.sample(people, min(sample, len(people)))
    listed = {_ends(n) for p in people for n in p.entity.names}
    queries: list[LabelledQuery] = []
    for person in chosen:
        entity = person.entity
        birth = dt.date.fromisoformat(entity.birth_dates[0]) if entity.birth_dates else None
        country = entity.countries[0] if entity.countries else None
        for variant, name in _variants(rng, person):
            with_facts = rng.random() < 0.7
            queries.append(
                LabelledQuery(
                    name,
                    birth if with_facts else None,
                    country if with_facts else None,
                    entity.entity_id,
                    variant,
                )
            )
        for _ in range(look_alikes):
            other = rng.choice(people)
            fake = _look_alike(rng, person, other) if other.culture == person.culture else None
            if fake is None or _ends(fake) in listed:
                continue
            other_birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(60 * 365))
            queries.append(LabelledQuery(fake, other_birth, country, None, "look_alike"))
    return queries
