// The one place model families are registered: model_type -> family. Adding a family is adding its
// file and one line here.
import type { HfConfig, ModelFamily } from './types';
import { albert } from './albert';
import { bart } from './bart';
import { bert } from './bert';
import { debertaV2 } from './deberta-v2';
import { distilbert } from './distilbert';
import { electra } from './electra';
import { gemma } from './gemma';
import { gpt2 } from './gpt2';
import { llama } from './llama';
import { mixtral } from './mixtral';
import { mpnet } from './mpnet';
import { phi } from './phi';
import { roberta } from './roberta';
import { t5 } from './t5';

export const FAMILIES: readonly ModelFamily[] = [bert, roberta, distilbert, electra, albert, debertaV2, gpt2, llama, t5, bart, mpnet, mixtral, phi, gemma];

const BY_TYPE = new Map<string, ModelFamily>(FAMILIES.flatMap((f) => f.modelTypes.map((t) => [t, f] as const)));

/** The family of a config.json `model_type`, or undefined when the tool does not know it. */
export function familyOfType(modelType: string | undefined): ModelFamily | undefined {
  return modelType === undefined ? undefined : BY_TYPE.get(modelType);
}

export function familyOf(config: HfConfig | undefined): ModelFamily | undefined {
  const t = config?.['model_type'];
  return typeof t === 'string' ? familyOfType(t) : undefined;
}

/** Every model_type the tool knows, sorted, for error messages. */
export function supportedModelTypes(): string[] {
  return [...BY_TYPE.keys()].sort();
}
