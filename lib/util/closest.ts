/**
 * "Did you mean" suggestions: the closest allowed name by Levenshtein distance, case
 * folded (`BM25` -> `bm25`).
 */

/** Levenshtein distance between two strings (insert, delete, substitute each cost 1). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The allowed name closest to `value` (case-insensitive), or undefined when none is within
 * `max(2, a third of its length)` edits.
 * @example closestName('BM25', ['bm25', 'default']) // 'bm25'
 */
export function closestName(value: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const v = value.toLowerCase();
  for (const a of allowed) {
    const d = editDistance(v, a.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = a;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(value.length / 3)) ? best : undefined;
}
