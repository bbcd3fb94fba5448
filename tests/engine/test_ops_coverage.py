"""Every public op has a forward test and a gradient test (or is declared gradient-free)."""
import importlib
import pathlib

from engine import ops

HERE = pathlib.Path(__file__).parent


def _cases():
    cases = []
    for path in sorted(HERE.glob("test_ops_*.py")):
        module = importlib.import_module(f"tests.engine.{path.stem}")
        cases += getattr(module, "CASES", [])
    return cases


def test_every_public_op_has_a_gradient_test():
    cases = _cases()
    graded = {c.name for c in cases if c.grad}
    gradient_free = {c.name for c in cases if not c.grad} - graded
    untested = sorted(set(ops.__all__) - graded - gradient_free)
    assert untested == [], f"ops without a test case: {untested}"


def test_cases_name_real_ops():
    unknown = sorted({c.name for c in _cases()} - set(ops.__all__))
    assert unknown == [], f"test cases name ops that engine.ops does not export: {unknown}"
