import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { checkOneOf, xlError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { FIGURE_DEFAULTS, type FigureSpec } from './types.js';

/** The image and page formats {@link FigureExporter.export} writes. */
export const FIGURE_FORMATS = ['png', 'svg', 'html'] as const;
export type FigureFormat = (typeof FIGURE_FORMATS)[number];

/** Where Debian's `chromium` package installs the browser. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/**
 * Chromium flags: headless, no sandbox (we run as root in containers), no GPU, and nothing
 * that reaches the network (no component updates, sync or background requests).
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

/** Options of {@link createFigureExporter}. */
export interface ExporterOptions {
  /** Chromium binary. Default: `$XLALIGN_CHROMIUM`, else `/usr/bin/chromium`. */
  executablePath?: string;
  /** Time limit for one render, in ms. Default 60000. */
  timeoutMs?: number;
}

/** Size options of one render. */
export interface RenderOptions {
  /** Width in CSS pixels. Default: `spec.layout.width`, else 900. */
  width?: number;
  /** Height in CSS pixels. Default: `spec.layout.height`, else 450. */
  height?: number;
  /** Pixel ratio of the PNG (its size is width*scale x height*scale); SVG ignores it. Default 2. */
  scale?: number;
}

/** Options of {@link FigureExporter.export} and {@link exportFigure}. */
export interface ExportOptions extends RenderOptions {
  /** Output folder (created if missing). Default `'figures'`. */
  dir?: string;
  /** Base file name, letters, digits, `.`, `_` and `-` only (e.g. `'xquad-maxr-by-lang'`). */
  name: string;
  /** Formats to write. Default `['png', 'svg', 'html']`. */
  formats?: readonly FigureFormat[];
}

/** Paths written by one export, by format. */
export type ExportedFiles = Partial<Record<FigureFormat, string>>;

/** A running headless Chromium with plotly loaded, for rendering many figures. */
export interface FigureExporter {
  /** Render to PNG bytes. */
  png(spec: FigureSpec, options?: RenderOptions): Promise<Uint8Array>;
  /** Render to an SVG document (text). */
  svg(spec: FigureSpec, options?: RenderOptions): Promise<string>;
  /** Write the requested formats to `<dir>/<name>.<format>` atomically; returns the paths. */
  export(spec: FigureSpec, options: ExportOptions): Promise<ExportedFiles>;
  /** Close the browser. The exporter cannot be used afterwards. */
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
let plotlySource: string | undefined;

/** The source of plotly.js (the `plotly.js-dist-min` package), read once. */
export function plotlyJs(): string {
  plotlySource ??= readFileSync(require.resolve('plotly.js-dist-min'), 'utf8');
  return plotlySource;
}

/** JSON safe to place inside a `<script>` element (no `</script>`, no `<!--`). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/**
 * A standalone HTML page showing the figure interactively, with plotly.js inlined (about
 * 4.8 MB; the page works offline and from `file://`). Pure: no browser needed.
 *
 * @param options.title - the page's `<title>`. Default: the figure title, else `'figure'`.
 * @example
 * writeFileSync('fig.html', figureHtml(metricBars(rows, 'maxr')));
 */
export function figureHtml(spec: FigureSpec, options: { title?: string } = {}): string {
  const layoutTitle = spec.layout.title as { text?: string } | string | undefined;
  const title = options.title ?? (typeof layoutTitle === 'string' ? layoutTitle : layoutTitle?.text) ?? 'figure';
  return [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<script>${plotlyJs()}</script>`,
    '</head><body>',
    '<div id="figure"></div>',
    `<script>const spec = ${scriptJson(spec)}; Plotly.newPlot('figure', spec.data, spec.layout, { responsive: true });</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

/**
 * Start headless Chromium (Debian's `/usr/bin/chromium`, driven by playwright-core) with
 * plotly.js injected from node_modules, and return an exporter that renders figures with
 * `Plotly.toImage` (the browser is the reference renderer of plotly, so PNG/SVG equal what a
 * notebook shows). One browser serves many figures; call `close()` at the end.
 *
 * No network is used: the page is built with `setContent` and the script is injected inline.
 *
 * @throws XlalignError when Chromium is not installed (saying how to install it), or fails
 *   to start.
 * @example
 * const ex = await createFigureExporter();
 * try { await ex.export(metricBars(rows, 'maxr'), { dir: 'figures', name: 'maxr' }); } finally { await ex.close(); }
 */
export async function createFigureExporter(options: ExporterOptions = {}): Promise<FigureExporter> {
  const executablePath = options.executablePath ?? process.env.XLALIGN_CHROMIUM ?? DEFAULT_CHROMIUM;
  const timeoutMs = options.timeoutMs ?? 60_000;
  if (!existsSync(executablePath)) {
    throw xlError(
      'createFigureExporter',
      `Chromium not found at ${executablePath}; figure export renders in a headless Chromium. Install it with 'apt-get install -y chromium' (Debian/Ubuntu), or point XLALIGN_CHROMIUM (or options.executablePath) at a Chromium/Chrome binary`,
    );
  }
  const { chromium } = await import('playwright-core');
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: timeoutMs });
  } catch (e) {
    throw xlError('createFigureExporter', `could not start Chromium at ${executablePath}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  let page: Page;
  try {
    page = await browser.newPage();
    await page.setContent('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body></body></html>');
    await page.addScriptTag({ content: plotlyJs() });
  } catch (e) {
    await browser.close();
    throw xlError('createFigureExporter', `could not load plotly.js into Chromium: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  let closed = false;

  async function render(spec: FigureSpec, format: 'png' | 'svg', o: RenderOptions, label: string): Promise<string> {
    if (closed) throw xlError('FigureExporter', 'the exporter is closed; create a new one');
    checkSpec(spec, label);
    const width = o.width ?? (spec.layout.width as number | undefined) ?? FIGURE_DEFAULTS.width;
    const height = o.height ?? (spec.layout.height as number | undefined) ?? FIGURE_DEFAULTS.height;
    // SVG is vector: its size stays width x height; scale only multiplies PNG pixels.
    const scale = format === 'svg' ? 1 : (o.scale ?? 2);
    for (const [k, v] of Object.entries({ width, height, scale })) {
      if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw xlError('FigureExporter', `${label}: ${k} must be a positive number, got ${v}`);
    }
    const layout = { ...spec.layout, width, height };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(xlError('FigureExporter', `${label}: rendering took longer than ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([
        page.evaluate(
          // Runs in the page; Plotly is the global the injected script defines.
          async ({ data, layout, format, width, height, scale }) =>
            (globalThis as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } }).Plotly.toImage({ data, layout }, { format, width, height, scale }),
          { data: spec.data, layout, format, width, height, scale },
        ),
        timeout,
      ]);
    } catch (e) {
      if (e instanceof Error && e.name === 'XlalignError') throw e;
      throw xlError('FigureExporter', `${label}: plotly could not render the figure: ${(e as Error).message.split('\n')[0]}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  const exporter: FigureExporter = {
    async png(spec, o = {}) {
      const url = await render(spec, 'png', o, 'png');
      return Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
    },
    async svg(spec, o = {}) {
      const url = await render(spec, 'svg', o, 'svg');
      // Plotly returns 'data:image/svg+xml,<percent-encoded svg>'.
      const body = url.slice(url.indexOf(',') + 1);
      return url.startsWith('data:image/svg+xml;base64,') ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body);
    },
    async export(spec, o) {
      const dir = o.dir ?? 'figures';
      if (!/^[A-Za-z0-9._-]+$/.test(o.name ?? '')) {
        throw xlError('exportFigure', `name '${o.name}' must be letters, digits, '.', '_' or '-' (it becomes <dir>/<name>.<format>)`);
      }
      const formats = o.formats ?? FIGURE_FORMATS;
      if (formats.length === 0) throw xlError('exportFigure', `${o.name}: formats is empty; use some of ${FIGURE_FORMATS.join(', ')}`);
      for (const f of formats) checkOneOf('exportFigure', 'format', f, FIGURE_FORMATS);
      const out: ExportedFiles = {};
      for (const f of formats) {
        const path = join(dir, `${o.name}.${f}`);
        const bytes = f === 'png' ? await exporter.png(spec, o) : f === 'svg' ? await exporter.svg(spec, o) : figureHtml(spec);
        writeFileAtomic(path, bytes);
        out[f] = path;
      }
      return out;
    },
    async close() {
      if (closed) return;
      closed = true;
      await browser.close();
    },
  };
  return exporter;
}

/**
 * Export one figure (see {@link FigureExporter.export}): starts Chromium, writes
 * `<dir>/<name>.{png,svg,html}` atomically, closes Chromium. For many figures, use
 * {@link createFigureExporter} once instead (starting Chromium and loading plotly takes a
 * few seconds).
 *
 * @example
 * await exportFigure(metricBars(rows, 'maxr'), { dir: 'figures', name: 'xquad-maxr', formats: ['png', 'svg'], width: 900, height: 450, scale: 2 });
 */
export async function exportFigure(spec: FigureSpec, options: ExportOptions & ExporterOptions): Promise<ExportedFiles> {
  const formats = options.formats ?? FIGURE_FORMATS;
  if (formats.every((f) => f === 'html')) {
    // HTML needs no browser.
    return createHtmlOnly(spec, options);
  }
  const ex = await createFigureExporter(options);
  try {
    return await ex.export(spec, options);
  } finally {
    await ex.close();
  }
}

function createHtmlOnly(spec: FigureSpec, o: ExportOptions): ExportedFiles {
  if (!/^[A-Za-z0-9._-]+$/.test(o.name ?? '')) throw xlError('exportFigure', `name '${o.name}' must be letters, digits, '.', '_' or '-'`);
  checkSpec(spec, o.name);
  const path = join(o.dir ?? 'figures', `${o.name}.html`);
  writeFileAtomic(path, figureHtml(spec));
  return { html: path };
}

function checkSpec(spec: FigureSpec, label: string): void {
  if (!spec || !Array.isArray(spec.data) || typeof spec.layout !== 'object' || spec.layout === null) {
    throw xlError('FigureExporter', `${label}: a figure spec is { data: Trace[], layout: {...} }`);
  }
}
