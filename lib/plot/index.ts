/** Plotting: plotly figure specs from results, and their export through headless Chromium. */
export * from './types.js';
export * from './metric-rows.js';
export * from './metric-bars.js';
export * from './before-after-bars.js';
export * from './rank-distribution.js';
export * from './similarity-histograms.js';
export * from './bitext-accuracy.js';
export * from './loss-curve.js';
export * from './export.js';
export * from './standard-figures.js';
