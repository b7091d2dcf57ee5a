/**
 * Progress of long stages (embedding, retrieval, training) on stderr. On a terminal: a
 * cli-progress bar. Off a terminal (CI, nohup, a pipe): one plain line every
 * `intervalMs` (default 10 s; `XLALIGN_PROGRESS_MS` overrides), e.g.
 *
 *     progress: embed [default mixed.de] 1200/2400 texts, 310/s, ~4 s left
 *
 * The bracketed context comes from {@link setProgressContext} (the evaluation sets the
 * retriever and pool), so the embedder and the train loop need not know about pools.
 */
import cliProgress from 'cli-progress';

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Stage name: `embed`, `retrieve`, `train` ... */
  stage: string;
  /** Units to do. */
  total: number;
  /** Unit name in the line. Default `items`. */
  unit?: string;
  /** Milliseconds between lines off a terminal. Default 10000 (`XLALIGN_PROGRESS_MS`). */
  intervalMs?: number;
  /** Where to write. Default `process.stderr`. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Force the bar, the plain lines or nothing (`'off'`). Default: bar on a TTY, else lines. */
  mode?: 'bar' | 'lines' | 'off';
  /** Off a terminal, always end with one line (progress asked for explicitly). Default `false`: a final line only after an earlier one. */
  final?: boolean;
}

/** A running progress report. */
export interface Progress {
  /** Add `n` units done (default 1). */
  tick(n?: number): void;
  /** Finish: stop the bar; off a terminal, one final line when any line was written. */
  done(): void;
}

let context = '';

/** Set the context shown in every progress line (e.g. `default mixed.de`); `''` clears it. */
export function setProgressContext(label: string): void {
  context = label;
}

/** The current progress context. */
export function progressContext(): string {
  return context;
}

/**
 * Start a progress report.
 * @example
 * const p = createProgress({ stage: 'embed', total: texts.length, unit: 'texts' });
 * for (...) p.tick(batch.length);
 * p.done();
 */
export function createProgress(options: ProgressOptions): Progress {
  const { stage, total, unit = 'items' } = options;
  const stream = options.stream ?? process.stderr;
  const envMs = Number(process.env.XLALIGN_PROGRESS_MS);
  const intervalMs = options.intervalMs ?? (Number.isFinite(envMs) && envMs >= 0 && process.env.XLALIGN_PROGRESS_MS !== '' ? envMs : 10_000);
  const mode = options.mode ?? (stream.isTTY ? 'bar' : 'lines');
  const label = context ? ` [${context}]` : '';
  if (mode === 'off') return { tick() {}, done() {} };
  if (mode === 'bar') {
    const bar = new cliProgress.SingleBar(
      { format: `${stage}${label} [{bar}] {value}/{total} ${unit} | {eta_formatted} left`, stream: stream as NodeJS.WriteStream },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { tick: (n = 1) => bar.increment(n), done: () => bar.stop() };
  }
  const t0 = performance.now();
  let last = t0;
  let doneCount = 0;
  let lines = 0;
  const line = (now: number) => {
    const s = (now - t0) / 1000;
    const rate = s > 0 ? doneCount / s : 0;
    const left = rate > 0 && doneCount < total ? `, ~${Math.ceil((total - doneCount) / rate)} s left` : '';
    stream.write(`progress: ${stage}${label} ${doneCount}/${total} ${unit}, ${rate >= 10 ? rate.toFixed(0) : rate.toFixed(2)}/s${left}\n`);
    lines++;
  };
  return {
    tick(n = 1) {
      doneCount += n;
      const now = performance.now();
      if (now - last >= intervalMs) {
        last = now;
        line(now);
      }
    },
    done() {
      if ((lines > 0 || options.final) && doneCount > 0) line(performance.now());
    },
  };
}
