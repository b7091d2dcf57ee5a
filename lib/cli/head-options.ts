import { Command, Option } from 'commander';
import { HEAD_ALIASES, HEAD_NAMES, HEADS, resolveHead, type HeadEntry } from '../train/heads/registry.js';
import { checkInt, usageError } from './validate.js';

/**
 * `--head` and every head's own flags, from the head registry (`lib/train/heads/registry.ts`):
 * the command line has no per-head branch.
 */
export function addHeadOptions(cmd: Command, defaultHead?: string, overrides: { headNote?: string; defaults?: Record<string, string> } = {}): Command {
  const describe = HEAD_NAMES.map((h) => `'${h}': ${HEADS[h].description}`).join('; ');
  const head = new Option('--head <head>', `${overrides.headNote ? `${overrides.headNote}; ` : ''}${describe}${Object.keys(HEAD_ALIASES).length ? ` (${Object.entries(HEAD_ALIASES).map(([a, x]) => `'${a}' = '${x.head}', deprecated`).join('; ')})` : ''}`).choices([...HEAD_NAMES, ...Object.keys(HEAD_ALIASES)]);
  cmd.addOption(defaultHead ? head.default(defaultHead) : head);
  const seen = new Set<string>();
  for (const h of HEAD_NAMES) {
    for (const o of HEADS[h].options) {
      if (seen.has(o.key)) continue;
      seen.add(o.key);
      const opt = new Option(o.flags, o.description);
      if (o.choices) opt.choices([...o.choices]);
      const d = overrides.defaults?.[o.key] ?? o.default;
      cmd.addOption(d === undefined ? opt : opt.default(d));
    }
  }
  return cmd;
}

/**
 * The head named by `--head` (a deprecated alias prints its note on stderr unless `note:
 * false`) and its options from the parsed flags, each checked (exit code 2).
 */
export function headFrom(where: string, opts: Record<string, unknown>, { name = String(opts.head), note = true }: { name?: string; note?: boolean } = {}): { head: HeadEntry; options: Record<string, unknown> } {
  let resolved: ReturnType<typeof resolveHead>;
  try {
    resolved = resolveHead(name);
  } catch (e) {
    throw usageError(where, (e as Error).message);
  }
  if (resolved.note && note) process.stderr.write(`note: ${resolved.note}\n`);
  const options: Record<string, unknown> = {};
  for (const o of resolved.entry.options) {
    const v = opts[o.key];
    if (v === undefined) continue;
    const flag = o.flags.split(' ')[0];
    if (o.kind === 'int') options[o.key] = checkInt(where, flag, v, o.min ?? 1);
    else if (o.choices && !o.choices.includes(String(v))) throw usageError(where, `${flag} must be one of ${o.choices.join(', ')}, got '${v}'`);
    else options[o.key] = v;
  }
  return { head: resolved.entry, options };
}
