#!/usr/bin/env node
// Writes conv2d_forward v4's entry points (main_v4_8x16, main_v4_16x16) into shaders/conv2d.wgsl, between the
// GENERATED markers. WGSL has no templates, and each block size is a different set of named registers (arrays of
// accumulators get spilled to memory on SwiftShader), so the unrolled bodies come from this one template instead of
// being kept in step by hand.   usage: node scripts/gen-conv2d-v4.mjs  (then review the diff)
import { readFileSync, writeFileSync } from 'node:fs';

function entryPoint(G) {
  const P = 4 * G;
  const gs = [...Array(G).keys()];
  const out = [];
  const o = (s) => out.push(s);
  o(`@compute @workgroup_size(WG)`);
  o(`fn main_v4_${P}x16(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {`);
  o(`  let g = thread_index(wid, nwg, lid);`);
  o(`  let KB = (K + 15u) / 16u;`);
  o(`  let KV = KB * 4u;`);
  o(`  let M = N * H * W;`);
  o(`  let m0 = (g / KB) * ${P}u;`);
  o(`  let kb = g % KB;`);
  o(`  if (m0 >= M) { return; }`);
  o(`  let HW = H * W;`);
  o(`  let W4 = W / 4u;`);
  o(`  let HW4 = HW / 4u;`);
  o(`  // Group i: output pixels m0+4i .. m0+4i+3 of one image row, clamped to the last group (its stores are masked).`);
  for (const i of gs) {
    o(`  let mg${i} = min(m0 + ${4 * i}u, M - 4u); let p${i} = mg${i} % HW; let h${i} = p${i} / W; let col${i} = p${i} % W;`);
    o(`  let base${i} = (mg${i} / HW) * C * HW4 + col${i} / 4u; let left${i} = col${i} > 0u; let right${i} = col${i} + 4u < W;`);
  }
  for (const i of gs) o(`  ${Array.from({ length: 16 }, (_, j) => `var a${i}_${j} = vec4f(0.0);`).join(' ')}`);
  o(`  for (var kh = 0u; kh < 3u; kh++) {`);
  o(`    // Input row h - 1 + kh; above the image it wraps to a huge value and fails the test.`);
  for (const i of gs) o(`    let ih${i} = h${i} + kh - 1u; let ok${i} = ih${i} < H;`);
  o(`    if (${gs.map((i) => `!ok${i}`).join(' && ')}) { continue; }`);
  for (const i of gs) o(`    var i${i} = base${i} + select(0u, ih${i} * W4, ok${i}); let l${i} = ok${i} && left${i}; let r${i} = ok${i} && right${i};`);
  o(`    var wi = kh * 3u * KV + 4u * kb;`);
  o(`    for (var c = 0u; c < C; c++) {`);
  o(`      // v: columns w..w+3 (tap 1); xl / xr: shifted by one, with the neighbours' .w / .x (0 at the image edge).`);
  for (const i of gs) {
    o(`      let v${i} = select(vec4f(0.0), xv[i${i}], ok${i});`);
    o(`      let xl${i} = vec4f(select(0.0, xv[select(i${i}, i${i} - 1u, l${i})].w, l${i}), v${i}.xyz);`);
    o(`      let xr${i} = vec4f(v${i}.yzw, select(0.0, xv[select(i${i}, i${i} + 1u, r${i})].x, r${i}));`);
    o(`      i${i} += HW4;`);
  }
  for (const [t, pre] of [[0, 'xl'], [1, 'v'], [2, 'xr']]) {
    const off = t === 0 ? 'wi' : t === 1 ? 'wi + KV' : 'wi + 2u * KV';
    o(`      {`);
    o(`        let o = ${off};`);
    o(`        let w0 = wp[o]; let w1 = wp[o + 1u]; let w2 = wp[o + 2u]; let w3 = wp[o + 3u];`);
    for (const i of gs) o(`        ${Array.from({ length: 16 }, (_, j) => `a${i}_${j} += ${pre}${i} * w${j >> 2}.${'xyzw'[j & 3]};`).join(' ')}`);
    o(`      }`);
  }
  o(`      wi += 9u * KV;`);
  o(`    }`);
  o(`  }`);
  o(`  let k0 = kb * 16u;`);
  for (const i of gs) o(`  let acc${i} = array<vec4f, 16>(${Array.from({ length: 16 }, (_, j) => `a${i}_${j}`).join(', ')});`);
  for (const i of gs) o(`  let o${i} = (mg${i} / HW) * K * HW + p${i}; let s${i} = m0 + ${4 * i}u < M;`);
  o(`  for (var j = 0u; j < 16u; j++) {`);
  o(`    if (k0 + j < K) {`);
  o(`      for (var i = 0u; i < 4u; i++) {`);
  for (const i of gs) o(`        if (s${i}) { store(o${i} + (k0 + j) * HW + i, acc${i}[j][i]); }`);
  o(`      }`);
  o(`    }`);
  o(`  }`);
  o(`}`);
  return out.join('\n');
}

const path = new URL('../shaders/conv2d.wgsl', import.meta.url);
const src = readFileSync(path, 'utf8');
const BEGIN = '// BEGIN GENERATED v4 (scripts/gen-conv2d-v4.mjs)\n';
const END = '// END GENERATED v4\n';
const a = src.indexOf(BEGIN), b = src.indexOf(END);
if (a < 0 || b < a) throw new Error('shaders/conv2d.wgsl: GENERATED v4 markers not found');
writeFileSync(path, src.slice(0, a + BEGIN.length) + [2, 4].map(entryPoint).join('\n\n') + '\n' + src.slice(b));
