import { join } from 'node:path';
import { XQUAD_LANGS } from '../../data/xquad.js';
import { loadCldrCharacters } from '../../data/cldr.js';
import { dataPath, sha256File, writeFileAtomic } from '../../util/fs.js';
import { lineRanges, TRAINING_DATA_FORMAT, writeTrainingData, type TrainingDataRecord } from '../../data/training-data.js';
import { TATOEBA_CODES } from '../../data/tatoeba.js';
import { StaticEmbeddingModel } from '../../models/static/table.js';
import { assembleCorpus, corpusTexts, CORPUS_SOURCES, type Corpus, type CorpusSource } from '../../models/static/corpus.js';
import { buildVocab } from '../../models/static/vocab-builder.js';
import { trainStaticModel, type TrainStaticOptions } from './pretrain.js';
import { bitextAccuracy } from '../../metrics/bitext-accuracy.js';
import { modelCard } from './model-card.js';
import { applyFrequencyWeighting, type FrequencyWeightingOptions } from '../../models/static/frequency-weighting.js';
import type { HeldOutScore, StaticBuildInfo } from './build-info.js';

export type { HeldOutScore, StaticBuildInfo } from './build-info.js';

/**
 * Build the default dense model end to end: corpus → vocabulary → seeded table →
 * symmetric InfoNCE training (the shared `trainLoop`, `pretrain.ts`) → held-out Tatoeba scores (trained and random table of the
 * same shape) → model folder (`writeStaticModel`) with card and `build-info.json`.
 * Deterministic: the same options give the same bytes.
 */

/**
 * Options of {@link buildStaticModel}; all have defaults. The committed v1 model is *not*
 * the defaults: `npm run build:model` builds it with `dim: 368`, `train.anchorDecay: 1` and
 * `weighting: { sifA: 1e-3, center: true }` (`scripts/build-model.ts --anchor-decay 1 --dim 368 --sif 1e-3`).
 */
export interface BuildStaticOptions {
  /** Output folder. Default: none (the model is only returned). */
  outDir?: string;
  /** Model name. Default `'xlalign-static-v1'`. */
  name?: string;
  /** Non-English languages. Default: the 11 non-English XQuAD languages. */
  langs?: readonly string[];
  /** Corpus sources. Default: all. */
  sources?: readonly CorpusSource[];
  /** Cap of pairs per source and language (tiny test builds). Default: none. */
  maxPerSource?: number;
  /** Held-out Tatoeba lines per language. Default 200. */
  heldOut?: number;
  /** Vocabulary size. Default 32000. */
  vocabSize?: number;
  /** Vector size. Default 256. */
  dim?: number;
  /** Seed of the table and the batch order. Default 42. */
  seed?: number;
  /** Standard deviation σ of the N(0, σ²) initial table (and of the random baseline, whose scores do not depend on σ). Default 0.1. */
  initStd?: number;
  /** Seed of the random-table baseline. Default 7. */
  randomSeed?: number;
  /** Training options (epochs, batch size, lr, weightDecay, anchorDecay, temperature); `seed` is taken from `seed`. */
  train?: Omit<TrainStaticOptions, 'seed'>;
  /**
   * After training, SIF-reweight and center the rows from token counts of the training
   * texts (`lib/models/static/frequency-weighting.ts`); `{}` takes its defaults (a = 1e-3,
   * centering on). Default `false` (off; the v1 model is built with `{ sifA: 1e-3 }`).
   */
  weighting?: FrequencyWeightingOptions | false;
  /** Progress lines (e.g. `console.error`). Default: none. */
  log?: (line: string) => void;
}

/** What {@link buildStaticModel} returns (`info` also written as `build-info.json`). */
export interface BuildStaticResult {
  model: StaticEmbeddingModel;
  info: StaticBuildInfo;
}

function heldOutScores(model: StaticEmbeddingModel, random: StaticEmbeddingModel, heldOut: ReturnType<typeof assembleCorpus>['heldOut']): HeldOutScore[] {
  return Object.keys(heldOut).sort().map((lang) => {
    const x = heldOut[lang].map((p) => p.text);
    const e = heldOut[lang].map((p) => p.en);
    return {
      lang,
      trained: bitextAccuracy(model.embed(x), model.embed(e), model.dim),
      random: bitextAccuracy(random.embed(x), random.embed(e), random.dim),
    };
  });
}

/**
 * Build (and optionally write) the static model.
 *
 * @throws XlalignError from the corpus, vocabulary or training steps (bad language,
 *   too small a vocabulary, ...).
 * @example
 * const { info } = await buildStaticModel({ outDir: 'data/models/xlalign-static-v1', log: console.error });
 * info.scores.map((s) => [s.lang, s.trained.xToEn]);
 */
export async function buildStaticModel(options: BuildStaticOptions = {}): Promise<BuildStaticResult> {
  const {
    outDir, name = 'xlalign-static-v1', langs, sources = CORPUS_SOURCES, maxPerSource, heldOut = 200, vocabSize = 32000, dim = 256,
    seed = 42, initStd = 0.1, randomSeed = 7, train = {}, weighting = false, log = () => {},
  } = options;
  const t0 = Date.now();
  const corpus = assembleCorpus({ langs, sources, maxPerSource, heldOut });
  log(`corpus: ${corpus.train.length} pairs`);
  const allLangs = ['en', ...Object.keys(corpus.heldOut)].filter((l) => (XQUAD_LANGS as readonly string[]).includes(l));
  const extraChars = allLangs.flatMap((l) => loadCldrCharacters(l));
  const vocab = buildVocab(corpusTexts(corpus.train), { vocabSize, extraChars });
  log(`vocabulary: ${vocab.length} tokens`);
  const model = StaticEmbeddingModel.create(vocab, { dim, seed, initStd });
  const random = StaticEmbeddingModel.create(vocab, { dim, seed: randomSeed, initStd });
  const result = await trainStaticModel(model, corpus.train, { ...train, seed, onEpoch: (e, l) => log(`epoch ${e + 1}: loss ${l.toFixed(4)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`) });
  const weighted = weighting ? applyFrequencyWeighting(model, Object.values(corpusTexts(corpus.train)).flat(), weighting) : null;
  if (weighted) log(`weighting: SIF a=${weighted.sifA}, center ${weighted.center} (${weighted.tokens} tokens of ${weighted.texts} texts)`);
  const scores = heldOutScores(model, random, corpus.heldOut);
  const info: BuildStaticResult['info'] = {
    name, seed, initStd, randomSeed, vocabSize: vocab.length, dim, heldOut, counts: corpus.counts,
    training: result.config, weighting: weighted, epochLosses: result.epochLosses, scores, seconds: Math.round((Date.now() - t0) / 1000),
  };
  model.name = name;
  model.card = modelCard(info);
  if (outDir) {
    model.save(outDir);
    // build-info.json without the time (so that rebuilds with the same seed are byte-identical).
    const { seconds: _seconds, ...stable } = info;
    writeFileAtomic(join(outDir, 'build-info.json'), JSON.stringify(stable, null, 2) + '\n');
    writeTrainingData(join(outDir, 'training-data.json'), staticTrainingData(corpus));
  }
  return { model, info };
}

/**
 * The training-data record of a static model (`training-data.json`, `lib/data/training-data.ts`):
 * per language the Tatoeba lines trained on (both files of the pair, 1-based ranges, the
 * files' sha256) and the pair counts of the other sources (UDHR, CLDR). Deterministic for a
 * corpus, so the committed model's record is rebuilt by `scripts/record-training-data.ts`
 * without retraining.
 * @example staticTrainingData(assembleCorpus()).datasets[0].files[0] // { path: 'tatoeba/tatoeba.ara-eng.ara', lang: 'ar', lines: '1-800', ... }
 */
export function staticTrainingData(corpus: Corpus, options: { tatoebaDir?: string } = {}): TrainingDataRecord {
  const dir = options.tatoebaDir ?? dataPath('tatoeba');
  const byLang = new Map<string, number[]>();
  for (const p of corpus.train) if (p.source === 'tatoeba') byLang.set(p.lang, [...(byLang.get(p.lang) ?? []), Number(p.id) + 1]);
  const files: NonNullable<TrainingDataRecord['datasets'][number]['files']> = [];
  for (const [lang, lines] of [...byLang].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const code = TATOEBA_CODES[lang];
    for (const [side, fileLang] of [[code, lang], ['eng', 'en']] as const) {
      const name = `tatoeba.${code}-eng.${side}`;
      files.push({ path: `tatoeba/${name}`, lang: fileLang, sha256: sha256File(join(dir, name)), lines: lineRanges(lines), count: new Set(lines).size });
    }
  }
  const datasets: TrainingDataRecord['datasets'] = [];
  if (files.length) datasets.push({ name: 'tatoeba', files, pairs: corpus.counts.tatoeba ?? {}, note: `Tatoeba (LASER test sets) lines trained on; the last ${Object.values(corpus.heldOut)[0]?.length ?? 0} lines of each language were held out` });
  for (const source of Object.keys(corpus.counts).filter((s) => s !== 'tatoeba').sort()) datasets.push({ name: source, pairs: corpus.counts[source] });
  return { format: TRAINING_DATA_FORMAT, datasets };
}
