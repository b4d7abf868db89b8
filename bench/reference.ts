// Runs bench/reference_ken.py (our port of the reference semantics) under Debian's python3 on rows
// sent through a temporary binary file, and collects its per-row times and kept positions.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PYTHON = '/usr/bin/python3';

export interface RowJob {
  values: Float32Array;
  k: number;
}

export interface ReferenceResult {
  numpy: string;
  sklearn: string;
  peakRssBytes: number;
  cpuSeconds: number;
  rows: { ms: number; cpuMs: number; kept: number[] }[];
}

/** Why the reference cannot run here (no python3, no numpy or scikit-learn), or undefined when it can. */
export function referenceUnavailable(python = PYTHON): string | undefined {
  if (!existsSync(python)) return `${python} not found`;
  const r = spawnSync(python, ['-c', 'import numpy, sklearn'], { encoding: 'utf8' });
  if (r.status !== 0) {
    const last = (r.stderr || r.error?.message || 'import failed').trim().split('\n').pop();
    return `${python} cannot import numpy and scikit-learn (${last}); on Debian: apt-get install python3-sklearn`;
  }
  return undefined;
}

/** The KENR row file the Python script reads: "KENR", u32 count, then per row u32 n, u32 k, n f32. */
export function encodeRows(rows: readonly RowJob[]): Buffer {
  const size = 8 + rows.reduce((s, r) => s + 8 + r.values.length * 4, 0);
  const buf = Buffer.alloc(size);
  buf.write('KENR', 0, 'latin1');
  buf.writeUInt32LE(rows.length, 4);
  let pos = 8;
  for (const r of rows) {
    buf.writeUInt32LE(r.values.length, pos);
    buf.writeUInt32LE(r.k, pos + 4);
    pos += 8;
    Buffer.from(r.values.buffer, r.values.byteOffset, r.values.byteLength).copy(buf, pos);
    pos += r.values.length * 4;
  }
  return buf;
}

/** Runs the Python port on `rows` (tmpDir holds the row file); rejects with the script's last error line. */
export function runReference(script: string, rows: readonly RowJob[], tmpDir: string, python = PYTHON): Promise<ReferenceResult> {
  const file = join(tmpDir, `rows-${process.pid}-${Date.now()}.bin`);
  writeFileSync(file, encodeRows(rows));
  return new Promise((resolve, reject) => {
    const child = spawn(python, [script, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`reference_ken.py exited with ${code}: ${err.trim().split('\n').pop() ?? ''}`));
        return;
      }
      try {
        const j = JSON.parse(out) as { numpy: string; sklearn: string; peak_rss_bytes: number; cpu_seconds: number; rows: { ms: number; cpu_ms: number; kept: number[] }[] };
        resolve({ numpy: j.numpy, sklearn: j.sklearn, peakRssBytes: j.peak_rss_bytes, cpuSeconds: j.cpu_seconds, rows: j.rows.map((r) => ({ ms: r.ms, cpuMs: r.cpu_ms, kept: r.kept })) });
      } catch {
        reject(new Error(`reference_ken.py printed no JSON: ${out.slice(0, 200)}`));
      }
    });
  });
}
