"""A scalar automatic-differentiation engine.

Each `Value` holds one number (`data`), the derivative of the final output with
respect to it (`grad`), the nodes it was computed from (`_children`) and the
partial derivative of itself with respect to each of those children
(`_local_grads`). `backward` applies the chain rule over the whole graph.
"""

import math


class Value:
    """A scalar node in a computation graph.

    Every operation builds a new node and records, side by side, its forward
    value and its local gradient d(out)/d(child) for each child.
    """

    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    # --- primitive operations: forward value, then d(out)/d(each child) ---

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        # d(a+b)/da = 1, d(a+b)/db = 1
        return Value(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        # d(ab)/da = b, d(ab)/db = a
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, exponent):
        # d(a^n)/da = n a^(n-1); the exponent is a plain number, not a node
        return Value(self.data**exponent, (self,), (exponent * self.data ** (exponent - 1),))

    def log(self):
        # d(ln a)/da = 1/a
        return Value(math.log(self.data), (self,), (1 / self.data,))

    def exp(self):
        # d(e^a)/da = e^a
        return Value(math.exp(self.data), (self,), (math.exp(self.data),))

    def relu(self):
        # d(max(0,a))/da = 1 if a > 0 else 0
        return Value(max(0, self.data), (self,), (float(self.data > 0),))

    # --- derived operations, built from the primitives above ---

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    # --- reverse-mode differentiation ---

    def topological_order(self):
        """Every node this one depends on, each after all of its children.

        An iterative depth-first search (graphs can be far deeper than Python's
        recursion limit) that visits children in the same order as the classic
        recursive version, so gradients are accumulated in the same order too.
        """
        order, visited = [], {self}
        stack = [(self, iter(self._children))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in visited:
                    visited.add(child)
                    if child._children:
                        stack.append((child, iter(child._children)))
                        break
                    order.append(child)  # a leaf is finished as soon as it is seen
            else:
                stack.pop()
                order.append(node)
        return order

    def backward(self):
        """Set `grad` on every node of the graph to d(self)/d(node).

        Walks the nodes from this output back to the leaves; each node passes
        grad * local_grad to each child, and `+=` sums the contributions of a
        node used more than once. Gradients accumulate across calls: nothing is
        reset, so a second call on the same graph runs the same loop again on the
        grads the first left (self.grad = 1, then every node passes its whole
        grad on again), and a second graph sharing a leaf adds its share to that
        leaf. Zero them between independent backward passes.
        """
        self.grad = 1
        for node in reversed(self.topological_order()):
            for child, local_grad in zip(node._children, node._local_grads):
                child.grad += local_grad * node.grad
