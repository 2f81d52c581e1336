"""The language-modelling loss and the training loop."""

from .model import empty_kv_cache, gpt, parameters
from .nn import softmax
from .optim import adam_step, learning_rate
from .tokenizer import encode


def next_token_probs(tokens, state_dict, config):
    """For each position t < n, the model's probabilities (V values) for token t+1.

    n = min(block_size, len(tokens) - 1): the model sees at most block_size positions.
    """
    keys, values = empty_kv_cache(config)
    n = min(config.block_size, len(tokens) - 1)
    return [softmax(gpt(tokens[t], t, keys, values, state_dict, config)) for t in range(n)]


def document_loss(tokens, state_dict, config):
    """Mean cross-entropy of a token sequence: (1/n) sum_t -log p(tokens[t+1] | tokens[..t])."""
    probs = next_token_probs(tokens, state_dict, config)
    losses = [-p[target].log() for p, target in zip(probs, tokens[1:])]
    return (1 / len(losses)) * sum(losses)


def train_step(tokens, state_dict, params, m, v, step, num_steps, config, lr=0.01):
    """Forward one document, backpropagate, update with Adam. Returns the loss (a float)."""
    loss = document_loss(tokens, state_dict, config)
    loss.backward()
    adam_step(params, m, v, step, num_steps, lr)
    return loss.data


def train(docs, chars, state_dict, config, num_steps, lr=0.01, on_step=None):
    """Train on one document per step, in order, cycling through docs.

    on_step(step, loss, lr_t), if given, is called after each update (step 1-based).
    Returns the list of losses.
    """
    params = parameters(state_dict)
    m, v = [0.0] * len(params), [0.0] * len(params)
    losses = []
    for step in range(num_steps):
        tokens = encode(docs[step % len(docs)], chars)
        losses.append(train_step(tokens, state_dict, params, m, v, step, num_steps, config, lr))
        if on_step is not None:
            on_step(step + 1, losses[-1], learning_rate(step, num_steps, lr))
    return losses
