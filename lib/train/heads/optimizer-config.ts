import type { AdamW } from '../../nn/adamw.js';

/**
 * The record of a head's AdamW for the loop's config: `{ weightDecay, optimizer }` without
 * the learning rate (the loop records the peak `lr` and the schedule; the optimizer's own
 * `lr` is only the last scheduled value).
 * @example optimizerConfig(new AdamW({ weightDecay: 0.01 })) // { weightDecay: 0.01, optimizer: { name: 'AdamW', beta1: 0.9, ... } }
 */
export function optimizerConfig(optimizer: AdamW): { weightDecay: number; optimizer: Record<string, unknown> } {
  const { lr: _lr, ...rest } = optimizer.getConfig();
  return { weightDecay: optimizer.weightDecay, optimizer: rest };
}
