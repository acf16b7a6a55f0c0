// The live panel of a training page (the harness's "Train live" and the example app): the charts of `daso report`,
// redrawn from the records the run emits while it trains, beside an optional second run loaded from its
// metrics.jsonl for comparison (FixMatch beside DASO). The page feeds it the same records `daso train` writes
// (src/train/metrics-record.ts); redraws are coalesced to one per animation frame, and the UMAP embedding is only
// recomputed when an evaluation brings new features (it takes about a second for 500 images on one CPU core).
import { accuracyChart } from './accuracy-chart.js';
import { blendWeightChart } from './blend-weight-chart.js';
import { distributionChart } from './distribution-chart.js';
import { embed2d, embeddingChart, type EmbeddedPoint, type FeatureSet } from './embedding-chart.js';
import { lossChart } from './loss-chart.js';
import type { Chart } from './plot-common.js';
import { pseudoLabelBars } from './pseudo-label-bars.js';
import { recallStrip } from './recall-strip.js';
import { parseMetrics, type RunRecords, type VizRun } from './records.js';
import type { EvalRecordV2, LogRecord, StartRecord } from '../train/metrics-record.js';

/** The panel's charts, in the order they are shown, each with the sentence that says what to look for. */
export const LIVE_CHARTS = [
  ['loss', 'Loss parts and mask ratio (share of unlabeled images confident enough to train on) per log window.'],
  ['accuracy', 'Test top-1, balanced and test-time logit-adjusted accuracy at each evaluation.'],
  ['recall', 'Per-class test recall over steps, head (top) to tail (bottom): the tail rows are where methods differ.'],
  ['pseudo-labels', 'Pseudo-label recall and precision per class over the last evaluation period: FixMatch favours the head classes.'],
  ['distribution', "The pseudo-label class distribution over the last evaluation period (DASO: its m_hat, averaged) against the true distribution of the unlabeled images."],
  ['blend', "DASO's blend weight v per class: how much of the semantic pseudo-label each predicted class takes."],
  ['embedding', 'UMAP of the penultimate features of a fixed, class-balanced test subset at the last evaluation, by class.'],
] as const;

export type LiveChartName = (typeof LIVE_CHARTS)[number][0];

interface LiveRun {
  name: string;
  algorithm: string;
  records: RunRecords;
}

export class LivePanel {
  private current: LiveRun | null = null;
  private other: LiveRun | null = null;
  private features: FeatureSet | null = null;
  private embedded: { from: FeatureSet; points: EmbeddedPoint[] | null } | null = null;
  private pending = false;
  private readonly figures = new Map<LiveChartName, HTMLElement>();

  constructor(readonly container: HTMLElement, readonly opts: { width?: number } = {}) {
    container.replaceChildren();
    for (const [name, caption] of LIVE_CHARTS) {
      const fig = document.createElement('figure');
      fig.dataset.chart = name;
      fig.style.margin = '0.8em 0';
      const body = document.createElement('div');
      const cap = document.createElement('figcaption');
      cap.textContent = caption;
      cap.style.cssText = 'font-size: 12px; color: #555';
      fig.append(body, cap);
      container.append(fig);
      this.figures.set(name, fig);
    }
    this.render();
  }

  /** A new run: its name (as in charts and legends), algorithm and (when known) its start record. */
  begin(name: string, algorithm: string, start: StartRecord | null = null): void {
    this.current = { name, algorithm, records: { format: 2, start, logs: [], evals: [] } };
    this.features = null;
    this.embedded = null;
    this.schedule();
  }

  start(r: StartRecord): void {
    if (this.current && !this.current.records.start) this.current.records.start = r;
    this.schedule();
  }

  log(r: LogRecord): void {
    this.current?.records.logs.push(r);
    this.schedule();
  }

  evaluation(r: EvalRecordV2, features: FeatureSet | null = null): void {
    this.current?.records.evals.push(r);
    if (features) this.features = features;
    this.schedule();
  }

  /** A second run to draw beside this one, from its metrics.jsonl text; returns the lines it skipped. `name`: how
   * the charts call it; '' names it by its algorithm ('loaded fixmatch'; format-1 files: 'loaded run'). */
  compare(name: string, metricsText: string): string[] {
    const { records, problems } = parseMetrics(metricsText);
    if (!records.evals.length && !records.logs.length) throw new Error(`${name || 'the file'}: no metrics records in it (is it a run's metrics.jsonl?)`);
    const algorithm = records.start?.algorithm ?? 'run';
    this.other = { name: name || `loaded ${algorithm}`, algorithm, records };
    this.schedule();
    return problems;
  }

  clearCompare(): void {
    this.other = null;
    this.schedule();
  }

  /** The runs the charts draw: this run first, then the comparison (renamed when the names clash). */
  runs(): VizRun[] {
    const out: VizRun[] = [];
    if (this.current) out.push(this.current);
    if (this.other) out.push({ ...this.other, name: this.current && this.other.name === this.current.name ? `${this.other.name} (loaded)` : this.other.name });
    return out;
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    const go = () => { this.pending = false; this.render(); };
    if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') requestAnimationFrame(go);
    else setTimeout(go, 0);
  }

  /** Draws every chart now (a chart without data says what it waits for). */
  render(): void {
    const runs = this.runs();
    const o = { width: this.opts.width ?? Math.min(900, Math.max(480, this.container.clientWidth || 720)) };
    const K = runs[0]?.records.start?.split.labeled.length ?? runs[0]?.records.evals.at(-1)?.test.recall.length ?? 0;
    const draw = (name: LiveChartName, make: () => Chart | null, waiting: string) => {
      const body = this.figures.get(name)!.firstElementChild as HTMLElement;
      let chart: Chart | null = null;
      try {
        chart = runs.length ? make() : null;
      } catch (e) {
        body.textContent = `chart failed: ${(e as Error).message}`;
        return;
      }
      if (chart) body.replaceChildren(chart);
      else {
        const p = document.createElement('p');
        p.className = 'waiting';
        p.textContent = waiting;
        p.style.cssText = 'color: #888; font-size: 12px';
        body.replaceChildren(p);
      }
    };
    draw('loss', () => lossChart(runs, o), 'waiting for the first log step');
    draw('accuracy', () => accuracyChart(runs, o), 'waiting for the first evaluation');
    draw('recall', () => recallStrip(runs, o), 'waiting for the first evaluation');
    draw('pseudo-labels', () => pseudoLabelBars(runs, o), 'waiting for pseudo-label statistics (FixMatch or DASO with known unlabeled labels)');
    draw('distribution', () => distributionChart(runs, o), 'waiting for pseudo-label statistics');
    draw('blend', () => blendWeightChart(runs, o), 'DASO runs only: waiting for the first log step');
    draw('embedding', () => {
      const f = this.features;
      if (!f || !K) return null;
      if (this.embedded?.from !== f) this.embedded = { from: f, points: embed2d(f, 0) };
      return this.embedded.points ? embeddingChart(this.embedded.points, K, { ...o, title: this.current?.name }) : null;
    }, 'waiting for an evaluation with saved features');
  }
}
