// The charts of a run (or several side by side): shared by the live training page and `daso report`. Each takes plain
// data (parsed metrics records, see records.ts) and { document?, width? } and returns Plot's element, or null when the
// runs lack what the chart needs (format-1 runs have no log records).
export * from './records.js';
export type { Chart } from './plot-common.js';
export { lossChart, lossRows } from './loss-chart.js';
export { accuracyChart, accuracyRows, ACCURACY_METRICS } from './accuracy-chart.js';
export { recallStrip, recallRows } from './recall-strip.js';
export { pseudoLabelBars, pseudoLabelRows } from './pseudo-label-bars.js';
export { distributionChart, distributionRows, pseudoLabelDistribution, TRUE_SERIES } from './distribution-chart.js';
export { blendWeightChart, blendWeightRows } from './blend-weight-chart.js';
export { embed2d, embeddingChart, seededRandom, type EmbeddedPoint, type FeatureSet } from './embedding-chart.js';
export { LivePanel, LIVE_CHARTS, type LiveChartName } from './live-panel.js';
