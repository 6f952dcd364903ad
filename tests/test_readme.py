"""The README's examples ("Adding your own op", "Beyond micrograd"), run as doctests: what it
shows is what runs."""

import doctest
import pathlib
import re
import shutil

import pytest

README = pathlib.Path(__file__).parent.parent / "README.md"


def _section_text(heading):
    if not README.exists():
        pytest.skip("no README.md beside tests/ (run from the checkout)")
    text = README.read_text()
    start = text.index(heading)
    return text[start : text.index("\n## ", start + 1)]


def _section(heading="## Beyond micrograd"):
    # the ```python blocks of the section, one doctest
    return "\n".join(re.findall(r"```python\n(.*?)```", _section_text(heading), re.S))


def test_beyond_micrograd_examples():
    pytest.importorskip("graphviz")
    if not shutil.which("dot"):
        pytest.skip("Graphviz's dot is not installed")
    test = doctest.DocTestParser().get_doctest(_section(), {}, "README: Beyond micrograd", str(README), 0)
    assert len(test.examples) > 20
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0, f"{runner.failures} README example(s) failed (see above)"


def _run_section(heading, min_tries):
    test = doctest.DocTestParser().get_doctest(
        _section(heading), {}, "README: " + heading[3:], str(README), 0
    )
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.tries >= min_tries and runner.failures == 0, "the README's example failed (see above)"


def test_adding_your_own_op_example():
    from micrograd_c import Value

    try:
        _run_section("## Adding your own op", 6)
    finally:
        if "sin" in vars(Value):  # the example adds it, as a user would
            del Value.sin


def test_a_gpt_in_scalars_example():
    _run_section("## A GPT in scalars", 6)


def test_the_activations_the_readme_names_are_the_tables():
    # the README lists activation='s values by hand: each op the table offers nn, and no other
    from micrograd_c._glue import OPS

    text = _section_text("## Beyond micrograd")
    listed = re.search(r"an `activation=` keyword on .*?: (.*?) or None\.", text, re.S).group(1)
    assert set(re.findall(r'"(\w+)"', listed)) == {row.method for row in OPS if row.activation}
