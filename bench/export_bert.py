#!/usr/bin/env python3
"""The "ONNX export" side of bench/eval-built.ts: exports the plain-torch BertForSequenceClassification
of bench/torch_bert.py (same forward pass as Hugging Face's, eager attention) with torch.onnx.export,
weights embedded, as an Optimum/transformers export would (inputs input_ids, attention_mask,
token_type_ids; output logits; dynamic batch and sequence axes; constant folding on).

usage: export_bert.py --weights model.safetensors --config config.json --out model.onnx [--opset 17]
Prints one JSON object: {"torch", "opset", "bytes"}.
"""
import argparse
import json
import os

import torch

from torch_bert import Bert, read_safetensors


class Exported(torch.nn.Module):
    """Bert's weights as parameters, so the exporter stores them as initializers."""

    def __init__(self, weights, config):
        super().__init__()
        self.params = torch.nn.ParameterList([torch.nn.Parameter(t, requires_grad=False) for t in weights.values()])
        self.bert = Bert(dict(zip(weights.keys(), self.params)), config)

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.bert(input_ids, token_type_ids, attention_mask)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--weights', required=True)
    ap.add_argument('--config', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--opset', type=int, default=17)
    a = ap.parse_args()
    with open(a.config) as f:
        config = json.load(f)
    model = Exported(read_safetensors(a.weights), config).eval()
    ids = torch.tensor([[2, 17, 23, 3], [2, 29, 3, 0]])
    mask = (ids != 0).long()
    types = torch.zeros_like(ids)
    axes = {0: 'batch', 1: 'sequence'}
    tmp = a.out + '.tmp'
    with torch.no_grad():
        torch.onnx.export(
            model, (ids, mask, types), tmp, opset_version=a.opset, do_constant_folding=True,
            input_names=['input_ids', 'attention_mask', 'token_type_ids'], output_names=['logits'],
            dynamic_axes={'input_ids': axes, 'attention_mask': axes, 'token_type_ids': axes, 'logits': {0: 'batch'}},
        )
    os.replace(tmp, a.out)
    print(json.dumps({'torch': torch.__version__, 'opset': a.opset, 'bytes': os.path.getsize(a.out)}))


if __name__ == '__main__':
    main()
