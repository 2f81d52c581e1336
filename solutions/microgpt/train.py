"""The language-modelling loss and the training loop."""

from .model import empty_kv_cache, gpt, parameters
from .nn import softmax
from .optim import adam_step, learning_rate
from .tokenizer import encode


def next_token_probs(tokens, state_dict, config):
    """For each position t < n, the model's probabilities (V values) for token t+1.

    n = min(block_size, len(tokens) - 1): the model sees at most block_size positions. One KV cache
    for the whole sequence: p_t = softmax(gpt(tokens[t], t, keys, values, state_dict, config)).
    """
    keys, values = empty_kv_cache(config)
    n = min(config.block_size, len(tokens) - 1)
    return [softmax(gpt(tokens[t], t, keys, values, state_dict, config)) for t in range(n)]


def document_loss(tokens, state_dict, config):
    """Mean cross-entropy of a token sequence: (1/n) sum_{t<n} -log p_t[tokens[t+1]], a Value.

    p_t from next_token_probs, n = min(block_size, len(tokens) - 1) (tokens: at least 2 ids, e.g.
    encode(doc, chars)). The Value's graph reaches every weight the forward pass used; no backward
    is run, and tokens and the state dict are left unchanged.
    """
    probs = next_token_probs(tokens, state_dict, config)
    losses = [-p[target].log() for p, target in zip(probs, tokens[1:])]
    return (1 / len(losses)) * sum(losses)


def train_step(tokens, state_dict, params, m, v, step, num_steps, config, lr=0.01):
    """Forward one document, backpropagate, update with Adam.

    Returns the loss before the update (a float).

    loss = document_loss(tokens, state_dict, config); loss.backward() once; then
    adam_step(params, m, v, step, num_steps, lr), which updates the weights, m and v in place and
    zeroes the gradients. params: parameters(state_dict), with every grad 0 on entry.
    """
    loss = document_loss(tokens, state_dict, config)
    loss.backward()
    adam_step(params, m, v, step, num_steps, lr)
    return loss.data


def train(docs, chars, state_dict, config, num_steps, lr=0.01, on_step=None):
    """Train on one document per step, in order, cycling through docs.

    on_step(step, loss, lr_t), if given, is called after each update (step 1-based).
    Returns the list of losses. Draws no random numbers: the order of docs is the order of training.
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
