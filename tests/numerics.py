"""Central-difference gradient checking for the reference's tests (CS231n style)."""

from microgpt import Value


def relative_error(a, b):
    # the floor keeps a tiny gradient (all rounding noise) from posing as a large relative error
    return abs(a - b) / max(abs(a), abs(b), 1e-3)


def check_gradients(f, xs, h=1e-6, tol=1e-5):
    """Compare backward()'s gradients of f (list of Values -> Value) with
    (f(x+h) - f(x-h)) / 2h at the point xs (floats). Fails with a table of the worst entries."""
    inputs = [Value(x) for x in xs]
    f(inputs).backward()
    analytic = [v.grad for v in inputs]
    numeric = []
    for i in range(len(xs)):
        up = [Value(x + h if j == i else x) for j, x in enumerate(xs)]
        down = [Value(x - h if j == i else x) for j, x in enumerate(xs)]
        numeric.append((f(up).data - f(down).data) / (2 * h))
    errors = [relative_error(a, n) for a, n in zip(analytic, numeric)]
    worst = sorted(range(len(xs)), key=lambda i: -errors[i])[:5]
    table = "\n".join(
        f"  x[{i}]={xs[i]:+.6f} analytic={analytic[i]:+.8e} numeric={numeric[i]:+.8e} "
        f"rel.err={errors[i]:.2e}"
        for i in worst
    )
    assert max(errors) < tol, f"gradient mismatch (tolerance {tol}):\n{table}"
