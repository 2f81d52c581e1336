"""Chapter 01_autograd: correct code written differently, and mistakes its visible tests must name
(test_visible_contracts)."""

from visible_tests import Variant

CORRECT = [
    Variant(
        "value_add",
        "wrapped with type(self)",
        """
if not isinstance(other, type(self)):
    other = type(self)(other)
return Value(self.data + other.data, children=(self, other), local_grads=(1.0, 1.0))
""",
    ),
    Variant(
        "value_mul",
        "try the attribute, wrap on failure",
        """
try:
    other_data = other.data
except AttributeError:
    other = Value(other)
    other_data = other.data
return Value(self.data * other_data, (self, other), (other_data, self.data))
""",
    ),
    Variant(
        "value_pow",
        "the derivative as a separate line",
        """
derivative = exponent * self.data ** (exponent - 1)
return Value(self.data ** exponent, (self,), (derivative,))
""",
    ),
    Variant(
        "value_log",
        "1 / x written as x ** -1",
        """
x = self.data
return Value(math.log(x), (self,), (x ** -1,))
""",
    ),
    Variant(
        "value_exp",
        "exp computed once",
        """
out = math.exp(self.data)
return Value(out, (self,), (out,))
""",
    ),
    Variant(
        "value_relu",
        "an if statement",
        """
if self.data > 0:
    return Value(self.data, (self,), (1.0,))
return Value(0.0, (self,), (0.0,))
""",
    ),
    Variant(
        "backward",
        "an explicit stack",
        """
order, visited, stack = [], set(), [(self, False)]
while stack:
    node, children_done = stack.pop()
    if children_done:
        order.append(node)
    elif node not in visited:
        visited.add(node)
        stack.append((node, True))
        stack.extend((child, False) for child in node._children)
self.grad = 1
for node in order[::-1]:
    for child, local in zip(node._children, node._local_grads):
        child.grad += node.grad * local
""",
    ),
]

MISTAKES = [
    Variant(
        "value_add",
        "a plain number not wrapped in Value",
        """
return Value(self.data + other.data, (self, other), (1, 1))
""",
        says="wrap it in Value",
    ),
    Variant(
        "value_add",
        "the local gradients of a product",
        """
other = other if isinstance(other, Value) else Value(other)
return Value(self.data + other.data, (self, other), (other.data, self.data))
""",
        says="the local gradient for child [0] is -3.5; expected 1",
    ),
    Variant(
        "value_mul",
        "a plain number not wrapped in Value",
        """
return Value(self.data * other.data, (self, other), (other.data, self.data))
""",
        says="wrap it in Value",
    ),
    Variant(
        "value_mul",
        "the local gradients swapped",
        """
other = other if isinstance(other, Value) else Value(other)
return Value(self.data * other.data, (self, other), (self.data, other.data))
""",
        says="the local gradient for child [0] is 2.0; expected -3.5",
    ),
    Variant(
        "value_mul",
        "the local gradients are the nodes, not their data",
        """
other = other if isinstance(other, Value) else Value(other)
return Value(self.data * other.data, (self, other), (other, self))
""",
        says="a * b: local gradient [0] is a Value; expected a number",
    ),
    Variant(
        "value_pow",
        "the factor n missing",
        """
return Value(self.data ** exponent, (self,), (self.data ** (exponent - 1),))
""",
        says="the local gradient for child [0] is 4.0; expected 12.0",
    ),
    Variant(
        "value_pow",
        "divides by the base, which may be 0",
        """
out = self.data ** exponent
return Value(out, (self,), (exponent * out / self.data,))
""",
        says="without dividing by a",
    ),
    Variant(
        "value_pow",
        "the local gradient is a Value",
        """
return Value(self.data ** exponent, (self,), (exponent * self ** (exponent - 1),))
""",
        says="a plain number",
    ),
    Variant(
        "value_log",
        "log base 10",
        """
return Value(math.log10(self.data), (self,), (1 / self.data,))
""",
        says="expected 0.693147",
    ),
    Variant(
        "value_log",
        "the local gradient is the input",
        """
return Value(math.log(self.data), (self,), (self.data,))
""",
        says="the local gradient for child [0] is 2.0; expected 0.5",
    ),
    Variant(
        "value_exp",
        "the local gradient is the input",
        """
return Value(math.exp(self.data), (self,), (self.data,))
""",
        says="the local gradient for child [0] is 1.0; expected 2.71828",
    ),
    Variant(
        "value_relu",
        "local gradient 1 at the corner",
        """
return Value(max(0, self.data), (self,), (float(self.data >= 0),))
""",
        says="local gradient for child [0] is 1.0; expected 0.0",
    ),
    Variant(
        "value_relu",
        "keeps negative data",
        """
return Value(self.data, (self,), (float(self.data > 0),))
""",
        says="its data is -2.0; expected 0.0",
    ),
    Variant(
        "backward",
        "= instead of +=",
        """
order, visited = [], set()

def visit(node):
    if node not in visited:
        visited.add(node)
        for child in node._children:
            visit(child)
        order.append(node)

visit(self)
self.grad = 1
for node in reversed(order):
    for child, local_grad in zip(node._children, node._local_grads):
        child.grad = local_grad * node.grad
""",
        says="item [2] is -3.0; expected -2.0",
    ),
    Variant(
        "backward",
        "no self.grad = 1",
        """
order, visited = [], set()

def visit(node):
    if node not in visited:
        visited.add(node)
        for child in node._children:
            visit(child)
        order.append(node)

visit(self)
for node in reversed(order):
    for child, local_grad in zip(node._children, node._local_grads):
        child.grad += local_grad * node.grad
""",
        says="item [0] is 0; expected 1",
    ),
    Variant(
        "backward",
        "the order not reversed",
        """
order, visited = [], set()

def visit(node):
    if node not in visited:
        visited.add(node)
        for child in node._children:
            visit(child)
        order.append(node)

visit(self)
self.grad = 1
for node in order:
    for child, local_grad in zip(node._children, node._local_grads):
        child.grad += local_grad * node.grad
""",
        says="item [2] is 1.0; expected -2.0",
    ),
    Variant(
        "backward",
        "grads reset to 0 inside backward",
        """
order, visited = [], set()

def visit(node):
    if node not in visited:
        visited.add(node)
        node.grad = 0
        for child in node._children:
            visit(child)
        order.append(node)

visit(self)
self.grad = 1
for node in reversed(order):
    for child, local_grad in zip(node._children, node._local_grads):
        child.grad += local_grad * node.grad
""",
        says="gradients accumulate",
    ),
    Variant(
        "backward",
        "the grads of inner nodes reset at the start",
        """
order, visited = [], set()

def visit(node):
    if node not in visited:
        visited.add(node)
        for child in node._children:
            visit(child)
        order.append(node)

visit(self)
for node in order:
    if node._children:
        node.grad = 0
self.grad = 1
for node in reversed(order):
    for child, local_grad in zip(node._children, node._local_grads):
        child.grad += local_grad * node.grad
""",
        says="nothing is reset",
    ),
    Variant(
        "backward",
        "the order kept between calls (a global list)",
        """
order, visited = globals().setdefault("backward_order", ([], set()))

def visit(node):
    if node not in visited:
        visited.add(node)
        for child in node._children:
            visit(child)
        order.append(node)

visit(self)
self.grad = 1
for node in reversed(order):
    for child, local_grad in zip(node._children, node._local_grads):
        child.grad += local_grad * node.grad
""",
        says="keep no state between calls",
    ),
]
