#!/usr/bin/env python3
"""Independent PyTorch reference for xlalign's transformer encoders: BERT / XLM-R, gte
"new" (gte-multilingual-base) and jina-embeddings-v3 (rotary XLM-R with task LoRA adapters).

Written from the Hugging Face modelling code (BERT, XLM-R), Alibaba-NLP/new-impl's
modeling.py (gte) and jinaai/xlm-roberta-flash-implementation (jina-v3) with
torch.nn.functional only (no `transformers` package or remote code needed; Debian's
python3-torch and python3-numpy suffice). The rotary families run on the padded batch with
an additive mask, which equals the hub code's unpadded / memory-efficient paths on real tokens.

Modes:
  check <folder>   stdin: {"ids": [[...]], "mask": [[...]], "pooling": "mean|cls|pooler",
                   "grad_pooled": [[...]], "task": k (jina-v3: index in lora_adaptations)}; stdout: {"pooled": [[...]], "grads": {name: [...]},
                   "grad_inputs_embeds": [...]} computed in float64 with autograd.
  st-check <folder> stdin: {"kind": "query|passage", "prompt": "<text>", "prompt_ids": [...],
                   "ids": [[...]], "mask": [[...]]}; stdout: {"vectors": [[...]]}: sentence-transformers'
                   module chain re-implemented from its public code (modules.json, Pooling modes
                   and include_prompt, Dense, Normalize; prompts of config_sentence_transformers.json)
                   on the float64 encoder above; the folder's files are read here, independently.
  check ... "st": true   also applies the folder's Dense modules after pooling (trainable) and pools
                   with its modes ("pooling" as xlalign names it), masking "prompt_tokens" positions.
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
    if pooling == "hidden":
        return h
    if pooling == "mean":
        mf = mask.to(h.dtype).unsqueeze(-1)
        pooled = (h * mf).sum(1) / mf.sum(1)
    else:
        pooled = h[:, 0]
        if pooling == "pooler":
            pooled = torch.tanh(F.linear(pooled, P["pooler.dense.weight"], P["pooler.dense.bias"]))
    return pooled


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope_tables(cfg, T):
    """cos, sin [T, dh] as the hub code caches them (float32), for positions 0..T-1."""
    dh = cfg["hidden_size"] // cfg["num_attention_heads"]
    i = torch.arange(0, dh, 2).float() / dh
    if cfg["model_type"] == "new":
        base = float(cfg.get("rope_theta", 10000.0))
        sc = cfg.get("rope_scaling")
        if sc:
            # NTKScalingRotaryEmbedding builds its cache at max_position_embeddings * factor,
            # so the scaled base (and the factor^(2/dh) division) applies at every length.
            f = float(sc["factor"])
            inv = 1.0 / ((base * f) ** i)
            inv = inv / f ** (2 / dh)
        else:
            inv = 1.0 / (base ** i)
    else:
        inv = 1.0 / (float(cfg.get("rotary_emb_base", 10000.0)) ** i)
    t = torch.arange(T, dtype=torch.float32)
    freqs = torch.outer(t, inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().double(), emb.sin().double()


def attention(h, qkv, cos, sin, ext, nh):
    B, T, H3 = qkv.shape
    H = H3 // 3
    dh = H // nh
    q, k, v = [t.reshape(B, T, nh, dh) for t in qkv.split(H, dim=-1)]
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    q = q * c + rotate_half(q) * s
    k = k * c + rotate_half(k) * s
    q, k, v = [t.permute(0, 2, 1, 3) for t in (q, k, v)]
    sc = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh) + ext
    return torch.matmul(torch.softmax(sc, dim=-1), v).permute(0, 2, 1, 3).reshape(B, T, H)


def forward_rotary(P, cfg, ids, mask, pooling, task):
    """gte 'new' (NewModel) or jina-embeddings-v3 (XLMRobertaLoRA with task `task`), eval mode."""
    B, T = ids.shape
    H = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    eps = cfg.get("layer_norm_eps", 1e-12)
    cos, sin = rope_tables(cfg, T)
    ext = (1.0 - mask[:, None, None, :].double()) * torch.finfo(torch.float64).min
    if cfg["model_type"] == "new":
        x = P["embeddings.word_embeddings.weight"][ids]
        if cfg.get("type_vocab_size", 0) > 0:
            x = x + P["embeddings.token_type_embeddings.weight"][0]
        h = F.layer_norm(x, (H,), P["embeddings.LayerNorm.weight"], P["embeddings.LayerNorm.bias"], eps)
        I = cfg["intermediate_size"]
        for i in range(cfg["num_hidden_layers"]):
            p = lambda n: P[f"encoder.layer.{i}.{n}"]
            a = F.linear(attention(h, F.linear(h, p("attention.qkv_proj.weight"), p("attention.qkv_proj.bias")), cos, sin, ext, nh), p("attention.o_proj.weight"), p("attention.o_proj.bias"))
            h1 = F.layer_norm(h + a, (H,), p("attn_ln.weight"), p("attn_ln.bias"), eps)
            up, gate = F.linear(h1, p("mlp.up_gate_proj.weight")).split(I, dim=-1)
            m = F.linear(F.gelu(gate) * up, p("mlp.down_proj.weight"), p("mlp.down_proj.bias"))
            h = F.layer_norm(h1 + m, (H,), p("mlp_ln.weight"), p("mlp_ln.bias"), eps)
    else:
        s = cfg.get("lora_alpha", 1) / cfg.get("lora_rank", 4)
        W = ".parametrizations.weight.original"
        def lin_w(n):  # linear: W + s * B_t A_t
            return P[n + W] + P[n + ".parametrizations.weight.0.lora_B"][task] @ P[n + ".parametrizations.weight.0.lora_A"][task] * s
        def emb_w(n):  # embedding: W + s * A_t B_t
            return P[n + W] + P[n + ".parametrizations.weight.0.lora_A"][task] @ P[n + ".parametrizations.weight.0.lora_B"][task] * s
        x = emb_w("embeddings.word_embeddings")[ids] + emb_w("embeddings.token_type_embeddings")[0]
        h = F.layer_norm(x, (H,), P["emb_ln.weight"], P["emb_ln.bias"], eps)
        for i in range(cfg["num_hidden_layers"]):
            pre = f"encoder.layers.{i}."
            lin = lambda n, v: F.linear(v, lin_w(pre + n), P[pre + n + ".bias"])
            a = lin("mixer.out_proj", attention(h, lin("mixer.Wqkv", h), cos, sin, ext, nh))
            h1 = F.layer_norm(a + h, (H,), P[pre + "norm1.weight"], P[pre + "norm1.bias"], eps)
            m = lin("mlp.fc2", F.gelu(lin("mlp.fc1", h1)))
            h = F.layer_norm(m + h1, (H,), P[pre + "norm2.weight"], P[pre + "norm2.bias"], eps)
    if pooling == "mean":
        mf = mask.double().unsqueeze(-1)
        return (h * mf).sum(1) / mf.sum(1)
    pooled = h[:, 0]
    if pooling == "pooler":
        pooled = torch.tanh(F.linear(pooled, P["pooler.dense.weight"], P["pooler.dense.bias"]))
    return pooled


ST_LEGACY = [("pooling_mode_cls_token", "cls"), ("pooling_mode_max_tokens", "max"), ("pooling_mode_mean_tokens", "mean"),
             ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens"), ("pooling_mode_weightedmean_tokens", "weightedmean"),
             ("pooling_mode_lasttoken", "lasttoken")]
XL_TO_ST = {"mean": "mean", "cls": "cls", "max": "max", "mean_sqrt_len": "mean_sqrt_len_tokens", "weightedmean": "weightedmean", "last_token": "lasttoken"}


def st_modules(folder):
    """[(type, path, config)] of modules.json, in idx order."""
    mods = sorted(json.load(open(f"{folder}/modules.json")), key=lambda m: m["idx"])
    out = []
    for m in mods:
        t = m["type"].split(".")[-1]
        cfg = json.load(open(f"{folder}/{m['path']}/config.json")) if t in ("Pooling", "Dense") else {}
        out.append((t, m["path"], cfg))
    return out


def st_pool(h, mask, modes, prompt_length):
    """sentence-transformers' Pooling (v5 `_forward_padded`, right padding), float64; mask zeroed over the prompt when asked."""
    mask = mask.clone()
    if prompt_length:
        mask[:, :prompt_length] = 0
    m = mask.unsqueeze(-1).expand(h.size()).to(h.dtype)
    outs = []
    for mode in modes:
        if mode == "cls":  # v5: the first position the pooling mask keeps
            first = mask.to(torch.int).argmax(dim=1)
            outs.append(torch.gather(h, 1, first.view(-1, 1, 1).expand(-1, 1, h.shape[2])).squeeze(1))
        elif mode == "max":
            outs.append(torch.where(m == 0, torch.full_like(h, -1e9), h).max(1)[0])
        elif mode in ("mean", "mean_sqrt_len_tokens"):
            s = (h * m).sum(1)
            n = torch.clamp(m.sum(1), min=1e-9)
            outs.append(s / n if mode == "mean" else s / torch.sqrt(n))
        elif mode == "weightedmean":
            w = torch.arange(1, h.shape[1] + 1, dtype=h.dtype).unsqueeze(0).unsqueeze(-1).expand(h.size()) * m
            outs.append((h * w).sum(1) / torch.clamp(w.sum(1), min=1e-9))
        elif mode == "lasttoken":  # v5: the last position the pooling mask keeps
            values, indices = mask.flip(1).max(1)
            indices = torch.where(values == 0, torch.full_like(indices, h.shape[1] - 1), indices)
            idx = h.shape[1] - indices - 1
            outs.append(torch.gather(h * m, 1, idx.view(-1, 1, 1).expand(-1, 1, h.shape[2])).squeeze(1))
        else:
            raise ValueError(mode)
    return torch.cat(outs, 1)


def st_pool_modes(cfg):
    if "pooling_mode" in cfg:
        pm = cfg["pooling_mode"]
        return [pm] if isinstance(pm, str) else list(pm)
    modes = [mode for key, mode in ST_LEGACY if cfg.get(key)]
    return modes or ["mean"]


def dense_weights(folder, path):
    import os
    if os.path.exists(f"{folder}/{path}/model.safetensors"):
        raw = read_safetensors(f"{folder}/{path}/model.safetensors")
        return {n: torch.tensor(np.array(a, dtype=np.float64)) for n, a in raw.items()}
    sd = torch.load(f"{folder}/{path}/pytorch_model.bin", map_location="cpu")
    return {n: t.to(torch.float64) for n, t in sd.items()}


ACTS = {"torch.nn.modules.linear.Identity": lambda x: x, "torch.nn.modules.activation.Tanh": torch.tanh,
        "torch.nn.modules.activation.ReLU": torch.relu, "torch.nn.modules.activation.Sigmoid": torch.sigmoid}


def apply_dense(x, cfg, W):
    y = F.linear(x, W["linear.weight"], W.get("linear.bias") if cfg.get("bias", True) else None)
    return ACTS[cfg.get("activation_function", "torch.nn.modules.activation.Tanh")](y)


def st_check(folder):
    import os
    cfg = json.load(open(f"{folder}/config.json"))
    raw = read_safetensors(f"{folder}/model.safetensors")
    key = "embeddings.word_embeddings.weight"
    prefix = next(n[: len(n) - len(key)] for n in raw if n.endswith(key))
    P = {n[len(prefix):]: torch.tensor(np.array(a, dtype=np.float64)) for n, a in raw.items() if n.startswith(prefix) and a.dtype != np.int64}
    req = json.load(sys.stdin)
    # the prompt, chosen as SentenceTransformer.encode_query / encode_document do
    stc = json.load(open(f"{folder}/config_sentence_transformers.json")) if os.path.exists(f"{folder}/config_sentence_transformers.json") else {}
    prompts = stc.get("prompts", {})
    names = ["query"] if req["kind"] == "query" else ["document", "passage", "corpus"]
    name = next((n for n in names if n in prompts), stc.get("default_prompt_name"))
    prompt = prompts.get(name, "") if name else ""
    assert prompt == req["prompt"], f"prompt {prompt!r} != {req['prompt']!r}"
    prompt_length = len(req["prompt_ids"]) - 1 if prompt else 0
    ids = torch.tensor(req["ids"], dtype=torch.long)
    mask = torch.tensor(req["mask"], dtype=torch.long)
    x = forward(P, cfg, ids, mask, "hidden")
    for t, path, mcfg in st_modules(folder):
        if t == "Pooling":
            x = st_pool(x, mask, st_pool_modes(mcfg), prompt_length if mcfg.get("include_prompt", True) is False else 0)
        elif t == "Dense":
            x = apply_dense(x, mcfg, dense_weights(folder, path))
        elif t == "Normalize":
            x = F.normalize(x, p=2, dim=1)
    json.dump({"vectors": x.tolist(), "prompt_length": prompt_length}, sys.stdout)


def check(folder):
    cfg = json.load(open(f"{folder}/config.json"))
    raw = read_safetensors(f"{folder}/model.safetensors")
    rotary = cfg["model_type"] == "new" or cfg.get("position_embedding_type") == "rotary"
    key = "embeddings.word_embeddings.parametrizations.weight.original" if cfg.get("position_embedding_type") == "rotary" else "embeddings.word_embeddings.weight"
    prefix = next(n[: len(n) - len(key)] for n in raw if n.endswith(key))
    P = {n[len(prefix):]: torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for n, a in raw.items() if n.startswith(prefix) and a.dtype != np.int64}
    req = json.load(sys.stdin)
    ids = torch.tensor(req["ids"], dtype=torch.long)
    mask = torch.tensor(req["mask"], dtype=torch.long)
    if rotary:
        pooled = forward_rotary(P, cfg, ids, mask, req["pooling"], req.get("task", 0))
    elif req.get("st"):
        h = forward(P, cfg, ids, mask, "hidden")
        pooled = st_pool(h, mask, [XL_TO_ST[req["pooling"]]], req.get("prompt_tokens", 0))
        for t, path, mcfg in st_modules(folder):
            if t == "Dense":
                W = {n: v.clone().requires_grad_(True) for n, v in dense_weights(folder, path).items()}
                for n, v in W.items():
                    P[f"{path}/{n}"] = v
                pooled = apply_dense(pooled, mcfg, W)
    else:
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
    sd._metadata = OrderedDict([("", {"version": 1}), ("encoder", {"version": 1})])  # as Module.state_dict() has (pickled by BUILD)
    torch.save(sd, out, _use_new_zipfile_serialization=not legacy)


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os
        return (os.system, (f"touch {self.marker}",))


class EvilEval:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (eval, (f"open({self.marker!r}, 'w').close()",))


def save_evil(out, marker):
    """`out`: torch.save of a dict with an os.system call (GLOBAL, protocol 2); `out`4: a zip whose
    data.pkl (protocol 4, STACK_GLOBAL) calls builtins.eval."""
    import pickle, zipfile
    from collections import OrderedDict
    torch.save(OrderedDict([("a", torch.zeros(2)), ("b", Evil(marker))]), out)
    with zipfile.ZipFile(out + "4", "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle.dumps({"a": EvilEval(marker)}, protocol=4))


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
    elif len(sys.argv) >= 3 and sys.argv[1] == "st-check":
        st_check(sys.argv[2])
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
