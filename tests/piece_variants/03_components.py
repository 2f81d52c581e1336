"""Chapter 03_components: correct code written differently, and mistakes its visible tests must name
(test_visible_contracts)."""

from visible_tests import Variant

CORRECT = [
    Variant(
        "linear",
        "nested loops with an explicit running sum",
        """
out = []
for row in w:
    total = Value(0.0)
    for i in range(len(x)):
        total = total + row[i] * x[i]
    out.append(total)
return out
""",
    ),
    Variant(
        "softmax",
        "the max taken as a Value, division by a reciprocal",
        """
top = max(logits, key=lambda z: z.data)
exps = [(z - top.data).exp() for z in logits]
inverse = sum(exps[1:], exps[0]) ** -1
return [e * inverse for e in exps]
""",
    ),
    Variant(
        "rmsnorm",
        "a loop and a division by the root mean square",
        """
total = 0
for x_i in x:
    total = total + x_i ** 2
root = (total / len(x) + eps) ** 0.5
return [x_i / root for x_i in x]
""",
    ),
]

MISTAKES = [
    Variant(
        "linear",
        "the columns of w",
        """
return [sum(w_io * x_i for w_io, x_i in zip(column, x)) for column in zip(*w)]
""",
        says="has 3 items; expected 2",
    ),
    Variant(
        "linear",
        "plain numbers (computed on .data)",
        """
return [sum(w_oi.data * x_i.data for w_oi, x_i in zip(w_o, x)) for w_o in w]
""",
        says="expected a Value",
    ),
    Variant(
        "linear",
        "scales x in place",
        """
for w_o in w:
    for i, w_oi in enumerate(w_o):
        w_o[i] = w_oi * x[i]
return [sum(w_o) for w_o in w]
""",
        says="you changed w in place",
    ),
    Variant(
        "softmax",
        "no max subtracted",
        """
exps = [z.exp() for z in logits]
total = sum(exps)
return [e / total for e in exps]
""",
        says="subtract the largest logit",
    ),
    Variant(
        "softmax",
        "the smallest logit subtracted",
        """
smallest = min(z.data for z in logits)
exps = [(z - smallest).exp() for z in logits]
total = sum(exps)
return [e / total for e in exps]
""",
        says="subtract the largest logit",
    ),
    Variant(
        "softmax",
        "the mean logit subtracted",
        """
mean = sum(z.data for z in logits) / len(logits)
exps = [(z - mean).exp() for z in logits]
total = sum(exps)
return [e / total for e in exps]
""",
        says="subtract the largest logit",
    ),
    Variant(
        "softmax",
        "max over the Values themselves",
        """
largest = max(logits)
exps = [(z - largest).exp() for z in logits]
total = sum(exps)
return [e / total for e in exps]
""",
        says="max(z.data for z in logits)",
    ),
    Variant(
        "softmax",
        "shifts the logits in place",
        """
largest = max(z.data for z in logits)
for z in logits:
    z.data -= largest
exps = [z.exp() for z in logits]
total = sum(exps)
return [e / total for e in exps]
""",
        says="you changed logits in place",
    ),
    Variant(
        "softmax",
        "exps not normalised",
        """
largest = max(z.data for z in logits)
return [(z - largest).exp() for z in logits]
""",
        says="item [0] is 1.0; expected 0.659001",
    ),
    Variant(
        "softmax",
        "the total taken as a plain number",
        """
largest = max(z.data for z in logits)
exps = [(z - largest).exp() for z in logits]
total = sum(e.data for e in exps)
return [e / total for e in exps]
""",
        says="central differences",
    ),
    Variant(
        "rmsnorm",
        "eps outside the square root",
        """
mean_square = sum(x_i * x_i for x_i in x) / len(x)
scale = 1 / (mean_square ** 0.5 + eps)
return [x_i * scale for x_i in x]
""",
        says="added inside the square root",
    ),
    Variant(
        "rmsnorm",
        "a fixed 1e-5 instead of the eps argument",
        """
mean_square = sum(x_i * x_i for x_i in x) / len(x)
scale = (mean_square + 1e-5) ** -0.5
return [x_i * scale for x_i in x]
""",
        says="added inside the square root",
    ),
    Variant(
        "rmsnorm",
        "rescales x in place",
        """
mean_square = sum(x_i * x_i for x_i in x) / len(x)
scale = (mean_square + eps) ** -0.5
for i in range(len(x)):
    x[i] = x[i] * scale
return x
""",
        says="you changed x in place",
    ),
    Variant(
        "rmsnorm",
        "the sum of squares, not the mean",
        """
scale = (sum(x_i * x_i for x_i in x) + eps) ** -0.5
return [x_i * scale for x_i in x]
""",
        says="item [0] is 0.594089; expected 0.83205",
    ),
    Variant(
        "rmsnorm",
        "the scale taken as a plain number",
        """
mean_square = sum(x_i.data * x_i.data for x_i in x) / len(x)
scale = (mean_square + eps) ** -0.5
return [x_i * scale for x_i in x]
""",
        says="central differences",
    ),
]
