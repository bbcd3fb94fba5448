"""The three tests every op family runs over its table of ``OpCase``s.

A family's module does ``CASES = [...]`` then ``test_forward, test_grad, test_grad_dtype =
op_tests.make(CASES)``.
"""
import pytest

from tests.helpers import case_ids, run_forward, run_grad, run_grad_dtype


def make(cases):
    grad_cases = [c for c in cases if c.grad]

    @pytest.mark.parametrize("case", cases, ids=case_ids(cases))
    def test_forward(case, xp):
        run_forward(case, xp)

    @pytest.mark.parametrize("case", grad_cases, ids=case_ids(grad_cases))
    def test_grad(case, xp):
        run_grad(case, xp)

    @pytest.mark.parametrize("case", grad_cases, ids=case_ids(grad_cases))
    def test_grad_dtype(case, xp):
        run_grad_dtype(case, xp)

    return test_forward, test_grad, test_grad_dtype
