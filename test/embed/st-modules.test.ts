import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AutoTokenizer } from '@huggingface/transformers';
import { loadEmbedder } from '../../lib/embed/transformers-embedder.js';
import { tokenizeBatch } from '../../lib/embed/tokenize-batch.js';
import { PYTHON, writeStFolder, type StFolderSpec } from '../models/transformer/st-folders.js';

/**
 * A sentence-transformers folder (modules.json, Pooling, Dense, Normalize, prompts) is embedded
 * as sentence-transformers' module chain defines, checked against a PyTorch re-implementation
 * of that chain (scripts/encoder-torch-reference.py st-check, float64, which reads the folder's
 * files itself). Needs Debian's python3-torch; skipped without it.
 */
const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `PyTorch is not available at ${PYTHON} (install Debian's python3-torch and python3-numpy)`;
const TEXTS = ['The cats sleep.', 'кошка спит', 'the dog sleeps on the mat', 'γάτα 猫睡', 'a'];

const CASES: { name: string; spec: StFolderSpec; expect: { pooling: string[]; normalize: boolean; dim: number; queryPrefix: string; passagePrefix: string; maxLength?: number } }[] = [
  {
    name: 'mean + Dense(tanh) + Normalize, prompts query/document, max_seq_length 20',
    spec: { pooling: { pooling_mode_mean_tokens: true, pooling_mode_cls_token: false }, dense: [{ out: 16, activation: 'Tanh' }], normalize: true, stConfig: { prompts: { query: 'query: ', document: 'passage: ' }, default_prompt_name: null, similarity_fn_name: 'cosine' }, maxSeqLength: 20 },
    expect: { pooling: ['mean'], normalize: true, dim: 16, queryPrefix: 'query: ', passagePrefix: 'passage: ', maxLength: 20 },
  },
  {
    name: "v5 pooling_mode ['cls', 'mean'] concatenated, Dense without bias then Dense(tanh) from pytorch_model.bin, no Normalize, similarity dot",
    spec: { pooling: { pooling_mode: ['cls', 'mean'], include_prompt: true }, dense: [{ out: 24, activation: 'Identity', bias: false }, { out: 8, activation: 'Tanh', bin: true }], stConfig: { prompts: { query: 'query: ', passage: 'passage: ' }, similarity_fn_name: 'dot' } },
    expect: { pooling: ['cls', 'mean'], normalize: false, dim: 8, queryPrefix: 'query: ', passagePrefix: 'passage: ' },
  },
  {
    name: 'weightedmean with include_prompt false (prompt tokens out of pooling), Normalize',
    spec: { pooling: { pooling_mode_weightedmean_tokens: true, include_prompt: false }, normalize: true, stConfig: { prompts: { query: 'query: ', document: 'passage: ' } } },
    expect: { pooling: ['weightedmean'], normalize: true, dim: 32, queryPrefix: 'query: ', passagePrefix: 'passage: ' },
  },
  {
    name: 'max + mean_sqrt_len + lasttoken, include_prompt false, default_prompt_name for both sides, Dense(ReLU)',
    spec: { family: 'xlm-roberta', pooling: { pooling_mode_max_tokens: true, pooling_mode_mean_sqrt_len_tokens: true, pooling_mode_lasttoken: true, include_prompt: false }, dense: [{ out: 12, activation: 'ReLU' }], normalize: true, stConfig: { prompts: { query: 'query: ', classification: 'the ' }, default_prompt_name: 'classification' } },
    expect: { pooling: ['max', 'mean_sqrt_len', 'last_token'], normalize: true, dim: 12, queryPrefix: 'query: ', passagePrefix: 'the ' },
  },
];

for (const c of CASES) {
  test(`sentence-transformers folder: ${c.name} — read from the folder and embedded as PyTorch computes the chain`, { skip }, async (t) => {
    const dir = writeStFolder(c.spec);
    try {
      const emb = await loadEmbedder(dir, { cache: false });
      const d = emb.describe() as Record<string, unknown>;
      assert.equal(d.source, 'sentence-transformers');
      assert.deepEqual(d.pooling, c.expect.pooling);
      assert.equal(d.normalize, c.expect.normalize);
      assert.equal(emb.dim, c.expect.dim);
      assert.equal(d.queryPrefix, c.expect.queryPrefix);
      assert.equal(d.passagePrefix, c.expect.passagePrefix);
      assert.deepEqual(d.overrides, {});
      if (c.expect.maxLength) assert.equal(emb.config.maxLength, c.expect.maxLength);
      assert.match(emb.summary('m'), /^m: sentence-transformers files \(modules\.json, /);
      const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
      for (const kind of ['query', 'passage'] as const) {
        const mine = await emb.embed(TEXTS, { kind });
        const prompt = kind === 'query' ? c.expect.queryPrefix : c.expect.passagePrefix;
        const enc = tokenizeBatch(tokenizer, TEXTS.map((t) => prompt + t), { maxLength: emb.config.maxLength });
        const [b, seq] = enc.input_ids.dims as number[];
        const rows = (a: BigInt64Array) => Array.from({ length: b }, (_, i) => Array.from(a.subarray(i * seq, (i + 1) * seq), Number));
        const req = { kind, prompt, prompt_ids: tokenizer.encode(prompt), ids: rows(enc.input_ids.data as BigInt64Array), mask: rows(enc.attention_mask.data as BigInt64Array) };
        const r = spawnSync(PYTHON, ['scripts/encoder-torch-reference.py', 'st-check', dir], { input: JSON.stringify(req), encoding: 'utf8', maxBuffer: 1 << 26 });
        assert.equal(r.status, 0, r.stderr);
        const ref = (JSON.parse(r.stdout) as { vectors: number[][] }).vectors;
        assert.equal(ref[0].length, emb.dim);
        let diff = 0;
        ref.flat().forEach((v, i) => (diff = Math.max(diff, Math.abs(v - mine[i]))));
        assert.ok(diff < 1e-4, `${kind}: max |diff| vs PyTorch ${diff}`);
        t.diagnostic(`${kind}: max |diff| vs PyTorch ${diff.toExponential(2)}`);
      }
      await emb.dispose();
    } finally {
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });
}

test('a flag overrides the folder and is recorded as an override; a preset name does not win over the folder; modelConfig: false reads nothing', async () => {
  const dir = writeStFolder({ ...CASES[0].spec, name: 'multilingual-e5-small' });
  try {
    const over = await loadEmbedder(dir, { cache: false, pooling: 'cls', queryPrefix: '' });
    const d = over.describe() as { overrides: Record<string, unknown>; pooling: string[]; source: string; queryPrefix: string };
    assert.equal(d.source, 'sentence-transformers');
    assert.deepEqual(d.pooling, ['cls']);
    assert.deepEqual(d.overrides, { pooling: { folder: 'mean', user: 'cls' }, queryPrefix: { folder: 'query: ', user: '' } });
    assert.match(over.summary('m'), /override: pooling "cls" \(folder: "mean"\), queryPrefix "" \(folder: "query: "\)/);
    await over.dispose();
    // no ST files: the name preset applies (e5: mean, query: / passage:)
    const plain = join(mkdtempSync(join(tmpdir(), 'xlalign-st-')), 'multilingual-e5-small');
    cpSync(dir, plain, { recursive: true, filter: (src) => !/modules\.json|1_Pooling|2_Dense|config_sentence|sentence_bert/.test(src) });
    const p = await loadEmbedder(plain, { cache: false });
    assert.equal(p.moduleChain.source, 'preset');
    assert.equal(p.moduleChain.preset, 'multilingual-e5');
    assert.equal(p.config.queryPrefix, 'query: ');
    await p.dispose();
    rmSync(dirname(plain), { recursive: true, force: true });
    // ST files that name no prompt (multilingual-e5's predate prompts): pooling etc. from the folder, prefixes from the preset, said so
    const noPrompts = join(mkdtempSync(join(tmpdir(), 'xlalign-st-')), 'multilingual-e5-small');
    cpSync(dir, noPrompts, { recursive: true, filter: (src) => !src.endsWith('config_sentence_transformers.json') });
    const np = await loadEmbedder(noPrompts, { cache: false });
    assert.equal(np.moduleChain.source, 'sentence-transformers');
    assert.equal(np.moduleChain.promptsFrom, 'preset');
    assert.equal(np.config.queryPrefix, 'query: ');
    assert.equal(np.dim, 16, 'the Dense module of the folder applies');
    assert.match(np.summary('m'), /prefixes from preset multilingual-e5/);
    await np.dispose();
    rmSync(dirname(noPrompts), { recursive: true, force: true });
    const none = await loadEmbedder(dir, { cache: false, modelConfig: false });
    assert.equal(none.moduleChain.source, 'defaults');
    assert.equal(none.dim, 32);
    await none.dispose();
  } finally {
    rmSync(dirname(dir), { recursive: true, force: true });
  }
});

test("sentence_bert_config.json do_lower_case: prompt + text are lowercased before tokenizing, as sentence-transformers' Transformer module", async () => {
  // the XLM-R fixture's tokenizer has no lowercasing of its own: 'THE CAT' and 'the cat' tokenize differently
  const spec: StFolderSpec = { family: 'xlm-roberta', pooling: { pooling_mode_mean_tokens: true }, stConfig: { prompts: { query: 'Query: ' } } };
  const lower = writeStFolder({ ...spec, lowercase: true });
  const plain = writeStFolder(spec);
  try {
    const a = await loadEmbedder(lower, { cache: false });
    const b = await loadEmbedder(plain, { cache: false, queryPrefix: 'query: ' });
    assert.equal(a.moduleChain.lowercase, true);
    assert.deepEqual(await a.embed(['THE CAT Sleeps'], { kind: 'query' }), await b.embed(['the cat sleeps'], { kind: 'query' }));
    assert.notDeepEqual(await b.embed(['THE CAT Sleeps'], { kind: 'query' }), await b.embed(['the cat sleeps'], { kind: 'query' }), 'the tokenizer itself keeps case');
    await a.dispose();
    await b.dispose();
  } finally {
    rmSync(dirname(lower), { recursive: true, force: true });
    rmSync(dirname(plain), { recursive: true, force: true });
  }
});

test('a malformed module chain fails with a message naming the file and field', async () => {
  const dir = writeStFolder({ pooling: { pooling_mode: 'median' } });
  try {
    await assert.rejects(loadEmbedder(dir, { cache: false }), /1_Pooling\/config.json: field 'pooling_mode': unknown mode 'median'/);
  } finally {
    rmSync(dirname(dir), { recursive: true, force: true });
  }
});
