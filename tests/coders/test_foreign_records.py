"""Records from other libraries: pydantic v2 models and dataclasses, attrs classes, msgspec Structs,
TypedDict and beam.Row, through RecordCoder (same bytes as a dataclass), TypedDictCoder and BeamRowCoder.

Each kind: exact bytes, round trips of edge values (and hypothesis values), decoding that runs no
validator, determinism (frozen vs mutable), registry derivation, and hostile bytes that raise only
DecodeError. The libraries are imported here, never by coderkit (a fresh interpreter checks that).
"""

import random
import subprocess
import sys
import typing
from typing import Generic, NotRequired, Optional, TypedDict, TypeVar

import apache_beam as beam
import attr
import attrs
import msgspec
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

import coders
from coders import (
    AnyCoder,
    BeamRowCoder,
    CoderRegistry,
    DecodeError,
    EncodeError,
    FallbackCoderWarning,
    RecordCoder,
    StrUtf8Coder,
    TypedDictCoder,
    VarIntCoder,
)
from coders.beam.installation import coderkit_coder_for
from coders.determinism import coder_key_hazards, key_problems
from coders.records import is_record_class, record_mutability
from coders.testing import assert_roundtrip, strategy_for

T = TypeVar("T")

# ---------------------------------------------------------------------------------------------- pydantic


class Point(BaseModel):
    x: int
    y: int


class Tag(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    weight: int = 1


class Order(BaseModel):
    id: int
    note: Optional[str] = None
    tag: Tag
    tags: list[Tag] = Field(default_factory=list)
    code: str = "x"

    @field_validator("code")
    @classmethod
    def shout(cls, v: str) -> str:
        return v.upper() + "!"  # re-running it would change the stored value


class FrozenKey(BaseModel):
    model_config = ConfigDict(frozen=True)
    region: str
    store: int


class WithPrivate(BaseModel):
    n: int
    _cache: dict = PrivateAttr(default_factory=dict)
    _hits: int = PrivateAttr(default=0)


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow")
    n: int


class PNode(BaseModel):
    value: int
    children: list["PNode"] = []


class PBox(BaseModel, Generic[T]):
    item: T


class Scores(pydantic.RootModel[list[int]]):
    pass


@pydantic.dataclasses.dataclass(frozen=True)
class PydanticDC:
    x: int
    label: str = "a"


# ------------------------------------------------------------------------------------------------- attrs

POST_INITS = []


@attrs.define
class Slotted:
    x: int
    _secret: str = "s"

    def __attrs_post_init__(self):
        POST_INITS.append(self.x)


@attrs.frozen
class FrozenAttrs:
    x: int = attrs.field(validator=attrs.validators.instance_of(int))
    label: str = attrs.field(converter=str.upper, default="a")


@attrs.define(slots=False, frozen=True)
class DictFrozenAttrs:
    x: int
    y: Optional[int] = None


@attr.s
class OldStyle:
    a = attr.ib()
    b = attr.ib(default=2)


# ----------------------------------------------------------------------------------------------- msgspec


class Struct(msgspec.Struct):
    a: int
    b: str = "x"


class FrozenStruct(msgspec.Struct, frozen=True, array_like=True):
    a: int
    tags: tuple[str, ...] = ()


class KwStruct(msgspec.Struct, kw_only=True, tag=True):
    a: int
    b: Optional[int] = None


# --------------------------------------------------------------------------------------------- TypedDict


class Movie(TypedDict, total=False):
    title: str
    year: int


class Film(TypedDict):
    title: str
    year: int


class Show(TypedDict):
    title: str
    season: NotRequired[int]
    rating: NotRequired[Optional[int]]


class Tree(TypedDict):
    value: int
    kids: list["Tree"]


# --------------------------------------------------------------------------------------------- helpers


def roundtrip(coder, value):
    """Both contexts, exact type and equality (TypedDicts and Rows included)."""
    for encode, decode in ((coder.encode, coder.decode), (coder.encode_nested, coder.decode_nested)):
        back = decode(encode(value))
        assert type(back) is type(value)
        assert back == value
        if isinstance(value, dict):
            assert list(back) == [k for k in typing.get_type_hints(coder.cls) if k in value]
    return coder.decode(coder.encode(value))


def get(hint, **kw):
    return CoderRegistry(strict=True, **kw).get_coder(hint)


# ============================================================================================ pydantic


def test_pydantic_model_has_the_dataclass_layout_in_declaration_order():
    coder = get(Point)
    assert coder == RecordCoder(Point, [("x", VarIntCoder(lenient=True)), ("y", VarIntCoder(lenient=True))])
    assert coder.encode(Point(x=1, y=2)).hex(" ") == "01 02"
    assert coder.encode_nested(Point(x=1, y=2)).hex(" ") == "01 02"


def test_pydantic_nested_optional_defaults_round_trip_without_rerunning_validators():
    coder = get(Order)
    order = Order(id=7, tag=Tag(name="a"), tags=[Tag(name="b", weight=3)], code="ab")
    assert order.code == "AB!"
    back = roundtrip(coder, order)
    assert back.code == "AB!"  # not "AB!!": the validator did not run again
    assert back.note is None and back.tags == [Tag(name="b", weight=3)] and type(back.tag) is Tag
    assert coder.encode(order).hex(" ") == "07 00 01 61 01 00 00 00 01 01 62 03 41 42 21"
    # every field counts as set (as model_construct with all fields); pydantic's == ignores the set
    assert order.model_fields_set == {"id", "tag", "tags", "code"}
    assert back.model_fields_set == {"id", "note", "tag", "tags", "code"}
    assert back.model_dump() == order.model_dump()
    assert back.model_dump_json() == order.model_dump_json()


def test_pydantic_private_attributes_come_back_at_their_defaults():
    coder = get(WithPrivate)
    value = WithPrivate(n=3)
    back = roundtrip(coder, value)
    assert back.__pydantic_private__ == {"_cache": {}, "_hits": 0}
    assert back._cache is not coder.decode(coder.encode(value))._cache  # a fresh default per instance
    value._hits = 5
    assert coder.decode(coder.encode(value)) != value  # documented: private values are not stored


def test_pydantic_recursive_generic_root_and_dataclass_models():
    tree = PNode(value=1, children=[PNode(value=2, children=[PNode(value=3)]), PNode(value=4)])
    back = roundtrip(get(PNode), tree)
    assert back.children[0].children[0].value == 3
    box = get(PBox[int])
    assert box.field_coders == (VarIntCoder(lenient=True),)
    roundtrip(box, PBox[int](item=5))
    roundtrip(get(Scores), Scores([1, 2, 3]))
    dc = get(PydanticDC)
    assert dc.encode(PydanticDC(x=1)).hex(" ") == "01 61"
    roundtrip(dc, PydanticDC(x=1, label="zz"))


def test_pydantic_extra_allow_is_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"extra fields of the pydantic model Loose .*extra='ignore' or 'forbid'"):
        RecordCoder(Loose, [("n", VarIntCoder())])
    registry = CoderRegistry()
    with pytest.warns(FallbackCoderWarning, match="Loose"):
        coder = registry.get_coder(Loose)
    assert type(coder).__name__ == "PickleCoder"


def test_pydantic_wrong_class_and_bad_field_are_encode_errors_with_path():
    coder = get(Order)
    with pytest.raises(EncodeError, match="an instance of Order"):
        coder.encode(Point(x=1, y=2))
    bad = Order.model_construct(id="seven", tag=Tag(name="a"))
    with pytest.raises(EncodeError) as info:
        coder.encode(bad)
    assert "Order.id" in str(info.value) and ".id" in info.value.path


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(data=strategy_for(get(Order)))
def test_pydantic_hypothesis_round_trips(data):
    roundtrip(get(Order), data)


def test_pydantic_frozen_is_a_good_key_mutable_is_flagged():
    frozen = get(FrozenKey)
    assert frozen.is_deterministic()
    assert coder_key_hazards(frozen) == []
    assert key_problems(frozen, FrozenKey(region="eu", store=3)) == []
    mutable = get(Point)
    assert mutable.is_deterministic()  # like a mutable dataclass: the bytes are deterministic
    assert coder_key_hazards(mutable) == [
        "Point: `Point` is a mutable pydantic model (frozen=False), so its instances are unhashable (it has no "
        "__hash__) and a key can change after it was grouped. Fix: model_config = ConfigDict(frozen=True)"
    ]


# =============================================================================================== attrs


def test_attrs_slotted_class_stores_private_names_without_post_init():
    coder = get(Slotted)
    assert coder.field_names == ("x", "_secret")
    assert coder._build_kind == "setattr"
    value = Slotted(4, "q")
    POST_INITS.clear()
    back = roundtrip(coder, value)
    assert POST_INITS == []  # decoding ran no __attrs_post_init__
    assert back._secret == "q"
    assert coder.encode(value).hex(" ") == "04 71"


def test_attrs_frozen_validators_and_converters_do_not_run_on_decode():
    coder = get(FrozenAttrs)
    value = FrozenAttrs(3, "ab")
    assert value.label == "AB"
    assert roundtrip(coder, value).label == "AB"
    assert coder.decode(bytes.fromhex("03 6c 6f 77")).label == "low"  # the converter would have made LOW
    assert coder.is_deterministic() and coder_key_hazards(coder) == []
    roundtrip(get(DictFrozenAttrs), DictFrozenAttrs(1, None))
    assert get(DictFrozenAttrs)._build_kind == "dict"


def test_attrs_untyped_fields_are_any_and_mutable_classes_are_flagged():
    coder = CoderRegistry().get_coder(OldStyle)  # untyped: Any, not a strict-registry fallback
    assert coder.field_coders == (AnyCoder(), AnyCoder())
    roundtrip(coder, OldStyle(1, "two"))
    assert record_mutability(Slotted) == ("a mutable attrs class", "@attrs.frozen (or @attrs.define(frozen=True))")
    assert record_mutability(FrozenAttrs) is None
    assert any("`Slotted` is a mutable attrs class" in h for h in coder_key_hazards(get(Slotted)))


# ============================================================================================= msgspec


def test_msgspec_structs_frozen_array_like_kw_only_tagged():
    coder = get(FrozenStruct)
    value = FrozenStruct(5, ("a", "b"))
    assert coder.encode(value).hex(" ") == "05 00 00 00 02 01 61 01 62"  # Tuple[str, ...]: int32 count
    assert hash(roundtrip(coder, value)) == hash(value)
    assert coder.is_deterministic() and coder_key_hazards(coder) == []
    roundtrip(get(Struct), Struct(1))
    roundtrip(get(KwStruct), KwStruct(a=1, b=None))
    assert record_mutability(Struct) == ("a mutable msgspec Struct", "class Struct(msgspec.Struct, frozen=True)")


# =========================================================================================== TypedDict


def test_typeddict_total_false_keeps_missing_keys_missing():
    coder = get(Movie)
    assert coder == TypedDictCoder(Movie, [("title", StrUtf8Coder(lenient=True)), ("year", VarIntCoder(lenient=True))])
    assert coder.encode({"title": "ab", "year": 7}).hex(" ") == "03 02 61 62 07"
    assert coder.encode({"year": 7}).hex(" ") == "02 07"
    assert coder.encode_nested({"title": "ab"}).hex(" ") == "01 02 61 62"
    assert coder.encode({}).hex(" ") == "00"
    for value in ({}, {"title": ""}, {"year": -1}, {"year": 2, "title": "z"}):
        back = roundtrip(coder, value)
        assert set(back) == set(value)


def test_typeddict_total_is_the_record_layout_and_not_required_keys_get_a_bitmap():
    film = get(Film)
    assert film.encode({"year": 7, "title": "ab"}).hex(" ") == "02 61 62 07"  # declaration order, no bitmap
    show = get(Show)
    assert show.encode({"title": "t", "rating": None}).hex(" ") == "02 01 74 00"
    assert show.encode({"title": "t", "season": 2}).hex(" ") == "01 01 74 02"
    roundtrip(show, {"title": "t"})
    roundtrip(show, {"title": "t", "season": 1, "rating": 5})


def test_typeddict_errors_name_the_key_and_the_fix():
    show = get(Show)
    with pytest.raises(EncodeError, match=r"required key 'title' of Show is missing") as info:
        show.encode({"season": 1})
    assert info.value.path == ("['title']",)
    with pytest.raises(EncodeError, match=r"undeclared key\(s\) \['extra'\]"):
        show.encode({"title": "t", "extra": 1})
    with pytest.raises(EncodeError, match="a dict"):
        show.encode([("title", "t")])
    with pytest.raises(EncodeError) as info:
        show.encode({"title": "t", "season": "one"})
    assert info.value.path[0] == "['season']"
    with pytest.raises(DecodeError, match="sets bits past its 2 optional key"):
        show.decode(bytes.fromhex("04 01 74"))


def test_typeddict_recursive_and_determinism():
    coder = get(Tree)
    tree = {"value": 1, "kids": [{"value": 2, "kids": []}]}
    roundtrip(coder, tree)
    assert coder.is_deterministic()
    frozen_holder = get(tuple[Movie, int])
    assert any("TypedDict (decoded as a dict) inside a key" in h for h in coder_key_hazards(frozen_holder))


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(data=strategy_for(get(Show)))
def test_typeddict_hypothesis_round_trips(data):
    roundtrip(get(Show), data)


# ============================================================================================ beam.Row


def test_beam_row_keeps_names_and_order():
    coder = get(beam.Row)
    assert coder == BeamRowCoder()
    row = beam.Row(a=1, b="x")
    assert coder.encode(row).hex(" ") == "02 01 61 01 62 01 01 04 78"
    back = roundtrip(coder, row)
    assert list(back.as_dict()) == ["a", "b"]
    swapped = beam.Row(b="x", a=1)
    assert coder.decode(coder.encode(swapped)) == swapped != row
    roundtrip(coder, beam.Row())
    roundtrip(coder, beam.Row(**{"with space": [1.5, None], "é": {"k": b"v"}}))


def test_beam_row_determinism_and_errors():
    coder = BeamRowCoder()
    assert not coder.is_deterministic()
    assert coder.as_deterministic_coder() == BeamRowCoder(AnyCoder(deterministic=True))
    with pytest.raises(EncodeError, match="a beam.Row"):
        coder.encode({"a": 1})
    with pytest.raises(DecodeError, match="names repeat"):
        coder.decode(bytes.fromhex("02 01 61 01 61 01 01 01 02"))
    with pytest.raises(DecodeError, match="field count"):
        coder.decode(bytes.fromhex("ff ff ff ff 0f"))


# ============================================================================================ the kit


@pytest.mark.parametrize(
    "coder,value",
    [
        (get(Order), Order(id=1, tag=Tag(name="t"), tags=[Tag(name="u")])),
        (get(FrozenKey), FrozenKey(region="eu", store=2)),
        (get(FrozenAttrs), FrozenAttrs(1, "b")),
        (get(Slotted), Slotted(1)),
        (get(FrozenStruct), FrozenStruct(1, ("x",))),
        (get(PydanticDC), PydanticDC(x=2)),
        (BeamRowCoder(), beam.Row(a=1, b=None)),
    ],
    ids=["pydantic", "pydantic-frozen", "attrs-frozen", "attrs", "msgspec", "pydantic-dc", "row"],
)
def test_assert_roundtrip_passes(coder, value):
    assert_roundtrip(coder, value)


def fuzz_cases():
    return [
        (get(Order), Order(id=300, note="n", tag=Tag(name="t", weight=9), tags=[Tag(name="u")])),
        (get(FrozenStruct), FrozenStruct(1, ("x", "yz"))),
        (get(Show), {"title": "tt", "season": 3, "rating": None}),
        (get(Tree), {"value": 1, "kids": [{"value": 2, "kids": []}]}),
        (BeamRowCoder(), beam.Row(a=1, b="xy", c=[1.0])),
    ]


@pytest.mark.parametrize("case", range(5))
def test_random_and_mutated_bytes_raise_only_decode_error(case):
    coder, value = fuzz_cases()[case]
    rng = random.Random(case)
    good = [coder.encode(value), coder.encode_nested(value)]
    blobs = [bytes(rng.randrange(256) for _ in range(rng.randrange(12))) for _ in range(300)]
    for data in good:
        for _ in range(300):
            b = bytearray(data)
            for _ in range(rng.randrange(1, 4)):
                op = rng.randrange(3)
                if op == 0 and b:
                    b[rng.randrange(len(b))] = rng.randrange(256)
                elif op == 1 and b:
                    del b[rng.randrange(len(b)) :]
                else:
                    b.insert(rng.randrange(len(b) + 1), rng.randrange(256))
            blobs.append(bytes(b))
    for data in blobs:
        for decode in (coder.decode, coder.decode_nested):
            try:
                decode(data)
            except DecodeError:
                pass


# ====================================================================================== wiring, imports


def test_record_class_detection_and_install_takes_them_over():
    for cls in (Point, PydanticDC, Slotted, FrozenAttrs, Struct, FrozenStruct):
        assert is_record_class(cls)
    for cls in (pydantic.BaseModel, msgspec.Struct, Movie, dict, beam.Row):
        assert not is_record_class(cls)
    assert coderkit_coder_for(FrozenKey) == coders.get_coder(FrozenKey)
    assert coderkit_coder_for(Show) == coders.get_coder(Show)
    assert coderkit_coder_for(beam.Row) == BeamRowCoder()  # Beam would pickle a Row hint


def test_coderkit_never_imports_the_libraries():
    script = (
        "import sys, dataclasses, typing\n"
        "import coders, coders.records, coders.typecoders, coders.determinism\n"
        "@dataclasses.dataclass(frozen=True)\n"
        "class P:\n"
        "    x: int\n"
        "class M(typing.TypedDict):\n"
        "    a: int\n"
        "coders.get_coder(P); coders.get_coder(M); coders.get_coder(typing.Optional[str])\n"
        "from coders.determinism import coder_key_hazards; coder_key_hazards(coders.get_coder(P))\n"
        "print(sorted(m for m in ('pydantic', 'attr', 'attrs', 'msgspec', 'apache_beam') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
