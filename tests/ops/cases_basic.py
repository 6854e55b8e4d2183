"""Reference cases for elementwise, reduction and matrix ops."""
import torch
from opcase import Case, rand, randn, positive


def cases():
    for name, shape_a, shape_b in [("same", (3, 5), (3, 5)), ("bcast", (4, 1, 7), (3, 1)),
                                   ("0d", (2, 3), ()), ("odd", (1, 13, 1), (5, 1, 9))]:
        a, b = randn(*shape_a), randn(*shape_b)
        yield Case(f"add_{name}", "add", [a, b], lambda x, y: x + y)
        yield Case(f"sub_{name}", "sub", [a, b], lambda x, y: x - y)
        yield Case(f"mul_{name}", "mul", [a, b], lambda x, y: x * y)
        yield Case(f"div_{name}", "div", [a, positive(*shape_b)], lambda x, y: x / y)
    yield Case("maximum", "maximum", [randn(4, 6), randn(6)], torch.maximum)
    yield Case("minimum", "minimum", [randn(4, 6), randn(4, 1)], torch.minimum)
    yield Case("pow", "pow", [positive(3, 4), rand(3, 4)], torch.pow)
    yield Case("add_scalar", "add_scalar", [randn(7, 3)], lambda x: x + 0.75, params={"s": 0.75})
    yield Case("mul_scalar", "mul_scalar", [randn(7, 3)], lambda x: x * -1.5, params={"s": -1.5})
    yield Case("pow_scalar", "pow_scalar", [positive(5, 5)], lambda x: x ** 2.5, params={"p": 2.5})

    unary = {
        "neg": (torch.neg, randn), "exp": (torch.exp, randn), "log": (torch.log, positive),
        "sqrt": (torch.sqrt, positive), "rsqrt": (torch.rsqrt, positive),
        "tanh": (torch.tanh, randn), "sigmoid": (torch.sigmoid, randn),
        "relu": (torch.relu, randn), "silu": (torch.nn.functional.silu, randn),
        "gelu": (torch.nn.functional.gelu, randn),
        "gelu_tanh": (lambda x: torch.nn.functional.gelu(x, approximate="tanh"), randn),
    }
    for op, (fn, gen) in unary.items():
        for shape in [(17,), (3, 33)]:
            yield Case(f"{op}_{'x'.join(map(str, shape))}", op, [gen(*shape)], fn)

    x = randn(3, 4, 5)
    for dims, keep in [([], False), ([1], False), ([0, 2], True), ([-1], True)]:
        tag = "_".join(str(d).replace("-", "m") for d in dims) or "all"
        d = dims if dims else list(range(3))
        yield Case(f"sum_{tag}_{int(keep)}", "sum", [x], lambda t, d=d, k=keep: t.sum(d, keepdim=k),
                   params={"dims": dims, "keepdim": keep})
        yield Case(f"mean_{tag}_{int(keep)}", "mean", [x],
                   lambda t, d=d, k=keep: t.mean(d, keepdim=k), params={"dims": dims, "keepdim": keep})

    for name, sa, sb in [("2d", (5, 7), (7, 3)), ("batched", (2, 3, 4, 6), (2, 3, 6, 5)),
                         ("bcast", (2, 3, 4, 6), (6, 5)), ("vec", (4, 6), (6,)),
                         ("odd", (1, 33, 17), (17, 31)), ("row", (1, 40), (40, 23)),
                         ("row_batched", (3, 1, 40), (3, 40, 23)), ("row_bt", (1, 40), (23, 40)),
                         ("few_rows_bt", (5, 37), (70, 37)), ("rows8_bt", (2, 8, 33), (23, 33))]:
        if name.endswith("_bt"):  # a transposed right operand: the (few-row) linear layout
            yield Case(f"matmul_{name}", "matmul", [randn(*sa), randn(*sb)],
                       lambda a, b: a @ b.t(), params={"transpose_b": True})
            continue
        yield Case(f"matmul_{name}", "matmul", [randn(*sa), randn(*sb)], torch.matmul)
    w, b = randn(6, 9), randn(6)
    yield Case("linear_bias", "linear", [randn(2, 3, 9), w, b], torch.nn.functional.linear)
    yield Case("linear_nobias", "linear", [randn(5, 9), w], torch.nn.functional.linear)
    yield Case("linear_one_row", "linear", [randn(1, 1, 9), w, b], torch.nn.functional.linear)
    yield Case("linear_few_rows", "linear", [randn(1, 5, 33), randn(30, 33), randn(30)],
               torch.nn.functional.linear)
