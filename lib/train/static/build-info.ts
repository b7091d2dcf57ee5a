/**
 * The record of a static model build (`build-info.json`): its own file so that the model
 * card (`model-card.ts`) reads the type without importing the build (`build.ts` imports the
 * card: a cycle otherwise).
 */
import type { BitextAccuracy } from '../../metrics/bitext-accuracy.js';
import type { FrequencyWeightingResult } from '../../models/static/frequency-weighting.js';

/** Held-out scores of one language. */
export interface HeldOutScore {
  lang: string;
  trained: BitextAccuracy;
  random: BitextAccuracy;
}

/** What `buildStaticModel` records about a build (`build-info.json` holds it without `seconds`). */
export interface StaticBuildInfo {
  name: string;
  seed: number;
  initStd: number;
  randomSeed: number;
  vocabSize: number;
  dim: number;
  heldOut: number;
  counts: Record<string, Record<string, number>>;
  training: Record<string, unknown>;
  weighting: FrequencyWeightingResult | null;
  epochLosses: number[];
  scores: HeldOutScore[];
  seconds: number;
}
