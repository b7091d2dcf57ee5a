/**
 * Tiny BERT, XLM-R, gte "new" and jina-embeddings-v3 model folders in the hub's structure,
 * built by the tests: random weights (2 layers, hidden 32, 2 heads), a WordPiece tokenizer
 * (BERT) and a Unigram tokenizer (XLM-R, gte, jina: all three use XLM-R's sentencepiece),
 * config.json (the real checkpoints' fields: `randomEncoderConfigJson`), model.safetensors,
 * onnx/model.onnx, and for gte / jina sentence-transformers' modules.json, 1_Pooling (CLS /
 * mean, as the hub repositories) and, for jina, config_sentence_transformers.json with its
 * task prompts. Offline.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeEncoderFolder } from '../../../lib/models/transformer/folder.js';
import { JINA_V3_TASKS, randomEncoderWeights, type RandomEncoderSpec } from '../../../lib/models/transformer/random.js';
import type { EncoderWeights } from '../../../lib/models/transformer/weights.js';
import { TINY_VOCAB, wordPieceTokenizerJson } from '../../fixtures/tiny-model.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz'.split('');

/** BERT vocabulary: the static fixture's words, [MASK], single letters and ##letters (so any Latin word tokenizes). */
export const BERT_VOCAB = [...TINY_VOCAB, '[MASK]', ...LETTERS, ...LETTERS.map((l) => '##' + l)];

/** XLM-R pieces: specials (ids 0..3 as in XLM-R: <s> <pad> </s> <unk>), words, letters. */
export const XLMR_PIECES: [string, number][] = [
  ['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0],
  ...['the', 'cat', 'sleep', 'katze', 'schläft', 'кошка', 'спит', 'γάτα', 'قطة', '猫', '睡', 'query', 'passage', 'dog'].map((w): [string, number] => ['▁' + w, -2]),
  ['s', -3], [':', -3], ['.', -3], ['▁', -4],
  ...LETTERS.map((l): [string, number] => [l, -5]),
  ...LETTERS.map((l): [string, number] => ['▁' + l, -5.5]),
  ['<mask>', 0],
];

/** A Unigram `tokenizer.json` in XLM-R's layout (Metaspace, `<s> A </s>`). */
export function unigramTokenizerJson(pieces: [string, number][]): object {
  const id = (t: string) => pieces.findIndex(([p]) => p === t);
  const special = (t: string) => ({ id: id(t), content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['<s>', '<pad>', '</s>', '<unk>', '<mask>'].map(special),
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', add_prefix_space: true, prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } },
      ],
      special_tokens: {
        '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] },
        '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] },
      },
    },
    decoder: { type: 'Metaspace', replacement: '▁', add_prefix_space: true, prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 3, vocab: pieces, byte_fallback: false },
  };
}

const BERT_TOKENIZER_CONFIG = {
  tokenizer_class: 'BertTokenizer', model_max_length: 64, do_lower_case: true, clean_up_tokenization_spaces: true,
  unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]',
};
const XLMR_TOKENIZER_CONFIG = {
  tokenizer_class: 'XLMRobertaTokenizer', model_max_length: 64, clean_up_tokenization_spaces: true,
  bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', sep_token: '</s>', cls_token: '<s>', pad_token: '<pad>', mask_token: '<mask>',
};

/** The families of the tiny twins. */
export type TinyFamily = 'bert' | 'xlm-roberta' | 'gte' | 'jina';

/** The spec of the tiny model of a family (2 layers, hidden 32, 2 heads, intermediate 64). */
export function tinySpec(family: TinyFamily, over: Partial<RandomEncoderSpec> = {}): RandomEncoderSpec {
  const bert = family === 'bert';
  if (family === 'gte' || family === 'jina') {
    return {
      modelType: family === 'gte' ? 'new' : 'xlm-roberta',
      ...(family === 'jina' ? { layout: 'jina-lora' as const } : {}),
      vocabSize: XLMR_PIECES.length, hiddenSize: 32, numLayers: 2, numHeads: 2, intermediateSize: 64,
      maxPositions: family === 'gte' ? 8192 : 8194, std: 0.2, seed: family === 'gte' ? 13 : 14,
      ...over,
    };
  }
  return {
    modelType: family,
    vocabSize: bert ? BERT_VOCAB.length : XLMR_PIECES.length,
    hiddenSize: 32,
    numLayers: 2,
    numHeads: 2,
    intermediateSize: 64,
    maxPositions: bert ? 64 : 66,
    std: 0.2,
    seed: bert ? 11 : 12,
    ...over,
  };
}

/** Write a tiny model folder of `family` into a fresh temporary folder. */
export function writeTinyEncoder(family: TinyFamily, over: Partial<RandomEncoderSpec> = {}): { dir: string; weights: EncoderWeights } {
  const dir = mkdtempSync(join(tmpdir(), `xlalign-tiny-${family}-`));
  const weights = randomEncoderWeights(tinySpec(family, over));
  const bert = family === 'bert';
  const st = (pooling: 'cls' | 'mean'): Record<string, string> => ({
    'modules.json': JSON.stringify([
      { idx: 0, name: '0', path: '', type: family === 'jina' ? 'custom_st.Transformer' : 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
    ]),
    '1_Pooling/config.json': JSON.stringify({ word_embedding_dimension: 32, pooling_mode_cls_token: pooling === 'cls', pooling_mode_mean_tokens: pooling === 'mean', pooling_mode_max_tokens: false, pooling_mode_mean_sqrt_len_tokens: false }),
  });
  const extra = family === 'gte' ? st('cls')
    : family === 'jina' ? { ...st('mean'), 'config_sentence_transformers.json': JSON.stringify({ prompts: JINA_V3_TASKS, default_prompt_name: null, similarity_fn_name: 'cosine' }) }
      : undefined;
  writeEncoderFolder(dir, weights, {
    tokenizer: bert ? wordPieceTokenizerJson(BERT_VOCAB) : unigramTokenizerJson(XLMR_PIECES),
    tokenizerConfig: bert ? BERT_TOKENIZER_CONFIG : { ...XLMR_TOKENIZER_CONFIG, model_max_length: family === 'xlm-roberta' ? 64 : 8192 },
    extra,
  });
  return { dir, weights };
}
