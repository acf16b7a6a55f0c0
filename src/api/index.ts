// The library's high-level API: a data source from the app's images, and a trainer that runs FixMatch + DASO on it,
// predicts, evaluates, saves and loads.
export { createDataSource, type DataSource, type DataSourceOptions, type LabeledImages, type UnlabeledImages } from './data-source.js';
export type { BrowserImage, ImageArray, ImageInput } from './images.js';
export { TRAINER_CONFIG_KEYS, type TrainerConfig, type ResolvedTrainerConfig } from './config.js';
export {
  createTrainer, Trainer, type CreateTrainerOptions, type Evaluation, type PredictOptions, type Progress, type RunOptions, type RunResult,
} from './trainer.js';
export type { ModelChoice } from './predictor.js';
export type { ClassMetrics } from '../train/evaluate.js';
