// A data set's features as `datasets` records them (dataset_info.json "features", or the
// "huggingface" metadata of its Arrow and Parquet files): what matters here are the ClassLabel names
// that turn stored class ids into label names, also inside Sequence/List features (NER tags).

export type Feature =
  | { kind: 'class_label'; names: string[] }
  | { kind: 'sequence'; feature: Feature }
  | { kind: 'struct'; fields: Record<string, Feature> }
  | { kind: 'value'; dtype: string }
  | { kind: 'other' };

export type Features = Record<string, Feature>;

function parseFeature(v: unknown): Feature {
  if (Array.isArray(v)) return v.length === 1 ? { kind: 'sequence', feature: parseFeature(v[0]) } : { kind: 'other' };
  if (typeof v !== 'object' || v === null) return { kind: 'other' };
  const o = v as Record<string, unknown>;
  const type = o['_type'];
  if (type === 'ClassLabel') {
    const names = o['names'];
    return Array.isArray(names) && names.every((n) => typeof n === 'string') ? { kind: 'class_label', names: names as string[] } : { kind: 'other' };
  }
  if (type === 'Sequence' || type === 'List' || type === 'LargeList') return { kind: 'sequence', feature: parseFeature(o['feature']) };
  if (type === 'Value') return { kind: 'value', dtype: typeof o['dtype'] === 'string' ? o['dtype'] : 'unknown' };
  if (type === undefined) {
    const fields: Record<string, Feature> = {};
    for (const [k, f] of Object.entries(o)) fields[k] = parseFeature(f);
    return { kind: 'struct', fields };
  }
  return { kind: 'other' };
}

/** Features from a `features` object; undefined when there is none. */
export function parseFeatures(json: unknown): Features | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const out: Features = {};
  for (const [k, v] of Object.entries(json as Record<string, unknown>)) out[k] = parseFeature(v);
  return out;
}

/** Features from the "huggingface" key of Arrow/Parquet metadata ({"info": {"features": ...}}). */
export function featuresFromMetadata(value: string | undefined): Features | undefined {
  if (!value) return undefined;
  try {
    const meta = JSON.parse(value) as { info?: { features?: unknown } };
    return parseFeatures(meta.info?.features);
  } catch {
    return undefined;
  }
}

/** The ClassLabel names of a field, or of the items of a sequence field. */
export function classNames(features: Features | undefined, field: string): string[] | undefined {
  let f = features?.[field];
  while (f?.kind === 'sequence') f = f.feature;
  return f?.kind === 'class_label' ? f.names : undefined;
}
