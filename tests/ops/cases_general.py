"""Reference cases for softmax, max, selection, dropout, concat/split and embedding."""
import torch
import torch.nn.functional as F
from opcase import Case, ints, mask, randn


def softmax_cases():
    shapes = [((7,), 0), ((3, 33), -1), ((4, 129), 1), ((1, 5), -1), ((6, 1), -1), ((33, 7), 0),
              ((3, 5, 7), 1), ((2, 9, 4), 0), ((5, 130), 0)]
    for shape, dim in shapes:
        tag = "x".join(map(str, shape)) + f"_d{dim}".replace("-", "m")
        x = randn(*shape, std=2.0)
        yield Case(f"softmax_{tag}", "softmax", [x], lambda t, d=dim: torch.softmax(t, d),
                   params={"dim": dim})
        yield Case(f"log_softmax_{tag}", "log_softmax", [x],
                   lambda t, d=dim: torch.log_softmax(t, d), params={"dim": dim})
    # Magnitudes where exp overflows even float64 unless the maximum is subtracted. The values are
    # multiples of 4 in bf16's exact range so every backend sees the same inputs.
    for name, offset in [("pos", 1000.0), ("neg", -1000.0)]:
        for shape, dim in [((4, 33), -1), ((33, 4), 0)]:
            x = offset + 4.0 * ints(6, *shape).to(torch.float64)
            tag = f"big{name}_{'x'.join(map(str, shape))}_d{dim}".replace("-", "m")
            yield Case(f"softmax_{tag}", "softmax", [x], lambda t, d=dim: torch.softmax(t, d),
                       params={"dim": dim})
            yield Case(f"log_softmax_{tag}", "log_softmax", [x],
                       lambda t, d=dim: torch.log_softmax(t, d), params={"dim": dim})


def max_cases():
    for shape, dim, keep in [((5, 7), 1, False), ((5, 7), 0, True), ((2, 33, 3), -2, False),
                             ((129,), 0, False)]:
        tag = f"{'x'.join(map(str, shape))}_d{dim}_{int(keep)}".replace("-", "m")
        yield Case(f"max_{tag}", "max", [randn(*shape)],
                   lambda t, d=dim, k=keep: torch.max(t, d, keepdim=k)[0],
                   params={"dim": dim, "keepdim": keep})
    # Ties: the gradient goes to the first maximum; not differentiable there, so no finite
    # differences.
    ties = torch.tensor([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [0.0, -1.0, 5.0, 5.0]],
                        dtype=torch.float64)
    yield Case("max_ties", "max", [ties], lambda t: torch.max(t, 1)[0],
               params={"dim": 1, "keepdim": False}, fd=False)


def select_cases():
    for tag, sc, sa, sb in [("same", (4, 7), (4, 7), (4, 7)),
                            ("bcast", (3, 1, 5), (3, 4, 5), (5,)),
                            ("odd", (1, 33), (7, 1), (7, 33))]:
        yield Case(f"where_{tag}", "where", [mask(*sc, p=0.5), randn(*sa), randn(*sb)],
                   lambda c, a, b: torch.where(c.bool(), a, b))
    for tag, sx, sm in [("same", (5, 9), (5, 9)), ("bcast", (2, 3, 33), (3, 1))]:
        yield Case(f"masked_fill_{tag}", "masked_fill", [randn(*sx), mask(*sm, p=0.4)],
                   lambda x, m: x.masked_fill(m.bool(), -2.5), params={"value": -2.5})
    x = randn(6, 17)
    yield Case("dropout_p0", "dropout", [x], lambda t: F.dropout(t, 0.0, True),
               params={"p": 0.0, "training": True})
    yield Case("dropout_eval", "dropout", [x], lambda t: F.dropout(t, 0.5, False),
               params={"p": 0.5, "training": False})


def shape_cases():
    for tag, shapes, dim in [("d0", [(2, 7), (1, 7), (5, 7)], 0),
                             ("d1", [(3, 1), (3, 33), (3, 7)], 1),
                             ("dm1", [(2, 3, 4), (2, 3, 1)], -1),
                             ("mid", [(2, 1, 5), (2, 6, 5), (2, 2, 5)], 1)]:
        xs = [randn(*s) for s in shapes]
        yield Case(f"concat_{tag}", "concat", xs, lambda *t, d=dim: torch.cat(t, d),
                   params={"dim": dim})
    ii = [ints(100, 3, 2), ints(100, 3, 5)]
    yield Case("concat_i64", "concat", ii, lambda *t: torch.cat(t, 1), params={"dim": 1})

    for tag, shape, sizes, dim in [("d0", (8, 3), [2, 5, 1], 0), ("dm1", (3, 129), [64, 1, 64], -1),
                                   ("mid", (2, 7, 3), [3, 1, 3], 1)]:
        yield Case(f"split_{tag}", "split", [randn(*shape)],
                   lambda t, s=sizes, d=dim: torch.split(t, s, d),
                   params={"sizes": sizes, "dim": dim})
    # Only some pieces are used: the others get no gradient and contribute zeros.
    yield Case("split_partial", "split", [randn(4, 10)],
               lambda t: tuple(torch.split(t, [3, 3, 4], 1)[i] for i in (0, 2)),
               params={"sizes": [3, 3, 4], "dim": 1, "keep": [0, 2]})


def embedding_cases():
    w = randn(11, 7)
    # Repeated ids, so the scatter-add has to accumulate.
    ids = torch.tensor([[3, 0, 3, 10], [3, 5, 0, 3]], dtype=torch.int64)
    yield Case("embedding_repeat", "embedding", [w, ids], lambda a, i: F.embedding(i, a))
    yield Case("embedding_i32", "embedding", [randn(33, 5), ints(33, 4, 3, 2, dtype=torch.int32)],
               lambda a, i: F.embedding(i.long(), a))
    yield Case("embedding_1d", "embedding", [randn(129, 1), ints(129, 40)],
               lambda a, i: F.embedding(i, a))
    yield Case("embedding_scalar_id", "embedding", [randn(6, 9), torch.tensor(4)],
               lambda a, i: F.embedding(i, a))


def cases():
    yield from softmax_cases()
    yield from max_cases()
    yield from select_cases()
    yield from shape_cases()
    yield from embedding_cases()
