// WRN as the official DASO code builds it (lib/models/wrn.py), as a pure description: parameter and buffer names equal
// PyTorch's state_dict names of the official model (encoder = WRN, classifier = Classifier with a `classifier` Linear),
// so checkpoints load into PyTorch by name. Depth, width, input channels, input size and class count are parameters.

export interface WrnConfig {
  depth: number;
  width: number;
  in_channels: number;
  num_classes: number;
  image_size: number;
}

export type ParamKind = 'conv' | 'bn_weight' | 'bn_bias' | 'linear_weight' | 'linear_bias';

export interface ParamSpec {
  name: string;
  shape: number[];
  kind: ParamKind;
}

export interface BufferSpec {
  name: string;
  shape: number[];
}

export interface BlockSpec {
  prefix: string;
  cin: number;
  cout: number;
  stride: number;
  activateBeforeResidual: boolean;
  hasShortcutConv: boolean;
}

export interface WrnSpec {
  config: WrnConfig;
  filters: [number, number, number, number];
  blocks: BlockSpec[];
  params: ParamSpec[];
  /** BN running statistics (f32). Every BN also has an i64 `num_batches_tracked`, kept as a step counter. */
  buffers: BufferSpec[];
  bnNames: string[];
  featureDim: number;
}

export function validateWrnConfig(c: WrnConfig): void {
  const n = (c.depth - 4) / 6;
  if (!Number.isInteger(n) || n < 1) throw new Error(`model.depth ${c.depth} is not 6n+4 with n >= 1 (e.g. 10, 16, 28)`);
  if (!Number.isInteger(c.width) || c.width < 1) throw new Error(`model.width ${c.width} must be an integer >= 1`);
  if (!Number.isInteger(c.in_channels) || c.in_channels < 1) throw new Error(`model.in_channels ${c.in_channels} must be an integer >= 1`);
  if (!Number.isInteger(c.num_classes) || c.num_classes < 2) throw new Error(`model.num_classes ${c.num_classes} must be an integer >= 2`);
  if (!Number.isInteger(c.image_size) || c.image_size < 4) throw new Error(`model.image_size ${c.image_size} must be an integer >= 4`);
}

export function wrnSpec(config: WrnConfig): WrnSpec {
  validateWrnConfig(config);
  const n = (config.depth - 4) / 6;
  const w = config.width;
  const filters: [number, number, number, number] = [16, 16 * w, 32 * w, 64 * w];
  const params: ParamSpec[] = [];
  const buffers: BufferSpec[] = [];
  const bnNames: string[] = [];
  const conv = (name: string, cout: number, cin: number, r: number) => params.push({ name: `${name}.weight`, shape: [cout, cin, r, r], kind: 'conv' });
  const bn = (name: string, c: number) => {
    params.push({ name: `${name}.weight`, shape: [c], kind: 'bn_weight' }, { name: `${name}.bias`, shape: [c], kind: 'bn_bias' });
    buffers.push({ name: `${name}.running_mean`, shape: [c] }, { name: `${name}.running_var`, shape: [c] });
    bnNames.push(name);
  };
  // PyTorch registers parameters in module order: init_conv, then each unit's blocks, then unit4.
  conv('encoder.init_conv', filters[0], config.in_channels, 3);
  const blocks: BlockSpec[] = [];
  for (let u = 1; u <= 3; u++) {
    for (let i = 0; i < n; i++) {
      const cin = i === 0 ? filters[u - 1] : filters[u];
      const cout = filters[u];
      const stride = u > 1 && i === 0 ? 2 : 1;
      const abr = u === 1 && i === 0;
      const prefix = `encoder.unit${u}.${i}`;
      const b: BlockSpec = { prefix, cin, cout, stride, activateBeforeResidual: abr, hasShortcutConv: stride >= 2 || cin !== cout };
      // Module order of the official residual: pre_act, identity, layer (state_dict order follows it).
      if (abr) bn(`${prefix}.pre_act.0`, cin);
      if (b.hasShortcutConv) conv(`${prefix}.identity`, cout, cin, 1);
      if (abr) {
        conv(`${prefix}.layer.0`, cout, cin, 3);
        bn(`${prefix}.layer.1`, cout);
        conv(`${prefix}.layer.3`, cout, cout, 3);
      } else {
        bn(`${prefix}.layer.0`, cin);
        conv(`${prefix}.layer.2`, cout, cin, 3);
        bn(`${prefix}.layer.3`, cout);
        conv(`${prefix}.layer.5`, cout, cout, 3);
      }
      blocks.push(b);
    }
  }
  bn('encoder.unit4.0', filters[3]);
  params.push(
    { name: 'classifier.classifier.weight', shape: [config.num_classes, filters[3]], kind: 'linear_weight' },
    { name: 'classifier.classifier.bias', shape: [config.num_classes], kind: 'linear_bias' },
  );
  return { config, filters, blocks, params, buffers, bnNames, featureDim: filters[3] };
}

/** The names of a block's layers (they differ when the block activates before the residual). */
export function blockLayerNames(b: BlockSpec): { preBn: string; conv1: string; bn2: string; conv2: string; shortcut: string } {
  return b.activateBeforeResidual
    ? { preBn: `${b.prefix}.pre_act.0`, conv1: `${b.prefix}.layer.0`, bn2: `${b.prefix}.layer.1`, conv2: `${b.prefix}.layer.3`, shortcut: `${b.prefix}.identity` }
    : { preBn: `${b.prefix}.layer.0`, conv1: `${b.prefix}.layer.2`, bn2: `${b.prefix}.layer.3`, conv2: `${b.prefix}.layer.5`, shortcut: `${b.prefix}.identity` };
}
