#!/usr/bin/env python3
"""Independent PyTorch reference for xlalign's transformer encoders (BERT / XLM-R).

Written from the Hugging Face modelling code with torch.nn.functional only (no
`transformers` package needed; Debian's python3-torch and python3-numpy suffice).

Modes:
  check <folder>   stdin: {"ids": [[...]], "mask": [[...]], "pooling": "mean|cls|pooler",
                   "grad_pooled": [[...]]}; stdout: {"pooled": [[...]], "grads": {name: [...]},
                   "grad_inputs_embeds": [...]} computed in float64 with autograd.
  save-bin <folder> <out.bin> <f32|f16|bf16> [legacy]
                   torch.save of the folder's model.safetensors as a state dict (OrderedDict of
                   tensors in that dtype, plus `extra.tied` sharing the word table's storage and
                   `extra.transposed`, a non-contiguous view); `legacy`: the pre-1.6 format.
  save-evil <out.bin> <marker>
                   torch.save of a dict whose second entry unpickles to os.system('touch marker').
  bench            --layers 12 --hidden 384 --heads 12 --intermediate 1536 --vocab 250037
                   --batch 32 --seq 128 --iters 5 --threads N: random weights, forward +
                   backward (word embeddings frozen, all else trained, mean pooling),
                   prints {"tokens_per_s", "step_s", "peak_rss_mb", "threads", "torch"}.
"""
import json, math, struct, sys, time, resource, argparse
import numpy as np
import torch
import torch.nn.functional as F

DT = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    n = struct.unpack("<Q", buf[:8])[0]
    header = json.loads(buf[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = buf[8 + n + a: 8 + n + b]
        if info["dtype"] == "BF16":
            arr = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=DT[info["dtype"]])
        out[name] = arr.reshape(info["shape"])
    return out


def forward(P, cfg, ids, mask, pooling, inputs_embeds=None):
    """BERT/XLM-R forward (eval mode). P: name -> tensor (unprefixed names)."""
    B, T = ids.shape
    H = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    dh = H // nh
    eps = cfg.get("layer_norm_eps", 1e-12)
    if inputs_embeds is None:
        if cfg["model_type"] == "xlm-roberta":
            pad = cfg.get("pad_token_id", 1)
            m = (ids != pad).long()
            pos = torch.cumsum(m, dim=1) * m + pad
        else:
            pos = torch.arange(T).unsqueeze(0).expand(B, T)
        inputs_embeds = P["embeddings.word_embeddings.weight"][ids] + P["embeddings.token_type_embeddings.weight"][0] + P["embeddings.position_embeddings.weight"][pos]
    h = F.layer_norm(inputs_embeds, (H,), P["embeddings.LayerNorm.weight"], P["embeddings.LayerNorm.bias"], eps)
    ext = (1.0 - mask[:, None, None, :].to(h.dtype)) * torch.finfo(h.dtype).min
    for i in range(cfg["num_hidden_layers"]):
        p = lambda n: P[f"encoder.layer.{i}.{n}"]
        def heads(x):
            return x.view(B, T, nh, dh).permute(0, 2, 1, 3)
        q = heads(F.linear(h, p("attention.self.query.weight"), p("attention.self.query.bias")))
        k = heads(F.linear(h, p("attention.self.key.weight"), p("attention.self.key.bias")))
        v = heads(F.linear(h, p("attention.self.value.weight"), p("attention.self.value.bias")))
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh) + ext
        ctx = torch.matmul(torch.softmax(s, dim=-1), v).permute(0, 2, 1, 3).reshape(B, T, H)
        a = F.linear(ctx, p("attention.output.dense.weight"), p("attention.output.dense.bias"))
        h1 = F.layer_norm(a + h, (H,), p("attention.output.LayerNorm.weight"), p("attention.output.LayerNorm.bias"), eps)
        inter = F.gelu(F.linear(h1, p("intermediate.dense.weight"), p("intermediate.dense.bias")))
        o = F.linear(inter, p("output.dense.weight"), p("output.dense.bias"))
        h = F.layer_norm(o + h1, (H,), p("output.LayerNorm.weight"), p("output.LayerNorm.bias"), eps)
    if pooling == "mean":
        mf = mask.to(h.dtype).unsqueeze(-1)
        pooled = (h * mf).sum(1) / mf.sum(1)
    else:
        pooled = h[:, 0]
        if pooling == "pooler":
            pooled = torch.tanh(F.linear(pooled, P["pooler.dense.weight"], P["pooler.dense.bias"]))
    return pooled


def check(folder):
    cfg = json.load(open(f"{folder}/config.json"))
    raw = read_safetensors(f"{folder}/model.safetensors")
    key = "embeddings.word_embeddings.weight"
    prefix = next(n[: len(n) - len(key)] for n in raw if n.endswith(key))
    P = {n[len(prefix):]: torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for n, a in raw.items() if n.startswith(prefix) and a.dtype != np.int64}
    req = json.load(sys.stdin)
    ids = torch.tensor(req["ids"], dtype=torch.long)
    mask = torch.tensor(req["mask"], dtype=torch.long)
    pooled = forward(P, cfg, ids, mask, req["pooling"])
    g = torch.tensor(req["grad_pooled"], dtype=torch.float64)
    (pooled * g).sum().backward()
    grads = {n: t.grad.reshape(-1).tolist() for n, t in P.items() if t.grad is not None}
    json.dump({"pooled": pooled.detach().tolist(), "grads": grads}, sys.stdout)


def save_bin(folder, out, dtype, legacy=False):
    from collections import OrderedDict
    raw = read_safetensors(f"{folder}/model.safetensors")
    dt = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[dtype]
    sd = OrderedDict()
    for n, a in raw.items():
        t = torch.from_numpy(np.array(a))
        sd[n] = t.to(dt) if t.is_floating_point() else t
    word = next(n for n in sd if n.endswith("embeddings.word_embeddings.weight"))
    sd["extra.tied"] = sd[word][2:5]  # shares the storage of the word table, at an offset
    sd["extra.transposed"] = sd[word].t()[:, 1:3]  # strided view
    torch.save(sd, out, _use_new_zipfile_serialization=not legacy)


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os
        return (os.system, (f"touch {self.marker}",))


def save_evil(out, marker):
    from collections import OrderedDict
    torch.save(OrderedDict([("a", torch.zeros(2)), ("b", Evil(marker))]), out)


def bench(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    H, I = a.hidden, a.intermediate
    cfg = {"hidden_size": H, "num_attention_heads": a.heads, "num_hidden_layers": a.layers, "model_type": "bert", "layer_norm_eps": 1e-12}
    P = {"embeddings.word_embeddings.weight": torch.randn(a.vocab, H) * 0.02,
         "embeddings.position_embeddings.weight": torch.randn(512, H) * 0.02,
         "embeddings.token_type_embeddings.weight": torch.randn(2, H) * 0.02,
         "embeddings.LayerNorm.weight": torch.ones(H), "embeddings.LayerNorm.bias": torch.zeros(H)}
    for i in range(a.layers):
        for n, shape in [("attention.self.query", (H, H)), ("attention.self.key", (H, H)), ("attention.self.value", (H, H)), ("attention.output.dense", (H, H)), ("intermediate.dense", (I, H)), ("output.dense", (H, I))]:
            P[f"encoder.layer.{i}.{n}.weight"] = torch.randn(*shape) * 0.02
            P[f"encoder.layer.{i}.{n}.bias"] = torch.zeros(shape[0])
        for n in ["attention.output.LayerNorm", "output.LayerNorm"]:
            P[f"encoder.layer.{i}.{n}.weight"] = torch.ones(H)
            P[f"encoder.layer.{i}.{n}.bias"] = torch.zeros(H)
    for n, t in P.items():
        if n != "embeddings.word_embeddings.weight":
            t.requires_grad_(True)
    ids = torch.randint(5, a.vocab, (a.batch, a.seq))
    mask = torch.ones(a.batch, a.seq, dtype=torch.long)
    def step():
        for t in P.values():
            t.grad = None
        pooled = forward(P, cfg, ids, mask, "mean")
        pooled.sum().backward()
    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(a.iters):
        step()
    dt = (time.perf_counter() - t0) / a.iters
    print(json.dumps({"tokens_per_s": a.batch * a.seq / dt, "step_s": dt, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    elif len(sys.argv) >= 5 and sys.argv[1] == "save-bin":
        save_bin(sys.argv[2], sys.argv[3], sys.argv[4], len(sys.argv) > 5 and sys.argv[5] == "legacy")
    elif len(sys.argv) >= 4 and sys.argv[1] == "save-evil":
        save_evil(sys.argv[2], sys.argv[3])
    else:
        ap = argparse.ArgumentParser()
        ap.add_argument("mode")
        for n, d in [("layers", 12), ("hidden", 384), ("heads", 12), ("intermediate", 1536), ("vocab", 250037), ("batch", 32), ("seq", 128), ("iters", 5), ("threads", torch.get_num_threads())]:
            ap.add_argument(f"--{n}", type=int, default=d)
        bench(ap.parse_args())
