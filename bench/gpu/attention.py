# PyTorch SDPA (flash) at the same shape and FLOP count as bench/gpu/attention_gpu.cpp.
import sys
import torch
import torch.nn.functional as F

B, H, S, D = (int(a) for a in sys.argv[1:5]) if len(sys.argv) == 5 else (8, 16, 2048, 128)
q, k, v = (torch.randn(B, H, S, D, device="cuda", dtype=torch.bfloat16, requires_grad=True)
           for _ in range(3))
dout = torch.randn_like(q)
flops = 4.0 * B * H * S * S * D / 2


def timed(fn, reps=20):
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / reps / 1e3


tf = timed(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))
tfb = timed(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(dout))
print(f"torch SDPA B{B} H{H} S{S} D{D} bf16 causal: fwd {tf*1e3:.2f} ms {flops/tf/1e12:.1f} TFLOP/s, "
      f"fwd+bwd {tfb*1e3:.2f} ms {3.5*flops/tfb/1e12:.1f} TFLOP/s")
