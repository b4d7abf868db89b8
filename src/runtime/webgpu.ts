// The WebGPU adapter a session runs on, how reports, the CLI, the panel and the status bar name a provider
// with it, and the probe that finds out (in a child process) whether a WebGPU session opens here and on
// which adapter. The probe runs its own small check graph: nothing here knows KEN.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writer } from 'protobufjs/minimal';
import { modelHeader, nodeProto, tensorProto, valueInfo } from '../formats/onnx-write';

/** The adapter a WebGPU session runs on. */
export interface AdapterInfo {
  vendor: string;
  /** The device name its driver reports ("NVIDIA H200", "llvmpipe (LLVM 15.0.6, 256 bits)"). */
  name: string;
  /** The Vulkan driver library, where known. */
  driver?: string;
  /** A software rasterizer (lavapipe, SwiftShader): used only when WebGPU is asked for by name. */
  software: boolean;
}

/** "NVIDIA H200", "Mesa llvmpipe (LLVM 15.0.6, 256 bits), software". */
export function adapterLabel(a: AdapterInfo): string {
  const name = a.name.toLowerCase().startsWith(a.vendor.toLowerCase()) ? a.name : `${a.vendor} ${a.name}`;
  return `${name}${a.software ? ', software' : ''}`;
}

/** "webgpu (NVIDIA H200)", or just the provider when there is no adapter to name. */
export function providerLabel(executionProvider: string, adapter?: AdapterInfo | string): string {
  if (!adapter) return executionProvider;
  return `${executionProvider} (${typeof adapter === 'string' ? adapter : adapterLabel(adapter)})`;
}

// ---------------------------------------------------------------------------------------------
// The WebGPU adapter

/** `crashed`: the probe hung or died (worth a line in the log), rather than finding no adapter. */
export type WebGpuProbe = { ok: true; adapter: AdapterInfo } | { ok: false; reason: string; crashed?: boolean };

const DRIVER_VENDORS: [RegExp, string][] = [
  [/nvidia/i, 'NVIDIA'],
  [/radeon|amdvlk|amdgpu/i, 'AMD'],
  [/intel/i, 'Intel'],
  [/lvp/i, 'Mesa'],
  [/swiftshader/i, 'Google'],
  [/nouveau/i, 'NVIDIA'],
  [/dzn/i, 'Microsoft'],
  [/virtio|venus|gfxstream/i, 'virtio-gpu'],
  [/freedreno/i, 'Qualcomm'],
  [/panfrost|mali/i, 'Arm'],
  [/asahi/i, 'Apple'],
  [/powervr/i, 'Imagination'],
  [/broadcom/i, 'Broadcom'],
];
const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|\bwarp\b|basic render/i;

/**
 * What the Vulkan loader's driver log (VK_LOADER_DEBUG=driver) says about the device a process
 * opened: `Using "NAME" with driver: "LIBRARY"`. Undefined when it says nothing (another graphics
 * API, or a loader too old to say).
 */
export function adapterFromLoaderLog(log: string): AdapterInfo | undefined {
  const uses = [...log.matchAll(/Using "([^"\n]+)" with driver: "([^"\n]+)"/g)];
  const last = uses[uses.length - 1];
  if (!last) return undefined;
  const name = last[1]!.trim();
  const driver = last[2]!.trim();
  const vendor = DRIVER_VENDORS.find(([re]) => re.test(driver))?.[1] ?? name.split(/\s+/)[0] ?? 'unknown';
  return { vendor, name, driver, software: SOFTWARE.test(name) || /lvp|swiftshader/i.test(driver) };
}

// Runs in a child process (its native logs and any crash or hang stay there): opens a WebGPU
// session on `webGpuCheckGraph`, checks one small result against float64, prints JSON.
const PROBE_SCRIPT = `
const ort = require(process.env.KEN_PROBE_ORT);
ort.env.logLevel = 'fatal';
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
(async () => {
  const s = await ort.InferenceSession.create(Buffer.from(process.env.KEN_PROBE_MODEL, 'base64'),
    { executionProviders: ['webgpu'], logSeverityLevel: 4, graphOptimizationLevel: 'basic' });
  const a = [0, 0.5, -1.25, 2, 40, 40], g = [0, 1, -2];
  const r = await s.run({ A: new ort.Tensor('float32', Float32Array.from(a), [1, 1, 3, 2]), G: new ort.Tensor('float32', Float32Array.from(g), [1, 3, 1, 1]) });
  const S = r.S.data;
  for (let i = 0; i < 3; i++) {
    let e = 0;
    for (const v of a) e += Math.exp(-0.5 * (g[i] - v) ** 2);
    if (!(Math.abs(S[i] - e) <= 1e-5 * e)) throw new Error('the adapter computed a wrong sum (' + S[i] + ' for ' + e + ')');
  }
  out({ ok: true });
})().catch((e) => out({ ok: false, reason: String(e && e.message || e).split('\\n')[0] }));
`;

const PROBE_TIMEOUT_MS = 60_000;
let probed: Promise<WebGpuProbe> | undefined;

/**
 * Whether a WebGPU session opens here, and on which adapter: once per thread, in a child process
 * (a driver that crashes or hangs cannot take this process with it; the Vulkan loader's log there
 * names the device). Never throws.
 */
export function probeWebGpu(): Promise<WebGpuProbe> {
  probed ??= runWebGpuProbe();
  return probed;
}

/** Seeds this thread's probe result with one found elsewhere (the pool passes its own to its workers). */
export function knownWebGpu(result: WebGpuProbe): void {
  probed = Promise.resolve(result);
}

/**
 * The Vulkan driver manifests (ICDs) the Linux loader would find: VK_DRIVER_FILES / VK_ICD_FILENAMES,
 * else `vulkan/icd.d` under the XDG config and data folders. Empty: no Vulkan driver installed.
 */
export function vulkanDriverManifests(env: NodeJS.ProcessEnv = process.env): string[] {
  const given = env['VK_DRIVER_FILES'] ?? env['VK_ICD_FILENAMES'];
  if (given) return given.split(':').filter((f) => f !== '' && existsSync(f));
  const home = env['HOME'];
  const config = [env['XDG_CONFIG_HOME'] ?? (home ? join(home, '.config') : ''), ...(env['XDG_CONFIG_DIRS'] ?? '/etc/xdg').split(':'), '/etc'];
  const data = [env['XDG_DATA_HOME'] ?? (home ? join(home, '.local', 'share') : ''), ...(env['XDG_DATA_DIRS'] ?? '/usr/local/share:/usr/share').split(':')];
  const out: string[] = [];
  for (const base of [...config, ...data]) {
    if (!base) continue;
    const dir = join(base, 'vulkan', 'icd.d');
    try {
      for (const f of readdirSync(dir)) if (f.endsWith('.json')) out.push(join(dir, f));
    } catch {
      // no such folder
    }
  }
  return [...new Set(out)];
}

/** One probe, now, in a child process with `env` added to this one's environment. */
export function runWebGpuProbe(env: Record<string, string> = {}): Promise<WebGpuProbe> {
  // Linux without any Vulkan driver: nothing to start a process for
  if (process.platform === 'linux' && vulkanDriverManifests({ ...process.env, ...env }).length === 0) {
    return Promise.resolve({ ok: false, reason: 'no Vulkan driver installed (e.g. the GPU vendor\'s, or Mesa 25\'s lavapipe)' });
  }
  return new Promise((resolve) => {
    let ortPath: string;
    try {
      ortPath = require.resolve('onnxruntime-node');
    } catch {
      resolve({ ok: false, reason: 'onnxruntime-node is not installed' });
      return;
    }
    const childEnv = {
      ...process.env,
      ELECTRON_RUN_AS_NODE: '1', // the VS Code extension host's execPath is Electron
      VK_LOADER_DEBUG: 'driver',
      KEN_PROBE_ORT: ortPath,
      KEN_PROBE_MODEL: Buffer.from(webGpuCheckGraph()).toString('base64'),
      ...env,
    };
    const child = spawn(process.execPath, ['-e', PROBE_SCRIPT], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      if (stderr.length < 1 << 20) stderr += b.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: `the probe could not start (${e.message})` });
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      let res: { ok?: boolean; reason?: string } | undefined;
      try {
        res = line ? (JSON.parse(line) as { ok?: boolean; reason?: string }) : undefined;
      } catch {
        res = undefined;
      }
      if (res?.ok) {
        const adapter = adapterFromLoaderLog(stderr) ?? { vendor: 'unknown', name: 'unidentified adapter', software: false };
        resolve({ ok: true, adapter });
      } else if (res) {
        resolve({ ok: false, reason: res.reason ?? 'no adapter' });
      } else {
        resolve({ ok: false, crashed: true, reason: sig === 'SIGKILL' ? `no answer within ${PROBE_TIMEOUT_MS / 1000} s` : `the probe stopped (${sig ?? `exit code ${code}`})` });
      }
    });
  });
}

/**
 * The probe's graph, float32 as on WebGPU: S[r, i] = sum over (q, p) of exp(-(G[r, i, 0, 0] - A[r, 0, q, p])^2 / 2),
 * inputs A [R, 1, m, B] and G [R, k, 1, 1]. The ops and dtypes of KEN's float32 density graph, without KEN.
 */
export function webGpuCheckGraph(): Uint8Array {
  const w = Writer.create();
  modelHeader(w, { '': 17 });
  w.uint32((7 << 3) | 2).fork(); // graph
  nodeProto(w, { op: 'Sub', inputs: ['G', 'A'], outputs: ['z'] });
  nodeProto(w, { op: 'Mul', inputs: ['z', 'z'], outputs: ['z2'] });
  nodeProto(w, { op: 'Mul', inputs: ['z2', 'minus_half'], outputs: ['e'] });
  nodeProto(w, { op: 'Exp', inputs: ['e'], outputs: ['t'] });
  nodeProto(w, { op: 'ReduceSum', inputs: ['t', 'axes'], outputs: ['S'], attrs: { keepdims: 0 } });
  w.uint32((2 << 3) | 2).string('ken_webgpu_check');
  const half = new Uint8Array(4);
  new DataView(half.buffer).setFloat32(0, -0.5, true);
  const axes = new Uint8Array(16);
  new DataView(axes.buffer).setBigInt64(0, 2n, true);
  new DataView(axes.buffer).setBigInt64(8, 3n, true);
  tensorProto(w, 5, { name: 'minus_half', elemType: 'float32', dims: [], raw: half });
  tensorProto(w, 5, { name: 'axes', elemType: 'int64', dims: [2], raw: axes });
  valueInfo(w, 11, 'A', 1, ['R', 1, 'm', 'B']);
  valueInfo(w, 11, 'G', 1, ['R', 'k', 1, 1]);
  valueInfo(w, 12, 'S', 1, ['R', 'k']);
  w.ldelim();
  return w.finish();
}
