"""The README's "Beyond micrograd" examples, run as doctests: what it shows is what runs."""
import doctest
import pathlib
import re
import shutil

import pytest

README = pathlib.Path(__file__).parent.parent / "README.md"


def _section():
    if not README.exists():
        pytest.skip("no README.md beside tests/ (run from the checkout)")
    text = README.read_text()
    start = text.index("## Beyond micrograd")
    end = text.index("\n## ", start + 1)
    # the ```python blocks of the section, one doctest
    return "\n".join(re.findall(r"```python\n(.*?)```", text[start:end], re.S))


def test_beyond_micrograd_examples():
    pytest.importorskip("graphviz")
    if not shutil.which("dot"):
        pytest.skip("Graphviz's dot is not installed")
    test = doctest.DocTestParser().get_doctest(_section(), {}, "README: Beyond micrograd", str(README), 0)
    assert len(test.examples) > 20
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0, f"{runner.failures} README example(s) failed (see above)"
