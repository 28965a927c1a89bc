"""The Distribution base class and the constraints: validation switches, error messages, repr, the
extended shape, expand's contract, the constraints' checks against torch's, and a PyTorch program that
uses torch.distributions running unmodified under ``fukaku run``."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import distributions as fd
from fukaku.distributions import constraints as fc

TC = torch.distributions.constraints


@pytest.fixture
def restore_validation():
    yield
    fd.Distribution.set_default_validate_args(True)


def test_default_validation_switch(restore_validation):
    fd.Distribution.set_default_validate_args(False)
    fd.Normal(0.0, -1.0)  # not checked
    fd.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError, match="scale"):
        fd.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match="expected True or False"):
        fd.Distribution.set_default_validate_args("yes")


def test_repr_error_message_and_shapes_are_torchs():
    d, t = fd.Normal(fk.zeros(2), fk.ones(2)), torch.distributions.Normal(torch.zeros(2), torch.ones(2))
    assert repr(d) == repr(t).replace("torch.Size", "fukaku.Size")
    assert repr(fd.Normal(0.0, 1.0)) == repr(torch.distributions.Normal(0.0, 1.0))
    assert d._extended_shape((3, 4)) == (3, 4, 2)
    with pytest.raises(ValueError) as fk_error:
        fd.Normal(fk.tensor([0.0]), fk.tensor([-1.0]))
    with pytest.raises(ValueError) as torch_error:
        torch.distributions.Normal(torch.tensor([0.0]), torch.tensor([-1.0]))
    first_line = lambda e: str(e.value).splitlines()[0].replace("torch.Size", "fukaku.Size")  # noqa: E731
    assert first_line(fk_error) == first_line(torch_error)


def test_base_class_contract():
    class Half(fd.Distribution):
        arg_constraints: dict = {}

        def __init__(self, loc):
            self.loc = loc
            super().__init__(loc.shape)

    h = Half(fk.zeros(2))
    for call in (lambda: h.rsample(), lambda: h.sample(), lambda: h.mean, lambda: h.entropy(), lambda: h.cdf(fk.zeros(2)),
                 lambda: h.enumerate_support(), lambda: h.expand((3, 2))):
        with pytest.raises(NotImplementedError):
            call()
    with pytest.raises(NotImplementedError, match="custom __init__ method must also define a custom .expand"):
        fd.Normal.expand(Half(fk.zeros(2)), (3, 2))
    assert not fd.Normal.has_enumerate_support and fd.Normal.has_rsample and not fd.Bernoulli.has_rsample
    assert float(fd.Categorical(fk.ones(4)).perplexity()) == pytest.approx(4.0)


VALUES = [np.array(v, dtype=np.float64) for v in (
    [0.0, 1.0, -1.0, 0.5, np.inf, -np.inf, np.nan, 2.0],
    [[0.2, 0.8], [0.5, 0.6], [-0.1, 1.1], [1.0, 0.0]],
    [[[1.0, 0.0], [0.3, 2.0]], [[1.0, 0.5], [0.5, 1.0]], [[2.0, 1.0], [1.0, -1.0]], [[1.0, 0.0], [0.0, -1.0]]],
)]
CONSTRAINTS = {  # name: (fukaku's, torch's, which of VALUES)
    "real": (fc.real, TC.real, 0), "positive": (fc.positive, TC.positive, 0),
    "nonnegative": (fc.nonnegative, TC.nonnegative, 0), "unit_interval": (fc.unit_interval, TC.unit_interval, 0),
    "boolean": (fc.boolean, TC.boolean, 0), "greater_than": (fc.greater_than(0.5), TC.greater_than(0.5), 0),
    "greater_than_eq": (fc.greater_than_eq(0.5), TC.greater_than_eq(0.5), 0),
    "less_than": (fc.less_than(0.5), TC.less_than(0.5), 0), "interval": (fc.interval(-1, 1), TC.interval(-1, 1), 0),
    "half_open_interval": (fc.half_open_interval(-1, 1), TC.half_open_interval(-1, 1), 0),
    "integer_interval": (fc.integer_interval(0, 1), TC.integer_interval(0, 1), 0),
    "nonnegative_integer": (fc.nonnegative_integer, TC.nonnegative_integer, 0),
    "positive_integer": (fc.positive_integer, TC.positive_integer, 0),
    "simplex": (fc.simplex, TC.simplex, 1), "real_vector": (fc.real_vector, TC.real_vector, 1),
    "one_hot": (fc.one_hot, TC.one_hot, 1), "independent": (fc.independent(fc.positive, 1), TC.independent(TC.positive, 1), 1),
    "lower_triangular": (fc.lower_triangular, TC.lower_triangular, 2), "lower_cholesky": (fc.lower_cholesky, TC.lower_cholesky, 2),
    "symmetric": (fc.symmetric, TC.symmetric, 2), "positive_definite": (fc.positive_definite, TC.positive_definite, 2),
    "positive_semidefinite": (fc.positive_semidefinite, TC.positive_semidefinite, 2), "square": (fc.square, TC.square, 2),
}


@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_constraints_check_as_torchs(name):
    mine, theirs, which = CONSTRAINTS[name]
    v = VALUES[which]
    np.testing.assert_array_equal(mine.check(fk.tensor(v)).numpy(), theirs.check(torch.tensor(v)).numpy())
    assert (mine.is_discrete, mine.event_dim) == (theirs.is_discrete, theirs.event_dim)
    assert repr(mine) == repr(theirs)


def test_dependent_constraints():
    assert fc.is_dependent(fc.dependent) and fc.is_dependent(fd.Uniform.support) and not fc.is_dependent(fc.real)
    assert fd.Uniform.support.event_dim == 0 and fd.Categorical.support.is_discrete
    with pytest.raises(ValueError, match="dependent"):
        fc.dependent.check(fk.zeros(1))
    with pytest.raises(NotImplementedError):
        fc.dependent.event_dim


def test_a_pytorch_program_using_distributions_runs_under_fukaku_run(tmp_path):
    program = tmp_path / "vae_bits.py"
    program.write_text(textwrap.dedent("""\
        import torch
        from torch.distributions import Normal, Independent, Categorical, kl_divergence
        import torch.distributions.constraints as constraints
        import fukaku
        assert torch.distributions is fukaku.distributions and constraints is fukaku.distributions.constraints
        torch.manual_seed(0)
        mu = torch.zeros(4, 2, requires_grad=True)
        log_sigma = torch.zeros(4, 2, requires_grad=True)
        q = Independent(Normal(mu, log_sigma.exp()), 1)
        z = q.rsample()
        loss = (z ** 2).sum() + kl_divergence(q, Independent(Normal(torch.zeros(4, 2), torch.ones(4, 2)), 1)).sum()
        loss.backward()
        print(tuple(z.shape), tuple(mu.grad.shape), Categorical(logits=torch.zeros(3)).entropy().item() > 1.09)
        """))
    done = subprocess.run([sys.executable, "-m", "fukaku.run", str(program)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "(4, 2) (4, 2) True\n"
