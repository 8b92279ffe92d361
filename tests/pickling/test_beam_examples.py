"""The doctor on Beam's own example pipelines (inside the installed apache_beam wheel): no false errors.

Each example here runs correctly on the DirectRunner (most with Beam's own tests), so an
error from the doctor on any of them would be a false alarm. They are built, not run,
with local input files; the warnings each still gets are listed exactly, with why.
"""

from __future__ import annotations

import json
import os

import apache_beam
import pytest

from pickling.cli import main

EXAMPLES = os.path.join(os.path.dirname(apache_beam.__file__), "examples")

INPUTS = {
    "words.txt": "the quick brown fox\njumps over the lazy dog\nthe end\n",
    "players.txt": "alice,5\nbob,5\nalice,8\n",
    "email.tsv": "a\temail-a\nb\temail-b\n",
    "phone.tsv": "a\tphone-a\n",
    "mail.tsv": "b\taddr-b\n",
    "wiki.json": '{"timestamp": 1.0, "contributor_username": "u1"}\n',
    "game.csv": "user1,teamA,5,1447955630000,2015-11-19 09:53:53.444\n",
    "matches.json": '{"host": ["a", 1], "guest": ["b", 2]}\n',
}

UNKNOWN_KEY = "the key type is unknown (Any)"

# example: (arguments with {d} the input directory and {o} the output one, the warnings it still gets)
# Every warning left is a grouping whose key type neither Beam's inference nor the pipeline tells: the
# keys come from a DoFn or a regular expression without declared output types.
TABLE = {
    "wordcount.py": ("--input {d}/words.txt --output {o}/wc", []),
    "wordcount_minimal.py": ("--input {d}/words.txt --output {o}/wcm", []),
    "wordcount_debugging.py": ("--input {d}/words.txt --output {o}/wcd", []),
    "wordcount_with_metrics.py": ("--input {d}/words.txt --output {o}/wcmet", []),
    "cookbook/coders.py": ("--input {d}/matches.json --output {o}/coders", []),
    "cookbook/custom_ptransform.py": ("--input {d}/words.txt --output {o}/cpt", []),
    "cookbook/group_with_coder.py": ("--input {d}/players.txt --output {o}/gwc", []),
    "cookbook/multiple_output_pardo.py": (
        "--input {d}/words.txt --output {o}/mop",
        [("count short words/group", UNKNOWN_KEY), ("count words/group", UNKNOWN_KEY)],
    ),
    "cookbook/mergecontacts.py": (
        "--input_email {d}/email.tsv --input_phone {d}/phone.tsv --input_snailmail {d}/mail.tsv "
        "--output_tsv {o}/mc.tsv --output_stats {o}/mc.stats",
        [("group_by_name", UNKNOWN_KEY)],
    ),
    "complete/tfidf.py": (
        "--uris {d}/words.txt --output {o}/tfidf",
        [
            ("TfIdf/GetUniqueUris/Group", UNKNOWN_KEY),
            ("TfIdf/GetUniqueWordsPerDoc/Group", UNKNOWN_KEY),
            ("TfIdf/CountDocsPerWord/CombinePerKey(CountCombineFn)", UNKNOWN_KEY),
            ("TfIdf/CountWordsInDoc/CombinePerKey(CountCombineFn)", UNKNOWN_KEY),
            ("TfIdf/CountWord-DocPairs/CombinePerKey(CountCombineFn)", UNKNOWN_KEY),
            ("TfIdf/CoGroupWordsByTf-df", UNKNOWN_KEY),
        ],
    ),
    "complete/autocomplete.py": (
        "--input {d}/words.txt --output {o}/ac",
        [("TopPerPrefix/PerElement/CombinePerKey(CountCombineFn)", UNKNOWN_KEY)],
    ),
    "complete/top_wikipedia_sessions.py": ("--input {d}/wiki.json --output {o}/tws", []),
    "complete/estimate_pi.py": ("--output {o}/pi", []),
    "complete/game/user_score.py": ("--input {d}/game.csv --output {o}/us", []),
}


@pytest.fixture(scope="module")
def input_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("example_inputs")
    for name, text in INPUTS.items():
        (d / name).write_text(text)
    return d


@pytest.fixture(autouse=True)
def beam_registry_left_as_found():
    """group_with_coder registers PlayerCoder with Beam's registry while it loads: undo it."""
    from apache_beam.coders import typecoders

    before = dict(typecoders.registry._coders)
    yield
    typecoders.registry._coders.clear()
    typecoders.registry._coders.update(before)


@pytest.mark.parametrize("example", sorted(TABLE))
def test_beams_own_examples_get_no_errors(example, input_dir, tmp_path, capsys):
    arguments, expected_warnings = TABLE[example]
    code = main(
        [
            "doctor",
            os.path.join(EXAMPLES, example),
            "--pipeline-args",
            arguments.format(d=input_dir, o=tmp_path),
            "--format",
            "json",
        ]
    )
    out = capsys.readouterr().out
    report = json.loads(out)  # stdout is the report alone, whatever the example prints or logs
    assert report["errors"] == 0, out
    assert code == 0
    warnings = [(p["label"], p["error"][: len(UNKNOWN_KEY)]) for p in report["problems"]]
    assert warnings == expected_warnings
    assert all(p["severity"] == "warning" for p in report["problems"])
