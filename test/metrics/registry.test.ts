import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_METRICS, definedForPool, METRICS, metricRange, parseMetric, SUPPORTED_METRICS } from '../../lib/metrics/registry.js';
import type { PoolFacts } from '../../lib/metrics/definition.js';

test('the default set comes from the registry and includes ndcg@1 and maxr_norm', () => {
  assert.deepEqual([...DEFAULT_METRICS], [
    'ndcg@10', 'ndcg@1', 'rr@10', 'r@10', 'p@10', 'ap', 'maxr', 'maxr.median', 'maxr_norm', 'complete@10', 'pivot_inclination', 'pivot_above',
  ]);
  for (const m of DEFAULT_METRICS) assert.equal(parseMetric(m).name, m);
  assert.equal(new Set(METRICS.map((m) => m.name)).size, METRICS.length, 'names are unique');
});

test('names: cutoffs parse, unknown names list the supported ones', () => {
  assert.equal(parseMetric('ndcg@1').k, 1);
  assert.equal(parseMetric('ndcg').k, undefined);
  assert.equal(parseMetric('maxr.median').definition.aggregate, 'median');
  assert.ok(SUPPORTED_METRICS.includes('maxr_norm') && SUPPORTED_METRICS.includes('ndcg@k'));
  for (const bad of ['maxr_norm@10', 'maxr@5', 'pivot_inclination@1', 'ndcg@', 'NDCG@10', 'mrr']) {
    assert.throws(() => parseMetric(bad), (e: unknown) => (e as Error).message.startsWith(`evaluate: unknown metric '${bad}'`) && SUPPORTED_METRICS.every((m) => (e as Error).message.includes(m)), bad);
  }
});

test('defined for a pool: pivot metrics need pivot documents and non-pivot queries; Complete@k needs |R_q| <= k', () => {
  const facts = (o: Partial<PoolFacts>): PoolFacts => ({ scenario: 'mixed', docLangs: ['de', 'en'], queryLang: 'de', pivot: 'en', minRelevant: 2, ...o });
  assert.ok(definedForPool('pivot_inclination', facts({})));
  assert.ok(!definedForPool('pivot_inclination', facts({ scenario: 'mono', docLangs: ['de'] })));
  assert.ok(!definedForPool('pivot_above', facts({ queryLang: 'en' })));
  assert.ok(definedForPool('complete@10', facts({})));
  assert.ok(!definedForPool('complete@10', facts({ scenario: 'multi', minRelevant: 12 })));
  assert.ok(definedForPool('complete@12', facts({ scenario: 'multi', minRelevant: 12 })));
  assert.ok(definedForPool('complete', facts({ minRelevant: 12 })));
  assert.ok(definedForPool('maxr_norm', facts({ scenario: 'multi', minRelevant: 12 })));
});

test('value ranges for plot axes', () => {
  assert.deepEqual(metricRange('maxr_norm'), [0, 1]);
  assert.deepEqual(metricRange('ndcg@1'), [0, 1]);
  assert.deepEqual(metricRange('pivot_inclination'), [0, 1]);
  assert.equal(metricRange('maxr'), undefined);
  assert.equal(metricRange('pivot_above'), undefined);
  assert.equal(metricRange('bogus'), undefined);
});
