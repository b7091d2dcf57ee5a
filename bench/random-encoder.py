"""A random-weight BERT-style encoder (e5-small-sized by default: 12 layers, 384 hidden,
12 heads, 1536 intermediate) exported to ONNX in the transformers.js folder layout, with the
default static model's tokenizer. For timing the encoder path (threads, CPU-seconds per
wall second) offline: the weights are random, the vectors mean nothing.

    /usr/bin/python3 bench/random-encoder.py OUT_DIR [--layers 12] [--hidden 384]

Needs torch and onnx (Debian python3-torch, python3-onnx). Seeded (torch.manual_seed(0)).
"""
import argparse, json, os, shutil
import torch
from torch import nn

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--layers", type=int, default=12)
p.add_argument("--hidden", type=int, default=384)
p.add_argument("--heads", type=int, default=12)
p.add_argument("--max-positions", type=int, default=512)
p.add_argument("--tokenizer-from", default=os.path.join(os.path.dirname(__file__), "..", "data", "models", "xlalign-static-v1"))
a = p.parse_args()
torch.manual_seed(0)
vocab = len(json.load(open(os.path.join(a.tokenizer_from, "tokenizer.json")))["model"]["vocab"])


class Layer(nn.Module):
    """Post-norm BERT layer written out (self-attention with an additive padding mask, GELU MLP)."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(a.hidden, 3 * a.hidden)
        self.out = nn.Linear(a.hidden, a.hidden)
        self.norm1 = nn.LayerNorm(a.hidden)
        self.up = nn.Linear(a.hidden, 4 * a.hidden)
        self.down = nn.Linear(4 * a.hidden, a.hidden)
        self.norm2 = nn.LayerNorm(a.hidden)

    def forward(self, x, bias):
        b, t, h = x.shape
        d = h // a.heads
        q, k, v = self.qkv(x).view(b, t, 3, a.heads, d).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) / d ** 0.5 + bias, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, h)
        x = self.norm1(x + self.out(y))
        return self.norm2(x + self.down(torch.nn.functional.gelu(self.up(x))))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(vocab, a.hidden)
        self.pos = nn.Embedding(a.max_positions, a.hidden)
        self.token_type = nn.Embedding(2, a.hidden)
        self.norm = nn.LayerNorm(a.hidden)
        self.layers = nn.ModuleList([Layer() for _ in range(a.layers)])

    def forward(self, input_ids, attention_mask, token_type_ids):
        pos = torch.arange(input_ids.shape[1]).unsqueeze(0)
        x = self.norm(self.word(input_ids) + self.pos(pos) + self.token_type(token_type_ids))
        bias = (1.0 - attention_mask.to(torch.float32))[:, None, None, :] * -1e4
        for layer in self.layers:
            x = layer(x, bias)
        return x


m = Encoder().eval()
os.makedirs(os.path.join(a.out, "onnx"), exist_ok=True)
ids = torch.ones(2, 16, dtype=torch.long)
with torch.no_grad():
    torch.onnx.export(
        m, (ids, torch.ones_like(ids), torch.zeros_like(ids)), os.path.join(a.out, "onnx", "model.onnx"),
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
        dynamic_axes={n: {0: "batch", 1: "seq"} for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]},
        opset_version=14,
    )
json.dump({"model_type": "bert", "architectures": ["BertModel"], "hidden_size": a.hidden, "num_hidden_layers": a.layers,
           "num_attention_heads": a.heads, "intermediate_size": 4 * a.hidden, "vocab_size": vocab,
           "max_position_embeddings": a.max_positions, "type_vocab_size": 2}, open(os.path.join(a.out, "config.json"), "w"), indent=2)
shutil.copy(os.path.join(a.tokenizer_from, "tokenizer.json"), a.out)
tc = json.load(open(os.path.join(a.tokenizer_from, "tokenizer_config.json")))
tc["model_max_length"] = a.max_positions
json.dump(tc, open(os.path.join(a.out, "tokenizer_config.json"), "w"), indent=2)
print(a.out)
