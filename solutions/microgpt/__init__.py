"""microgpt: the course's reference GPT in pure Python, one module per concept.

autograd (Value) -> tokenizer -> nn (linear, softmax, rmsnorm, layernorm, gelu) -> model
(GPTConfig, init_params, attention, gpt) -> optim (adam_step) -> train -> sample -> evaluate
-> analysis (reading a trained model).
"""

from .analysis import (
    attention_maps,
    cosine_similarity,
    mean_loss,
    nearest_neighbours,
    pca_2d,
    principal_components,
)
from .autograd import Value
from .evaluate import log_likelihood, mean_log_likelihood
from .model import (
    GPTConfig,
    attention_block,
    attention_head,
    attention_weights,
    empty_kv_cache,
    gpt,
    init_params,
    mlp_block,
    multi_head_attention,
    param_shapes,
    parameters,
)
from .nn import gelu, layernorm, linear, relu, rmsnorm, softmax
from .optim import adam_step, learning_rate
from .sample import generate, sample_token, temperature_probs
from .tokenizer import bos_id, build_vocab, decode, encode, vocab_size
from .train import document_loss, next_token_probs, train, train_step

__all__ = [
    "attention_maps",
    "cosine_similarity",
    "mean_loss",
    "nearest_neighbours",
    "pca_2d",
    "principal_components",
    "Value",
    "log_likelihood",
    "mean_log_likelihood",
    "GPTConfig",
    "attention_block",
    "attention_head",
    "attention_weights",
    "empty_kv_cache",
    "gpt",
    "init_params",
    "mlp_block",
    "multi_head_attention",
    "param_shapes",
    "parameters",
    "gelu",
    "layernorm",
    "linear",
    "relu",
    "rmsnorm",
    "softmax",
    "adam_step",
    "learning_rate",
    "generate",
    "sample_token",
    "temperature_probs",
    "bos_id",
    "build_vocab",
    "decode",
    "encode",
    "vocab_size",
    "document_loss",
    "next_token_probs",
    "train",
    "train_step",
]
