"""Chapter 10_experiments: correct code written differently, and mistakes its visible tests must
name (test_visible_contracts)."""

from visible_tests import Variant

CORRECT = [
    Variant(
        "layernorm",
        "mean and variance spelled out",
        """
n = len(x)
mu = sum(x) / n
centred = [x_i - mu for x_i in x]
variance = sum(c * c for c in centred) / n
return [c * (variance + eps) ** -0.5 for c in centred]
""",
    ),
    Variant(
        "gelu",
        "tanh's derivative from cosh",
        """
c = math.sqrt(2 / math.pi)
u = c * (x.data + 0.044715 * x.data ** 3)
t = math.tanh(u)
du = c * (1 + 0.134145 * x.data ** 2)
sech2 = 1 / math.cosh(u) ** 2 if abs(u) < 300 else 0.0
return Value(x.data / 2 * (1 + t), (x,), ((1 + t) / 2 + x.data / 2 * sech2 * du,))
""",
    ),
    Variant(
        "log_likelihood",
        "an index loop over the predictions",
        """
tokens = encode(doc, chars)
probs = next_token_probs(tokens, state_dict, config)
total = 0.0
for t in range(len(probs)):
    total += math.log(probs[t][tokens[t + 1]].data)
return total
""",
    ),
]

MISTAKES = [
    Variant(
        "layernorm",
        "centres the list in place",
        """
mean = sum(x) / len(x)
for i in range(len(x)):
    x[i] = x[i] - mean
return rmsnorm(x, eps)
""",
        says="you changed x in place",
    ),
    Variant(
        "layernorm",
        "centres the Values' data in place",
        """
mean = sum(v.data for v in x) / len(x)
for v in x:
    v.data -= mean
return rmsnorm(x, eps)
""",
        says="you changed x in place",
    ),
    Variant(
        "layernorm",
        "eps outside the square root",
        """
mean = sum(x) / len(x)
centred = [x_i - mean for x_i in x]
std = (sum(c * c for c in centred) / len(x)) ** 0.5
return [c / (std + eps) for c in centred]
""",
        says="layernorm(x, eps=0.5): item [0]",
    ),
    Variant(
        "layernorm",
        "a fixed eps of 1e-5",
        """
mean = sum(x) / len(x)
return rmsnorm([x_i - mean for x_i in x])
""",
        says="layernorm(x, eps=0.5): item [0]",
    ),
    Variant(
        "layernorm",
        "the variance divided by n - 1",
        """
mean = sum(x) / len(x)
centred = [x_i - mean for x_i in x]
variance = sum(c * c for c in centred) / (len(x) - 1)
return [c / (variance + eps) ** 0.5 for c in centred]
""",
        says="layernorm(x, eps=0.5): item [0]",
    ),
    Variant(
        "layernorm",
        "no centring (RMSNorm)",
        """
return rmsnorm(x, eps)
""",
        says="layernorm(x, eps=0.5): item [0]",
    ),
    Variant(
        "layernorm",
        "the variance as mean(x^2) - mean^2",
        """
n = len(x)
mean = sum(x) / n
variance = sum(x_i * x_i for x_i in x) / n - mean * mean
return [(x_i - mean) / (variance + eps) ** 0.5 for x_i in x]
""",
        says="layernorm([1000001",
    ),
    Variant(
        "layernorm",
        "numbers instead of Values",
        """
mean = sum(v.data for v in x) / len(x)
variance = sum((v.data - mean) ** 2 for v in x) / len(x)
return [(v.data - mean) / math.sqrt(variance + eps) for v in x]
""",
        says="it must return one Value",
    ),
    Variant(
        "gelu",
        "the exact GeLU with erf",
        """
a = x.data
out = 0.5 * a * (1 + math.erf(a / math.sqrt(2)))
slope = 0.5 * (1 + math.erf(a / math.sqrt(2))) + a * math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
return Value(out, (x,), (slope,))
""",
        says="expected 0.841192",
    ),
    Variant(
        "gelu",
        "no chain-rule factor du/dx",
        """
a = x.data
t = math.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3))
return Value(0.5 * a * (1 + t), (x,), (0.5 * (1 + t) + 0.5 * a * (1 - t * t),))
""",
        says="expected 1.08296",
    ),
    Variant(
        "gelu",
        "updates x in place and returns it",
        """
a = x.data
scale = math.sqrt(2 / math.pi)
t = math.tanh(scale * (a + 0.044715 * a**3))
x.data = 0.5 * a * (1 + t)
return x
""",
        says="x after gelu(x) (unchanged)",
    ),
    Variant(
        "log_likelihood",
        "a Value instead of a float",
        """
tokens = encode(doc, chars)
probs = next_token_probs(tokens, state_dict, config)
return sum(p[target].log() for p, target in zip(probs, tokens[1:]))
""",
        says="expected 'float'",
    ),
    Variant(
        "log_likelihood",
        "not capped at block_size (the loss times the letters + 1)",
        """
tokens = encode(doc, chars)
return -document_loss(tokens, state_dict, config).data * (len(tokens) - 1)
""",
        says="block_size 4",
    ),
    Variant(
        "log_likelihood",
        "an index loop over every next token",
        """
tokens = encode(doc, chars)
probs = next_token_probs(tokens, state_dict, config)
return sum(math.log(probs[t][tokens[t + 1]].data) for t in range(len(tokens) - 1))
""",
        says="block_size",
    ),
    Variant(
        "log_likelihood",
        "the mean, not the sum",
        """
tokens = encode(doc, chars)
probs = next_token_probs(tokens, state_dict, config)
logs = [math.log(p[target].data) for p, target in zip(probs, tokens[1:])]
return sum(logs) / len(logs)
""",
        says="expected -13.6313",
    ),
    Variant(
        "log_likelihood",
        "the end (BOS) left out",
        """
tokens = encode(doc, chars)
probs = next_token_probs(tokens, state_dict, config)
return sum(math.log(p[target].data) for p, target in zip(probs, tokens[1:-1]))
""",
        says="expected -13.6313",
    ),
    Variant(
        "log_likelihood",
        "a backward to read the loss",
        """
tokens = encode(doc, chars)
loss = document_loss(tokens, state_dict, config)
loss.backward()
return -loss.data * min(config.block_size, len(tokens) - 1)
""",
        says="no backward",
    ),
    Variant(
        "log_likelihood",
        "BOS written as 26",
        """
tokens = [26] + [chars.index(c) for c in doc] + [26]
probs = next_token_probs(tokens, state_dict, config)
return sum(math.log(p[target].data) for p, target in zip(probs, tokens[1:]))
""",
        says="BOS 27",
    ),
    Variant(
        "gelu",
        "tanh built from math.exp, which overflows for large x",
        """
a = x.data
u = math.sqrt(2 / math.pi) * (a + 0.044715 * a**3)
t = (math.exp(2 * u) - 1) / (math.exp(2 * u) + 1)
slope = 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * a * a)
return Value(0.5 * a * (1 + t), (x,), (slope,))
""",
        says="gelu(Value(30.0)) raised OverflowError: expected tanh(u) to level off",
    ),
]
