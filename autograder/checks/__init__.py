"""The hidden tests' check library, for grading: one check per graded piece.

A check compares the learner's code with the reference `microgpt` on fixed edge cases and seeded
random inputs. It returns None when the piece is right and raises AssertionError with a message a
learner can act on when it is not.

Each chapter's checks live in the module named after the chapter (autograd, tokenization,
components, parameters, gpt, adam, training, generation, analysis, experiments); core (calling the
learner's code, describing and comparing what came back) and guards (inputs left unchanged) serve
them all. The hidden tests import every check from this package.

Chapter 1 checks take the learner's Value class; the others take the learner's function and, for
pieces built on Values, value_cls, the Value class the notebook uses (None: the reference's).
"""

from .adam import check_adam_step, check_learning_rate
from .analysis import check_attention_maps, check_mean_loss, check_nearest_neighbours
from .autograd import (
    check_backward,
    check_value_add,
    check_value_exp,
    check_value_log,
    check_value_mul,
    check_value_pow,
    check_value_relu,
)
from .components import check_linear, check_rmsnorm, check_softmax
from .experiments import check_gelu, check_layernorm, check_log_likelihood
from .generation import check_generate, check_sample_token, check_temperature_probs
from .gpt import check_attention_head, check_gpt, check_multi_head_attention
from .parameters import check_init_params, check_param_shapes, check_parameters
from .tokenization import check_build_vocab, check_decode, check_encode
from .training import check_document_loss, check_train_step

__all__ = [
    "check_value_add",
    "check_value_mul",
    "check_value_pow",
    "check_value_log",
    "check_value_exp",
    "check_value_relu",
    "check_backward",
    "check_build_vocab",
    "check_encode",
    "check_decode",
    "check_linear",
    "check_softmax",
    "check_rmsnorm",
    "check_param_shapes",
    "check_init_params",
    "check_parameters",
    "check_attention_head",
    "check_multi_head_attention",
    "check_gpt",
    "check_learning_rate",
    "check_adam_step",
    "check_document_loss",
    "check_train_step",
    "check_temperature_probs",
    "check_sample_token",
    "check_generate",
    "check_attention_maps",
    "check_mean_loss",
    "check_nearest_neighbours",
    "check_log_likelihood",
    "check_layernorm",
    "check_gelu",
]
