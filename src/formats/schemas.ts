// Schemas (zod) for every JSON document the tool reads from users' files: config.json (the fields the
// tool reads, with bounds), tokenizer.json (the structure the tokenizer library walks without checks),
// model.safetensors.index.json and the KEN subnetwork metadata. Objects stay open (other fields pass
// through untouched); what the tool reads is typed and bounded. Checks across documents (hole maps
// against entries, token ids against the vocabulary) live beside the code that needs them.
import { z } from 'zod';

/** Classes a classifier may have: far above any real task, far below what would exhaust memory. */
export const MAX_LABELS = 1_000_000;
/** Largest max_position_embeddings / sequence length taken from a config (2^24). */
export const MAX_POSITIONS = 1 << 24;
/** Largest token id or vocabulary size (2^24; real vocabularies stay under 300k). */
export const MAX_VOCAB = 1 << 24;
/** Most dimensions a tensor shape may have. */
export const MAX_RANK = 8;

const int = (min: number, max: number): z.ZodNumber => z.number().int().min(min).max(max);
const count = int(0, Number.MAX_SAFE_INTEGER);

/** A tensor shape whose element count is a safe integer. */
export const shapeSchema = z
  .array(count)
  .max(MAX_RANK)
  .refine((s) => Number.isSafeInteger(s.reduce((a, b) => a * b, 1)), 'the element count is too large');

// ---------- config.json ----------

/** config.json: the fields this tool reads, bounded; a wrong type or an absurd value is one line. */
export const configSchema = z.looseObject({
  model_type: z.string().max(200).optional(),
  num_labels: int(1, MAX_LABELS).optional(),
  id2label: z
    .record(z.string(), z.union([z.string(), z.number()]))
    .refine((r) => Object.keys(r).length <= MAX_LABELS, `more than ${MAX_LABELS} labels`)
    .nullable()
    .optional(),
  label2id: z
    .record(z.string(), z.number())
    .refine((r) => Object.keys(r).length <= MAX_LABELS, `more than ${MAX_LABELS} labels`)
    .nullable()
    .optional(),
  max_position_embeddings: int(1, MAX_POSITIONS).optional(),
  vocab_size: int(1, MAX_VOCAB).optional(),
  pad_token_id: z.union([int(0, MAX_VOCAB), z.null()]).optional(),
  _name_or_path: z.string().optional(),
});
export type ModelConfig = z.output<typeof configSchema>;

// ---------- model.safetensors.index.json ----------

export const shardIndexSchema = z.looseObject({
  weight_map: z.record(z.string(), z.string().min(1).max(255)),
});

// ---------- tokenizer.json / tokenizer_config.json ----------

const typeId = int(0, 255);
const templatePiece = z.union([
  z.object({ SpecialToken: z.object({ id: z.string(), type_id: typeId }) }),
  z.object({ Sequence: z.object({ id: z.enum(['A', 'B']), type_id: typeId }) }),
]);
const sequences = (pieces: z.output<typeof templatePiece>[], id: 'A' | 'B'): number => pieces.filter((p) => 'Sequence' in p && p.Sequence.id === id).length;
const template = z.array(templatePiece).max(64);
const tokenAndId = z.tuple([z.string(), int(0, MAX_VOCAB)]);

type PostProcessor =
  | { type: 'TemplateProcessing'; single: z.output<typeof template>; pair: z.output<typeof template> }
  | { type: 'ByteLevel' }
  | { type: 'BertProcessing' | 'RobertaProcessing'; cls: [string, number]; sep: [string, number] }
  | { type: 'Sequence'; processors: PostProcessor[] };

const postProcessorSchema: z.ZodType<PostProcessor> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.looseObject({
      type: z.literal('TemplateProcessing'),
      single: template.refine((t) => sequences(t, 'A') === 1 && sequences(t, 'B') === 0, 'the single template must hold sequence A once and no B'),
      pair: template.refine((t) => sequences(t, 'A') === 1 && sequences(t, 'B') === 1, 'the pair template must hold sequences A and B once each'),
    }),
    z.looseObject({ type: z.literal('ByteLevel') }),
    z.looseObject({ type: z.literal('BertProcessing'), cls: tokenAndId, sep: tokenAndId }),
    z.looseObject({ type: z.literal('RobertaProcessing'), cls: tokenAndId, sep: tokenAndId }),
    z.looseObject({ type: z.literal('Sequence'), processors: z.array(postProcessorSchema).max(16) }),
  ]),
);

const component = z.looseObject({ type: z.string() }).nullable().optional();

export const tokenizerJsonSchema = z.looseObject({
  model: z.looseObject({
    type: z.string().optional(),
    vocab: z.union([z.record(z.string(), int(0, MAX_VOCAB)), z.array(z.tuple([z.string(), z.number()])).max(MAX_VOCAB)]),
    unk_token: z.string().nullable().optional(),
  }),
  added_tokens: z.array(z.looseObject({ id: int(0, MAX_VOCAB), content: z.string() })).max(MAX_VOCAB),
  normalizer: component,
  pre_tokenizer: component,
  decoder: component,
  post_processor: postProcessorSchema.nullable().optional(),
  truncation: z
    .looseObject({
      max_length: int(1, MAX_POSITIONS).optional(),
      strategy: z.string().optional(),
      direction: z.string().optional(),
    })
    .nullable()
    .optional(),
  padding: z.looseObject({ pad_id: int(0, MAX_VOCAB).optional() }).nullable().optional(),
});

export const tokenizerConfigSchema = z.looseObject({
  model_max_length: z.number().optional(),
  pad_token: z.unknown().optional(),
  unk_token: z.unknown().optional(),
});

// ---------- ken-subnetwork.safetensors metadata ----------

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 in hex');
const name = z.string().min(1).max(1024);

export const holeSchema = z.object({
  offset: count,
  length: count,
  tensor: name,
  transposed: z.boolean(),
  dtype: z.string().max(16),
  shape: shapeSchema,
});

export const subnetworkFileSchema = z.object({
  path: z.string().min(1).max(4096),
  size: count,
  sha256,
  holes: z.array(holeSchema).max(1_000_000),
});

export const subnetworkTensorSchema = z.object({
  name,
  dtype: z.string().max(16),
  shape: shapeSchema,
  layout: z.enum(['index', 'mask', 'whole']),
  status: z.string().max(64),
  kept: count,
  total: count,
  // '' in a watched checkpoint's record (no fingerprints: nothing is restored from it)
  base: z.object({ name, format: z.enum(['safetensors', 'onnx']), dtype: z.string().max(16), sha256: z.union([sha256, z.literal('')]) }).optional(),
});

export const subnetworkMetaSchema = z.object({
  format: z.literal('ken-subnetwork'),
  version: int(1, 1_000_000),
  tool: z.string().max(200),
  // 0: a comparison record (ken viz), no KEN run
  k: int(0, Number.MAX_SAFE_INTEGER),
  /** The KDE's kernel; files written before kernels existed lack it (gaussian). */
  kernel: z.string().max(64).optional(),
  /** The pruning method (src/methods); files written before methods existed lack it (ken). */
  method: z.string().max(64).optional(),
  /** The seed of a seeded method (random, dare). */
  seed: int(0, Number.MAX_SAFE_INTEGER).optional(),
  scope: z.string().max(64),
  include: z.string().max(10_000).optional(),
  exclude: z.string().max(10_000).optional(),
  includeHead: z.boolean(),
  tensors: z.array(subnetworkTensorSchema).max(1_000_000),
  files: z.array(subnetworkFileSchema).max(100_000),
});
